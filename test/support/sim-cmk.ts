// Replicates the CMK from one simulated FIPS appliance to another the way the ceremony does, over
// each appliance's public REST API only (vendor guide §3.2.2): a transfer key made on the target,
// its public half imported on the source, the CMK wrapped there and unwrapped on the target, each
// under the custodians' quorum. Tests of FIPS-backed groups need every FIPS appliance to hold the
// same CMK; appliances in separate processes can get it no other way.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { SimClient } from './sim-client'

export interface ApplianceEntry {
  id: string
  url: string
  spkiSha256: string
  /** base64 DER of the appliance certificate */
  certDer: string
  apiKey: string
  accountId: string
  groupId: string
  quorum: number
  custodians: { user: string; password: string }[]
}

export function certPemOf(certDer: string): string {
  return `-----BEGIN CERTIFICATE-----\n${certDer.replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`
}

export function clientFor(a: { url: string; spkiSha256: string; certDer: string }): SimClient {
  return new SimClient({ url: a.url, spkiSha256: a.spkiSha256, certPem: certPemOf(a.certDer) })
}

async function approveByQuorum(c: SimClient, a: ApplianceEntry, id: string): Promise<void> {
  for (const u of a.custodians.slice(0, a.quorum)) {
    const s = await c.userSession(u.user, u.password, a.accountId)
    const r = await c.request('POST', `/sys/v1/approval_requests/${id}/approve`, { auth: s, body: { password: u.password } })
    assert.equal(r.status, 200, `approve on ${a.id}: ${r.text}`)
  }
}

async function approvedResult(c: SimClient, a: ApplianceEntry, auth: string, body: object): Promise<Record<string, unknown>> {
  const req = await c.request('POST', '/sys/v1/approval_requests', { auth, body })
  assert.equal(req.status, 201, `approval request on ${a.id}: ${req.text}`)
  await approveByQuorum(c, a, req.body.request_id)
  const res = await c.request('POST', `/sys/v1/approval_requests/${req.body.request_id as string}/result`, { auth })
  assert.equal(res.body.status, 200, `result on ${a.id}: ${JSON.stringify(res.body.body)}`)
  return res.body.body as Record<string, unknown>
}

/** The CMK of `source` now exists on `target` too; returns its KCV (equal on both). */
export async function replicateCmk(source: ApplianceEntry, target: ApplianceEntry, cmkName = 'cluster-master-key'): Promise<string> {
  const cS = clientFor(source)
  const cT = clientFor(target)
  const appS = await cS.appSession(source.apiKey)
  const appT = await cT.appSession(target.apiKey)
  const transfer = `transfer-${randomBytes(4).toString('hex')}`
  const gen = await cT.request('POST', '/crypto/v1/keys', { auth: appT, body: { name: transfer, obj_type: 'RSA', key_size: 2048, key_ops: ['UNWRAPKEY', 'APPMANAGEABLE'] } })
  assert.equal(gen.status, 201, gen.text)
  const imp = await cS.request('PUT', '/crypto/v1/keys', { auth: appS, body: { name: transfer, obj_type: 'RSA', value: gen.body.pub_key, key_ops: ['WRAPKEY', 'APPMANAGEABLE'] } })
  assert.equal(imp.status, 201, imp.text)
  const oaep = { OAEP: { mgf: { mgf1: { hash: 'SHA256' } } } }
  const wrapped = await approvedResult(cS, source, appS, { method: 'POST', operation: '/crypto/v1/wrapkey', description: `replicate ${cmkName}`, body: { key: { name: transfer }, subject: { name: cmkName }, alg: 'RSA', mode: oaep } })
  const cmk = await approvedResult(cT, target, appT, {
    method: 'POST', operation: '/crypto/v1/unwrapkey', description: `replicate ${cmkName}`,
    body: { key: { kid: gen.body.kid }, alg: 'RSA', mode: oaep, obj_type: 'AES', wrapped_key: wrapped['wrapped_key'], name: cmkName, group_id: target.groupId, key_ops: ['ENCRYPT', 'DECRYPT', 'WRAPKEY', 'UNWRAPKEY', 'EXPORT', 'APPMANAGEABLE'] },
  })
  const sourceCmk = await cS.request('POST', '/crypto/v1/keys/info', { auth: appS, body: { name: cmkName } })
  assert.equal(cmk['kcv'], sourceCmk.body.kcv, 'the replicated CMK has the source KCV')
  assert.equal((await cT.request('DELETE', `/crypto/v1/keys/${gen.body.kid as string}`, { auth: appT })).status, 204)
  assert.equal((await cS.request('DELETE', `/crypto/v1/keys/${imp.body.kid as string}`, { auth: appS })).status, 204)
  return cmk['kcv'] as string
}

/**
 * The CMK's value, exported through a quorum-approved request. Only for tests that must check,
 * from outside, that a system which should never hold key material does not.
 */
export async function exportCmkForTest(a: ApplianceEntry, cmkName = 'cluster-master-key'): Promise<Buffer> {
  const c = clientFor(a)
  const app = await c.appSession(a.apiKey)
  const out = await approvedResult(c, a, app, { method: 'POST', operation: '/crypto/v1/keys/export', description: 'test: export the CMK', body: { name: cmkName } })
  return Buffer.from(out['value'] as string, 'base64')
}

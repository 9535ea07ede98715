// What the vendor's own code sends and gets (dsm-api.md §10): the sdkms-cli's approval-request
// bodies (nulls and fields the operation ignores, no description, no group_id) run end to end on
// two simulated appliances; an omitted RSA mode means the key's first allowed padding (OAEP
// SHA-256 for new keys); KCVs are lowercase; key_creation_method; approval requests answer 201,
// keep their requester and body as sent, and can be withdrawn and filed again under the same text.
import assert from 'node:assert/strict'
import { constants, createPrivateKey, privateDecrypt } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { startSimulator, type RunningSimulator, type SimulatedAppliance } from '../main/simulator'
import { SimClient, cliUnwrapKeyApproval, cliWrapKeyApproval, pemBody, vector } from './support/sim-client'

const sims: RunningSimulator[] = []
after(() => Promise.all(sims.map((s) => s.close())))

async function start(opts: Parameters<typeof startSimulator>[0]): Promise<RunningSimulator> {
  const sim = await startSimulator(opts)
  sims.push(sim)
  return sim
}

async function approveAll(c: SimClient, a: SimulatedAppliance, id: string): Promise<void> {
  for (const u of a.custodians.slice(0, a.quorum)) {
    const s = await c.userSession(u.user, u.password, a.accountId)
    const r = await c.request('POST', `/sys/v1/approval_requests/${id}/approve`, { auth: s, body: { password: u.password } })
    assert.equal(r.status, 200, r.text)
  }
}

describe('the sdkms-cli --quorum bodies, end to end on two appliances', () => {
  let sim: RunningSimulator
  let S: SimulatedAppliance
  let T: SimulatedAppliance
  let cS: SimClient
  let cT: SimClient
  let appS: string
  let appT: string
  let transferKid: string
  let wrapped: string

  before(async () => {
    sim = await start({ appliances: 2 })
    ;[S, T] = sim.appliances as [SimulatedAppliance, SimulatedAppliance]
    cS = new SimClient(S)
    cT = new SimClient(T)
    appS = await cS.appSession(S.apiKey)
    appT = await cT.appSession(T.apiKey)
    const gen = await cT.request('POST', '/crypto/v1/keys', { auth: appT, body: { name: 'transfer-key', obj_type: 'RSA', key_size: 2048, key_ops: ['UNWRAPKEY', 'DECRYPT', 'APPMANAGEABLE'] } })
    assert.equal(gen.status, 201, gen.text)
    transferKid = gen.body.kid
    const imp = await cS.request('PUT', '/crypto/v1/keys', { auth: appS, body: { name: 'transfer-key', obj_type: 'RSA', value: gen.body.pub_key, key_ops: ['WRAPKEY', 'ENCRYPT', 'APPMANAGEABLE'] } })
    assert.equal(imp.status, 201, imp.text)
  })

  it('wrap-key --quorum: 201, requester is the app, GET returns method, operation and body exactly as sent', async () => {
    const sent = cliWrapKeyApproval('cluster-master-key', 'transfer-key')
    const r = await cS.request('POST', '/sys/v1/approval_requests', { auth: appS, body: sent })
    assert.equal(r.status, 201, r.text)
    assert.deepEqual(r.body.requester, { app: S.appId })
    assert.equal(r.body.description ?? null, null, 'the CLI sends no description')
    const got = await cS.request('GET', `/sys/v1/approval_requests/${r.body.request_id as string}`, { auth: appS })
    assert.equal(got.status, 200)
    assert.equal(got.body.method, sent.method)
    assert.equal(got.body.operation, sent.operation)
    assert.deepEqual(got.body.body, sent.body, 'nulls and ignored fields are kept')
    assert.ok(Object.hasOwn(got.body.body, 'out') && got.body.body.out === null)

    await approveAll(cS, S, r.body.request_id)
    // task-result: GET first, then POST …/result only when APPROVED
    assert.equal((await cS.request('GET', `/sys/v1/approval_requests/${r.body.request_id as string}`, { auth: appS })).body.status, 'APPROVED')
    const res = await cS.request('POST', `/sys/v1/approval_requests/${r.body.request_id as string}/result`, { auth: appS })
    assert.equal(res.status, 200)
    assert.equal(res.body.status, 200, JSON.stringify(res.body.body))
    wrapped = res.body.body.wrapped_key
    assert.equal(Buffer.from(wrapped, 'base64').length, 256, 'raw bytes the CLI writes: 256 for RSA-2048')
  })

  it('unwrap-key --exportable --quorum (kid, mode null, no group_id): the new key has the source KCV', async () => {
    assert.ok(wrapped, 'needs the wrap step')
    const sent = cliUnwrapKeyApproval(transferKid, wrapped, 'cluster-master-key')
    const r = await cT.request('POST', '/sys/v1/approval_requests', { auth: appT, body: sent })
    assert.equal(r.status, 201, r.text)
    const got = await cT.request('GET', `/sys/v1/approval_requests/${r.body.request_id as string}`, { auth: appT })
    assert.deepEqual(got.body.body, sent.body)
    assert.deepEqual(got.body.requester, { app: T.appId })
    await approveAll(cT, T, r.body.request_id)
    const res = await cT.request('POST', `/sys/v1/approval_requests/${r.body.request_id as string}/result`, { auth: appT })
    assert.equal(res.body.status, 200, JSON.stringify(res.body.body))
    const key = res.body.body
    const source = S.state.sobjects().find((o) => o.name === 'cluster-master-key')!
    assert.match(key.kcv, /^[0-9a-f]{6}$/)
    assert.equal(key.kcv, source.kcv)
    assert.deepEqual(key.key_creation_method, { method: 'Unwrap' })
    assert.equal(key.group_id, T.groupId, "the app's default group")
    assert.equal(key.description, 'Created by sdkms-client')
    assert.equal(key.custom_metadata, undefined)
    assert.ok(key.key_ops.includes('EXPORT'))
  })

  it('key_creation_method names how each key was made', async () => {
    const cmk = await cS.request('POST', '/crypto/v1/keys/info', { auth: appS, body: { name: 'cluster-master-key' } })
    assert.deepEqual(cmk.body.key_creation_method, { method: 'Generate' })
    const imported = await cS.request('POST', '/crypto/v1/keys/info', { auth: appS, body: { name: 'transfer-key' } })
    assert.deepEqual(imported.body.key_creation_method, { method: 'Import' })
  })
})

describe('an omitted RSA mode uses the key\'s first allowed padding', () => {
  let a: SimulatedAppliance
  let c: SimClient
  let app: string
  const privDer = () => createPrivateKey(vector('transfer-rsa2048.key.pem')).export({ type: 'pkcs8', format: 'der' }).toString('base64')
  const decrypt = (blob: string, oaepHash: string) =>
    privateDecrypt({ key: vector('transfer-rsa2048.key.pem'), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, Buffer.from(blob, 'base64')).toString('hex')
  const put = async (body: object) => {
    const r = await c.request('PUT', '/crypto/v1/keys', { auth: app, body })
    assert.equal(r.status, 201, r.text)
    return r.body
  }
  const wrap = (key: string, mode: unknown) =>
    c.request('POST', '/crypto/v1/wrapkey', { auth: app, validateReq: false, body: { key: { name: key }, subject: { name: 'cmk' }, alg: 'RSA', mode } })
  const unwrap = (name: string, file: string, mode: unknown, key = 'priv-default') =>
    c.request('POST', '/crypto/v1/unwrapkey', { auth: app, validateReq: false, body: { key: { name: key }, alg: 'RSA', mode, obj_type: 'AES', wrapped_key: vector(file), name, key_ops: ['ENCRYPT'] } })

  before(async () => {
    const sim = await start({ appliances: 1, createCmk: false, vendor: { protectedCryptoOperations: [] } })
    a = sim.appliances[0]!
    c = new SimClient(a)
    app = await c.appSession(a.apiKey)
    await put({ name: 'cmk', obj_type: 'AES', value: Buffer.from(vector('cmk.aes256.hex'), 'hex').toString('base64'), key_ops: ['EXPORT', 'ENCRYPT'] })
    const pub = await put({ name: 'pub-default', obj_type: 'RSA', value: pemBody(vector('transfer-rsa2048.pub.pem')), key_ops: ['WRAPKEY'] })
    assert.deepEqual(pub.rsa.encryption_policy, [{ padding: { OAEP: {} } }], 'the default policy of new RSA keys')
    await put({ name: 'priv-default', obj_type: 'RSA', value: privDer(), key_ops: ['UNWRAPKEY'] })
  })

  it('the default wildcard policy: mode missing or null wraps with OAEP SHA-256, never SHA-1', async () => {
    for (const mode of [undefined, null]) {
      const r = await wrap('pub-default', mode)
      assert.equal(r.status, 200, r.text)
      assert.equal(decrypt(r.body.wrapped_key, 'sha256'), vector('cmk.aes256.hex'))
      assert.throws(() => decrypt(r.body.wrapped_key, 'sha1'))
    }
  })

  it('unwrap with mode null reads an OAEP SHA-256 blob and refuses a SHA-1 one', async () => {
    const ok = await unwrap('from-null-mode', 'cmk.wrapped.oaep-sha256.b64', null)
    assert.equal(ok.status, 200, ok.text)
    assert.equal(ok.body.kcv, vector('cmk.aes256.kcv').toLowerCase())
    const sha1 = await unwrap('from-null-mode-sha1', 'cmk.wrapped.oaep-sha1.b64', null)
    assert.equal(sha1.status, 400)
    assert.match(sha1.body, /Unwrap failed/)
  })

  it('the legacy strings OAEP_MGF1_SHA256 and OAEP_MGF1_SHA1 are accepted', async () => {
    for (const [mode, hash] of [['OAEP_MGF1_SHA256', 'sha256'], ['OAEP_MGF1_SHA1', 'sha1']] as const) {
      const r = await wrap('pub-default', mode)
      assert.equal(r.status, 200, r.text)
      assert.equal(decrypt(r.body.wrapped_key, hash), vector('cmk.aes256.hex'))
    }
    const u = await unwrap('from-legacy-sha1', 'cmk.wrapped.oaep-sha1.b64', 'OAEP_MGF1_SHA1')
    assert.equal(u.status, 200, u.text)
  })

  it('a key whose policy fixes SHA-1 defaults to it and refuses SHA-256; [{}] means anything (SHA-256 by default)', async () => {
    const oaep = (hash: string) => ({ OAEP: { mgf: { mgf1: { hash } } } })
    await put({ name: 'pub-sha1-only', obj_type: 'RSA', value: pemBody(vector('transfer-rsa2048.pub.pem')), key_ops: ['WRAPKEY'], rsa: { encryption_policy: [{ padding: oaep('SHA1') }] } })
    const d = await wrap('pub-sha1-only', null)
    assert.equal(d.status, 200, d.text)
    assert.equal(decrypt(d.body.wrapped_key, 'sha1'), vector('cmk.aes256.hex'))
    const refused = await wrap('pub-sha1-only', oaep('SHA256'))
    assert.equal(refused.status, 403)
    assert.match(refused.body, /encryption_policy of key "pub-sha1-only" does not allow OAEP with MGF1-SHA256/)

    await put({ name: 'pub-any', obj_type: 'RSA', value: pemBody(vector('transfer-rsa2048.pub.pem')), key_ops: ['WRAPKEY'], rsa: { encryption_policy: [{}] } })
    const any = await wrap('pub-any', null)
    assert.equal(decrypt(any.body.wrapped_key, 'sha256'), vector('cmk.aes256.hex'))
  })

  it('a policy that allows only PKCS#1 v1.5 leaves nothing a FIPS appliance may use', async () => {
    await put({ name: 'pub-pkcs1', obj_type: 'RSA', value: pemBody(vector('transfer-rsa2048.pub.pem')), key_ops: ['WRAPKEY'], rsa: { encryption_policy: [{ padding: { PKCS1_V15: {} } }] } })
    const r = await wrap('pub-pkcs1', null)
    assert.equal(r.status, 403)
    assert.match(r.body, /allows no OAEP padding, and FIPS mode refuses PKCS#1 v1\.5/)
  })

  it('a malformed encryption_policy is refused by name', async () => {
    const r = await c.request('PUT', '/crypto/v1/keys', { auth: app, validateReq: false, body: { name: 'bad-policy', obj_type: 'RSA', value: pemBody(vector('transfer-rsa2048.pub.pem')), rsa: { encryption_policy: [{ padding: { OAEP: { mgf: { mgf1: { hash: 'MD5' } } } } }] } } })
    assert.equal(r.status, 400)
    assert.match(r.body, /rsa\.encryption_policy\[0\]\.padding\.OAEP\.mgf\.mgf1\.hash/)
  })

  it('a non-null IV, AAD or tag on RSA wrapping is refused by name; nulls are fine', async () => {
    const r = await c.request('POST', '/crypto/v1/wrapkey', { auth: app, validateReq: false, body: { key: { name: 'pub-default' }, subject: { name: 'cmk' }, alg: 'RSA', mode: null, iv: 'AAAAAAAAAAAAAAAA' } })
    assert.equal(r.status, 400)
    assert.match(r.body, /Invalid field iv: RSA key wrapping takes no iv/)
  })
})

describe('KCV case', () => {
  it('lowercase by default; kcvCase "upper" prints upper case, and the import kcv check ignores case', async () => {
    for (const [kcvCase, re] of [['lower', /^[0-9a-f]{6}$/], ['upper', /^[0-9A-F]{6}$/]] as const) {
      const sim = await start({ appliances: 1, vendor: { kcvCase } })
      const a = sim.appliances[0]!
      const c = new SimClient(a)
      const app = await c.appSession(a.apiKey)
      const cmk = await c.request('POST', '/crypto/v1/keys/info', { auth: app, body: { name: 'cluster-master-key' } })
      assert.match(cmk.body.kcv, re)
      assert.equal(a.state.sobjects().find((o) => o.name === 'cluster-master-key')!.kcv, cmk.body.kcv)
      const kcv = await c.request('POST', '/crypto/v1/keys/kcv', { auth: app, body: { name: 'cluster-master-key' } })
      assert.equal(kcv.body.kcv, cmk.body.kcv)
      const value = Buffer.from(vector('cmk.aes256.hex'), 'hex').toString('base64')
      for (const [i, given] of [vector('cmk.aes256.kcv').toLowerCase(), vector('cmk.aes256.kcv').toUpperCase()].entries()) {
        const r = await c.request('PUT', '/crypto/v1/keys', { auth: app, body: { name: `imported-${i}`, obj_type: 'AES', value, kcv: given } })
        assert.equal(r.status, 201, r.text)
      }
    }
  })
})

describe('withdraw and replace', () => {
  it('a request withdrawn by its requester is gone (404); a second one with the same description can be filed', async () => {
    const sim = await start({ appliances: 1 })
    const a = sim.appliances[0]!
    const c = new SimClient(a)
    const app = await c.appSession(a.apiKey)
    const pub = await c.request('PUT', '/crypto/v1/keys', { auth: app, body: { name: 'transfer-key', obj_type: 'RSA', value: pemBody(vector('transfer-rsa2048.pub.pem')), key_ops: ['WRAPKEY'] } })
    assert.equal(pub.status, 201)
    const description = 'ceremony C-1 step wrap nonce 6f1c2a'
    const first = await c.request('POST', '/sys/v1/approval_requests', { auth: app, body: { ...cliWrapKeyApproval('cluster-master-key', 'transfer-key'), description } })
    assert.equal(first.status, 201)

    const custodian = await c.userSession(a.custodians[0]!.user, a.custodians[0]!.password, a.accountId)
    const notMine = await c.request('DELETE', `/sys/v1/approval_requests/${first.body.request_id as string}`, { auth: custodian })
    assert.equal(notMine.status, 403)
    assert.match(notMine.body, /Only the requester can withdraw/)

    const del = await c.request('DELETE', `/sys/v1/approval_requests/${first.body.request_id as string}`, { auth: app })
    assert.equal(del.status, 204)
    assert.equal((await c.request('GET', `/sys/v1/approval_requests/${first.body.request_id as string}`, { auth: app })).status, 404)

    const second = await c.request('POST', '/sys/v1/approval_requests', { auth: app, body: { ...cliWrapKeyApproval('cluster-master-key', 'transfer-key'), description } })
    assert.equal(second.status, 201)
    assert.notEqual(second.body.request_id, first.body.request_id)
    const listed = (await c.request('GET', '/sys/v1/approval_requests', { auth: app })).body as { request_id: string; description: string }[]
    assert.deepEqual(listed.filter((r) => r.description === description).map((r) => r.request_id), [second.body.request_id])
  })
})

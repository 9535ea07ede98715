// The non-FIPS DSM cluster with two FIPS appliances, each in its own process (guide §3.2.3, §3.3;
// dsm-api.md §11): the CMK replicated between them over their REST APIs, a group linked to both
// in priority order, hmg checks that pass and ones that must fail (each by name, creating
// nothing), a key made in a FIPS appliance and used through the cluster, failover when the
// first appliance dies and a named error when both have, and a scan of everything the cluster
// holds in memory for the key's bytes. Every request and response is checked against the
// vendor's OpenAPI document (SimClient).
import assert from 'node:assert/strict'
import { createDecipheriv } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { startClusterSimulator, type RunningCluster } from '../main/simulator'
import { startImpostor, type Impostor } from './support/impostor'
import { findBytes } from './support/memory-scan'
import { SimClient } from './support/sim-client'
import { clientFor, exportCmkForTest, replicateCmk, type ApplianceEntry } from './support/sim-cmk'
import { spawnFipsAppliance, stopAllSimulators, type SimProcess } from './support/sim-processes'

let fips: { process: SimProcess; appliance: ApplianceEntry & { host: string; port: number } }[]
let cluster: RunningCluster
let c: SimClient
let admin: string
let impostor: Impostor

const fipsConfig = (a: { host: string; port: number; certDer: string; apiKey: string }, order?: number, over: Record<string, unknown> = {}) => ({
  kind: 'FortanixFipsCluster',
  url: `${a.host}:${a.port}`,
  tls: { mode: 'required', validate_hostname: true, ca: { pinned: [a.certDer] } },
  pin: a.apiKey,
  ...(order === undefined ? {} : { hsm_order: order }),
  ...over,
})

before(async () => {
  const started = Date.now()
  fips = await Promise.all([spawnFipsAppliance('fips-1'), spawnFipsAppliance('fips-2', { cmk: false })])
  await replicateCmk(fips[0]!.appliance, fips[1]!.appliance)
  cluster = await startClusterSimulator({ fipsConnectTimeoutMs: 1000, fipsResponseTimeoutMs: 5000 })
  c = new SimClient(cluster)
  const sysadmin = cluster.users.find((u) => u.role === 'account-admin')!
  admin = await c.userSession(sysadmin.user, sysadmin.password, cluster.accountId)
  impostor = await startImpostor(['127.0.0.1'])
  process.stderr.write(`# setup: 2 FIPS processes + CMK replication + cluster in ${Date.now() - started} ms\n`)
})
after(async () => {
  await impostor?.close()
  await cluster?.close()
  await stopAllSimulators()
})

async function fipsKeyCount(a: ApplianceEntry): Promise<number> {
  const fc = clientFor(a)
  return (await fc.request('GET', '/crypto/v1/keys', { auth: await fc.appSession(a.apiKey) })).body.length
}

describe('the cluster endpoint', () => {
  it('is not a FIPS appliance: /sys/v1/version has no fips_level', async () => {
    const v = await c.request('GET', '/sys/v1/version')
    assert.equal(v.status, 200)
    assert.equal(v.body.fips_level, undefined)
    assert.equal(v.body.server_mode, 'Software')
  })

  it('users sign in and must select the account; a group admin sees only the groups it creates', async () => {
    const ga = cluster.users.find((u) => u.role === 'group-admin')!
    const r = await c.request('POST', '/sys/v1/session/auth', { auth: `Basic ${Buffer.from(`${ga.user}:${ga.password}`).toString('base64')}` })
    const noAccount = await c.request('GET', '/sys/v1/groups', { auth: `Bearer ${r.body.access_token as string}` })
    assert.equal(noAccount.status, 401)
    assert.match(noAccount.body, /account to be selected/)
    const gaSession = await c.userSession(ga.user, ga.password, cluster.accountId)
    const mine = await c.request('POST', '/sys/v1/groups', { auth: gaSession, body: { name: 'group-admin own' } })
    assert.equal(mine.status, 200, mine.text)
    const other = await c.request('POST', '/sys/v1/groups', { auth: admin, body: { name: 'sysadmin own' } })
    const seen = (await c.request('GET', '/sys/v1/groups', { auth: gaSession })).body.map((g: { name: string }) => g.name)
    assert.deepEqual(seen, ['group-admin own'])
    assert.equal((await c.request('GET', `/sys/v1/groups/${other.body.group_id as string}`, { auth: gaSession })).status, 404)
    assert.ok((await c.request('GET', '/sys/v1/groups', { auth: admin })).body.length >= 2)
  })
})

describe('hmg/check', () => {
  it('passes (204) for each FIPS appliance with its pinned certificate and API key', async () => {
    for (const f of fips) {
      const r = await c.request('POST', '/sys/v1/groups/hmg/check', { auth: admin, body: fipsConfig(f.appliance, 0) })
      assert.equal(r.status, 204, r.text)
    }
  })

  const refusals: [string, () => Record<string, unknown>, RegExp][] = [
    ['the other appliance\'s certificate pinned', () => fipsConfig({ ...fips[0]!.appliance, certDer: fips[1]!.appliance.certDer }), /TLS certificate of 127\.0\.0\.1:\d+ is not pinned/],
    ['a wrong API key (the other appliance\'s)', () => fipsConfig({ ...fips[0]!.appliance, apiKey: fips[1]!.appliance.apiKey }), /FIPS appliance 127\.0\.0\.1:\d+ refused the API key: 401 for the pin/],
    ['only the CA of the presented certificate pinned (exact match required)', () => fipsConfig({ host: impostor.host, port: impostor.port, certDer: impostor.caDer, apiKey: 'anything' }), /is not pinned/],
    ['a non-FIPS endpoint (the cluster itself) named as FIPS', () => fipsConfig({ host: cluster.host, port: cluster.port, certDer: cluster.certDer, apiKey: fips[0]!.appliance.apiKey }), /127\.0\.0\.1:\d+ is not a FIPS appliance: \/sys\/v1\/version reports no fips_level/],
    ['an address where nothing listens', () => fipsConfig({ ...fips[0]!.appliance, port: 1 }), /FIPS appliance 127\.0\.0\.1:1 is unreachable \(econnrefused\)/],
    ['a certificate that is not a certificate', () => fipsConfig({ ...fips[0]!.appliance, certDer: Buffer.from('not a certificate').toString('base64') }), /tls\.ca\.pinned\[0\]: not a DER X\.509 certificate/],
    ['a url with https://', () => ({ ...fipsConfig(fips[0]!.appliance), url: `https://127.0.0.1:${fips[0]!.appliance.port}` }), /without a scheme/],
    ['TLS mode disabled', () => ({ ...fipsConfig(fips[0]!.appliance), tls: { mode: 'disabled' } }), /only reached with TLS mode "required"/],
  ]
  for (const [what, config, message] of refusals) {
    it(`refuses ${what} with a named 400, and nothing is created`, async () => {
      const groupsBefore = (await c.request('GET', '/sys/v1/groups', { auth: admin })).body.length
      const keysBefore = await fipsKeyCount(fips[0]!.appliance)
      const r = await c.request('POST', '/sys/v1/groups/hmg/check', { auth: admin, body: config() })
      assert.equal(r.status, 400)
      assert.equal(String(r.headers['content-type']).split(';')[0], 'text/plain')
      assert.match(r.body, message)
      assert.ok(!r.body.includes(fips[0]!.appliance.apiKey) && !r.body.includes(fips[1]!.appliance.apiKey), 'no API key in the message')
      assert.equal((await c.request('GET', '/sys/v1/groups', { auth: admin })).body.length, groupsBefore)
      assert.equal(await fipsKeyCount(fips[0]!.appliance), keysBefore)
    })
  }

  it('an impostor whose certificate (and its issuer) are pinned but which does not name the host fails on the host name; no request got past a handshake', async () => {
    const other = await startImpostor(['other.example'])
    try {
      // A CA-issued certificate verifies only with its issuer pinned too; the leaf must still match exactly.
      const config = fipsConfig({ host: other.host, port: other.port, certDer: other.leafDer, apiKey: 'x' })
      ;(config.tls as { ca: { pinned: string[] } }).ca.pinned.push(other.caDer)
      const r = await c.request('POST', '/sys/v1/groups/hmg/check', { auth: admin, body: config })
      assert.equal(r.status, 400)
      assert.match(r.body, /does not name the host/)
      assert.deepEqual(other.requests, [])
      assert.deepEqual(impostor.requests, [], 'the CA-only pin never let a request through')
    } finally {
      await other.close()
    }
  })
})

describe('a FIPS-backed group', () => {
  let groupId: string
  let kid: string
  const plain = Buffer.from('replicated and highly available')
  let sealed: { cipher: string; iv: string; tag: string }

  it('links both appliances in priority order; hmg is a map by config uuid, kind in PascalCase, no pin echoed', async () => {
    const body = {
      name: 'FIPS GROUP',
      add_hmg: [fipsConfig(fips[0]!.appliance, 0, { kind: 'FORTANIXFIPSCLUSTER' }), fipsConfig(fips[1]!.appliance, 1)],
      hmg_redundancy: 'PriorityFailover',
    }
    const r = await c.request('POST', '/sys/v1/groups', { auth: admin, body, validateReq: false /* the UPPERCASE kind is not in the document */ })
    assert.equal(r.status, 200, r.text)
    groupId = r.body.group_id
    const configs = Object.entries(r.body.hmg as Record<string, { kind: string; url: string; hsm_order: number; pin?: string }>)
    assert.equal(configs.length, 2)
    for (const [id, cfg] of configs) {
      assert.match(id, /^[0-9a-f-]{36}$/)
      assert.equal(cfg.kind, 'FortanixFipsCluster')
      assert.equal(cfg.pin, undefined)
    }
    assert.deepEqual(configs.map(([, x]) => x.hsm_order).sort(), [0, 1])
    assert.equal(r.body.hmg_redundancy, 'PriorityFailover')
    assert.ok(!r.text.includes(fips[0]!.appliance.apiKey))
    const got = await c.request('GET', `/sys/v1/groups/${groupId}`, { auth: admin })
    assert.deepEqual(got.body.hmg, r.body.hmg)
  })

  it('group hmg/check: {} checks every config (with the CMK), {id} one, {config} a draft', async () => {
    assert.equal((await c.request('POST', `/sys/v1/groups/${groupId}/hmg/check`, { auth: admin, body: {} })).status, 204)
    const ids = Object.keys((await c.request('GET', `/sys/v1/groups/${groupId}`, { auth: admin })).body.hmg)
    assert.equal((await c.request('POST', `/sys/v1/groups/${groupId}/hmg/check`, { auth: admin, body: { id: ids[1] } })).status, 204)
    assert.equal((await c.request('POST', `/sys/v1/groups/${groupId}/hmg/check`, { auth: admin, body: { config: fipsConfig(fips[1]!.appliance) } })).status, 204)
    const noCmk = await c.request('PATCH', `/sys/v1/groups/${groupId}`, { auth: admin, body: { wrapping_key_name: 'no-such-cmk' } })
    assert.equal(noCmk.status, 200)
    const r = await c.request('POST', `/sys/v1/groups/${groupId}/hmg/check`, { auth: admin, body: {} })
    assert.equal(r.status, 400)
    assert.match(r.body, /has no key named "no-such-cmk" \(the CMK\)/)
    assert.equal((await c.request('PATCH', `/sys/v1/groups/${groupId}`, { auth: admin, body: { wrapping_key_name: null } })).status, 200)
  })

  it('a key generated in the group is made in a FIPS appliance and stored here as a wrapped virtual key', async () => {
    const r = await c.request('POST', '/crypto/v1/keys', { auth: admin, body: { name: 'fips-backed-aes', obj_type: 'AES', key_size: 256, group_id: groupId, key_ops: ['ENCRYPT', 'DECRYPT', 'APPMANAGEABLE'] } })
    assert.equal(r.status, 201, r.text)
    kid = r.body.kid
    assert.deepEqual(r.body.external, { id: {}, hsm_group_id: groupId })
    assert.deepEqual(r.body.virtual_key_info, { cached_key_material: true })
    assert.deepEqual(r.body.key_creation_method, { method: 'Generate' })
    assert.match(r.body.kcv, /^[0-9a-f]{6}$/)
    assert.equal(r.body.value, undefined)
    const exp = await c.request('POST', '/crypto/v1/keys/export', { auth: admin, body: { kid } })
    assert.equal(exp.status, 403, 'not exportable (no EXPORT)')
  })

  it('encrypt and decrypt through the cluster (GCM with AAD, CBC): round trips', async () => {
    const e = await c.request('POST', '/crypto/v1/encrypt', { auth: admin, body: { key: { kid }, alg: 'AES', mode: 'GCM', plain: plain.toString('base64'), ad: Buffer.from('aad').toString('base64') } })
    assert.equal(e.status, 200, e.text)
    assert.equal(e.body.kid, kid)
    sealed = e.body
    const d = await c.request('POST', '/crypto/v1/decrypt', { auth: admin, body: { key: { kid }, alg: 'AES', mode: 'GCM', cipher: sealed.cipher, iv: sealed.iv, tag: sealed.tag, ad: Buffer.from('aad').toString('base64') } })
    assert.equal(d.status, 200, d.text)
    assert.equal(Buffer.from(d.body.plain, 'base64').toString(), plain.toString())
    const cbc = await c.request('POST', '/crypto/v1/encrypt', { auth: admin, body: { key: { name: 'fips-backed-aes' }, alg: 'AES', mode: 'CBC', plain: plain.toString('base64') } })
    const back = await c.request('POST', '/crypto/v1/decrypt', { auth: admin, body: { key: { name: 'fips-backed-aes' }, mode: 'CBC', cipher: cbc.body.cipher, iv: cbc.body.iv } })
    assert.equal(Buffer.from(back.body.plain, 'base64').toString(), plain.toString())
    const badTag = await c.request('POST', '/crypto/v1/decrypt', { auth: admin, body: { key: { kid }, mode: 'GCM', cipher: sealed.cipher, iv: sealed.iv, tag: Buffer.alloc(16).toString('base64') } })
    assert.equal(badTag.status, 400)
    assert.match(badTag.body, /refused decrypt: Decryption failed/)
  })

  it('the cluster never holds the key: its whole in-memory model contains neither the key nor the CMK', async () => {
    // The test derives the key from outside: the CMK (exported from fips-1 with the custodians'
    // approval) unwraps the blob the cluster stores, and the result decrypts the cluster's ciphertext.
    const cmk = await exportCmkForTest(fips[0]!.appliance)
    const model = cluster.inspectModelForTests() as { keys: Map<string, { material: { type: string; blob?: Buffer } }> }
    const blob = model.keys.get(kid)!.material.blob!
    const d = createDecipheriv('id-aes256-wrap-pad', cmk, Buffer.from('A65959A6', 'hex'))
    const key = Buffer.concat([d.update(blob), d.final()])
    const g = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'))
    g.setAAD(Buffer.from('aad'))
    g.setAuthTag(Buffer.from(sealed.tag, 'base64'))
    assert.equal(Buffer.concat([g.update(Buffer.from(sealed.cipher, 'base64')), g.final()]).toString(), plain.toString(), 'the derived key is the key')

    assert.deepEqual(findBytes({ nested: [{ k: key.toString('hex') }] }, key), ['$.nested[0].k (hex)'], 'the scan finds the key where it is')
    assert.deepEqual(findBytes(model, key), [], 'the key is nowhere in the cluster')
    assert.deepEqual(findBytes(model, cmk), [], 'the CMK is nowhere in the cluster')
  })

  it('fips-1 killed: decrypt (and encrypt) still work through fips-2', async () => {
    await fips[0]!.process.kill()
    const t0 = Date.now()
    const d = await c.request('POST', '/crypto/v1/decrypt', { auth: admin, body: { key: { kid }, alg: 'AES', mode: 'GCM', cipher: sealed.cipher, iv: sealed.iv, tag: sealed.tag, ad: Buffer.from('aad').toString('base64') } })
    assert.equal(d.status, 200, d.text)
    assert.equal(Buffer.from(d.body.plain, 'base64').toString(), plain.toString())
    process.stderr.write(`# decrypt with fips-1 dead: ${Date.now() - t0} ms\n`)
    const e = await c.request('POST', '/crypto/v1/encrypt', { auth: admin, body: { key: { kid }, alg: 'AES', mode: 'GCM', plain: plain.toString('base64') } })
    assert.equal(e.status, 200, e.text)
    const k2 = await c.request('POST', '/crypto/v1/keys', { auth: admin, body: { name: 'made-on-fips-2', obj_type: 'AES', key_size: 128, group_id: groupId } })
    assert.equal(k2.status, 201, k2.text)
  })

  it('both killed: a named 503 that lists each appliance and why', async () => {
    await fips[1]!.process.kill()
    const d = await c.request('POST', '/crypto/v1/decrypt', { auth: admin, body: { key: { kid }, mode: 'GCM', cipher: sealed.cipher, iv: sealed.iv, tag: sealed.tag } })
    assert.equal(d.status, 503)
    assert.match(d.body, /^No FIPS appliance reachable for group "FIPS GROUP" \(tried 2\): /)
    for (const f of fips) assert.ok(d.body.includes(`FIPS appliance 127.0.0.1:${f.appliance.port} is unreachable`), d.body)
    const gen = await c.request('POST', '/crypto/v1/keys', { auth: admin, body: { name: 'never-made', obj_type: 'AES', key_size: 256, group_id: groupId } })
    assert.equal(gen.status, 503)
    assert.equal(cluster.state.sobjects().some((k) => k.name === 'never-made'), false)
  })
})

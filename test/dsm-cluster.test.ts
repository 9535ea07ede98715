// The DSM client on the non-FIPS cluster (dsm-api.md §11): building FIPS cluster hmg configs
// (and refusing bad ones before anything is sent), masking their API keys, creating and updating
// a FIPS-backed group, both hmg checks, a key generated in the group, encrypt/decrypt, the
// priority order and failover seen from the FIPS appliances' own request logs. The appliances run
// in this process so their logs can be read; every request body the client sends is checked
// against the vendor's OpenAPI document.
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { inspect } from 'node:util'
import { after, before, describe, it } from 'node:test'
import {
  BadRequestError,
  buildFipsClusterConfig,
  DsmConnection,
  InvalidArgumentError,
  InvalidHostError,
  maskHmgConfig,
  ServerError,
  UserSession,
  type FipsClusterHmgConfig,
  type Group,
  type RequestEvent,
} from '../main/dsm'
import { startClusterSimulator, startSimulator, type RunningCluster, type RunningSimulator, type SimulatedAppliance } from '../main/simulator'
import { validateRequest } from './support/openapi'
import { replicateCmk } from './support/sim-cmk'

let sim: RunningSimulator
let f1: SimulatedAppliance
let f2: SimulatedAppliance
let cluster: RunningCluster
let admin: UserSession
const sent: RequestEvent[] = []

const der = (a: SimulatedAppliance) => Buffer.from(a.certDer, 'base64')
const config = (a: SimulatedAppliance, hsmOrder?: number, apiKey = a.apiKey): FipsClusterHmgConfig =>
  buildFipsClusterConfig({ address: `${a.host}:${a.port}`, certificates: [der(a)], apiKey: Buffer.from(apiKey), ...(hsmOrder === undefined ? {} : { hsmOrder }) })
const hits = (a: SimulatedAppliance, path: string) => a.state.requestLog().filter((e) => e.path === path && e.status === 200).length

before(async () => {
  sim = await startSimulator({ appliances: 2 })
  ;[f1, f2] = sim.appliances as [SimulatedAppliance, SimulatedAppliance]
  const entries = JSON.parse(sim.readyLine()).appliances
  await replicateCmk(entries[0], entries[1])
  // The cluster here echoes pin/credentials, to show the client keeps none of them anyway.
  cluster = await startClusterSimulator({ fipsConnectTimeoutMs: 500, fipsResponseTimeoutMs: 800, vendor: { hmgSecretsEchoed: true } })
  const conn = new DsmConnection({ host: cluster.host, port: cluster.port, trust: { spkiSha256: cluster.spkiSha256 }, onRequest: (e) => sent.push(e), retry: { maxAttempts: 1 } })
  const u = cluster.users.find((x) => x.role === 'account-admin')!
  admin = await UserSession.login(conn, { username: u.user, password: Buffer.from(u.password), accountId: cluster.accountId })
})
after(async () => {
  await admin?.logout()
  await cluster?.close()
  await sim?.close()
})

describe('buildFipsClusterConfig', () => {
  it('makes the vendor shape: host:port without scheme, base64 DER pins, the key in pin; inspect masks it, JSON carries it', () => {
    const c = config(f1, 0)
    assert.deepEqual(Object.keys(c).sort(), ['hsm_order', 'kind', 'pin', 'tls', 'url'])
    assert.equal(c.url, `127.0.0.1:${f1.port}`)
    assert.equal(c.tls.ca.pinned[0], new X509Certificate(der(f1)).raw.toString('base64'))
    assert.equal(JSON.parse(JSON.stringify(c)).pin, f1.apiKey)
    assert.ok(!inspect(c, { depth: 5 }).includes(f1.apiKey), 'util.inspect shows no key')
    assert.deepEqual(maskHmgConfig(c).pin, '••••••••')
    const lb = buildFipsClusterConfig({ address: 'fips-lb.example:443', certificates: [der(f1), der(f2)], apiKeys: [Buffer.from(f1.apiKey), Buffer.from(f2.apiKey)] })
    assert.deepEqual(maskHmgConfig(lb).credentials, ['••••••••', '••••••••'])
    assert.ok(!JSON.stringify(maskHmgConfig(lb)).includes(f2.apiKey))
    validateRequest('POST', '/sys/v1/groups/hmg/check', c)
    validateRequest('POST', '/sys/v1/groups/hmg/check', lb)
  })

  it('refuses what cannot be right, by name, before anything is sent', () => {
    const base = { address: `127.0.0.1:${f1.port}`, certificates: [der(f1)], apiKey: Buffer.from(f1.apiKey) }
    assert.throws(() => buildFipsClusterConfig({ ...base, address: 'http://fips1.example' }), InvalidHostError)
    assert.throws(() => buildFipsClusterConfig({ ...base, certificates: [] }), /at least one certificate/)
    assert.throws(() => buildFipsClusterConfig({ ...base, certificates: [Buffer.from('not a cert')] }), /certificate 1 is not a DER X\.509 certificate/)
    assert.throws(() => buildFipsClusterConfig({ ...base, apiKeys: [Buffer.from(f2.apiKey)] }), /apiKey \(one appliance\) or apiKeys/)
    assert.throws(() => buildFipsClusterConfig({ ...base, apiKey: Buffer.from(`${f1.apiKey} `) }), (e: unknown) => e instanceof InvalidArgumentError && /spaces or line breaks/.test(e.message) && !e.message.includes(f1.apiKey))
    assert.throws(() => buildFipsClusterConfig({ ...base, hsmOrder: 1.5 }), /32-bit integer/)
    assert.equal(buildFipsClusterConfig({ ...base, address: `https://127.0.0.1:${f1.port}/` }).url, `127.0.0.1:${f1.port}`, 'a pasted https:// is stripped, as for appliances')
  })
})

describe('a FIPS-backed group through the client', () => {
  let group: Group
  let kid: string

  it('checkHmgConfig: 204 for a good config; a wrong API key is a BadRequestError naming the failure, without the key', async () => {
    await admin.groups.checkHmgConfig(config(f1))
    await assert.rejects(admin.groups.checkHmgConfig(config(f1, undefined, f2.apiKey)), (e: unknown) => {
      assert.ok(e instanceof BadRequestError)
      assert.match(e.message, /refused the API key/)
      assert.ok(!e.message.includes(f2.apiKey))
      return true
    })
  })

  it('create: hmg is a map by config uuid; the client keeps no pin even when the server echoes it', async () => {
    group = await admin.groups.create({ name: 'FIPS GROUP', add_hmg: [config(f1, 0), config(f2, 1)], hmg_redundancy: 'PriorityFailover' })
    assert.equal(Object.keys(group.hmg ?? {}).length, 2)
    assert.deepEqual(Object.values(group.hmg!).map((c) => c.hsm_order).sort(), [0, 1])
    assert.equal(group.hmg_redundancy, 'PriorityFailover')
    assert.ok(!JSON.stringify(group).includes(f1.apiKey) && !JSON.stringify(group).includes(f2.apiKey))
    assert.equal((await admin.groups.findByName('FIPS GROUP'))?.group_id, group.group_id)
  })

  it('checkHmg: {} every config, {id} one, {config} a draft', async () => {
    await admin.groups.checkHmg(group.group_id)
    await admin.groups.checkHmg(group.group_id, { id: Object.keys(group.hmg!)[0]! })
    await admin.groups.checkHmg(group.group_id, { config: config(f2) })
    await assert.rejects(admin.groups.checkHmg(group.group_id, { id: 'not-a-uuid' }), InvalidArgumentError)
  })

  it('a key generated in the group: a virtual key (external, virtual_key_info), made in fips-1 first by priority', async () => {
    const before1 = hits(f1, '/crypto/v1/wrapkey')
    const before2 = hits(f2, '/crypto/v1/wrapkey')
    const key = await admin.keys.generate({ name: 'data-key', obj_type: 'AES', key_size: 256, key_ops: ['ENCRYPT', 'DECRYPT', 'APPMANAGEABLE'], group_id: group.group_id })
    kid = key.kid
    assert.deepEqual(key.external, { id: {}, hsm_group_id: group.group_id })
    assert.equal(key.virtual_key_info?.cached_key_material, true)
    assert.match(key.kcv ?? '', /^[0-9a-f]{6}$/)
    assert.equal(hits(f1, '/crypto/v1/wrapkey'), before1 + 1, 'wrapped under the CMK in fips-1 (hsm_order 0)')
    assert.equal(hits(f2, '/crypto/v1/wrapkey'), before2)
  })

  it('encrypt/decrypt round trip; a changed tag is a BadRequestError', async () => {
    const plain = Buffer.from('the group works end to end')
    const sealed = await admin.crypto.encrypt({ key: { kid }, mode: 'GCM', plain, ad: Buffer.from('ad') })
    assert.equal(sealed.kid, kid)
    const back = await admin.crypto.decrypt({ key: { kid }, mode: 'GCM', cipher: sealed.cipher, iv: sealed.iv!, tag: sealed.tag!, ad: Buffer.from('ad') })
    assert.equal(back.toString(), plain.toString())
    await assert.rejects(admin.crypto.decrypt({ key: { kid }, mode: 'GCM', cipher: sealed.cipher, iv: sealed.iv!, tag: Buffer.alloc(16), ad: Buffer.from('ad') }), BadRequestError)
    await assert.rejects(admin.crypto.decrypt({ key: { kid }, mode: 'GCM', cipher: sealed.cipher, iv: sealed.iv! }), /needs the tag/)
  })

  it('patch mod_hmg puts fips-2 first: the next operation runs there', async () => {
    const ids = Object.entries(group.hmg!).sort((a, b) => (a[1].hsm_order ?? 0) - (b[1].hsm_order ?? 0)).map(([id]) => id)
    group = await admin.groups.patch(group.group_id, { mod_hmg: { [ids[1]!]: config(f2, -1) } })
    const before2 = hits(f2, '/crypto/v1/encrypt')
    const before1 = hits(f1, '/crypto/v1/encrypt')
    await admin.crypto.encrypt({ key: { kid }, mode: 'CBC', plain: Buffer.from('x') })
    assert.equal(hits(f2, '/crypto/v1/encrypt'), before2 + 1)
    assert.equal(hits(f1, '/crypto/v1/encrypt'), before1)
  })

  it('failover: fips-2 answering 503, then stalling, is skipped for fips-1 (a stall within the configured 800 ms)', async () => {
    const h503 = f2.faults.add({ path: '/crypto/v1/unwrapkey', kind: '503' })
    const before1 = hits(f1, '/crypto/v1/encrypt')
    await admin.crypto.encrypt({ key: { kid }, mode: 'CBC', plain: Buffer.from('x') })
    assert.equal(hits(f1, '/crypto/v1/encrypt'), before1 + 1)
    h503.cancel()
    const stall = f2.faults.add({ path: '/crypto/v1/unwrapkey', kind: 'stall' })
    const t0 = Date.now()
    await admin.crypto.encrypt({ key: { kid }, mode: 'CBC', plain: Buffer.from('x') })
    const ms = Date.now() - t0
    assert.ok(ms >= 800 && ms < 3000, `skipped after ${ms} ms`)
    process.stderr.write(`# a stalled FIPS appliance skipped after ${ms} ms (response timeout 800 ms)\n`)
    stall.cancel()
    f2.faults.releaseStalled()
  })

  it('both appliances failing: ServerError 503 with the cluster\'s reasons', async () => {
    const rules = [f1, f2].map((a) => a.faults.add({ path: '/sys/v1/version', kind: '503' }))
    try {
      await assert.rejects(admin.crypto.encrypt({ key: { kid }, mode: 'CBC', plain: Buffer.from('x') }), (e: unknown) => {
        assert.ok(e instanceof ServerError)
        assert.equal(e.status, 503)
        assert.match(e.message, /No FIPS appliance reachable for group "FIPS GROUP" \(tried 2\)/)
        return true
      })
    } finally {
      rules.forEach((r) => r.cancel())
    }
  })

  it('patch del_hmg and hmg_redundancy remove; then the group has one config', async () => {
    const [first] = Object.keys(group.hmg!)
    group = await admin.groups.patch(group.group_id, { del_hmg: [first!], hmg_redundancy: 'remove' })
    assert.equal(Object.keys(group.hmg!).length, 1)
    assert.equal(group.hmg_redundancy ?? undefined, undefined)
    await assert.rejects(admin.groups.patch(group.group_id, {}), /must change something/)
  })

  it('every request body the client sent validates against the OpenAPI request schema', () => {
    const paths = new Set(sent.map((e) => `${e.method} ${e.path.split('?')[0]!.replace(/[0-9a-f-]{36}/g, '{id}')}`))
    for (const must of ['POST /sys/v1/groups', 'PATCH /sys/v1/groups/{id}', 'POST /sys/v1/groups/hmg/check', 'POST /sys/v1/groups/{id}/hmg/check', 'POST /crypto/v1/keys', 'POST /crypto/v1/encrypt', 'POST /crypto/v1/decrypt']) {
      assert.ok(paths.has(must), `no ${must} was exercised`)
    }
    for (const e of sent) validateRequest(e.method, e.path, e.body)
  })
})

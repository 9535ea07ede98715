// The cluster's hmg pieces on their own: config parsing (every refusal named), the view with and
// without echoed secrets, add/mod/del applied all-or-nothing, the failover order (PriorityFailover
// by hsm_order, else random), and the vendor options for which CMK a group uses and how keys are
// wrapped under it, end to end with in-process FIPS appliances.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createDecipheriv } from 'node:crypto'
import { startClusterSimulator, startSimulator, type RunningCluster, type RunningSimulator, type SimulatedAppliance, type VendorChoices } from '../main/simulator'
import { applyHmgChanges, cmkNameOf, hmgConfigView, parseHmgConfig } from '../main/simulator/hmg-config'
import { tryOrder } from '../main/simulator/hmg-failover'
import type { Group } from '../main/simulator/model'
import { SimClient } from './support/sim-client'
import { exportCmkForTest, replicateCmk, type ApplianceEntry } from './support/sim-cmk'

let sim: RunningSimulator
let f1: SimulatedAppliance
let f2: SimulatedAppliance
const clusters: RunningCluster[] = []
let entries: ApplianceEntry[]

before(async () => {
  sim = await startSimulator({ appliances: 2 })
  ;[f1, f2] = sim.appliances as [SimulatedAppliance, SimulatedAppliance]
  entries = JSON.parse(sim.readyLine()).appliances
  await replicateCmk(entries[0]!, entries[1]!)
})
after(async () => {
  await Promise.all(clusters.map((c) => c.close()))
  await sim.close()
})

const cfg = (a: SimulatedAppliance, over: Record<string, unknown> = {}) => ({
  kind: 'FortanixFipsCluster', url: `${a.host}:${a.port}`, tls: { mode: 'required', validate_hostname: false, ca: { pinned: [a.certDer] } }, pin: a.apiKey, ...over,
})
const group = (): Group => ({ groupId: 'g', name: 'G', createdAt: 0, creator: { user: 'u' }, extra: {} })

describe('hmg config parsing and view', () => {
  it('reads the vendor shape; kind in any case; default port 443; IPv6 in brackets; credentials over pin', () => {
    const c = parseHmgConfig(cfg(f1, { kind: 'fortanixfipscluster', url: 'fips1.example', hsm_order: -2 }))
    assert.equal(c.kind, 'FortanixFipsCluster')
    assert.deepEqual([c.host, c.port, c.hsmOrder], ['fips1.example', 443, -2])
    assert.deepEqual([parseHmgConfig(cfg(f1, { url: '[::1]:8443' })).host, parseHmgConfig(cfg(f1, { url: '[::1]:8443' })).port], ['::1', 8443])
    const lb = parseHmgConfig(cfg(f1, { pin: undefined, credentials: ['k1', 'k2'] }))
    assert.deepEqual([lb.apiKeys, lb.hasCredentials, lb.hasPin], [['k1', 'k2'], true, false])
  })

  const refused: [string, Record<string, unknown>, RegExp][] = [
    ['another kind', { kind: 'AwsKms' }, /hmg kind "AwsKms" is not supported/],
    ['no kind', { kind: undefined }, /Missing required field kind/],
    ['a scheme', { url: 'https://fips1.example' }, /without a scheme/],
    ['a path', { url: 'fips1.example/x' }, /expected host or host:port/],
    ['port 0', { url: 'fips1.example:0' }, /port out of range/],
    ['no API key', { pin: undefined }, /needs pin \(the appliance API key\) or credentials/],
    ['an empty credential', { pin: undefined, credentials: [''] }, /Invalid hmg credentials/],
    ['TLS opportunistic', { tls: { mode: 'opportunistic' } }, /only reached with TLS mode "required"/],
    ['a CA set instead of pins', { tls: { mode: 'required', validate_hostname: true, ca: { ca_set: 'global_roots' } } }, /ca_set is not supported/],
    ['no pins', { tls: { mode: 'required', validate_hostname: true, ca: { pinned: [] } } }, /non-empty array/],
    ['no validate_hostname', { tls: { mode: 'required', ca: { pinned: [] } } }, /validate_hostname: expected true or false/],
    ['a hsm_order beyond int32', { hsm_order: 2 ** 31 }, /32-bit integer/],
  ]
  for (const [what, over, msg] of refused) {
    it(`refuses ${what} (400, named)`, () => {
      assert.throws(() => parseHmgConfig(cfg(f1, over)), (e: unknown) => (e as { status?: number }).status === 400 && msg.test((e as Error).message))
    })
  }

  it('the view echoes pin/credentials only when the vendor option says so', () => {
    const c = parseHmgConfig(cfg(f1, { hsm_order: 1 }))
    assert.deepEqual(Object.keys(hmgConfigView(c, false)).sort(), ['hsm_order', 'kind', 'tls', 'url'])
    assert.equal(hmgConfigView(c, true)['pin'], f1.apiKey)
    assert.deepEqual(hmgConfigView(parseHmgConfig(cfg(f1, { pin: undefined, credentials: ['a', 'b'] })), true)['credentials'], ['a', 'b'])
  })
})

describe('group changes and order', () => {
  it('add, mod, del and redundancy apply together; a bad entry changes nothing', () => {
    const g = group()
    applyHmgChanges(g, { add_hmg: [cfg(f1, { hsm_order: 1 }), cfg(f2, { hsm_order: 0 })], hmg_redundancy: 'PriorityFailover' }, true)
    const [id1, id2] = [...g.hmg!.keys()]
    assert.equal(g.hmgRedundancy, 'PriorityFailover')
    const before = new Map(g.hmg)
    assert.throws(() => applyHmgChanges(g, { del_hmg: [id1], mod_hmg: { [id2!]: cfg(f2, { url: 'https://x' }) } }, false), /without a scheme/)
    assert.deepEqual(g.hmg, before, 'untouched')
    assert.throws(() => applyHmgChanges(g, { del_hmg: ['00000000-0000-4000-8000-000000000000'] }, false), /does not exist/)
    assert.throws(() => applyHmgChanges(group(), { mod_hmg: {} }, true), /only valid when updating/)
    assert.throws(() => applyHmgChanges(g, { hmg_redundancy: 'RoundRobin' }, false), /expected "PriorityFailover" or "remove"/)
    applyHmgChanges(g, { del_hmg: [id1], hmg_redundancy: 'remove' }, false)
    assert.deepEqual([...g.hmg!.keys()], [id2])
    assert.equal(g.hmgRedundancy, undefined)
  })

  it('PriorityFailover: smallest hsm_order first, negatives allowed, missing last, ties in insertion order; otherwise random', () => {
    const g = group()
    applyHmgChanges(g, { add_hmg: [cfg(f1, { url: 'a.example', hsm_order: 5 }), cfg(f1, { url: 'b.example' }), cfg(f1, { url: 'c.example', hsm_order: -1 }), cfg(f1, { url: 'd.example', hsm_order: 5 })], hmg_redundancy: 'PriorityFailover' }, true)
    assert.deepEqual(tryOrder(g, () => 0).map((c) => c.url), ['c.example', 'a.example', 'd.example', 'b.example'])
    delete g.hmgRedundancy
    const orders = new Set<string>()
    let seed = 1
    const random = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
    for (let i = 0; i < 40; i++) orders.add(tryOrder(g, random).map((c) => c.url).join(','))
    assert.ok(orders.size > 3, `random order varies (${orders.size} distinct)`)
  })

  it('cmkNameOf: the group\'s wrapping_key_name when the option says so, else the default', () => {
    const g = { ...group(), extra: { wrapping_key_name: 'cmk-2' } }
    assert.equal(cmkNameOf(g, 'group-wrapping_key_name', 'cluster-master-key'), 'cmk-2')
    assert.equal(cmkNameOf(g, 'none', 'cluster-master-key'), 'cluster-master-key')
    assert.equal(cmkNameOf(group(), 'group-wrapping_key_name', 'cluster-master-key'), 'cluster-master-key')
  })
})

describe('vendor options end to end', () => {
  async function clusterWith(vendor: VendorChoices) {
    const cl = await startClusterSimulator({ vendor, fipsConnectTimeoutMs: 500, fipsResponseTimeoutMs: 3000 })
    clusters.push(cl)
    const c = new SimClient(cl)
    const u = cl.users[0]!
    return { cl, c, auth: await c.userSession(u.user, u.password, cl.accountId) }
  }

  it('cmkNameLocation group-wrapping_key_name: a group naming a CMK the appliances lack cannot make keys (503 names why)', async () => {
    const { c, auth } = await clusterWith({})
    const g = await c.request('POST', '/sys/v1/groups', { auth, body: { name: 'named CMK', add_hmg: [cfg(f1), cfg(f2)], wrapping_key_name: 'cmk-elsewhere' } })
    const r = await c.request('POST', '/crypto/v1/keys', { auth, body: { name: 'k', obj_type: 'AES', key_size: 256, group_id: g.body.group_id } })
    assert.equal(r.status, 503)
    assert.match(r.body, /has no key named "cmk-elsewhere" \(the CMK\)/)
  })

  it('cmkNameLocation none: the same group uses the default CMK; virtualKeyWrapMode KW wraps with KW', async () => {
    const { cl, c, auth } = await clusterWith({ cmkNameLocation: 'none', virtualKeyWrapMode: 'KW' })
    const g = await c.request('POST', '/sys/v1/groups', { auth, body: { name: 'named CMK', add_hmg: [cfg(f1), cfg(f2)], wrapping_key_name: 'cmk-elsewhere' } })
    const k = await c.request('POST', '/crypto/v1/keys', { auth, body: { name: 'k', obj_type: 'AES', key_size: 256, group_id: g.body.group_id } })
    assert.equal(k.status, 201, k.text)
    const e = await c.request('POST', '/crypto/v1/encrypt', { auth, body: { key: { kid: k.body.kid }, alg: 'AES', mode: 'GCM', plain: 'AAAA' } })
    assert.equal(e.status, 200, e.text)
    // The stored blob is RFC 3394 KW under the default CMK: it unwraps with KW, not with KWP.
    const cmk = await exportCmkForTest(entries[0]!)
    const blob = (cl.inspectModelForTests() as { keys: Map<string, { material: { blob: Buffer } }> }).keys.get(k.body.kid)!.material.blob
    const unwrap = (cipher: string, iv: string) => { const d = createDecipheriv(cipher, cmk, Buffer.from(iv, 'hex')); return Buffer.concat([d.update(blob), d.final()]) }
    assert.equal(unwrap('id-aes256-wrap', 'A6A6A6A6A6A6A6A6').length, 32)
    assert.throws(() => unwrap('id-aes256-wrap-pad', 'A65959A6'))
  })

  it('keys of a FIPS-backed group: AES only, virtual ops only, never exported or wrapped', async () => {
    const { c, auth } = await clusterWith({})
    const g = await c.request('POST', '/sys/v1/groups', { auth, body: { name: 'limits', add_hmg: [cfg(f1)] } })
    const rsa = await c.request('POST', '/crypto/v1/keys', { auth, body: { name: 'r', obj_type: 'RSA', key_size: 2048, group_id: g.body.group_id } })
    assert.equal(rsa.status, 400)
    assert.match(rsa.body, /AES only/)
    const ops = await c.request('POST', '/crypto/v1/keys', { auth, body: { name: 'x', obj_type: 'AES', key_size: 256, group_id: g.body.group_id, key_ops: ['EXPORT'] } })
    assert.equal(ops.status, 400)
    assert.match(ops.body, /EXPORT is not available for keys of a FIPS-backed group/)
    const k = await c.request('POST', '/crypto/v1/keys', { auth, body: { name: 'v', obj_type: 'AES', key_size: 128, group_id: g.body.group_id } })
    assert.equal(k.status, 201, k.text)
    const local = await c.request('POST', '/crypto/v1/keys', { auth, body: { name: 'local-rsa', obj_type: 'RSA', key_size: 2048, key_ops: ['WRAPKEY'], group_id: (await c.request('POST', '/sys/v1/groups', { auth, body: { name: 'plain' } })).body.group_id } })
    const w = await c.request('POST', '/crypto/v1/wrapkey', { auth, body: { key: { kid: local.body.kid }, subject: { kid: k.body.kid }, alg: 'RSA' } })
    assert.equal(w.status, 403, 'no EXPORT on the virtual key')
    const kwp = await c.request('POST', '/crypto/v1/wrapkey', { auth, validateReq: false, body: { key: { kid: k.body.kid }, subject: { kid: k.body.kid }, alg: 'AES', mode: 'KWP' } })
    assert.equal(kwp.status, 403)
  })
})

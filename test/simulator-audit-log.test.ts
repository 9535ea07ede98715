// The appliance's own audit log, GET /sys/v1/logs: an entry for every call served (who, what, on
// which object and group, when, the outcome), the document's filters, paging and their refusals,
// who may read it, retention. Every answer is checked against the vendor's OpenAPI document
// (SimClient validates each response; the in-process checks call validateResponse themselves).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { ApplianceApi } from '../main/simulator/appliance'
import type { ApplianceConfig } from '../main/simulator/context'
import { DEFAULT_VENDOR } from '../main/simulator/defaults'
import { ApplianceModel } from '../main/simulator/model'
import { seedAppliance } from '../main/simulator/seed'
import { startSimulator, type RunningSimulator, type SimulatedAppliance, type VendorChoices } from '../main/simulator'
import { validateResponse } from './support/openapi'
import { SimClient } from './support/sim-client'

interface Hit { _id: string; _source: { action_type: string; actor_type: string; actor_id: string; object_id: string; group_ids: string[]; message: string; severity: string; time: string } }

const T0 = Date.parse('2026-12-01T09:00:00Z')
const wrapBody = (cmk: string, pub: string) => ({ key: { kid: pub }, subject: { kid: cmk }, alg: 'RSA', mode: { OAEP: { mgf: { mgf1: { hash: 'SHA256' } } } } })

describe('GET /sys/v1/logs on a running appliance', () => {
  let sim: RunningSimulator
  let a: SimulatedAppliance
  let c: SimClient
  let app: string
  let admin: string
  const clock = { t: T0 }
  const logs = async (query = '', validate = true) => {
    const r = await c.request('GET', `/sys/v1/logs${query}`, { auth: app, validateReq: validate })
    assert.equal(r.status, 200, r.text)
    return r.body.hits as Hit[]
  }

  before(async () => {
    sim = await startSimulator({ appliances: 1, sessionTtlSeconds: 365 * 24 * 3600, now: () => clock.t })
    a = sim.appliances[0]!
    c = new SimClient(a)
    app = await c.appSession(a.apiKey)
    admin = await c.userSession(a.custodians[0]!.user, a.custodians[0]!.password, a.accountId)
  })
  after(() => sim.close())

  it('records every call it serves: who, what, which object and group, when, and the outcome', async () => {
    clock.t += 1000
    const made = await c.request('POST', '/crypto/v1/keys', { auth: app, body: { name: 'audit-me', obj_type: 'RSA', key_size: 2048, key_ops: ['WRAPKEY', 'APPMANAGEABLE'] } })
    assert.equal(made.status, 201)
    clock.t += 1000
    const cmk = a.state.sobjects().find((o) => o.name === 'cluster-master-key')!
    const refused = await c.request('POST', '/crypto/v1/wrapkey', { auth: app, body: wrapBody(cmk.kid, made.body.kid) })
    assert.equal(refused.status, 403)
    clock.t += 1000
    const opened = await c.request('POST', '/sys/v1/approval_requests', { auth: app, body: { method: 'POST', operation: '/crypto/v1/wrapkey', body: wrapBody(cmk.kid, made.body.kid), description: 'audit test' } })
    assert.equal(opened.status, 201)
    const id = opened.body.request_id as string
    for (const [i, custodian] of a.custodians.slice(0, 2).entries()) {
      clock.t += 1000
      const user = i === 0 ? admin : await c.userSession(custodian.user, custodian.password, a.accountId)
      const ok = await c.request('POST', `/sys/v1/approval_requests/${id}/approve`, { auth: user, body: { password: custodian.password } })
      assert.equal(ok.status, 200, ok.text)
    }
    clock.t += 1000
    assert.equal((await c.request('DELETE', `/crypto/v1/keys/${made.body.kid}`, { auth: app })).status, 204)

    const hits = await logs('?size=1000')
    const by = (pred: (h: Hit['_source']) => boolean) => hits.filter((h) => pred(h._source))
    const created = by((s) => s.object_id === made.body.kid && /^Created security object "audit-me"/.test(s.message))
    assert.equal(created.length, 1)
    assert.deepEqual({ ...created[0]!._source, time: undefined }, { ...created[0]!._source, action_type: 'ADMINISTRATIVE', actor_type: 'App', actor_id: a.appId, group_ids: [a.groupId], severity: 'INFO', time: undefined })
    assert.equal(created[0]!._source.time, new Date(T0 + 1000).toISOString().replace('.000Z', 'Z'))
    const denied = by((s) => s.severity === 'WARNING' && s.action_type === 'CRYPTOOPERATION' && s.object_id === cmk.kid)
    assert.match(denied[0]!._source.message, /refused \(403\) This operation requires approval/)
    assert.equal(by((s) => s.object_id === id && s.action_type === 'ADMINISTRATIVE' && s.actor_type === 'App').length, 1, 'the request, by the app')
    const decisions = by((s) => s.object_id === id && /^Approved approval request/.test(s.message))
    assert.deepEqual(decisions.map((h) => h._source.actor_id).sort(), a.custodians.slice(0, 2).map((u) => u.userId).sort())
    const executed = by((s) => /as approved by the quorum/.test(s.message))
    assert.equal(executed.length, 1, 'the approved wrap is an entry of its own')
    assert.deepEqual([executed[0]!._source.actor_id, executed[0]!._source.action_type, executed[0]!._source.object_id, executed[0]!._source.severity], [a.appId, 'CRYPTOOPERATION', cmk.kid, 'INFO'])
    assert.equal(by((s) => s.object_id === made.body.kid && /^Deleted security object/.test(s.message)).length, 1)
    assert.ok(by((s) => s.action_type === 'AUTH' && s.actor_id === a.appId && s.object_id === a.appId).length >= 1, 'the app\'s sign-in is an entry')
    assert.equal(by((s) => s.action_type === 'AUTH' && s.actor_type === 'User').length, 0, 'a user\'s sign-in names no group: not the app\'s to read')
    assert.ok(by((s) => s.action_type === 'OTHER' && /GET \/sys\/v1\/logs/.test(s.message)).length === 0, 'a query is recorded after it is answered')
    // No credential, password or token is ever in the log.
    const text = JSON.stringify(hits)
    for (const secret of [a.apiKey, ...a.custodians.map((u) => u.password), app.slice(7), admin.slice(7)]) assert.equal(text.includes(secret), false)
  })

  it('filters as the document says: time range, action and actor types, actor, object, severity', async () => {
    const all = await logs('?size=1000')
    const from = Math.floor((T0 + 2000) / 1000)
    const to = Math.floor((T0 + 3000) / 1000)
    const ranged = await logs(`?size=1000&range_from=${from}&range_to=${to}`)
    assert.ok(ranged.length > 0 && ranged.length < all.length)
    assert.ok(ranged.every((h) => { const s = Date.parse(h._source.time) / 1000; return s >= from && s <= to }), 'both ends inclusive')
    // Lists are comma-separated, as the vendor's client sends them (the query validator reads arrays as one value, so it is skipped here).
    const changes = await logs('?size=1000&action_type=ADMINISTRATIVE,CRYPTOOPERATION', false)
    assert.deepEqual([...new Set(changes.map((h) => h._source.action_type))].sort(), ['ADMINISTRATIVE', 'CRYPTOOPERATION'])
    assert.equal((await logs('?size=1000&action_type=AUTH&action_type=OTHER', false)).every((h) => ['AUTH', 'OTHER'].includes(h._source.action_type)), true)
    const users = await logs('?size=1000&actor_type=User', false)
    assert.ok(users.length > 0 && users.every((h) => h._source.actor_type === 'User'))
    const mine = await logs(`?size=1000&actor_id=${a.custodians[1]!.userId}`)
    assert.ok(mine.length > 0 && mine.every((h) => h._source.actor_id === a.custodians[1]!.userId))
    const cmk = a.state.sobjects().find((o) => o.name === 'cluster-master-key')!
    assert.ok((await logs(`?size=1000&object_id=${cmk.kid}`)).every((h) => h._source.object_id === cmk.kid))
    const warnings = await logs('?size=1000&severity=WARNING', false)
    assert.ok(warnings.length > 0 && warnings.every((h) => h._source.severity === 'WARNING'))
  })

  it('pages with size and from, or previous_id; newest first; no entry twice or missed', async () => {
    const all = await logs('?size=1000')
    const times = all.map((h) => Date.parse(h._source.time))
    assert.deepEqual(times, [...times].sort((x, y) => y - x), 'newest first')
    // Fix the upper end of the range in the past: the queries themselves become entries as they are served.
    const range = `range_to=${Math.floor(clock.t / 1000)}`
    clock.t += 1000
    const fixed = await logs(`?size=1000&${range}`)
    const paged: Hit[] = []
    for (let from = 0; ; from += 3) {
      const page = await logs(`?size=3&from=${from}&${range}`)
      paged.push(...page)
      if (page.length < 3) break
    }
    assert.deepEqual(paged.map((h) => h._id), fixed.map((h) => h._id))
    const after = await logs(`?size=1000&${range}&previous_id=${fixed[4]!._id}`)
    assert.deepEqual(after.map((h) => h._id), fixed.slice(5).map((h) => h._id))
  })

  it('refuses bad parameters by name (400), and an app without the AUDIT permission (403)', async () => {
    const bad = async (q: string, pattern: RegExp) => {
      const r = await c.request('GET', `/sys/v1/logs?${q}`, { auth: app, validateReq: false })
      assert.equal(r.status, 400, q)
      assert.match(r.body, pattern)
    }
    await bad('size=ten', /Invalid query parameter size/)
    await bad('from=-1', /Invalid query parameter from/)
    await bad('range_from=yesterday', /Invalid query parameter range_from/)
    await bad('action_type=DELETE', /action_type: "DELETE" is not one of/)
    await bad('severity=info', /severity: "info" is not one of/)
    await bad('actor_type=Robot', /actor_type/)
    await bad('object_id=not-a-uuid', /object_id: expected a UUID/)
    await bad(`previous_id=${a.groupId}`, /previous_id: no such log entry/)
    await bad('size=1000&from=9001', /Result window is too large/)
    const none = await c.request('GET', '/sys/v1/logs')
    assert.equal(none.status, 401)
  })

  it('an account administrator reads every entry; purged after 90 days, as Fortanix does by default', async () => {
    const r = await c.request('GET', '/sys/v1/logs?size=1000', { auth: admin })
    assert.equal(r.status, 200)
    assert.ok((r.body.hits as Hit[]).some((h) => h._source.action_type === 'AUTH' && h._source.actor_id === a.custodians[1]!.userId), 'users\' sign-ins too')
    clock.t += 89 * 24 * 3600 * 1000
    assert.ok((await logs('?size=1000')).some((h) => /audit-me/.test(h._source.message)), 'kept for 89 days')
    clock.t += 2 * 24 * 3600 * 1000
    const left = await logs('?size=1000')
    assert.equal(left.some((h) => /audit-me/.test(h._source.message)), false, 'gone after 91 days')
  })
})

/** One appliance in-process (no HTTP), for what a running simulator does not expose: its apps' permissions. */
function inProcess(vendor: VendorChoices = {}) {
  let t = T0
  const config: ApplianceConfig = { role: 'fips', sessionTtlSeconds: 600, approvalTtlSeconds: 3600, vendor: { ...DEFAULT_VENDOR, ...vendor }, now: () => t }
  const model = new ApplianceModel('fips-x', config.now, config.vendor)
  const seeded = seedAppliance(model, { groupName: 'Quorum Group', quorum: 2, custodians: 3, requirePassword: true, protectPermissions: [], cmkName: 'cluster-master-key' })
  const api = new ApplianceApi(model, config)
  const call = async (method: string, url: string, body?: unknown) => {
    t += 1000
    const r = await api.handle({ method, url, headers: { authorization: `Basic ${seeded.apiKey}` }, body })
    validateResponse(method, url, r.status, r.body)
    return r
  }
  return { model, seeded, call }
}

describe('GET /sys/v1/logs, in-process', () => {
  it('an app sees its AUDIT groups only, and with AUDIT in no group is refused (403)', async () => {
    const { model, seeded, call } = inProcess()
    await call('POST', '/crypto/v1/keys', { name: 'k1', obj_type: 'AES', key_size: 256 })
    // Another group, outside the app: what happens there is not the app's to read.
    const other = [...model.groups.values()][0]!
    model.groups.set('7f3e6a52-2c7d-4a41-9d0e-5c8f1b2a3d4e', { ...other, groupId: '7f3e6a52-2c7d-4a41-9d0e-5c8f1b2a3d4e', name: 'Other' })
    const seen = await call('GET', '/sys/v1/logs?size=1000')
    assert.equal(seen.status, 200)
    const hits = (seen.body as { hits: Hit[] }).hits
    assert.ok(hits.some((h) => /"k1"/.test(h._source.message)))
    assert.ok(hits.every((h) => h._source.actor_id === seeded.appId || h._source.group_ids.includes(seeded.groupId)))
    model.apps.get(seeded.appId)!.groups[seeded.groupId] = model.apps.get(seeded.appId)!.groups[seeded.groupId]!.filter((p) => p !== 'AUDIT')
    const refused = await call('GET', '/sys/v1/logs')
    assert.equal(refused.status, 403)
    assert.match(String(refused.body), /lacks the AUDIT permission/)
  })

  it('vendor option: an app reads every group it belongs to, AUDIT or not', async () => {
    const { model, seeded, call } = inProcess({ auditLogAppScope: 'member-groups' })
    model.apps.get(seeded.appId)!.groups[seeded.groupId] = model.apps.get(seeded.appId)!.groups[seeded.groupId]!.filter((p) => p !== 'AUDIT')
    await call('POST', '/crypto/v1/keys', { name: 'k4', obj_type: 'AES', key_size: 256 })
    const r = await call('GET', '/sys/v1/logs?size=1000')
    assert.equal(r.status, 200)
    assert.ok((r.body as { hits: Hit[] }).hits.some((h) => /"k4"/.test(h._source.message)))
  })

  it('vendor option: the range in milliseconds', async () => {
    const { call } = inProcess({ auditLogRangeUnit: 'milliseconds' })
    await call('POST', '/crypto/v1/keys', { name: 'k5', obj_type: 'AES', key_size: 256 })
    const inSeconds = Math.floor(T0 / 1000)
    const bySeconds = (await call('GET', `/sys/v1/logs?range_from=${inSeconds}&range_to=${inSeconds + 3600}`)).body as { hits: Hit[] }
    assert.deepEqual(bySeconds.hits, [], 'seconds read as milliseconds fall in 1970')
    const byMs = (await call('GET', `/sys/v1/logs?range_from=${T0}&range_to=${T0 + 3600_000}`)).body as { hits: Hit[] }
    assert.ok(byMs.hits.some((h) => /"k5"/.test(h._source.message)))
  })

  it('vendor options: reads not recorded, oldest first', async () => {
    const { call } = inProcess({ auditLogReads: 'not-recorded', auditLogOrder: 'oldest-first' })
    await call('GET', '/crypto/v1/keys')
    await call('POST', '/crypto/v1/keys', { name: 'k2', obj_type: 'AES', key_size: 256 })
    await call('POST', '/crypto/v1/keys', { name: 'k3', obj_type: 'AES', key_size: 256 })
    const hits = ((await call('GET', '/sys/v1/logs?size=1000')).body as { hits: Hit[] }).hits
    assert.equal(hits.some((h) => h._source.action_type === 'OTHER'), false)
    assert.deepEqual(hits.map((h) => h._source.message), ['Created security object "k2"', 'Created security object "k3"'])
  })
})

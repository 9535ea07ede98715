/**
 * The corroboration rule of C.0 (main/ceremony/log-corroboration.ts), case by case, and the step's
 * capture against a real appliance over TLS: an app without the AUDIT permission is refused by
 * name, and an appliance message that looks like a secret is never stored.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { applianceLogsStep } from '../main/ceremony/appliance-logs'
import { corroborate, findingRef, recordedRequests, type CeremonyCall, type CorroborationInput, type LoggedEntry } from '../main/ceremony/log-corroboration'
import type { Plan } from '../main/ceremony/plan-envelope'
import type { StepContext } from '../main/ceremony/step'
import { AppSession, DsmConnection } from '../main/dsm'
import type { LogEntry } from '../main/evidence'
import { ApplianceApi } from '../main/simulator/appliance'
import type { ApplianceConfig } from '../main/simulator/context'
import { DEFAULT_VENDOR, HOST } from '../main/simulator/defaults'
import { ApplianceModel } from '../main/simulator/model'
import { seedAppliance } from '../main/simulator/seed'
import { ApplianceServer } from '../main/simulator/server'
import { makeServerIdentity } from '../main/simulator/tls-cert'

const app = randomUUID()
const group = randomUUID()
const otherGroup = randomUUID()
const alice = randomUUID() // a custodian
const mallory = randomUUID() // someone else
const transferKey = randomUUID()
const cmk = randomUUID()
const request = randomUUID()

let n = 0
const entry = (e: Partial<LoggedEntry>): LoggedEntry => ({
  id: `e${++n}`, at: Date.parse('2026-12-01T09:00:00Z') + n * 1000, action: 'ADMINISTRATIVE', actorType: 'App', actor: app, object: transferKey, groups: [group], message: 'm', severity: 'INFO', ...e,
})
const call = (c: Partial<CeremonyCall>): CeremonyCall => ({ appliance: 'fips-2', actor: app, object: transferKey, action: 'ADMINISTRATIVE', what: 'generated the transfer key', ...c })
const judge = (input: Partial<CorroborationInput>) => corroborate({ appliance: 'fips-2', entries: [], groups: [group], app, calls: [], requests: [], ...input })

describe('the corroboration rule', () => {
  it('every call of the ceremony matched by its entry: no finding; the same call twice needs two entries', () => {
    const calls = [call({ what: 'created' }), call({ what: 'deleted' }), call({ object: request }), call({ actor: alice, object: request })]
    const entries = [entry({}), entry({ object: request }), entry({ actor: alice, actorType: 'User', object: request }), entry({})]
    const all = judge({ calls, entries, requests: [{ id: request, approvers: [alice], decisionsInApp: 1 }] })
    assert.deepEqual(all, { relevant: 4, corroborated: 4, findings: [] })
    const oneShort = judge({ calls, entries: entries.slice(0, 3), requests: [{ id: request, approvers: [alice], decisionsInApp: 1 }] })
    assert.deepEqual(oneShort.findings.map((f) => [f.kind, f.object, f.message]), [['missing', transferKey, 'deleted']])
  })

  it('a call is never matched by an entry logged before its step began: the link\'s "Created group" does not take the place of the join\'s change', () => {
    // The link's "Created group" and this ceremony's "Updated group": same actor, object and action.
    const created = entry({ actorType: 'User', object: group, message: 'Created group' })
    const updated = entry({ actorType: 'User', object: group, message: 'Updated group' })
    const join = call({ object: group, what: 'added the new appliance\'s config', notBefore: updated.at - 500 })
    assert.deepEqual(judge({ entries: [created, updated], calls: [join], earlier: (e) => e.id === created.id }), { relevant: 2, corroborated: 1, findings: [] })
    // Without the earlier ceremony to account for it, the older change is the one named, not this ceremony's.
    assert.deepEqual(judge({ entries: [created, updated], calls: [join] }).findings.map((f) => [f.kind, f.message]), [['unexplained', 'Created group']])
    // Without a start, the first like entry would have been taken and this ceremony's own change named instead.
    assert.deepEqual(judge({ entries: [created, updated], calls: [{ ...join, notBefore: undefined }] }).findings.map((f) => [f.kind, f.message]), [['unexplained', 'Updated group']])
  })

  it('a call that may repeat (a key read again after a restart) takes as many like entries of its actor as the record counts, needs one, and no one else\'s', () => {
    const read = call({ actor: alice, object: request, what: 'read the API key', repeats: 1 })
    const reads = [entry({ actorType: 'User', actor: alice, object: request }), entry({ actorType: 'User', actor: alice, object: request })]
    assert.deepEqual(judge({ entries: reads, calls: [read] }), { relevant: 2, corroborated: 2, findings: [] })
    assert.deepEqual(judge({ entries: [], calls: [read] }).findings.map((f) => f.kind), ['missing'])
    const other = entry({ actorType: 'User', actor: mallory, object: request })
    assert.deepEqual(judge({ entries: [...reads, other], calls: [read] }).findings.map((f) => [f.kind, f.actor]), [['unexplained', mallory]])
    // Without `repeats`, the second read is one more than the ceremony made; with it, a third is too.
    assert.equal(judge({ entries: reads, calls: [{ ...read, repeats: 0 }] }).findings.length, 1)
    const third = entry({ actorType: 'User', actor: alice, object: request })
    assert.deepEqual(judge({ entries: [...reads, third], calls: [read] }).findings.map((f) => [f.kind, f.actor]), [['unexplained', alice]])
  })

  it('a change by anyone else in the ceremony\'s group is a finding; other groups, sign-ins and reads are not', () => {
    const extra = entry({ actorType: 'User', actor: mallory, object: randomUUID(), message: 'Created security object "extra"' })
    const r = judge({
      entries: [extra, entry({ groups: [otherGroup], object: randomUUID(), actor: mallory }), entry({ action: 'AUTH', actor: mallory, object: mallory }), entry({ action: 'OTHER', actor: mallory })],
    })
    assert.equal(r.relevant, 1)
    assert.deepEqual(r.findings.map((f) => [f.ref, f.kind, f.actor, f.actorType, f.message]), [[findingRef('fips-2', extra.id, '0'), 'unexplained', mallory, 'User', 'Created security object "extra"']])
    assert.match(r.findings[0]!.ref, /^AL-[0-9a-f]{8}$/)
  })

  it('the ceremony\'s own app doing more than the record says is a finding: a request deleted by hand', () => {
    // In the same second (log times are whole seconds): the order the appliance gave decides which is the extra one.
    const opened = entry({ object: request, message: 'Created approval request' })
    const r = judge({ calls: [call({ object: request })], requests: [{ id: request, approvers: null, decisionsInApp: 0 }], entries: [opened, entry({ object: request, at: opened.at, id: 'a-sorts-first', message: 'Deleted approval request' })] })
    assert.deepEqual(r.findings.map((f) => [f.kind, f.actor, f.message, f.sameSecond]), [['unexplained', app, 'Deleted approval request', ['Created approval request']]])
    // Listed the other way round, the other entry is named; the finding keeps its reference.
    const swapped = judge({ calls: [call({ object: request })], requests: [{ id: request, approvers: null, decisionsInApp: 0 }], entries: [entry({ object: request, at: opened.at, id: 'a-sorts-first', message: 'Deleted approval request' }), opened] })
    assert.deepEqual(swapped.findings.map((f) => [f.ref, f.message, f.sameSecond]), [[r.findings[0]!.ref, 'Created approval request', ['Deleted approval request']]])
  })

  it('refused attempts: the ceremony\'s own and custodians\' on its requests change nothing; anyone else\'s are findings', () => {
    const r = judge({
      requests: [{ id: request, approvers: [alice], decisionsInApp: 1 }],
      calls: [call({ object: request }), call({ actor: alice, object: request })],
      entries: [
        entry({ object: request }), entry({ actor: alice, actorType: 'User', object: request }),
        entry({ severity: 'WARNING', object: transferKey }), entry({ severity: 'WARNING', actor: alice, actorType: 'User', object: request }),
        entry({ severity: 'WARNING', actor: mallory, actorType: 'User', object: cmk, action: 'CRYPTOOPERATION', message: 'Exported: refused (403)' }),
      ],
    })
    assert.deepEqual(r.findings.map((f) => [f.kind, f.actor, f.object]), [['refused', mallory, cmk]])
  })

  it('decisions on a request that was never approved: once per user; a second by the same user, or one on an approved request by someone the appliance did not report, is a finding', () => {
    const denied = randomUUID()
    const r = judge({
      requests: [{ id: denied, approvers: null, decisionsInApp: 2 }, { id: request, approvers: [alice], decisionsInApp: 1 }],
      calls: [call({ object: denied }), call({ object: request }), call({ actor: alice, object: request })],
      entries: [
        entry({ object: denied }), entry({ actor: alice, actorType: 'User', object: denied }), entry({ actor: mallory, actorType: 'User', object: denied }),
        entry({ actor: alice, actorType: 'User', object: denied }),
        entry({ object: request }), entry({ actor: alice, actorType: 'User', object: request }), entry({ actor: mallory, actorType: 'User', object: request }),
      ],
    })
    assert.deepEqual(r.findings.map((f) => [f.kind, f.actor, f.object]), [['unexplained', alice, denied], ['unexplained', mallory, request]])
    const untold = judge({ requests: [{ id: denied, approvers: null, decisionsInApp: 2 }], calls: [call({ object: denied })], entries: [entry({ object: denied }), entry({ actor: alice, actorType: 'User', object: denied })] })
    assert.deepEqual(untold.findings.map((f) => [f.kind, f.object]), [['missing', denied]])
    assert.match(untold.findings[0]!.message, /2 decision\(s\) .* logged 1/)
  })

  it('the ceremony\'s app using its own keys again is its own (a repeated export); another principal doing so is a finding', () => {
    const r = judge({
      calls: [call({ object: cmk, action: 'CRYPTOOPERATION' })],
      entries: [entry({ object: cmk, action: 'CRYPTOOPERATION' }), entry({ object: cmk, action: 'CRYPTOOPERATION' }), entry({ object: cmk, action: 'CRYPTOOPERATION', actor: mallory, actorType: 'App' })],
    })
    assert.deepEqual(r.findings.map((f) => f.actor), [mallory])
    assert.equal(r.corroborated, 1)
  })

  it('reads from the record every request the ceremony opened (replaced ones too), the approvals reported, and the decisions taken in the app', () => {
    const e = (kind: string, facts: Record<string, unknown>, step = 's'): LogEntry => ({ seq: 0, ts: '', prev: '', planDigest: '', actor: 'x', step, kind, facts, hash: '' })
    const opened = (id: string) => ({ requestId: id, nonce: 'n', appliance: 'fips-1', method: 'POST', operation: '/crypto/v1/wrapkey', bodySha256: 'd', requester: app })
    const first = randomUUID()
    const { calls, requests } = recordedRequests([
      e('step-done', { scriptId: 'T2.4', result: opened(first) }), e('denial', { requestId: first }),
      e('step-done', { scriptId: 'T2.4', result: { ...opened(request), recovered: true } }),
      e('approval', { requestId: request }), e('step-done', { result: { requestId: request, status: 'APPROVED', approvers: [alice, mallory] } }),
      e('step-done', { result: { kid: transferKey } }),
    ])
    assert.deepEqual(calls.map((c) => [c.actor, c.object]), [[app, first], [app, request], [alice, request], [mallory, request]])
    assert.match(calls[0]!.what, /^T2\.4: opened approval request/)
    assert.deepEqual(requests.get('fips-1'), [{ id: first, approvers: null, decisionsInApp: 1 }, { id: request, approvers: [alice, mallory], decisionsInApp: 1 }])
  })
})

describe('C.0 against a real appliance (in-process, over TLS)', () => {
  async function appliance() {
    const config: ApplianceConfig = { role: 'fips', sessionTtlSeconds: 600, approvalTtlSeconds: 3600, vendor: { ...DEFAULT_VENDOR }, now: Date.now }
    const model = new ApplianceModel('fips-x', Date.now, config.vendor)
    const seeded = seedAppliance(model, { groupName: 'Quorum Group', quorum: 2, custodians: 3, requirePassword: true, protectPermissions: [], cmkName: 'cluster-master-key' })
    const identity = makeServerIdentity('fips-x.dsm-sim.test', HOST)
    const server = new ApplianceServer(new ApplianceApi(model, config), identity, Date.now)
    const port = await server.listen(HOST, 0)
    const session = await AppSession.open(new DsmConnection({ host: HOST, port, trust: { spkiSha256: identity.spkiSha256 } }), Buffer.from(seeded.apiKey))
    return { model, seeded, server, session }
  }

  function context(session: AppSession, written: Map<string, Buffer>): StepContext {
    const opened = new Date(Date.now() - 60_000).toISOString()
    return {
      plan: { id: 'unit', mode: 'rehearsal' }, planDigest: '0'.repeat(64), stepId: 'appliance-logs', label: (id: string) => id, now: () => new Date(),
      app: async () => session, get: () => { throw new Error('no results here') }, find: () => null, note: () => undefined, exceptionsHere: () => [],
      recorded: () => [{ seq: 1, ts: opened, prev: '', planDigest: '', actor: 'op', step: 'ceremony', kind: 'ceremony-open', facts: {}, hash: '' }],
      media: {
        write: async (name: string, data: Buffer) => { written.set(name, data); return { name, sha256: 'a'.repeat(64), bytes: data.length } },
        journaled: () => null, exists: () => false, read: async () => Buffer.alloc(0), readUnverified: async () => Buffer.alloc(0),
      },
    } as unknown as StepContext
  }

  it('an app without the AUDIT permission is refused by name (APPLIANCE_LOG_FORBIDDEN); with it, a secret-looking message is withheld, its digest kept', async () => {
    const { model, seeded, server, session } = await appliance()
    try {
      const step = applianceLogsStep({ id: 'unit', appliances: [{ id: 'fips-x' }] } as unknown as Plan, { id: 'appliance-logs', appliances: () => ['fips-x'], groups: () => [seeded.groupId], calls: () => [] })
      const written = new Map<string, Buffer>()
      const ctx = context(session, written)
      const intent = await step.intent(ctx)
      const perms = model.apps.get(seeded.appId)!.groups[seeded.groupId]!
      model.apps.get(seeded.appId)!.groups[seeded.groupId] = perms.filter((p) => p !== 'AUDIT')
      await assert.rejects(step.act(ctx, intent), { code: 'APPLIANCE_LOG_FORBIDDEN', message: /fips-x does not let this ceremony's app read its audit log .* AUDIT permission/ })
      assert.equal(written.size, 0, 'nothing written')

      model.apps.get(seeded.appId)!.groups[seeded.groupId] = perms
      const keyBytes = Buffer.alloc(160, 7).toString('base64') // what a careless name could carry
      await session.keys.generate({ name: `k-${keyBytes}`, obj_type: 'AES', key_size: 256, key_ops: ['ENCRYPT'] })
      const result = await step.act(ctx, await step.intent(ctx))
      // No record names that key: a finding, whose message is the withheld one too.
      const findings = (result as { findings: { kind: string; message: string }[] }).findings
      assert.deepEqual(findings.map((f) => f.kind), ['unexplained'])
      assert.match(findings[0]!.message, /^\[withheld by the ceremony app/)
      const [file] = [...written.values()]
      const text = file!.toString('utf8')
      assert.equal(text.includes(keyBytes), false, 'the secret-looking text is not on the media')
      assert.match(text, /withheld by the ceremony app: it looked like a secret; SHA-256 [0-9a-f]{64}/)
      const parsed = JSON.parse(text)
      assert.equal(parsed.format, 'dsm-key-ceremony/appliance-log')
      assert.equal(parsed.app, seeded.appId)
      assert.ok(parsed.entries.length >= 2)
      assert.equal(JSON.stringify(parsed).includes('client_provided_context'), false)
      assert.equal(text.includes(seeded.apiKey), false)
    } finally {
      await session.logout().catch(() => undefined)
      await server.close()
    }
  })
})

// The DSM client's audit-log reader (main/dsm/logs.ts) against the simulator over real TLS: one
// page parsed with zod, a whole window read page by page (each entry once, whatever order the
// appliance lists them in, past its result window), and bad input refused by name before any request.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AppSession, AuditLogTooLargeError, DsmConnection, LogsApi, checkEndpoint, type AuditLogEntry } from '../main/dsm'
import { AuditQueryResponseSchema } from '../main/dsm/logs'
import { startSimulator, type SimulatedAppliance, type SimulatorOptions } from '../main/simulator'

async function withAppliance(opts: Partial<SimulatorOptions>, fn: (ctx: { a: SimulatedAppliance; app: AppSession; logs: LogsApi; clock: { t: number } }) => Promise<void>) {
  const clock = { t: Date.parse('2026-12-01T09:00:00Z') }
  const sim = await startSimulator({ appliances: 1, sessionTtlSeconds: 365 * 24 * 3600, now: () => clock.t, ...opts })
  const a = sim.appliances[0]!
  const app = await AppSession.open(new DsmConnection({ host: a.host, port: a.port, trust: { spkiSha256: a.spkiSha256 } }), Buffer.from(a.apiKey))
  try {
    await fn({ a, app, logs: new LogsApi(app), clock })
  } finally {
    await app.logout().catch(() => undefined)
    await sim.close()
  }
}

/** `n` key creations, one second apart: n entries the app can read, in distinct seconds. */
async function makeEntries(app: AppSession, clock: { t: number }, n: number, stepMs = 1000) {
  for (let i = 0; i < n; i++) {
    clock.t += stepMs
    await app.keys.generate({ name: `k-${i}`, obj_type: 'AES', key_size: 256, key_ops: ['ENCRYPT'] })
  }
}

const ids = (entries: AuditLogEntry[]) => entries.map((e) => e._id).sort()
const seconds = (ms: number) => Math.floor(ms / 1000)

describe('LogsApi', () => {
  it('reads one page, parsed: the appliance\'s entries for the app\'s group, without what a client wrote', async () => {
    await withAppliance({}, async ({ a, logs, app, clock }) => {
      await makeEntries(app, clock, 3)
      const page = await logs.query({ size: 100, actionTypes: ['ADMINISTRATIVE'] })
      assert.equal(page.length, 3)
      assert.ok(page.every((e) => e._source.actor_id === a.appId && e._source.group_ids.includes(a.groupId)))
      assert.equal(JSON.stringify(page).includes(Buffer.from(a.apiKey, 'base64').toString().split(':')[1]!), false, 'no API key secret')
      const parsed = AuditQueryResponseSchema.parse({ hits: [{ ...page[0], _source: { ...page[0]!._source, client_provided_context: 'anything', extra: 1 } }] })
      assert.equal('client_provided_context' in parsed.hits[0]!._source, false)
      assert.equal(AuditQueryResponseSchema.safeParse({ hits: [{ _id: 'x', _source: { ...page[0]!._source, object_id: 'not-a-uuid' } }] }).success, false)
    })
  })

  it('reads a whole window page by page, each entry once, equal to one large query', async () => {
    await withAppliance({}, async ({ logs, app, clock }) => {
      await makeEntries(app, clock, 12)
      const to = seconds(clock.t)
      clock.t += 1000
      const range = { rangeFrom: seconds(Date.parse('2026-12-01T09:00:00Z')), rangeTo: to }
      const all = await logs.query({ ...range, size: 1000 })
      const paged = await logs.window(range, { pageSize: 5 })
      assert.deepEqual(ids(paged.entries), ids(all))
      assert.ok(paged.pages >= 3)
    })
  })

  for (const order of ['newest-first', 'oldest-first'] as const) {
    it(`past the appliance's result window the range is narrowed and paging goes on (${order})`, async () => {
      await withAppliance({ vendor: { auditLogMaxResultWindow: 10, auditLogOrder: order } }, async ({ logs, app, clock }) => {
        await makeEntries(app, clock, 30)
        const to = seconds(clock.t)
        clock.t += 1000
        const range = { rangeFrom: seconds(Date.parse('2026-12-01T09:00:00Z')), rangeTo: to, actionTypes: ['ADMINISTRATIVE' as const] }
        await assert.rejects(logs.query({ ...range, size: 4, from: 8 }), { code: 'BAD_REQUEST' }, 'the appliance refuses to page past its window')
        const read = await logs.window(range, { pageSize: 4, maxResultWindow: 10 })
        assert.equal(read.entries.length, 30)
        assert.equal(new Set(read.entries.map((e) => e._source.message)).size, 30)
      })
    })
  }

  it('more entries in one second than the window reaches, or than the caller holds: APPLIANCE_LOG_TOO_LARGE', async () => {
    await withAppliance({ vendor: { auditLogMaxResultWindow: 10 } }, async ({ logs, app, clock }) => {
      await makeEntries(app, clock, 14, 0)
      const range = { rangeFrom: seconds(clock.t), rangeTo: seconds(clock.t), actionTypes: ['ADMINISTRATIVE' as const] }
      await assert.rejects(logs.window(range, { pageSize: 5, maxResultWindow: 10 }), (e: unknown) => e instanceof AuditLogTooLargeError && /one second/.test(e.message))
      await assert.rejects(logs.window({ ...range }, { pageSize: 5, maxResultWindow: 10, maxEntries: 3 }), { code: 'APPLIANCE_LOG_TOO_LARGE' })
    })
  })

  it('refuses bad input by name before any request is sent; the endpoint is on the allowlist, read-only', async () => {
    const sent: string[] = []
    const logs = new LogsApi({ call: async (spec) => { sent.push(spec.path); throw new Error('not reached') }, clock: { now: () => 0 }, timers: undefined as never })
    const bad: [Parameters<LogsApi['query']>[0], RegExp][] = [
      [{ rangeFrom: -1 }, /rangeFrom must be whole seconds/],
      [{ rangeFrom: 1.5 }, /rangeFrom must be whole seconds/],
      [{ rangeFrom: 20, rangeTo: 10 }, /rangeFrom is after rangeTo/],
      [{ size: 0 }, /size must be 1 to 1000/],
      [{ size: 1001 }, /size must be 1 to 1000/],
      [{ from: -3 }, /from must be a non-negative integer/],
      [{ actionTypes: ['DELETE' as never] }, /"DELETE" is not one of/],
      [{ severities: [] }, /non-empty list/],
      [{ actorId: 'me' }, /actorId must be a UUID/],
      [{ objectId: '1234' }, /objectId must be a UUID/],
    ]
    for (const [q, message] of bad) await assert.rejects(logs.query(q), { code: 'INVALID_ARGUMENT', message })
    await assert.rejects(logs.window({ rangeFrom: 0, rangeTo: 1 }, { pageSize: 2000 }), { code: 'INVALID_ARGUMENT' })
    await assert.rejects(logs.window({ rangeFrom: 0, rangeTo: 1 }, { pageSize: 10, maxResultWindow: 5 }), { code: 'INVALID_ARGUMENT' })
    assert.deepEqual(sent, [])
    assert.deepEqual(checkEndpoint('GET', '/sys/v1/logs?size=10'), { method: 'GET', template: '/sys/v1/logs', effect: 'read' })
    assert.throws(() => checkEndpoint('DELETE', '/sys/v1/logs'), { code: 'ENDPOINT_NOT_ALLOWED' })
  })
})

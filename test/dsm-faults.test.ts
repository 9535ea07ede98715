// The client under the simulator's injected faults: latency within the timeout, 5xx and 429
// (retried for reads, never for writes), connection resets (reads retried, writes surface
// OutcomeUnknownError), stalls (timeouts), and session expiry (one transparent re-auth).
// The simulator's request log is the witness of how many requests reached the appliance.
import assert from 'node:assert/strict'
import { after, afterEach, before, describe, it } from 'node:test'
import {
  AppSession,
  DsmConnection,
  OutcomeUnknownError,
  RateLimitedError,
  ServerError,
  TimeoutError,
  UnauthorizedError,
  UserSession,
  type DsmConnectionOptions,
} from '../main/dsm'
import { startSimulator, type RunningSimulator, type SimulatedAppliance } from '../main/simulator'

/** Every log line the client writes, as text: the canary test greps it for secrets. */
const logLines: string[] = []
const logger = {
  debug: (msg: string, fields?: Record<string, unknown>) => { logLines.push(`${msg} ${JSON.stringify(fields ?? {})}`) },
  warn: (msg: string, fields?: Record<string, unknown>) => { logLines.push(`${msg} ${JSON.stringify(fields ?? {})}`) },
}
const errorTexts: string[] = []

let sim: RunningSimulator
let x: SimulatedAppliance
let app: AppSession

function connect(over: Partial<DsmConnectionOptions> = {}): DsmConnection {
  return new DsmConnection({
    host: x.host,
    port: x.port,
    trust: { spkiSha256: x.spkiSha256 },
    connectTimeoutMs: 2000,
    responseTimeoutMs: 1500,
    retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 2000 },
    logger,
    ...over,
  })
}

/** Requests the appliance received for `method path` since `from` (index into the log). */
function hits(from: number, method: string, path: string): number {
  return x.state.requestLog().slice(from).filter((e) => e.method === method && e.path === path).length
}

const mark = () => x.state.requestLog().length

let keyCounter = 0
const aesKey = () => ({ name: `fault-key-${++keyCounter}`, obj_type: 'AES' as const, key_size: 256, key_ops: ['ENCRYPT' as const], group_id: x.groupId })

before(async () => {
  // Key generation is not quorum-protected in the seeded group, so POST /crypto/v1/keys is a plain write.
  sim = await startSimulator({ appliances: 1 })
  x = sim.appliances[0]!
  app = await AppSession.open(connect(), Buffer.from(x.apiKey))
})
after(async () => {
  await app.logout()
  await sim.close()
})
afterEach(() => {
  x.faults.clear()
  x.faults.releaseStalled()
})

describe('latency', () => {
  it('within the response timeout is just slower', async () => {
    x.faults.once({ method: 'GET', path: '/sys/v1/groups/' + x.groupId, kind: 'latency', ms: 300 })
    const from = mark()
    const g = await app.groups.get(x.groupId)
    assert.equal(g.group_id, x.groupId)
    assert.equal(hits(from, 'GET', `/sys/v1/groups/${x.groupId}`), 1)
  })
})

describe('5xx', () => {
  it('GET: retried, then succeeds', async () => {
    x.faults.once({ method: 'GET', path: '/crypto/v1/keys', kind: '500' })
    x.faults.once({ method: 'GET', path: '/crypto/v1/keys', kind: '503' })
    const from = mark()
    const keys = await app.keys.list()
    assert.ok(keys.length >= 1)
    assert.equal(hits(from, 'GET', '/crypto/v1/keys'), 3)
  })

  it('GET: gives up with ServerError after the attempt budget', async () => {
    x.faults.add({ method: 'GET', path: '/sys/v1/version', kind: '502' })
    const from = mark()
    await assert.rejects(connect().version(), (e: unknown) => e instanceof ServerError && e.status === 502)
    assert.equal(hits(from, 'GET', '/sys/v1/version'), 3)
  })

  it('POST: not retried; ServerError, one request', async () => {
    x.faults.once({ method: 'POST', path: '/crypto/v1/keys', kind: '500' })
    const from = mark()
    const req = aesKey()
    await assert.rejects(app.keys.generate(req), (e: unknown) => e instanceof ServerError && e.status === 500)
    assert.equal(hits(from, 'POST', '/crypto/v1/keys'), 1)
    assert.equal(await app.keys.findByName(req.name), null, 'a before-apply 500 created nothing')
  })
})

describe('429', () => {
  it('GET: retried after Retry-After', async () => {
    x.faults.once({ method: 'GET', path: '/sys/v1/health', kind: '429' })
    const from = mark()
    const t0 = Date.now()
    await connect().health()
    assert.ok(Date.now() - t0 >= 900, 'waited for Retry-After: 1')
    assert.equal(hits(from, 'GET', '/sys/v1/health'), 2)
  })

  it('a Retry-After longer than the cap is not waited for', async () => {
    x.faults.once({ method: 'GET', path: '/sys/v1/health', kind: '429' })
    await assert.rejects(connect({ retry: { maxRetryAfterMs: 500 } }).health(), (e: unknown) => e instanceof RateLimitedError && e.retryAfterMs === 1000)
  })

  it('POST: not retried; RateLimitedError', async () => {
    x.faults.once({ method: 'POST', path: '/crypto/v1/keys', kind: '429' })
    const from = mark()
    await assert.rejects(app.keys.generate(aesKey()), RateLimitedError)
    assert.equal(hits(from, 'POST', '/crypto/v1/keys'), 1)
  })
})

describe('connection reset', () => {
  it('GET: retried, then succeeds', async () => {
    x.faults.once({ method: 'GET', path: `/sys/v1/groups/${x.groupId}`, kind: 'reset' })
    const from = mark()
    await app.groups.get(x.groupId)
    assert.equal(hits(from, 'GET', `/sys/v1/groups/${x.groupId}`), 2)
  })

  it('keys/info (a read sent as POST): retried', async () => {
    x.faults.once({ method: 'POST', path: '/crypto/v1/keys/info', kind: 'reset' })
    const from = mark()
    assert.equal((await app.keys.info({ name: x.cmkName! })).name, x.cmkName)
    assert.equal(hits(from, 'POST', '/crypto/v1/keys/info'), 2)
  })

  it('POST before the operation ran: OutcomeUnknownError, not retried, nothing created', async () => {
    x.faults.once({ method: 'POST', path: '/crypto/v1/keys', kind: 'reset', after: 'before-apply' })
    const from = mark()
    const req = aesKey()
    await assert.rejects(app.keys.generate(req), OutcomeUnknownError)
    assert.equal(hits(from, 'POST', '/crypto/v1/keys'), 1)
    assert.equal(await app.keys.findByName(req.name), null)
  })

  it('POST after the operation ran: OutcomeUnknownError, and reconciling by name finds the key', async () => {
    x.faults.once({ method: 'POST', path: '/crypto/v1/keys', kind: 'reset', after: 'after-apply' })
    const from = mark()
    const req = aesKey()
    await assert.rejects(app.keys.generate(req), OutcomeUnknownError)
    assert.equal(hits(from, 'POST', '/crypto/v1/keys'), 1)
    assert.equal((await app.keys.findByName(req.name))?.name, req.name)
  })
})

describe('stall', () => {
  it('GET: times out, is retried, then succeeds', async () => {
    x.faults.once({ method: 'GET', path: '/sys/v1/version', kind: 'stall' })
    const from = mark()
    await connect({ responseTimeoutMs: 300 }).version()
    assert.equal(hits(from, 'GET', '/sys/v1/version'), 2)
  })

  it('GET: every attempt stalls → TimeoutError', async () => {
    x.faults.add({ method: 'GET', path: '/sys/v1/version', kind: 'stall' })
    await assert.rejects(connect({ responseTimeoutMs: 200, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } }).version(), (e: unknown) => e instanceof TimeoutError && !(e instanceof OutcomeUnknownError))
  })

  it('POST: OutcomeUnknownError after the response timeout, not retried', async () => {
    const conn = connect({ responseTimeoutMs: 300 })
    const s = await AppSession.open(conn, Buffer.from(x.apiKey))
    x.faults.once({ method: 'POST', path: '/crypto/v1/keys', kind: 'stall', after: 'after-apply' })
    const from = mark()
    const req = aesKey()
    await assert.rejects(s.keys.generate(req), (e: unknown) => e instanceof OutcomeUnknownError && /reconcile/.test(e.message))
    assert.equal(hits(from, 'POST', '/crypto/v1/keys'), 1)
    assert.equal((await s.keys.findByName(req.name))?.name, req.name)
    await s.logout()
  })
})

describe('session expiry', () => {
  it('401 on a GET: one transparent re-auth with the API key, then the call succeeds', async () => {
    const s = await AppSession.open(connect(), Buffer.from(x.apiKey))
    x.faults.once({ method: 'GET', path: `/sys/v1/groups/${x.groupId}`, kind: 'expire-session' })
    const from = mark()
    await s.groups.get(x.groupId)
    assert.equal(hits(from, 'POST', '/sys/v1/session/auth'), 1)
    assert.equal(hits(from, 'GET', `/sys/v1/groups/${x.groupId}`), 2)
    await s.logout()
  })

  it('401 on a POST is also replayed once (a 401 means it was not executed)', async () => {
    const s = await AppSession.open(connect(), Buffer.from(x.apiKey))
    x.faults.once({ method: 'POST', path: '/crypto/v1/keys', kind: 'expire-session' })
    const from = mark()
    const req = aesKey()
    assert.equal((await s.keys.generate(req)).name, req.name)
    assert.equal(hits(from, 'POST', '/crypto/v1/keys'), 2)
    assert.equal(hits(from, 'POST', '/sys/v1/session/auth'), 1)
    await s.logout()
  })

  it('only once: a second 401 right after re-auth surfaces UnauthorizedError', async () => {
    const s = await AppSession.open(connect(), Buffer.from(x.apiKey))
    x.faults.add({ method: 'GET', path: '/crypto/v1/keys', kind: 'expire-session', times: 2 })
    const from = mark()
    await assert.rejects(s.keys.list(), UnauthorizedError)
    assert.equal(hits(from, 'POST', '/sys/v1/session/auth'), 1)
    await s.logout()
  })

  it('all sessions expired: concurrent calls share one re-auth', async () => {
    const s = await AppSession.open(connect(), Buffer.from(x.apiKey))
    x.faults.expireSessions()
    const from = mark()
    await Promise.all([s.groups.get(x.groupId), s.keys.list(), s.approvals.list()])
    assert.equal(hits(from, 'POST', '/sys/v1/session/auth'), 1)
    await s.logout()
  })

  it('a custodian session cannot re-auth silently (password is gone): UnauthorizedError', async () => {
    const c = x.custodians[0]!
    const u = await UserSession.login(connect(), { username: c.user, password: Buffer.from(c.password), accountId: x.accountId })
    x.faults.once({ method: 'GET', path: '/sys/v1/approval_requests', kind: 'expire-session' })
    await assert.rejects(u.approvals.list(), (e: unknown) => e instanceof UnauthorizedError && /log in again/.test(e.message))
    await u.logout() // the appliance already dropped it: still a clean logout
  })
})

describe('secrets stay out of logs and errors (canary)', () => {
  it('no API key, password or Authorization value in any log line or error message of this file', async () => {
    // Collect the messages of a few failures on top of everything logged so far.
    const c = x.custodians[1]!
    for (const p of [
      UserSession.login(connect(), { username: c.user, password: Buffer.from('bad-' + c.password), accountId: x.accountId }),
      AppSession.open(connect(), Buffer.from(Buffer.from(`${x.appId}:wrong`).toString('base64'))),
    ]) {
      await p.then(() => assert.fail('should fail'), (e: Error) => errorTexts.push(`${e.message} ${String((e as { request?: string }).request)}`))
    }
    assert.ok(logLines.length > 20, `only ${logLines.length} log lines`)
    const everything = [...logLines, ...errorTexts].join('\n')
    const secretOfKey = Buffer.from(x.apiKey, 'base64').toString('utf8').split(':')[1]!
    for (const canary of [x.apiKey, secretOfKey, c.password, ...x.custodians.map((u) => u.password), 'Bearer ', 'Basic ']) {
      assert.ok(!everything.includes(canary), `found a secret in logs/errors: ${canary.slice(0, 6)}…`)
    }
  })
})

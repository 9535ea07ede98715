// Network faults in the middle of a call (security.md §8 D): F16 an appliance address that takes the
// connection and never answers (a blackhole) or cannot be routed, F17 a hang after the response
// headers or in the middle of the body, F18 a reset in the middle of the body. Reads get a bounded,
// named error (or a retry that succeeds); writes are never retried and give OUTCOME_UNKNOWN, and
// the simulator's request log shows the write reached the appliance exactly once.
import assert from 'node:assert/strict'
import { request } from 'node:https'
import { createServer, type Server, type Socket } from 'node:net'
import { after, afterEach, before, describe, test } from 'node:test'
import { AppSession, DsmConnection, OutcomeUnknownError, TimeoutError, UnreachableError, type DsmConnectionOptions } from '../main/dsm'
import { startSimulator, type RunningSimulator, type SimulatedAppliance } from '../main/simulator'

let sim: RunningSimulator
let x: SimulatedAppliance
let app: AppSession

function connect(over: Partial<DsmConnectionOptions> = {}): DsmConnection {
  return new DsmConnection({
    host: x.host, port: x.port, trust: { spkiSha256: x.spkiSha256 },
    connectTimeoutMs: 2000, responseTimeoutMs: 400,
    retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    ...over,
  })
}

const mark = () => x.state.requestLog().length
const hits = (from: number, method: string, path: string) => x.state.requestLog().slice(from).filter((e) => e.method === method && e.path === path).length
let n = 0
const aesKey = () => ({ name: `torn-key-${++n}`, obj_type: 'AES' as const, key_size: 256, key_ops: ['ENCRYPT' as const], group_id: x.groupId })

before(async () => {
  sim = await startSimulator({ appliances: 1, createCmk: false })
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

/** A TCP listener that takes every connection and never says a word: TLS never completes. */
async function blackhole(): Promise<{ server: Server; port: number; received: () => number }> {
  const sockets = new Set<Socket>()
  let bytes = 0
  const server = createServer((s) => {
    sockets.add(s)
    s.on('data', (c: Buffer) => { bytes += c.length })
    s.on('error', () => undefined)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  server.on('close', () => sockets.forEach((s) => s.destroy()))
  const addr = server.address()
  return { server, port: typeof addr === 'object' && addr ? addr.port : 0, received: () => bytes }
}

describe('F16 connect to a blackholed address', () => {
  test('F16 a blackholed appliance: a bounded connect timeout, named TIMEOUT, for reads and writes alike, nothing sent', async () => {
    const hole = await blackhole()
    try {
      const conn = new DsmConnection({ host: '127.0.0.1', port: hole.port, trust: { spkiSha256: x.spkiSha256 }, connectTimeoutMs: 300, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } })
      let t0 = Date.now()
      await assert.rejects(conn.version(), (e: unknown) => e instanceof TimeoutError && !(e instanceof OutcomeUnknownError) && e.code === 'TIMEOUT' && /timed out after 300 ms; the request was not sent/.test(e.message))
      assert.ok(Date.now() - t0 < 2 * 300 + 1500, 'two bounded attempts')
      // A write that never got a connection was not sent: TIMEOUT, not OUTCOME_UNKNOWN, and one attempt.
      t0 = Date.now()
      await assert.rejects(conn.call({ method: 'POST', path: '/sys/v1/session/auth', authorization: 'Basic eDp5', expect: [200] }), (e: unknown) => e instanceof TimeoutError && !(e instanceof OutcomeUnknownError))
      assert.ok(Date.now() - t0 < 300 + 1000, 'a write is not retried')
      assert.ok(hole.received() > 0, 'the client did reach the listener (TLS hello) and gave up on its own')
      conn.close()
    } finally {
      hole.server.close()
    }
  })

  test('F16 a non-routable address (TEST-NET-1): a bounded, named failure, never a hang', async () => {
    const conn = new DsmConnection({ host: '192.0.2.1', port: 443, trust: { spkiSha256: x.spkiSha256 }, connectTimeoutMs: 300, retry: { maxAttempts: 1 } })
    const t0 = Date.now()
    await assert.rejects(conn.version(), (e: unknown) => (e instanceof TimeoutError || e instanceof UnreachableError) && !(e instanceof OutcomeUnknownError))
    assert.ok(Date.now() - t0 < 1500, `gave up after ${Date.now() - t0} ms`)
    conn.close()
  })
})

describe('F17 a hang after the headers, or in the body', () => {
  test('F17 a GET whose answer stops after the headers: TIMEOUT within the response deadline, or a retry that succeeds', async () => {
    x.faults.add({ method: 'GET', path: '/sys/v1/version', kind: 'stall', after: 'after-headers' })
    const t0 = Date.now()
    await assert.rejects(connect({ retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } }).version(), (e: unknown) => e instanceof TimeoutError && e.code === 'TIMEOUT' && /no response within 400 ms/.test(e.message))
    assert.ok(Date.now() - t0 < 2 * 400 + 1500)
    x.faults.clear()
    x.faults.once({ method: 'GET', path: '/sys/v1/version', kind: 'stall', after: 'mid-body' })
    const from = mark()
    assert.ok((await connect().version()).version, 'the retry got the whole answer')
    assert.equal(hits(from, 'GET', '/sys/v1/version'), 2)
  })

  test('F17 a write whose answer stops after the headers or mid-body: OUTCOME_UNKNOWN, sent once, found again by name', async () => {
    for (const phase of ['after-headers', 'mid-body'] as const) {
      x.faults.once({ method: 'POST', path: '/crypto/v1/keys', kind: 'stall', after: phase })
      const from = mark()
      const req = aesKey()
      await assert.rejects(app.keys.generate(req), (e: unknown) => e instanceof OutcomeUnknownError && e.code === 'OUTCOME_UNKNOWN' && /reconcile before retrying/.test(e.message))
      assert.equal(hits(from, 'POST', '/crypto/v1/keys'), 1, `${phase}: never retried`)
      assert.equal((await app.keys.findByName(req.name))?.name, req.name, `${phase}: the appliance did act`)
    }
  })
})

describe('F18 a reset in the middle of the body', () => {
  test('F18 a GET reset mid-body is retried and succeeds; every attempt reset gives a named error', async () => {
    x.faults.once({ method: 'GET', path: `/sys/v1/groups/${x.groupId}`, kind: 'reset', after: 'mid-body' })
    const from = mark()
    assert.equal((await app.groups.get(x.groupId)).group_id, x.groupId)
    assert.equal(hits(from, 'GET', `/sys/v1/groups/${x.groupId}`), 2)
    x.faults.add({ method: 'GET', path: '/sys/v1/version', kind: 'reset', after: 'mid-body' })
    await assert.rejects(connect({ retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } }).version(), (e: unknown) => e instanceof UnreachableError && /failed before the response arrived/.test(e.message))
  })

  test('F18 a write reset mid-body or after the headers: OUTCOME_UNKNOWN, sent once, never retried', async () => {
    for (const phase of ['mid-body', 'after-headers'] as const) {
      x.faults.once({ method: 'POST', path: '/crypto/v1/keys', kind: 'reset', after: phase })
      const from = mark()
      const req = aesKey()
      await assert.rejects(app.keys.generate(req), OutcomeUnknownError)
      assert.equal(hits(from, 'POST', '/crypto/v1/keys'), 1, `${phase}: never retried`)
      assert.equal((await app.keys.findByName(req.name))?.name, req.name)
    }
  })

  test('the simulator tears the answer where asked: the headers arrive, then half the body, then the reset', async () => {
    const get = () => new Promise<{ status: number; length: number; got: number; ended: boolean }>((resolve) => {
      const req = request({ host: x.host, port: x.port, path: '/sys/v1/version', ca: x.certPem, agent: false }, (res) => {
        let got = 0
        res.on('data', (c: Buffer) => { got += c.length })
        const done = (ended: boolean) => resolve({ status: res.statusCode ?? 0, length: Number(res.headers['content-length']), got, ended })
        res.on('end', () => done(true))
        res.on('aborted', () => done(false))
        res.on('error', () => done(false))
      })
      req.on('error', () => undefined)
      req.end()
    })
    x.faults.once({ method: 'GET', path: '/sys/v1/version', kind: 'reset', after: 'mid-body' })
    const torn = await get()
    assert.equal(torn.status, 200)
    assert.equal(torn.ended, false)
    assert.ok(torn.got > 0 && torn.got < torn.length, `${torn.got} of ${torn.length} bytes`)
    x.faults.once({ method: 'GET', path: '/sys/v1/version', kind: 'reset', after: 'after-headers' })
    const headersOnly = await get()
    assert.deepEqual([headersOnly.status, headersOnly.got, headersOnly.ended], [200, 0, false])
  })

  test('torn faults are only stall or reset', () => {
    assert.throws(() => x.faults.once({ path: '/sys/v1/version', kind: '503', after: 'mid-body' }), /only stall and reset/)
  })
})

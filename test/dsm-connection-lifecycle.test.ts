// A session opened as the owner of its DsmConnection (the ceremony's way: one connection per
// session, sockets shared underneath by the appliance's link) lets go of it when it ends: at
// logout, at a logout the appliance fails or cannot be reached, and at a failed login. The witness
// is the appliance itself: the simulator's count of TLS connections it has open drops to 0 (the
// idle time-out here is a minute, so nothing else closes them). A closed connection refuses later
// calls by name. Sessions that merely share a connection they do not own leave it to its owner,
// and a session signing out never closes the socket under another one still signed in.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { AppSession, DsmConnection, DsmError, ServerError, UnauthorizedError, UserSession } from '../main/dsm'
import { startSimulator, type RunningSimulator, type SimulatedAppliance } from '../main/simulator'

let sim: RunningSimulator
let x: SimulatedAppliance

before(async () => {
  sim = await startSimulator({ appliances: 1 })
  x = sim.appliances[0]!
})
after(() => sim.close())

const connect = () => new DsmConnection({ host: x.host, port: x.port, trust: { spkiSha256: x.spkiSha256 }, idleTimeoutMs: 60_000, connectTimeoutMs: 2000, retry: { maxAttempts: 1 } })
const apiKey = () => Buffer.from(x.apiKey)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The appliance's open TLS connections once they settle to 0, or what is left after `withinMs`. */
async function openSocketsAfter(withinMs = 1500): Promise<number> {
  const until = Date.now() + withinMs
  while (x.state.openSockets() > 0 && Date.now() < until) await sleep(20)
  return x.state.openSockets()
}

/** A closed connection refuses a call by name, before any byte is sent. */
async function assertRefused(conn: DsmConnection): Promise<void> {
  const before = x.state.requestLog().length
  await assert.rejects(conn.version(), (e: unknown) => e instanceof DsmError && e.code === 'CONNECTION_CLOSED' && /closed/.test(e.message))
  assert.equal(x.state.requestLog().length, before, 'nothing reached the appliance')
}

describe('a session that owns its connection lets go of it when it ends', () => {
  test('logout: the appliance sees no socket left, and the connection refuses later calls by name', async () => {
    const conn = connect()
    const s = await AppSession.open(conn, apiKey(), { ownsConnection: true })
    await s.groups.list()
    assert.ok(x.state.openSockets() >= 1, 'the session holds a keep-alive socket while signed in')
    await s.logout()
    assert.equal(await openSocketsAfter(), 0, 'the signed-out session left a socket open')
    await assertRefused(conn)
    await s.logout() // idempotent: the connection is closed once
  })

  test('a logout the appliance fails (500) still closes the connection and zeroes the API key', async () => {
    const key = apiKey()
    const conn = connect()
    const s = await AppSession.open(conn, key, { ownsConnection: true })
    const fault = x.faults.once({ method: 'POST', path: '/sys/v1/session/terminate', kind: '500' })
    await assert.rejects(s.logout(), ServerError)
    assert.equal(fault.fired, 1)
    assert.ok(key.every((b) => b === 0), 'the API key is zeroed')
    assert.equal(await openSocketsAfter(), 0)
    await assertRefused(conn)
  })

  test('a logout with the appliance unreachable (network down) still closes the connection and zeroes the key', async () => {
    const key = apiKey()
    const conn = connect()
    const s = await AppSession.open(conn, key, { ownsConnection: true })
    await x.down()
    try {
      await assert.rejects(s.logout(), (e: unknown) => e instanceof DsmError && ['UNREACHABLE', 'OUTCOME_UNKNOWN'].includes(e.code))
    } finally {
      await x.up()
    }
    assert.ok(key.every((b) => b === 0), 'the API key is zeroed')
    // Not UNREACHABLE now that the appliance is back: the connection itself is closed.
    await assertRefused(conn)
    assert.equal(await openSocketsAfter(), 0)
  })

  test('a failed login (wrong key) closes the connection it was to own', async () => {
    const conn = connect()
    await assert.rejects(AppSession.open(conn, Buffer.from(Buffer.from(`${x.appId}:wrong`).toString('base64')), { ownsConnection: true }), UnauthorizedError)
    assert.equal(await openSocketsAfter(), 0)
    await assertRefused(conn)
  })

  test('a custodian session (user login) closes its connection at logout, and at a failed login', async () => {
    const c = x.custodians[0]!
    const conn = connect()
    const u = await UserSession.login(conn, { username: c.user, password: Buffer.from(c.password), accountId: x.accountId }, { ownsConnection: true })
    await u.approvals.list()
    await u.logout()
    assert.equal(await openSocketsAfter(), 0)
    await assertRefused(conn)
    const bad = connect()
    await assert.rejects(UserSession.login(bad, { username: c.user, password: Buffer.from(`bad-${c.password}`), accountId: x.accountId }, { ownsConnection: true }), UnauthorizedError)
    assert.equal(await openSocketsAfter(), 0)
    await assertRefused(bad)
  })

  test('two sessions, each owning its connection to one appliance, share one socket: the first to sign out leaves it to the other', async () => {
    const connA = connect()
    const connB = connect()
    const a = await AppSession.open(connA, apiKey(), { ownsConnection: true })
    const b = await AppSession.open(connB, apiKey(), { ownsConnection: true })
    await Promise.all([a.groups.list(), b.groups.list()])
    await a.logout()
    await assertRefused(connA)
    await b.groups.list() // still signed in, still served
    assert.equal(x.state.openSockets(), 1, 'the other session keeps the shared socket')
    await b.logout()
    assert.equal(await openSocketsAfter(), 0)
  })
})

describe('sessions on a connection they do not own leave it to its owner', () => {
  test('one signs out, the other on the same connection carries on; the owner closes it once', async () => {
    const conn = connect()
    const app = await AppSession.open(conn, apiKey())
    const c = x.custodians[0]!
    const custodian = await UserSession.login(conn, { username: c.user, password: Buffer.from(c.password), accountId: x.accountId })
    await custodian.logout()
    await app.groups.list()
    await app.logout()
    await conn.version() // the connection is still its owner's
    assert.ok(x.state.openSockets() >= 1)
    conn.close()
    conn.close() // closing twice releases the shared link once
    assert.equal(await openSocketsAfter(), 0)
    await assertRefused(conn)
  })
})

test('a read waiting to retry when its connection is closed sends nothing more and says why', async () => {
  // One 503, then a backoff of 500 ms (jitter at its top): the connection is closed in between, as
  // an idle time-out's sign-out or the quit would while an approval poll waits to retry.
  const conn = new DsmConnection({ host: x.host, port: x.port, trust: { spkiSha256: x.spkiSha256 }, idleTimeoutMs: 60_000, retry: { maxAttempts: 2, baseDelayMs: 500, maxDelayMs: 500 }, random: () => 0.999 })
  const versions = () => x.state.requestLog().filter((e) => e.path.startsWith('/sys/v1/version')).length
  const before = versions()
  x.faults.once({ method: 'GET', path: '/sys/v1/version', kind: '503' })
  const call = conn.version().then(() => null, (e: unknown) => e)
  while (versions() === before) await sleep(5)
  conn.close()
  const err = await call
  assert.ok(err instanceof DsmError && err.code === 'CONNECTION_CLOSED', `refused by name, not sent: ${String(err)}`)
  assert.equal(versions(), before + 1, 'the retry never reached the appliance')
  assert.equal(await openSocketsAfter(), 0, 'and no socket was opened for it')
})

test('a read queued for the appliance\'s shared socket when its connection is closed is not sent', async () => {
  // Another session's connection to the same appliance: one link, one socket, busy with a slow read.
  const other = new DsmConnection({ host: x.host, port: x.port, trust: { spkiSha256: x.spkiSha256 }, idleTimeoutMs: 60_000, maxSockets: 1, retry: { maxAttempts: 1 } })
  const mine = new DsmConnection({ host: x.host, port: x.port, trust: { spkiSha256: x.spkiSha256 }, idleTimeoutMs: 60_000, maxSockets: 1, retry: { maxAttempts: 1 } })
  try {
    await other.version()
    const versions = () => x.state.requestLog().filter((e) => e.path.startsWith('/sys/v1/version')).length
    const before = versions()
    x.faults.once({ method: 'GET', path: '/sys/v1/version', kind: 'latency', ms: 600 })
    const slow = other.version()
    while (versions() === before) await sleep(5)
    const queued = mine.version().then(() => null, (e: unknown) => e)
    await sleep(20)
    mine.close() // a sign-out or a check's end, while its read waits for the one socket
    const err = await queued
    assert.ok(err instanceof DsmError && err.code === 'CONNECTION_CLOSED', `refused by name: ${String(err)}`)
    await slow
    await sleep(50)
    assert.equal(versions(), before + 1, 'only the other connection\'s read reached the appliance')
    assert.equal((await other.version()).fips !== undefined, true, 'the shared socket still serves the other connection')
  } finally {
    other.close()
  }
})

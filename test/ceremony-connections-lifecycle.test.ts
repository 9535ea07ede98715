// The ceremony leaves no connection behind (issue 9): the setup screen's connection check closes
// every connection it opens, whether the check passes or fails; signing out of a ceremony's
// sessions lets go of their connections, ending the sessions of different appliances at once
// (each logout is a round trip; eleven in a row is half a second the operator waits); and after a
// whole headless rehearsal no appliance has a socket from this workstation left open. The
// witness is each simulated appliance's own count of open TLS connections.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { ApiKeyVault } from '../main/ceremony/api-key-vault'
import { CeremonySessions } from '../main/ceremony/ceremony-sessions'
import { trustOf } from '../main/ceremony/plan'
import { ApplianceConnections } from '../main/ceremony/service-connections'
import { planForAppliances } from '../main/ceremony/simulated-plan'
import { runHeadless } from '../main/cli/headless'
import { DsmConnection } from '../main/dsm'
import { startSimulator, type RunningSimulator } from '../main/simulator'
import { credentialsOf } from './support/ceremony-fixture'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Each appliance's open TLS connections once they settle to 0, or what is left after `withinMs`. */
async function openSocketsAfter(sim: RunningSimulator, withinMs = 1500): Promise<number[]> {
  const counts = () => sim.appliances.map((a) => a.state.openSockets())
  const until = Date.now() + withinMs
  while (counts().some((n) => n > 0) && Date.now() < until) await sleep(20)
  return counts()
}

describe('the setup screen\'s connection check', () => {
  let sim: RunningSimulator
  before(async () => { sim = await startSimulator({ appliances: 2 }) })
  after(() => sim.close())

  const vault = () => new ApiKeyVault({ idleTimeoutMs: () => 0, now: () => new Date(), onIdle: () => undefined })

  test('a passing check leaves no socket open on any appliance', async () => {
    const creds = credentialsOf(sim)
    const plan = planForAppliances(creds, { id: 'check-ok' })
    const conns = new ApplianceConnections(vault())
    for (const a of creds.appliances) conns.setKey(a.id, a.apiKey)
    await conns.check(plan)
    assert.deepEqual(conns.views(plan).map((v) => v.state), ['ok', 'ok'])
    assert.deepEqual(await openSocketsAfter(sim), [0, 0])
  })

  test('a failing check (a wrong key; an appliance that answers only 503) leaves no socket open either', async () => {
    const creds = credentialsOf(sim)
    const plan = planForAppliances(creds, { id: 'check-failed' })
    const conns = new ApplianceConnections(vault())
    conns.setKey(creds.appliances[0]!.id, 'not-the-key')
    conns.setKey(creds.appliances[1]!.id, creds.appliances[1]!.apiKey)
    const down = sim.appliances[1]!.faults.add({ method: 'GET', path: '/sys/v1/version', kind: '503' })
    try {
      await conns.check(plan)
    } finally {
      down.cancel()
    }
    assert.deepEqual(conns.views(plan).map((v) => [v.state, v.error?.code]), [['failed', 'INVALID_CREDENTIAL'], ['failed', 'SERVER_ERROR']])
    assert.deepEqual(await openSocketsAfter(sim), [0, 0])
  })

  test('checks the appliances at once: the second is reached while the first is slow to answer', async () => {
    const creds = credentialsOf(sim)
    const plan = planForAppliances(creds, { id: 'check-at-once' })
    const conns = new ApplianceConnections(vault())
    for (const a of creds.appliances) conns.setKey(a.id, a.apiKey)
    const [slow, other] = sim.appliances
    const asked = (a: typeof slow, path: string) => a!.state.requestLog().filter((e) => e.path.startsWith(path)).map((e) => e.at)
    const before = asked(other, '/sys/v1/session/auth').length
    slow!.faults.once({ method: 'GET', path: '/sys/v1/version', kind: 'latency', ms: 1500 })
    await conns.check(plan)
    assert.deepEqual(conns.views(plan).map((v) => v.state), ['ok', 'ok'])
    const slowVersion = asked(slow, '/sys/v1/version').at(-1)!
    const otherSignIn = asked(other, '/sys/v1/session/auth').slice(before)[0]
    assert.ok(otherSignIn !== undefined && otherSignIn < slowVersion + 1500, 'the second appliance was signed in to while the first was still answering')
    assert.deepEqual(await openSocketsAfter(sim), [0, 0])
  })
})

describe('a key replaced while the appliances are being checked', () => {
  let sim: RunningSimulator
  before(async () => { sim = await startSimulator({ appliances: 2 }) })
  after(() => sim.close())

  test('is not shown as checked: the check that began with the old key keeps its answer to itself', async () => {
    const creds = credentialsOf(sim)
    const plan = planForAppliances(creds, { id: 'check-replaced' })
    const conns = new ApplianceConnections(new ApiKeyVault({ idleTimeoutMs: () => 0, now: () => new Date(), onIdle: () => undefined }))
    for (const a of creds.appliances) conns.setKey(a.id, a.apiKey)
    const second = sim.appliances[1]!
    const versions = () => second.state.requestLog().filter((e) => e.path.startsWith('/sys/v1/version')).length
    const before = versions()
    second.faults.once({ method: 'GET', path: '/sys/v1/version', kind: 'latency', ms: 800 })
    const checking = conns.check(plan)
    while (versions() === before) await sleep(5)
    // The operator sees the second key was pasted wrong and replaces it while the check still runs.
    conns.setKey(creds.appliances[1]!.id, 'not-a-valid-key')
    await checking
    assert.deepEqual(conns.views(plan).map((v) => v.state), ['ok', 'unknown'], 'the new key is unchecked until a check uses it')
    await conns.check(plan)
    assert.deepEqual(conns.views(plan).map((v) => [v.state, v.error?.code ?? null]), [['ok', null], ['failed', 'INVALID_CREDENTIAL']])
    assert.deepEqual(await openSocketsAfter(sim), [0, 0])
  })
})

describe('signing out of a ceremony\'s sessions', () => {
  let sim: RunningSimulator
  before(async () => { sim = await startSimulator({ appliances: 3 }) })
  after(() => sim.close())

  test('ends the sessions of different appliances at once, swallows a failed one, and lets go of every connection', async () => {
    const creds = credentialsOf(sim)
    const plan = planForAppliances(creds, { id: 'sign-out' })
    const sessions = new CeremonySessions({
      plan,
      // One connection per session (the ceremony's way); a minute's idle time, so only signing out closes them.
      connect: (a) => new DsmConnection({ host: a.host, port: a.port, trust: trustOf(a), idleTimeoutMs: 60_000 }),
      apiKey: (id) => Buffer.from(creds.appliances.find((a) => a.id === id)!.apiKey),
      signIns: [],
      now: () => Date.now(),
    })
    for (const a of plan.appliances) await (await sessions.app(a.id)).groups.list()
    assert.deepEqual(sim.appliances.map((a) => a.state.liveSessions()), [1, 1, 1])
    // The first appliance never answers its logout until its connection is dropped.
    const [first, ...others] = sim.appliances
    first!.faults.once({ method: 'POST', path: '/sys/v1/session/terminate', kind: 'stall' })
    const terminated = () => others.every((a) => a.state.requestLog().some((e) => e.path === '/sys/v1/session/terminate'))
    const signingOut = sessions.signOut()
    const until = Date.now() + 3000
    while (!terminated() && Date.now() < until) await sleep(20)
    const concurrent = terminated()
    first!.faults.releaseStalled()
    await signingOut
    assert.ok(concurrent, 'the other appliances were asked to end their sessions while the first had not answered')
    assert.deepEqual(others.map((a) => a.state.liveSessions()), [0, 0])
    assert.deepEqual(await openSocketsAfter(sim), [0, 0, 0])
  })
})

describe('an app session asked for before its key is entered', () => {
  test('is refused (API_KEY_MISSING) without holding a connection: once the key is in and the session signed out, no socket stays', async () => {
    const sim = await startSimulator({ appliances: 2 })
    try {
      const creds = credentialsOf(sim)
      const plan = planForAppliances(creds, { id: 'no-key-yet' })
      let key: string | undefined
      const sessions = new CeremonySessions({
        plan,
        connect: (a) => new DsmConnection({ host: a.host, port: a.port, trust: trustOf(a), idleTimeoutMs: 60_000 }),
        apiKey: () => (key === undefined ? undefined : Buffer.from(key)),
        signIns: [],
        now: () => Date.now(),
      })
      const id = plan.appliances[0]!.id
      await assert.rejects(sessions.app(id), (e: unknown) => (e as { code?: string }).code === 'API_KEY_MISSING')
      key = creds.appliances[0]!.apiKey
      await (await sessions.app(id)).groups.list()
      await sessions.signOut()
      // A connection made for the refused session would still count on the appliance's link and keep its socket.
      assert.deepEqual(await openSocketsAfter(sim), [0, 0])
    } finally {
      await sim.close()
    }
  })
})

describe('a whole headless rehearsal', () => {
  test('ends with no socket to any appliance left open', async () => {
    const sim = await startSimulator({ appliances: 3 })
    const dir = mkdtempSync(join(tmpdir(), 'dsm-conn-lifecycle-'))
    try {
      const credentials = credentialsOf(sim)
      const plan = planForAppliances(credentials, { id: 'rehearsal-sockets' })
      const summary = await runHeadless({ plan, credentials, stateDir: dir, confirm: true, witnessing: { kind: 'simulated' } })
      assert.equal(summary.ok, true, JSON.stringify(summary.error))
      assert.deepEqual(sim.appliances.map((a) => a.state.liveSessions()), [0, 0, 0], 'every session was ended')
      // The agent would close an idle socket after 4 s on its own: well after this.
      assert.deepEqual(await openSocketsAfter(sim, 1000), [0, 0, 0])
    } finally {
      await sim.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

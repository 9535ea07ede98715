/**
 * Steps that only read ask every appliance at once (main/ceremony/each-appliance.ts): the preflight
 * and the capture of the appliances' own logs. The operator waits for the slowest appliance, not for
 * all of them in turn; what is named when something is wrong stays what asking one by one would
 * have named first.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { readEach } from '../main/ceremony/each-appliance'
import { AppSession, DsmConnection } from '../main/dsm'
import { ceremonyFixture, signWhatIsDue, type Fixture } from './support/ceremony-fixture'

function deferred<T>() {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

test('readEach starts every read before any ends and gives the results in the order asked', async () => {
  const pending = new Map<string, ReturnType<typeof deferred<string>>>()
  const all = readEach(['a', 'b', 'c'], (id) => {
    const d = deferred<string>()
    pending.set(id, d)
    return d.promise
  })
  await Promise.resolve()
  assert.deepEqual([...pending.keys()], ['a', 'b', 'c'], 'all three asked before any answered')
  pending.get('c')!.resolve('C')
  pending.get('a')!.resolve('A')
  pending.get('b')!.resolve('B')
  assert.deepEqual(await all, ['A', 'B', 'C'])
})

test('readEach throws the first failure in the order asked, and only once every read has ended', async () => {
  const pending = new Map<string, ReturnType<typeof deferred<string>>>()
  let settled = false
  const all = readEach(['a', 'b', 'c'], (id) => {
    const d = deferred<string>()
    pending.set(id, d)
    return d.promise
  }).finally(() => { settled = true })
  await Promise.resolve()
  pending.get('c')!.reject(Object.assign(new Error('c failed'), { code: 'C_FAILED' }))
  pending.get('b')!.reject(Object.assign(new Error('b failed'), { code: 'B_FAILED' }))
  await new Promise((r) => setImmediate(r))
  assert.equal(settled, false, 'a is still being read: the step does not end under it')
  pending.get('a')!.resolve('A')
  await assert.rejects(all, { code: 'B_FAILED' })
})

test('readEach: a read that throws before it returns a promise is a failure like any other', async () => {
  let asked = 0
  const read = (id: string): Promise<string> => {
    asked++
    if (id === 'a') throw Object.assign(new Error('a'), { code: 'A_SYNC' })
    return Promise.resolve(id)
  }
  await assert.rejects(readEach(['a', 'b'], read), { code: 'A_SYNC' })
  assert.equal(asked, 2, 'the others were still asked, and awaited')
})

test('readEach judges each answer in the order asked: a refused answer before a later failed read', async () => {
  const judged: string[] = []
  const reads = readEach(['a', 'b', 'c'], async (id) => {
    if (id === 'c') throw Object.assign(new Error('c unreachable'), { code: 'C_UNREACHABLE' })
    return id
  }, (value, id) => {
    judged.push(id)
    if (id === 'b') throw Object.assign(new Error(`${value} is wrong`), { code: 'B_REFUSED' })
  })
  await assert.rejects(reads, { code: 'B_REFUSED' })
  assert.deepEqual(judged, ['a', 'b'], 'c was never judged')
})

async function plantCmkName(f: Fixture, index: number): Promise<void> {
  const a = f.sim.appliances[index]!
  const app = await AppSession.open(new DsmConnection({ host: a.host, port: a.port, trust: { spkiSha256: a.spkiSha256 } }), Buffer.from(a.apiKey), { ownsConnection: true })
  try {
    await app.keys.generate({ name: f.plan.cmk.name, obj_type: 'AES', key_size: 256, key_ops: ['ENCRYPT', 'DECRYPT', 'EXPORT', 'APPMANAGEABLE'] })
  } finally {
    await app.logout()
    app.connection.close()
  }
}

const label = (f: Fixture, id: string) => f.plan.appliances.find((a) => a.id === id)!.label

test('the preflight reads every appliance at once: the others are read while the source is slow to answer', async () => {
  const f = await ceremonyFixture({ targets: 2 })
  try {
    const [source, ...targets] = f.sim.appliances
    source!.faults.once({ method: 'GET', path: '/sys/v1/version', kind: 'latency', ms: 1500 })
    const engine = await f.open()
    await signWhatIsDue(engine)
    await engine.runStep('preflight')
    const versionAsked = source!.state.requestLog().find((e) => e.path.startsWith('/sys/v1/version'))!
    for (const t of targets) {
      const inventory = t.state.requestLog().find((e) => e.method === 'GET' && e.path.startsWith('/crypto/v1/keys'))
      assert.ok(inventory, `${t.id} was inventoried`)
      assert.ok(inventory.at < versionAsked.at + 1500, `${t.id}'s inventory was read while the source's version was still on its way`)
    }
    assert.equal(engine.record('preflight').state, 'done')
  } finally {
    await f.cleanup()
  }
})

test('the preflight names the first problem in the plan\'s order, whichever appliance answered first', async () => {
  const f = await ceremonyFixture({ targets: 2 })
  try {
    // Both targets already hold a different key under the CMK's name; the first target answers last.
    await plantCmkName(f, 1)
    await plantCmkName(f, 2)
    f.sim.appliances[1]!.faults.add({ method: 'GET', path: '/crypto/v1/keys', kind: 'latency', ms: 700, times: 3 })
    const engine = await f.open()
    await signWhatIsDue(engine)
    const err = await engine.runStep('preflight').then(() => null, (e: { code: string; message: string }) => e)
    assert.equal(err?.code, 'CMK_CONFLICT')
    assert.ok(err!.message.startsWith(`${label(f, 'fips-2')} already has a key named`), err!.message)
    assert.equal(engine.record('preflight').state, 'failed')
  } finally {
    await f.cleanup()
  }
})

test('the appliances\' own logs (C.0) are read from every appliance at once, and written to the media in order', async () => {
  const { runToCompletion } = await import('../main/ceremony/driver')
  const f = await ceremonyFixture({ targets: 2 })
  try {
    const [source, ...targets] = f.sim.appliances
    source!.faults.once({ method: 'GET', path: '/sys/v1/logs', kind: 'latency', ms: 1500 })
    const engine = await f.open()
    await runToCompletion(engine, { credentials: f.creds, confirm: true, witnessing: { kind: 'simulated' } })
    const logsAsked = (a: typeof source) => a!.state.requestLog().filter((e) => e.path.startsWith('/sys/v1/logs'))
    assert.equal(logsAsked(source).length, 1)
    for (const t of targets) {
      assert.equal(logsAsked(t).length, 1, `${t.id}'s log was read once`)
      assert.ok(logsAsked(t)[0]!.at < logsAsked(source)[0]!.at + 1500, `${t.id}'s log was read while the source's was still on its way`)
    }
    const result = engine.record('appliance-logs').result as { appliances: Record<string, { file: string }> }
    assert.deepEqual(Object.keys(result.appliances), ['fips-1', 'fips-2', 'fips-3'], 'judged and recorded in the plan\'s order')
  } finally {
    await f.cleanup()
  }
})

test('the preflight names a problem on an earlier target before a later target\'s failed read, as one by one', async () => {
  const f = await ceremonyFixture({ targets: 2 })
  try {
    await plantCmkName(f, 1)
    // fips-3: its inventory lists, then its CMK-by-name read fails on every retry.
    f.sim.appliances[2]!.faults.add({ method: 'POST', path: '/crypto/v1/keys/info', kind: '500' })
    const engine = await f.open()
    await signWhatIsDue(engine)
    const err = await engine.runStep('preflight').then(() => null, (e: { code: string; message: string }) => e)
    assert.equal(err?.code, 'CMK_CONFLICT', err?.message)
    assert.ok(err!.message.startsWith(`${label(f, 'fips-2')} already has a key named`), err!.message)
  } finally {
    await f.cleanup()
  }
})

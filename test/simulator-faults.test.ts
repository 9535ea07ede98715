// Fault injection: every kind, before and after the operation runs, one-shot and persistent,
// and the probabilistic options. "after-apply" must really have applied the change, since that
// is the case the ceremony engine has to reconcile.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startSimulator, type RunningSimulator, type SimulatedAppliance } from '../main/simulator'
import { SimClient } from './support/sim-client'

let sim: RunningSimulator
let a: SimulatedAppliance
let c: SimClient
let app: string

before(async () => {
  sim = await startSimulator({ appliances: 1, createCmk: false })
  a = sim.appliances[0]!
  c = new SimClient(a)
  app = await c.appSession(a.apiKey)
})
after(() => sim.close())

const aes = (name: string) => ({ name, obj_type: 'AES', key_size: 256 })
const exists = (name: string) => a.state.sobjects().some((s) => s.name === name)
const NETWORK_ERROR = /ECONNRESET|socket hang up|ECONNREFUSED|EPIPE/

describe('targeted one-shot faults', () => {
  it('reset before-apply: the connection dies and nothing changed', async () => {
    const h = a.faults.once({ method: 'POST', path: '/crypto/v1/keys', kind: 'reset' })
    await assert.rejects(c.request('POST', '/crypto/v1/keys', { auth: app, body: aes('reset-before') }), NETWORK_ERROR)
    assert.equal(exists('reset-before'), false)
    assert.equal(h.fired, 1)
    assert.deepEqual((await h.hit).phase, 'before-apply')
    // one-shot: the next call goes through
    const r = await c.request('POST', '/crypto/v1/keys', { auth: app, body: aes('reset-before') })
    assert.equal(r.status, 201)
  })

  it('reset after-apply: the connection dies but the key was created', async () => {
    a.faults.once({ method: 'POST', path: '/crypto/v1/keys', kind: 'reset', after: 'after-apply' })
    await assert.rejects(c.request('POST', '/crypto/v1/keys', { auth: app, body: aes('reset-after') }), NETWORK_ERROR)
    assert.equal(exists('reset-after'), true)
    // a blind retry is what reconciliation must avoid: it now meets the name conflict
    assert.equal((await c.request('POST', '/crypto/v1/keys', { auth: app, body: aes('reset-after') })).status, 409)
    const log = a.state.requestLog().filter((e) => e.path === '/crypto/v1/keys' && e.method === 'POST')
    assert.ok(log.some((e) => e.status === 'reset' && e.fault === 'reset'))
  })

  it('stall before-apply: no answer ever (client times out), nothing changed; releaseStalled frees it', async () => {
    a.faults.once({ method: 'POST', path: '/crypto/v1/keys', kind: 'stall' })
    await assert.rejects(c.request('POST', '/crypto/v1/keys', { auth: app, body: aes('stall-before'), timeoutMs: 300 }), /timeout/)
    assert.equal(exists('stall-before'), false)
    a.faults.releaseStalled()
  })

  it('stall after-apply: no answer, but the key exists', async () => {
    a.faults.once({ method: 'POST', path: '/crypto/v1/keys', kind: 'stall', after: 'after-apply' })
    await assert.rejects(c.request('POST', '/crypto/v1/keys', { auth: app, body: aes('stall-after'), timeoutMs: 300 }), /timeout/)
    assert.equal(exists('stall-after'), true)
    a.faults.releaseStalled()
  })

  for (const kind of ['500', '502', '503'] as const) {
    it(`${kind} before-apply: plain-text ${kind}, nothing changed`, async () => {
      a.faults.once({ method: 'POST', path: '/crypto/v1/keys', kind })
      const r = await c.request('POST', '/crypto/v1/keys', { auth: app, body: aes(`e${kind}`) })
      assert.equal(r.status, Number(kind))
      assert.match(String(r.headers['content-type']), /^text\/plain/)
      assert.equal(exists(`e${kind}`), false)
    })
  }

  it('500 after-apply: an error answer although the key was created', async () => {
    a.faults.once({ method: 'POST', path: '/crypto/v1/keys', kind: '500', after: 'after-apply' })
    const r = await c.request('POST', '/crypto/v1/keys', { auth: app, body: aes('e500-after') })
    assert.equal(r.status, 500)
    assert.equal(exists('e500-after'), true)
  })

  it('429 carries Retry-After', async () => {
    a.faults.once({ path: '/crypto/v1/keys', kind: '429' })
    const r = await c.request('GET', '/crypto/v1/keys', { auth: app })
    assert.equal(r.status, 429)
    assert.equal(r.headers['retry-after'], '1')
  })

  it('latency delays the answer by at least ms', async () => {
    a.faults.once({ method: 'GET', path: '/sys/v1/version', kind: 'latency', ms: 250 })
    const t = Date.now()
    const r = await c.request('GET', '/sys/v1/version')
    assert.equal(r.status, 200)
    assert.ok(Date.now() - t >= 245, `took ${Date.now() - t} ms`)
    const t2 = Date.now()
    await c.request('GET', '/sys/v1/version')
    assert.ok(Date.now() - t2 < 245, 'one-shot: the next call is fast')
  })

  it('expire-session: the call gets 401, a new login works', async () => {
    const s = await c.appSession(a.apiKey)
    a.faults.once({ path: '/crypto/v1/keys', kind: 'expire-session' })
    const r = await c.request('GET', '/crypto/v1/keys', { auth: s })
    assert.equal(r.status, 401)
    assert.equal(r.body, 'Access token has expired')
    const s2 = await c.appSession(a.apiKey)
    assert.equal((await c.request('GET', '/crypto/v1/keys', { auth: s2 })).status, 200)
  })

  it('expireSessions(): every live session gets 401', async () => {
    const s = await c.appSession(a.apiKey)
    a.faults.expireSessions()
    assert.equal((await c.request('GET', '/crypto/v1/keys', { auth: s })).status, 401)
    app = await c.appSession(a.apiKey)
  })

  it('skip lets matching requests through first; method and path must both match', async () => {
    const h = a.faults.once({ method: 'GET', path: '/sys/v1/version', kind: '503', skip: 1 })
    assert.equal((await c.request('GET', '/sys/v1/health')).status, 204) // other path
    assert.equal((await c.request('GET', '/sys/v1/version')).status, 200) // skipped
    assert.equal((await c.request('GET', '/sys/v1/version')).status, 503) // fires
    assert.equal((await c.request('GET', '/sys/v1/version')).status, 200) // spent
    assert.equal(h.fired, 1)
  })

  it('path prefixes and RegExps match; cancel() disarms a rule', async () => {
    const h = a.faults.once({ path: '/sys/v1/approval_requests*', kind: '503' })
    h.cancel()
    assert.equal((await c.request('GET', '/sys/v1/approval_requests', { auth: app })).status, 200)
    a.faults.once({ path: /^\/sys\/v1\/approval_requests\/[^/]+$/, kind: '502' })
    const r = await c.request('GET', '/sys/v1/approval_requests/00000000-0000-4000-8000-000000000000', { auth: app })
    assert.equal(r.status, 502)
  })

  it('add() is persistent until clear(); history records what fired', async () => {
    const before = a.faults.history.length
    a.faults.add({ method: 'GET', path: '/sys/v1/version', kind: '503', times: 2 })
    assert.equal((await c.request('GET', '/sys/v1/version')).status, 503)
    assert.equal((await c.request('GET', '/sys/v1/version')).status, 503)
    assert.equal((await c.request('GET', '/sys/v1/version')).status, 200)
    a.faults.add({ method: 'GET', path: '/sys/v1/version', kind: '503' })
    assert.equal((await c.request('GET', '/sys/v1/version')).status, 503)
    a.faults.clear()
    assert.equal((await c.request('GET', '/sys/v1/version')).status, 200)
    assert.deepEqual(a.faults.history.slice(before).map((f) => [f.kind, f.method, f.path]), [
      ['503', 'GET', '/sys/v1/version'], ['503', 'GET', '/sys/v1/version'], ['503', 'GET', '/sys/v1/version'],
    ])
  })

  it('an after-apply reset on the last approval: the operation ran once; the result is still readable', async () => {
    const w = await startSimulator({ appliances: 1, requirePassword: false })
    try {
      const x = w.appliances[0]!
      const cx = new SimClient(x)
      const ax = await cx.appSession(x.apiKey)
      // Any approvable operation shows the point; export needs no transfer key.
      const r = await cx.request('POST', '/sys/v1/approval_requests', { auth: ax, body: { method: 'POST', operation: '/crypto/v1/keys/export', body: { name: 'cluster-master-key' } } })
      const id: string = r.body.request_id
      const users = await Promise.all(x.custodians.slice(0, 2).map((u) => cx.userSession(u.user, u.password, x.accountId)))
      await cx.request('POST', `/sys/v1/approval_requests/${id}/approve`, { auth: users[0]!, body: {} })
      x.faults.once({ method: 'POST', path: `/sys/v1/approval_requests/${id}/approve`, kind: 'reset', after: 'after-apply' })
      await assert.rejects(cx.request('POST', `/sys/v1/approval_requests/${id}/approve`, { auth: users[1]!, body: {} }), NETWORK_ERROR)
      const g = await cx.request('GET', `/sys/v1/approval_requests/${id}`, { auth: ax })
      assert.equal(g.body.status, 'APPROVED')
      assert.equal((await cx.request('POST', `/sys/v1/approval_requests/${id}/result`, { auth: ax })).body.status, 200)
      assert.equal(x.state.approvalRequests()[0]?.executions, 1)
    } finally {
      await w.close()
    }
  })
})

describe('probabilistic faults (the --fault options)', () => {
  it('rate 1 means always', async () => {
    const w = await startSimulator({ appliances: 1, faults: { errorRate: 1 } })
    try {
      const cx = new SimClient(w.appliances[0]!)
      for (let i = 0; i < 3; i++) assert.equal((await cx.request('GET', '/sys/v1/version')).status, 503)
    } finally {
      await w.close()
    }
  })

  it('rates in between fault some requests and not others, the same way for the same seed', async () => {
    const run = async () => {
      const w = await startSimulator({ appliances: 1, faults: { rateLimitRate: 0.5, seed: 7 } })
      try {
        const cx = new SimClient(w.appliances[0]!)
        const out: number[] = []
        for (let i = 0; i < 12; i++) out.push((await cx.request('GET', '/sys/v1/version')).status)
        return out
      } finally {
        await w.close()
      }
    }
    const first = await run()
    assert.ok(first.includes(429) && first.includes(200), first.join(','))
    assert.deepEqual(await run(), first)
  })

  it('latencyMs delays every response; resets and stalls strike at random', async () => {
    const w = await startSimulator({ appliances: 1, faults: { latencyMs: 120 } })
    try {
      const cx = new SimClient(w.appliances[0]!)
      const t = Date.now()
      await cx.request('GET', '/sys/v1/version')
      await cx.request('GET', '/sys/v1/health')
      assert.ok(Date.now() - t >= 235)
    } finally {
      await w.close()
    }
    const r = await startSimulator({ appliances: 1, faults: { resetRate: 1 } })
    try {
      await assert.rejects(new SimClient(r.appliances[0]!).request('GET', '/sys/v1/version'), NETWORK_ERROR)
    } finally {
      await r.close()
    }
    const s = await startSimulator({ appliances: 1, faults: { stallRate: 1 } })
    try {
      await assert.rejects(new SimClient(s.appliances[0]!).request('GET', '/sys/v1/version', { timeoutMs: 200 }), /timeout/)
    } finally {
      await s.close() // close() also ends stalled requests
    }
  })

  it('a short session TTL (token expiry) makes sessions die on their own', async () => {
    let t = Date.now()
    const w = await startSimulator({ appliances: 1, sessionTtlSeconds: 5, now: () => t })
    try {
      const x = w.appliances[0]!
      const cx = new SimClient(x)
      const s = await cx.appSession(x.apiKey)
      assert.equal((await cx.request('GET', '/crypto/v1/keys', { auth: s })).status, 200)
      t += 5_000
      const r = await cx.request('GET', '/crypto/v1/keys', { auth: s })
      assert.equal(r.status, 401)
      assert.equal(r.body, 'Access token has expired')
    } finally {
      await w.close()
    }
  })
})

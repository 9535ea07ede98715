// Quorum approvals as a client drives them: POST /sys/v1/approval_requests with the exact
// method/operation/body, custodians approve (with their password), the operation runs once,
// POST …/result returns {status, body}. Each vendor choice (dsm-api.md §9) is exercised.
import assert from 'node:assert/strict'
import { constants, createCipheriv, createPrivateKey, privateDecrypt } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { startSimulator, type RunningSimulator, type SimulatedAppliance, type SimulatorOptions } from '../main/simulator'
import { SimClient, pemBody, vector } from './support/sim-client'

const oaep1 = { OAEP: { mgf: { mgf1: { hash: 'SHA1' } } } }
const wrapBody = { key: { name: 'transfer-key' }, subject: { name: 'cluster-master-key' }, alg: 'RSA', mode: oaep1 }
const privDer = () => createPrivateKey(vector('transfer-rsa2048.key.pem')).export({ type: 'pkcs8', format: 'der' }).toString('base64')

interface World { sim: RunningSimulator; a: SimulatedAppliance; c: SimClient; app: string; users: string[]; clock: { t: number } }

const worlds: World[] = []

async function world(opts: Partial<SimulatorOptions> = {}): Promise<World> {
  const clock = { t: Date.UTC(2026, 10, 28, 12) }
  const sim = await startSimulator({ appliances: 1, sessionTtlSeconds: 10 * 365 * 24 * 3600, now: () => clock.t, ...opts })
  const a = sim.appliances[0]!
  const c = new SimClient(a)
  const app = await c.appSession(a.apiKey)
  const users = await Promise.all(a.custodians.map((u) => c.userSession(u.user, u.password, a.accountId)))
  const imp = async (body: object) => assert.equal((await c.request('PUT', '/crypto/v1/keys', { auth: app, body })).status, 201)
  await imp({ name: 'transfer-key', obj_type: 'RSA', value: pemBody(vector('transfer-rsa2048.pub.pem')), key_ops: ['WRAPKEY', 'ENCRYPT', 'APPMANAGEABLE'] })
  await imp({ name: 'transfer-private', obj_type: 'RSA', value: privDer(), key_ops: ['UNWRAPKEY', 'DECRYPT', 'APPMANAGEABLE'] })
  const w = { sim, a, c, app, users, clock }
  worlds.push(w)
  return w
}

after(() => Promise.all(worlds.map((w) => w.sim.close())))

async function create(w: World, body: object) {
  return w.c.request('POST', '/sys/v1/approval_requests', { auth: w.app, body })
}
/** password: the custodian's own unless given; null sends none */
function approve(w: World, id: string, i: number, password: string | null = w.a.custodians[i]!.password) {
  return w.c.request('POST', `/sys/v1/approval_requests/${id}/approve`, { auth: w.users[i]!, body: password === null ? {} : { password } })
}
const result = (w: World, id: string, auth = w.app) => w.c.request('POST', `/sys/v1/approval_requests/${id}/result`, { auth })
const executions = (w: World, id: string) => w.a.state.approvalRequests().find((r) => r.request_id === id)?.executions

function kcvOf(key: Buffer): string {
  const c = createCipheriv(`aes-${key.length * 8}-ecb`, key, null)
  c.setAutoPadding(false)
  return Buffer.concat([c.update(Buffer.alloc(16)), c.final()]).subarray(0, 3).toString('hex')
}

describe('wrap under quorum 2 of 3 (the ceremony step 5-7)', () => {
  let w: World
  let id: string
  before(async () => { w = await world() })

  it('create answers 201 and stores method, operation, body, description; PENDING with the custodians as reviewers', async () => {
    const r = await create(w, { method: 'POST', operation: '/crypto/v1/wrapkey', body: wrapBody, description: 'ceremony C1 step 5 nonce 42' })
    assert.equal(r.status, 201)
    id = r.body.request_id
    assert.equal(r.body.status, 'PENDING')
    assert.equal(r.body.method, 'POST')
    assert.equal(r.body.operation, '/crypto/v1/wrapkey')
    assert.deepEqual(r.body.body, wrapBody)
    assert.equal(r.body.description, 'ceremony C1 step 5 nonce 42')
    assert.deepEqual(r.body.requester, { app: w.a.appId })
    assert.deepEqual(r.body.approvers, [])
    assert.deepEqual(r.body.reviewers.map((x: { user: string }) => x.user).sort(), w.a.custodians.map((u) => u.userId).sort())
    assert.ok(r.body.reviewers.every((x: { requires_password: boolean }) => x.requires_password === true))
    assert.equal(r.body.result_viewed, false)
    const cmk = w.a.state.sobjects().find((s) => s.name === 'cluster-master-key')!
    assert.ok(r.body.subjects.some((s: { sobject?: string }) => s.sobject === cmk.kid))
    assert.equal(r.body.expiry, '20261228T120000Z') // 30 days
  })

  it('a result before quorum is refused and nothing has run', async () => {
    const r = await result(w, id)
    assert.equal(r.status, 400)
    assert.match(r.body, /PENDING/)
    assert.equal(executions(w, id), 0)
  })

  it('approve needs the password: missing 400, wrong 403, and neither counts', async () => {
    const missing = await approve(w, id, 0, null)
    assert.equal(missing.status, 400)
    assert.match(missing.body, /requires your password/)
    const wrong = await approve(w, id, 0, 'not-my-password')
    assert.equal(wrong.status, 403)
    assert.equal(wrong.body, 'Password verification failed')
    const g = await w.c.request('GET', `/sys/v1/approval_requests/${id}`, { auth: w.app })
    assert.deepEqual(g.body.approvers, [])
  })

  it('the requesting app is no reviewer (403)', async () => {
    const r = await w.c.request('POST', `/sys/v1/approval_requests/${id}/approve`, { auth: w.app, body: {} })
    assert.equal(r.status, 403)
  })

  it('one approval: still PENDING; the same custodian again is refused', async () => {
    const r = await approve(w, id, 0)
    assert.equal(r.status, 200)
    assert.equal(r.body.status, 'PENDING')
    assert.deepEqual(r.body.approvers, [{ user: w.a.custodians[0]!.userId }])
    const again = await approve(w, id, 0)
    assert.equal(again.status, 400)
    assert.match(again.body, /already approved/)
    assert.equal(executions(w, id), 0)
  })

  it('second approval: APPROVED, the wrap ran exactly once, expiry restarted from approval', async () => {
    w.clock.t += 3600_000
    const r = await approve(w, id, 2)
    assert.equal(r.status, 200)
    assert.equal(r.body.status, 'APPROVED')
    assert.equal(r.body.expiry, '20261228T130000Z')
    assert.equal(executions(w, id), 1)
  })

  it('the result is {status:200, body:{wrapped_key}} and decrypts to the CMK (same KCV)', async () => {
    const r = await result(w, id)
    assert.equal(r.status, 200)
    assert.equal(r.body.status, 200)
    const blob = Buffer.from(r.body.body.wrapped_key, 'base64')
    const key = privateDecrypt({ key: vector('transfer-rsa2048.key.pem'), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, blob)
    const cmk = w.a.state.sobjects().find((s) => s.name === 'cluster-master-key')!
    assert.equal(kcvOf(key), cmk.kcv)
  })

  it('the result can be read again (same body) without running the operation again', async () => {
    const first = await result(w, id)
    const second = await result(w, id)
    assert.deepEqual(second.body, first.body)
    assert.equal(executions(w, id), 1)
    const g = await w.c.request('GET', `/sys/v1/approval_requests/${id}`, { auth: w.app })
    assert.equal(g.body.result_viewed, true)
  })

  it('a third approval after APPROVED is refused; only the requester reads the result', async () => {
    const r = await approve(w, id, 1)
    assert.equal(r.status, 400)
    assert.equal(executions(w, id), 1)
    const other = await result(w, id, w.users[0]!)
    assert.equal(other.status, 403)
  })

  it('list filters by status and requester', async () => {
    const approved = await w.c.request('GET', '/sys/v1/approval_requests?status=APPROVED', { auth: w.app })
    assert.ok(approved.body.some((r: { request_id: string }) => r.request_id === id))
    const pending = await w.c.request('GET', '/sys/v1/approval_requests?status=PENDING', { auth: w.app })
    assert.equal(pending.body.some((r: { request_id: string }) => r.request_id === id), false)
    const mine = await w.c.request('GET', `/sys/v1/approval_requests?requester=${w.a.appId}`, { auth: w.users[0]! })
    assert.ok(mine.body.length >= 1)
  })
})

describe('unwrap under quorum (the ceremony step 9-11)', () => {
  it('creates the CMK with the vector KCV once approved', async () => {
    const w = await world({ createCmk: false })
    const body = { key: { name: 'transfer-private' }, alg: 'RSA', mode: oaep1, obj_type: 'AES', wrapped_key: vector('cmk.wrapped.oaep-sha1.b64'), name: 'cluster-master-key', key_ops: ['ENCRYPT', 'DECRYPT', 'EXPORT', 'APPMANAGEABLE'] }
    const r = await create(w, { method: 'POST', operation: '/crypto/v1/unwrapkey', body })
    assert.equal(r.status, 201, r.text)
    const id: string = r.body.request_id
    await approve(w, id, 1)
    assert.equal(w.a.state.sobjects().some((s) => s.name === 'cluster-master-key'), false)
    assert.equal((await approve(w, id, 2)).body.status, 'APPROVED')
    const res = await result(w, id)
    assert.equal(res.body.status, 200)
    assert.equal(res.body.body.kcv, vector('cmk.aes256.kcv').toLowerCase())
    assert.equal(res.body.body.name, 'cluster-master-key')
    assert.equal(w.a.state.sobjects().filter((s) => s.name === 'cluster-master-key').length, 1)
  })

  it('an operation that fails at execution leaves the request FAILED with the error text as the body', async () => {
    const w = await world({ createCmk: false })
    const body = { key: { name: 'transfer-private' }, alg: 'RSA', mode: oaep1, obj_type: 'AES', wrapped_key: vector('cmk.wrapped.oaep-sha1.b64'), name: 'taken-later' }
    const r = await create(w, { method: 'POST', operation: '/crypto/v1/unwrapkey', body })
    await w.c.request('POST', '/crypto/v1/keys', { auth: w.app, body: { name: 'taken-later', obj_type: 'AES', key_size: 256 } })
    await approve(w, r.body.request_id, 0)
    const done = await approve(w, r.body.request_id, 1)
    assert.equal(done.body.status, 'FAILED')
    const res = await result(w, r.body.request_id)
    assert.deepEqual(res.body, { status: 409, body: 'sobject already exists' })
  })
})

describe('deny, withdraw, bad requests', () => {
  let w: World
  before(async () => { w = await world() })

  it('one denial makes the request DENIED: no result, no further approval, nothing ran', async () => {
    const r = await create(w, { operation: '/crypto/v1/wrapkey', body: wrapBody }) // method defaults to POST
    assert.equal(r.body.method, 'POST')
    const id: string = r.body.request_id
    await approve(w, id, 0)
    const d = await w.c.request('POST', `/sys/v1/approval_requests/${id}/deny`, { auth: w.users[1]!, body: { reason: 'fingerprint mismatch' } })
    assert.equal(d.status, 200)
    assert.equal(d.body.status, 'DENIED')
    assert.deepEqual(d.body.denier, { user: w.a.custodians[1]!.userId })
    assert.equal(d.body.denial_reason, 'fingerprint mismatch')
    assert.equal((await approve(w, id, 2)).status, 400)
    const res = await result(w, id)
    assert.equal(res.status, 400)
    assert.match(res.body, /DENIED/)
    assert.equal(executions(w, id), 0)
  })

  it('the requester can withdraw a request (204, then 404)', async () => {
    const r = await create(w, { method: 'POST', operation: '/crypto/v1/wrapkey', body: wrapBody })
    const id: string = r.body.request_id
    assert.equal((await w.c.request('DELETE', `/sys/v1/approval_requests/${id}`, { auth: w.users[0]! })).status, 403)
    assert.equal((await w.c.request('DELETE', `/sys/v1/approval_requests/${id}`, { auth: w.app })).status, 204)
    assert.equal((await w.c.request('GET', `/sys/v1/approval_requests/${id}`, { auth: w.app })).status, 404)
  })

  it('requests for unknown, unprotected or unresolvable operations are refused at creation', async () => {
    const unknown = await create(w, { method: 'POST', operation: '/crypto/v1/nothing', body: {} })
    assert.equal(unknown.status, 400)
    const unprotected = await create(w, { method: 'POST', operation: '/crypto/v1/keys', body: { name: 'k', obj_type: 'AES', key_size: 256 } })
    assert.equal(unprotected.status, 400)
    assert.match(unprotected.body, /does not require approval/)
    const missing = await create(w, { method: 'POST', operation: '/crypto/v1/wrapkey', body: { ...wrapBody, subject: { name: 'no-such-key' } } })
    assert.equal(missing.status, 404)
    assert.equal(missing.body, 'sobject does not exist')
  })

  it('an operation path without its leading slash is accepted ([tf] sends it so)', async () => {
    const r = await create(w, { method: 'POST', operation: 'crypto/v1/wrapkey', body: wrapBody })
    assert.equal(r.status, 201)
    assert.equal(r.body.operation, '/crypto/v1/wrapkey')
  })

  it('export of the CMK through approval returns the value (the vendor serves it; the client never asks)', async () => {
    const r = await create(w, { method: 'POST', operation: '/crypto/v1/keys/export', body: { name: 'cluster-master-key' } })
    await approve(w, r.body.request_id, 0)
    await approve(w, r.body.request_id, 1)
    const res = await result(w, r.body.request_id)
    assert.equal(res.body.status, 200)
    const cmk = w.a.state.sobjects().find((s) => s.name === 'cluster-master-key')!
    assert.equal(kcvOf(Buffer.from(res.body.body.value, 'base64')), cmk.kcv)
  })
})

describe('expiry', () => {
  it('retained (default): an expired request stays PENDING with a past expiry; approve and result are 400', async () => {
    const w = await world({ approvalTtlSeconds: 3600 })
    const r = await create(w, { method: 'POST', operation: '/crypto/v1/wrapkey', body: wrapBody })
    const id: string = r.body.request_id
    await approve(w, id, 0)
    w.clock.t += 3600_000
    const g = await w.c.request('GET', `/sys/v1/approval_requests/${id}`, { auth: w.app })
    assert.equal(g.body.status, 'PENDING')
    assert.equal(g.body.expiry, '20261128T130000Z')
    const late = await approve(w, id, 1)
    assert.equal(late.status, 400)
    assert.equal(late.body, 'Approval request has expired')
    assert.equal(executions(w, id), 0)
    assert.equal(w.a.state.approvalRequests()[0]?.expired, true)
  })

  it('an approved result expires too (expiry counts from approval)', async () => {
    const w = await world({ approvalTtlSeconds: 3600 })
    const r = await create(w, { method: 'POST', operation: '/crypto/v1/wrapkey', body: wrapBody })
    await approve(w, r.body.request_id, 0)
    w.clock.t += 3000_000
    await approve(w, r.body.request_id, 1)
    w.clock.t += 3000_000 // 6000 s after creation, 3000 s after approval
    assert.equal((await result(w, r.body.request_id)).status, 200)
    w.clock.t += 700_000
    const res = await result(w, r.body.request_id)
    assert.equal(res.status, 400)
    assert.match(res.body, /expired/)
  })

  it('removed: an expired request is gone (404) and not listed', async () => {
    const w = await world({ approvalTtlSeconds: 60, vendor: { expiredApprovalRequests: 'removed' } })
    const r = await create(w, { method: 'POST', operation: '/crypto/v1/wrapkey', body: wrapBody })
    w.clock.t += 61_000
    assert.equal((await w.c.request('GET', `/sys/v1/approval_requests/${r.body.request_id as string}`, { auth: w.app })).status, 404)
    assert.deepEqual((await w.c.request('GET', '/sys/v1/approval_requests', { auth: w.app })).body, [])
  })
})

describe('vendor choices', () => {
  it('at-first-result: the operation runs on the first result call, once, even with two at the same time', async () => {
    const w = await world({ vendor: { executeApprovedOperation: 'at-first-result' } })
    const r = await create(w, { method: 'POST', operation: '/crypto/v1/wrapkey', body: wrapBody })
    const id: string = r.body.request_id
    await approve(w, id, 0)
    assert.equal((await approve(w, id, 1)).body.status, 'APPROVED')
    assert.equal(executions(w, id), 0)
    const [x, y] = await Promise.all([result(w, id), result(w, id)])
    assert.equal(x.body.status, 200)
    assert.deepEqual(x.body, y.body)
    assert.equal(executions(w, id), 1)
  })

  it('approvalResultRereadable false: the second read is refused', async () => {
    const w = await world({ vendor: { approvalResultRereadable: false } })
    const r = await create(w, { method: 'POST', operation: '/crypto/v1/wrapkey', body: wrapBody })
    await approve(w, r.body.request_id, 0)
    await approve(w, r.body.request_id, 1)
    assert.equal((await result(w, r.body.request_id)).status, 200)
    const again = await result(w, r.body.request_id)
    assert.equal(again.status, 400)
    assert.match(again.body, /already been read/)
  })

  it('requirePassword false: custodians approve without a password', async () => {
    const w = await world({ requirePassword: false })
    const r = await create(w, { method: 'POST', operation: '/crypto/v1/wrapkey', body: wrapBody })
    assert.equal((await approve(w, r.body.request_id, 0, null)).status, 200)
    assert.equal((await approve(w, r.body.request_id, 1, null)).body.status, 'APPROVED')
  })

  it('protectPermissions DELETE_SOBJECTS: delete needs approval; approved, it returns {status:204, body:null}', async () => {
    const w = await world({ protectPermissions: ['DELETE_SOBJECTS'] })
    const kid = w.a.state.sobjects().find((s) => s.name === 'transfer-key')!.kid
    const direct = await w.c.request('DELETE', `/crypto/v1/keys/${kid}`, { auth: w.app })
    assert.equal(direct.status, 403)
    assert.equal(direct.body, 'This operation requires approval')
    const r = await create(w, { method: 'DELETE', operation: `/crypto/v1/keys/${kid}` })
    assert.equal(r.status, 201, r.text)
    assert.deepEqual(r.body.subjects, [{ sobject: kid }])
    await approve(w, r.body.request_id, 0)
    await approve(w, r.body.request_id, 2)
    assert.deepEqual((await result(w, r.body.request_id)).body, { status: 204, body: null })
    assert.equal(w.a.state.sobjects().some((s) => s.kid === kid), false)
  })

  it('changing a quorum group needs approval, and the change applies once approved', async () => {
    const w = await world()
    const patch = { description: 'rotated custodians' }
    const direct = await w.c.request('PATCH', `/sys/v1/groups/${w.a.groupId}`, { auth: w.users[0]!, body: patch })
    assert.equal(direct.status, 403)
    assert.equal(direct.body, 'This operation requires approval')
    const r = await w.c.request('POST', '/sys/v1/approval_requests', { auth: w.users[0]!, body: { method: 'PATCH', operation: `/sys/v1/groups/${w.a.groupId}`, body: patch } })
    assert.equal(r.status, 201, r.text)
    await approve(w, r.body.request_id, 1)
    assert.equal((await approve(w, r.body.request_id, 2)).body.status, 'APPROVED')
    const g = await w.c.request('GET', `/sys/v1/groups/${w.a.groupId}`, { auth: w.app })
    assert.equal(g.body.description, 'rotated custodians')
  })
})

// The DSM client against what the vendor actually does (dsm-api.md §10): approval requests answer
// 201; an appliance may delete an expired request, and the client names that 404 with the
// request id; a request can be withdrawn; KCVs are compared without regard to case; the new
// Sobject fields (key_creation_method, external, virtual_key_info) are read; the app session
// knows its own entity id, which is the requester of every request it files.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import {
  AppSession,
  ApprovalExpiredError,
  ApprovalRequestNotFoundError,
  buildWrapKeyRequest,
  DsmConnection,
  NotFoundError,
  sameKcv,
  SobjectSchema,
  UserSession,
  type RequestEvent,
  type ResponseEvent,
} from '../main/dsm'
import { startSimulator, type RunningSimulator, type SimulatedAppliance, type SimulatorOptions } from '../main/simulator'
import { validateRequest } from './support/openapi'
import { vector } from './support/sim-client'

const sims: RunningSimulator[] = []
const sessions: AppSession[] = []
after(async () => {
  await Promise.all(sessions.map((s) => s.logout().catch(() => undefined)))
  await Promise.all(sims.map((s) => s.close()))
})

interface World { a: SimulatedAppliance; conn: DsmConnection; app: AppSession; sent: RequestEvent[]; got: ResponseEvent[]; clock: { t: number } }

async function world(opts: Partial<SimulatorOptions> = {}): Promise<World> {
  const clock = { t: Date.now() }
  const sim = await startSimulator({ appliances: 1, sessionTtlSeconds: 365 * 24 * 3600, now: () => clock.t, ...opts })
  sims.push(sim)
  const a = sim.appliances[0]!
  const sent: RequestEvent[] = []
  const got: ResponseEvent[] = []
  const conn = new DsmConnection({ host: a.host, port: a.port, trust: { spkiSha256: a.spkiSha256 }, onRequest: (e) => sent.push(e), onResponse: (e) => got.push(e) })
  const app = await AppSession.open(conn, Buffer.from(a.apiKey))
  sessions.push(app)
  // The transfer key's public half, imported into the quorum group: the wrap needs approval.
  const transfer = await app.keys.generate({ name: 'transfer-private', obj_type: 'RSA', key_size: 2048, key_ops: ['UNWRAPKEY', 'APPMANAGEABLE'] })
  await app.keys.importPublicKey({ name: 'transfer-key', spkiDer: Buffer.from(transfer.pub_key!, 'base64'), key_ops: ['WRAPKEY', 'APPMANAGEABLE'] })
  return { a, conn, app, sent, got, clock }
}

const wrapBody = () => buildWrapKeyRequest({ wrappingKey: { name: 'transfer-key' }, subject: { name: 'cluster-master-key' }, oaepHash: 'SHA256' })

describe('approval requests as the vendor serves them', () => {
  it('create accepts 201; the requester is this session\'s entity id (the app uuid)', async () => {
    const w = await world()
    assert.equal(w.app.entityId, w.a.appId)
    const req = await w.app.approvals.createWrap(wrapBody(), 'ceremony T nonce 201-check')
    assert.equal(w.got.find((e) => e.method === 'POST' && e.path === '/sys/v1/approval_requests')?.status, 201)
    assert.deepEqual(req.requester, { app: w.app.entityId })
    assert.deepEqual(req.body, wrapBody())
  })

  it('an expired request the appliance deleted is ApprovalRequestNotFoundError carrying the request id', async () => {
    const w = await world({ approvalTtlSeconds: 60, vendor: { expiredApprovalRequests: 'removed' } })
    const req = await w.app.approvals.createWrap(wrapBody(), 'ceremony T nonce deleted-1')
    w.clock.t += 61_000
    for (const call of [() => w.app.approvals.get(req.request_id), () => w.app.approvals.snapshot(req.request_id), () => w.app.approvals.result(req.request_id), () => w.app.approvals.awaitDecision(req.request_id)]) {
      await assert.rejects(call(), (e: unknown) => {
        assert.ok(e instanceof ApprovalRequestNotFoundError, String(e))
        assert.ok(e instanceof NotFoundError, 'still a NotFoundError for callers that branch on that')
        assert.equal(e.requestId, req.request_id)
        assert.equal(e.status, 404)
        assert.match(e.message, new RegExp(`approval request ${req.request_id} does not exist`))
        return true
      })
    }
    const c = w.a.custodians[0]!
    const custodian = await UserSession.login(w.conn, { username: c.user, password: Buffer.from(c.password), accountId: w.a.accountId })
    await assert.rejects(custodian.approvals.approve(req.request_id, { password: Buffer.from(c.password) }), ApprovalRequestNotFoundError)
    await custodian.logout()
  })

  it('an expired request the appliance keeps is still ApprovalExpiredError, not a 404', async () => {
    const w = await world({ approvalTtlSeconds: 60 })
    const req = await w.app.approvals.createWrap(wrapBody(), 'ceremony T nonce kept-1')
    w.clock.t += 61_000
    assert.equal((await w.app.approvals.get(req.request_id)).request_id, req.request_id)
    const c = w.a.custodians[0]!
    const custodian = await UserSession.login(w.conn, { username: c.user, password: Buffer.from(c.password), accountId: w.a.accountId })
    await assert.rejects(custodian.approvals.approve(req.request_id, { password: Buffer.from(c.password) }), ApprovalExpiredError)
    await custodian.logout()
  })

  it('withdraw (204) removes the request; withdrawing again is ApprovalRequestNotFoundError', async () => {
    const w = await world()
    const req = await w.app.approvals.createWrap(wrapBody(), 'ceremony T nonce withdraw-1')
    await w.app.approvals.withdraw(req.request_id)
    assert.equal(w.got.find((e) => e.method === 'DELETE')?.status, 204)
    await assert.rejects(w.app.approvals.get(req.request_id), ApprovalRequestNotFoundError)
    await assert.rejects(w.app.approvals.withdraw(req.request_id), (e: unknown) => e instanceof ApprovalRequestNotFoundError && e.requestId === req.request_id)
    // a replacement under the same description is a different request (the engine must notice)
    const again = await w.app.approvals.createWrap(wrapBody(), 'ceremony T nonce withdraw-1')
    assert.notEqual(again.request_id, req.request_id)
    assert.deepEqual((await w.app.approvals.findByNonce('withdraw-1')).map((r) => r.request_id), [again.request_id])
    for (const e of w.sent) validateRequest(e.method, e.path, e.body)
  })
})

describe('KCVs and the new Sobject fields', () => {
  it('an appliance printing upper case and one printing lower case give the client the same KCV for the same key', async () => {
    const value = Buffer.from(vector('cmk.aes256.hex'), 'hex').toString('base64')
    const kcvs: string[] = []
    for (const kcvCase of ['upper', 'lower'] as const) {
      const w = await world({ vendor: { kcvCase } })
      // the client never imports key material; this test does, through the raw session call
      await w.app.call({ method: 'PUT', path: '/crypto/v1/keys', body: { name: 'vector-cmk', obj_type: 'AES', value, key_ops: ['ENCRYPT'] }, expect: [201] })
      const k = await w.app.keys.info({ name: 'vector-cmk' })
      kcvs.push(k.kcv!)
      assert.deepEqual(k.key_creation_method, { method: 'Import' })
      assert.deepEqual((await w.app.keys.info({ name: 'cluster-master-key' })).key_creation_method, { method: 'Generate' })
    }
    assert.equal(kcvs[0], kcvs[1])
    assert.equal(kcvs[0], vector('cmk.aes256.kcv').toLowerCase())
  })

  it('sameKcv ignores case and never matches a missing KCV', () => {
    assert.equal(sameKcv('3F8E61', '3f8e61'), true)
    assert.equal(sameKcv('3F8E61', '3f8e62'), false)
    assert.equal(sameKcv(undefined, undefined), false)
    assert.equal(sameKcv('', ''), false)
  })

  it('the Sobject schema reads key_creation_method (object or string), external and virtual_key_info, and refuses a non-hex kcv', () => {
    const base = { kid: '0b0e8a0c-1234-4abc-8def-0123456789ab', obj_type: 'AES', key_ops: [], acct_id: '0b0e8a0c-1234-4abc-8def-0123456789ac', created_at: '20261202T000000Z', creator: { user: 'u' }, enabled: true, origin: 'External', public_only: false }
    const v = SobjectSchema.parse({
      ...base,
      kcv: 'A90519',
      key_creation_method: 'Generate',
      external: { id: {}, hsm_group_id: '0b0e8a0c-1234-4abc-8def-0123456789ad' },
      virtual_key_info: { cached_key_material: false },
    })
    assert.equal(v.kcv, 'a90519')
    assert.deepEqual(v.key_creation_method, { method: 'Generate' })
    assert.deepEqual(v.external, { id: {}, hsm_group_id: '0b0e8a0c-1234-4abc-8def-0123456789ad' })
    assert.equal(v.virtual_key_info?.cached_key_material, false)
    assert.equal(SobjectSchema.safeParse({ ...base, kcv: 'not hex' }).success, false)
  })
})

// Every DSM client call against the simulator over real TLS with the pinned SPKI, with each
// request body the client sends checked against the vendor's OpenAPI request schema.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  AppSession,
  ApprovalRequiredError,
  BadRequestError,
  buildWrapKeyRequest,
  ConflictError,
  DsmConnection,
  InvalidCredentialError,
  NotFoundError,
  PlaintextExportRefusedError,
  QuorumDeniedError,
  SessionClosedError,
  UnauthorizedError,
  UserSession,
  type RequestEvent,
  type Sobject,
} from '../main/dsm'
import { startSimulator, type RunningSimulator, type SimulatedAppliance } from '../main/simulator'
import { validateRequest } from './support/openapi'

let sim: RunningSimulator
let a: SimulatedAppliance
let b: SimulatedAppliance
const sent: RequestEvent[] = []

function connect(x: SimulatedAppliance): DsmConnection {
  return new DsmConnection({
    host: x.host,
    port: x.port,
    trust: { spkiSha256: x.spkiSha256 },
    connectTimeoutMs: 5000,
    responseTimeoutMs: 10_000,
    onRequest: (e) => sent.push(e),
  })
}

before(async () => {
  sim = await startSimulator({ appliances: 2 })
  a = sim.appliances[0]!
  b = sim.appliances[1]!
})
after(() => sim.close())

describe('DSM client against the simulator', () => {
  let connA: DsmConnection
  let connB: DsmConnection
  let appA: AppSession
  let appB: AppSession
  let transferOnB: Sobject

  before(async () => {
    connA = connect(a)
    connB = connect(b)
    appA = await AppSession.open(connA, Buffer.from(a.apiKey))
    appB = await AppSession.open(connB, Buffer.from(b.apiKey))
  })
  after(async () => {
    await appA?.logout()
    await appB?.logout()
  })

  it('version reports FIPS mode and the clock skew from the Date header', async () => {
    const v = await connA.version()
    assert.match(v.version, /^\d+\.\d+\.\d+$/)
    assert.equal(v.fips, true)
    assert.ok(v.serverDate instanceof Date)
    assert.ok(v.skewMs !== undefined && Math.abs(v.skewMs) < 5_000, `skew ${v.skewMs}`)
  })

  it('health answers 204', async () => {
    await connA.health()
  })

  it('app session knows its entity id (the app uuid)', () => {
    assert.equal(appA.entityId, a.appId)
    assert.ok(!JSON.stringify(appA).includes('Bearer'))
  })

  it('groups: get with approval policy, list, find by name', async () => {
    const g = await appA.groups.get(a.groupId)
    assert.equal(g.name, a.groupName)
    assert.equal(g.acct_id, a.accountId)
    assert.equal(g.approval_policy?.quorum?.n, a.quorum)
    assert.equal(g.approval_policy?.quorum?.members.length, a.custodians.length)
    const all = await appA.groups.list()
    assert.ok(all.some((x) => x.group_id === a.groupId))
    assert.equal((await appA.groups.findByName(a.groupName))?.group_id, a.groupId)
    assert.equal(await appA.groups.findByName('no such group'), null)
    await assert.rejects(appA.groups.get('00000000-0000-4000-8000-000000000000'), NotFoundError)
  })

  it('sobjects: info by name and kid, list with name filter, get', async () => {
    const cmk = await appA.keys.info({ name: a.cmkName! })
    assert.equal(cmk.obj_type, 'AES')
    assert.equal(cmk.key_size, 256)
    assert.ok(cmk.key_ops.includes('EXPORT'))
    assert.match(cmk.kcv ?? '', /^[0-9A-Fa-f]{6}$/)
    assert.equal(!('value' in cmk), true, 'no key material is kept from a response')
    assert.equal((await appA.keys.info({ kid: cmk.kid })).name, a.cmkName)
    assert.deepEqual((await appA.keys.list({ name: a.cmkName! })).map((k) => k.kid), [cmk.kid])
    assert.deepEqual(await appA.keys.list({ name: 'absent' }), [])
    assert.equal((await appA.keys.get(cmk.kid)).kid, cmk.kid)
    assert.equal(await appB.keys.findByName(a.cmkName!), null)
    await assert.rejects(appB.keys.info({ name: a.cmkName! }), NotFoundError)
  })

  it('sobjects: generate an RSA-2048 transfer key (201), duplicate name is a ConflictError', async () => {
    transferOnB = await appB.keys.generate({
      name: 'ceremony-test-transfer',
      obj_type: 'RSA',
      key_size: 2048,
      rsa: { key_size: 2048, public_exponent: 65537 },
      key_ops: ['UNWRAPKEY', 'DECRYPT', 'APPMANAGEABLE'],
      group_id: b.groupId,
      description: 'transfer key',
    })
    assert.equal(transferOnB.obj_type, 'RSA')
    assert.equal(transferOnB.key_size, 2048)
    assert.ok(transferOnB.pub_key && transferOnB.pub_key.startsWith('MII'))
    await assert.rejects(
      appB.keys.generate({ name: 'ceremony-test-transfer', obj_type: 'RSA', key_size: 2048, key_ops: ['UNWRAPKEY'], group_id: b.groupId }),
      ConflictError,
    )
  })

  it('sobjects: import the public key as DER base64; the imported key has the same pub_key', async () => {
    const imported = await appA.keys.importPublicKey({
      name: 'ceremony-test-transfer',
      spkiDer: Buffer.from(transferOnB.pub_key!, 'base64'),
      key_ops: ['WRAPKEY', 'ENCRYPT', 'APPMANAGEABLE'],
      group_id: a.groupId,
    })
    assert.equal(imported.public_only, true)
    assert.equal(imported.pub_key, transferOnB.pub_key)
  })

  it('a direct wrap in a quorum group is ApprovalRequiredError', async () => {
    const body = buildWrapKeyRequest({ wrappingKey: { name: 'ceremony-test-transfer' }, subject: { name: a.cmkName! }, oaepHash: 'SHA1' })
    await assert.rejects(appA.keys.wrap(body), (e: unknown) => e instanceof ApprovalRequiredError && e.status === 403 && /requires approval/.test(e.message))
  })

  it('approval requests: create, get, list, find by nonce, deny → QuorumDeniedError, no result', async () => {
    const nonce = 'nonce-' + Date.now().toString(36) + '-deny'
    const body = buildWrapKeyRequest({ wrappingKey: { name: 'ceremony-test-transfer' }, subject: { name: a.cmkName! }, oaepHash: 'SHA256' })
    const req = await appA.approvals.createWrap(body, `ceremony test ${nonce}`)
    assert.equal(req.status, 'PENDING')
    assert.equal(req.operation, '/crypto/v1/wrapkey')
    assert.deepEqual(req.body, body)
    assert.equal((await appA.approvals.get(req.request_id)).request_id, req.request_id)
    const pending = await appA.approvals.list({ requester: appA.entityId, status: 'PENDING' })
    assert.ok(pending.some((r) => r.request_id === req.request_id))
    assert.deepEqual((await appA.approvals.findByNonce(nonce)).map((r) => r.request_id), [req.request_id])

    const c = a.custodians[0]!
    const custodian = await UserSession.login(connA, { username: c.user, password: Buffer.from(c.password), accountId: a.accountId })
    const denied = await custodian.approvals.deny(req.request_id, 'wrong transfer key fingerprint')
    assert.equal(denied.status, 'DENIED')
    await custodian.logout()
    await assert.rejects(appA.approvals.awaitDecision(req.request_id), (e: unknown) => e instanceof QuorumDeniedError && e.reason === 'wrong transfer key fingerprint')
    await assert.rejects(appA.approvals.result(req.request_id), BadRequestError)
  })

  it('custodian session: login + select_account, refresh, logout; password buffer zeroed', async () => {
    const c = a.custodians[1]!
    const password = Buffer.from(c.password)
    const s = await UserSession.login(connA, { username: c.user, password, accountId: a.accountId })
    assert.ok(password.every((x) => x === 0), 'password zeroed after login')
    assert.equal(s.entityId, c.userId)
    await s.refresh()
    assert.ok((await s.approvals.list({ reviewer: c.userId })).length >= 0)
    await s.logout()
    await assert.rejects(s.approvals.list(), SessionClosedError)
  })

  it('bad custodian password: UnauthorizedError, buffer zeroed, message has no secret', async () => {
    const c = a.custodians[2]!
    const password = Buffer.from('wrong-' + c.password)
    await assert.rejects(UserSession.login(connA, { username: c.user, password, accountId: a.accountId }), (e: unknown) => {
      assert.ok(e instanceof UnauthorizedError)
      assert.ok(!e.message.includes(c.password))
      return true
    })
    assert.ok(password.every((x) => x === 0))
    await assert.rejects(
      UserSession.login(connA, { username: 'a b', password: Buffer.from('x'), accountId: a.accountId }),
      InvalidCredentialError,
    )
  })

  it('bad API key: UnauthorizedError and the key buffer is zeroed', async () => {
    const key = Buffer.from(Buffer.from(`${a.appId}:not-the-secret`).toString('base64'))
    await assert.rejects(AppSession.open(connA, key), UnauthorizedError)
    assert.ok(key.every((x) => x === 0))
  })

  it('plaintext export is refused by the session without a network call', async () => {
    const before = a.state.requestLog().length
    await assert.rejects(appA.call({ method: 'POST', path: '/crypto/v1/keys/export', body: { name: a.cmkName }, expect: [200] }), PlaintextExportRefusedError)
    await assert.rejects(
      appA.approvals.create({ method: 'POST', operation: '/crypto/v1/keys/export', body: { name: a.cmkName }, description: 'exfiltrate' }),
      PlaintextExportRefusedError,
    )
    assert.equal(a.state.requestLog().length, before)
    assert.ok(!a.state.requestLog().some((e) => e.path.includes('export')))
  })

  it('sobjects: delete → 204, then NotFoundError', async () => {
    const onA = await appA.keys.info({ name: 'ceremony-test-transfer' })
    await appA.keys.delete(onA.kid)
    await appB.keys.delete(transferOnB.kid)
    await assert.rejects(appA.keys.get(onA.kid), NotFoundError)
    await assert.rejects(appB.keys.info({ kid: transferOnB.kid }), NotFoundError)
  })

  it('app session: refresh, logout zeroes the API key, later calls are SessionClosedError', async () => {
    const key = Buffer.from(a.apiKey)
    const s = await AppSession.open(connA, key)
    await s.refresh()
    const live = a.state.liveSessions()
    await s.logout()
    assert.ok(key.every((x) => x === 0), 'API key buffer zeroed on logout')
    assert.equal(a.state.liveSessions(), live - 1, 'terminate ended the session on the appliance')
    await assert.rejects(s.keys.list(), SessionClosedError)
    await s.logout() // idempotent
  })

  it('every request body the client sent validates against the OpenAPI request schema', () => {
    const withBody = sent.filter((e) => e.body !== undefined)
    assert.ok(withBody.length >= 10, `only ${withBody.length} bodies captured`)
    const paths = new Set(sent.map((e) => `${e.method} ${e.path.split('?')[0]!.replace(/[0-9a-f-]{36}/g, '{id}')}`))
    for (const must of [
      'POST /sys/v1/session/auth',
      'POST /sys/v1/session/select_account',
      'POST /sys/v1/session/refresh',
      'POST /sys/v1/session/terminate',
      'GET /sys/v1/version',
      'GET /sys/v1/health',
      'GET /sys/v1/groups',
      'GET /sys/v1/groups/{id}',
      'POST /crypto/v1/keys',
      'PUT /crypto/v1/keys',
      'POST /crypto/v1/keys/info',
      'GET /crypto/v1/keys',
      'GET /crypto/v1/keys/{id}',
      'DELETE /crypto/v1/keys/{id}',
      'POST /crypto/v1/wrapkey',
      'POST /sys/v1/approval_requests',
      'GET /sys/v1/approval_requests',
      'GET /sys/v1/approval_requests/{id}',
      'POST /sys/v1/approval_requests/{id}/deny',
      'POST /sys/v1/approval_requests/{id}/result',
    ]) assert.ok(paths.has(must), `no ${must} was exercised`)
    for (const e of sent) validateRequest(e.method, e.path, e.body)
  })
})

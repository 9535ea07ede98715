// The ceremony's DSM sequence end to end with the client against two simulated FIPS appliances:
// transfer key on the target, public key imported on the source, wrap under quorum (two
// custodians approve with their passwords), result, unwrap under quorum on the target, KCV
// compare, cleanup. Plus approval expiry by the appliance's clock.
import assert from 'node:assert/strict'
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import {
  AppSession,
  ApprovalExpiredError,
  ApprovalFailedError,
  buildUnwrapKeyRequest,
  buildWrapKeyRequest,
  DsmConnection,
  groupQuorum,
  NotFoundError,
  UserSession,
  type RequestEvent,
} from '../main/dsm'
import { startSimulator, type RunningSimulator, type SimulatedAppliance } from '../main/simulator'
import { validateRequest } from './support/openapi'

const sent: RequestEvent[] = []

function connect(x: SimulatedAppliance): DsmConnection {
  return new DsmConnection({ host: x.host, port: x.port, trust: { spkiSha256: x.spkiSha256 }, onRequest: (e) => sent.push(e) })
}

/** Each custodian logs in with their own user, approves with their password, and logs out. */
async function approveAs(conn: DsmConnection, x: SimulatedAppliance, custodianIndexes: number[], requestId: string): Promise<void> {
  for (const i of custodianIndexes) {
    const c = x.custodians[i]!
    const s = await UserSession.login(conn, { username: c.user, password: Buffer.from(c.password), accountId: x.accountId })
    const seen = await s.approvals.get(requestId)
    assert.equal(seen.status, 'PENDING')
    const password = Buffer.from(c.password)
    await s.approvals.approve(requestId, { password })
    assert.ok(password.every((b) => b === 0), 'approval password zeroed')
    await s.logout()
  }
}

describe('CMK replication sequence (source → target)', () => {
  let sim: RunningSimulator
  before(async () => { sim = await startSimulator({ appliances: 2 }) })
  after(() => sim.close())

  it('wrap → approve (2 custodians) → result → unwrap → approve → KCVs match → cleanup', async () => {
    const [S, T] = sim.appliances as [SimulatedAppliance, SimulatedAppliance]
    const ceremonyId = randomUUID()
    const transferName = `ceremony-${ceremonyId}-transfer-${T.id}`
    const connS = connect(S)
    const connT = connect(T)
    const keyS = Buffer.from(S.apiKey)
    const keyT = Buffer.from(T.apiKey)
    const appS = await AppSession.open(connS, keyS)
    const appT = await AppSession.open(connT, keyT)

    // 0 preflight
    for (const [app, x] of [[appS, S], [appT, T]] as const) {
      const g = await app.groups.get(x.groupId)
      assert.equal(groupQuorum(g)?.n, 2)
    }
    const cmkS = await appS.keys.info({ name: S.cmkName! })
    assert.equal(cmkS.obj_type, 'AES')
    assert.equal(cmkS.key_size, 256)
    assert.ok(cmkS.key_ops.includes('EXPORT'))
    assert.equal(await appT.keys.findByName(S.cmkName!), null)

    // 2 transfer key on T
    const transferT = await appT.keys.generate({
      name: transferName,
      obj_type: 'RSA',
      key_size: 2048,
      key_ops: ['UNWRAPKEY', 'DECRYPT', 'APPMANAGEABLE'],
      group_id: T.groupId,
    })
    // 4 import its public key on S; S's copy must carry the same SPKI
    const importedS = await appS.keys.importPublicKey({
      name: transferName,
      spkiDer: Buffer.from(transferT.pub_key!, 'base64'),
      key_ops: ['WRAPKEY', 'ENCRYPT', 'APPMANAGEABLE'],
      group_id: S.groupId,
    })
    assert.equal(importedS.pub_key, transferT.pub_key)

    // 5-7 wrap under quorum
    const wrapNonce = randomUUID()
    const wrapReq = await appS.approvals.createWrap(
      buildWrapKeyRequest({ wrappingKey: { kid: importedS.kid }, subject: { kid: cmkS.kid }, oaepHash: 'SHA256' }),
      `ceremony ${ceremonyId} step 5 nonce ${wrapNonce}`,
    )
    await approveAs(connS, S, [0, 1], wrapReq.request_id)
    const approved = await appS.approvals.awaitDecision(wrapReq.request_id, { initialIntervalMs: 20, maxIntervalMs: 100 })
    assert.equal(approved.status, 'APPROVED')
    assert.equal(approved.approvers.length, 2)
    const { wrapped_key } = await appS.approvals.wrapResult(wrapReq.request_id)
    const blob = Buffer.from(wrapped_key, 'base64')
    assert.equal(blob.length, 256, 'RSA-2048 OAEP blob is one modulus long')

    // 9-11 unwrap under quorum on T
    const unwrapReq = await appT.approvals.createUnwrap(
      buildUnwrapKeyRequest({
        unwrappingKey: { kid: transferT.kid },
        wrappedKey: blob,
        name: S.cmkName!,
        keyOps: ['ENCRYPT', 'DECRYPT', 'WRAPKEY', 'UNWRAPKEY', 'EXPORT', 'APPMANAGEABLE'],
        oaepHash: 'SHA256',
        groupId: T.groupId,
      }),
      `ceremony ${ceremonyId} step 9 nonce ${randomUUID()}`,
    )
    await approveAs(connT, T, [1, 2], unwrapReq.request_id)
    await appT.approvals.awaitDecision(unwrapReq.request_id, { initialIntervalMs: 20, maxIntervalMs: 100 })
    const cmkT = await appT.approvals.unwrapResult(unwrapReq.request_id)
    assert.equal(cmkT.name, S.cmkName)
    assert.equal(cmkT.obj_type, 'AES')
    assert.ok(cmkT.key_ops.includes('EXPORT'))
    assert.ok(cmkS.kcv && cmkT.kcv, 'both CMKs have a KCV')
    assert.equal(cmkT.kcv.toUpperCase(), cmkS.kcv.toUpperCase(), 'KCV on T equals KCV on S')
    assert.equal((await appT.keys.info({ name: S.cmkName! })).kcv, cmkT.kcv)

    // 12 cleanup: both transfer keys gone
    await appS.keys.delete(importedS.kid)
    await appT.keys.delete(transferT.kid)
    await assert.rejects(appS.keys.info({ kid: importedS.kid }), NotFoundError)
    await assert.rejects(appT.keys.info({ kid: transferT.kid }), NotFoundError)
    assert.equal(await appS.keys.findByName(transferName), null)

    // 14 close: sessions ended, API keys wiped
    await appS.logout()
    await appT.logout()
    assert.ok(keyS.every((b) => b === 0) && keyT.every((b) => b === 0))

    // Exactly-once: each approved operation ran once on its appliance.
    for (const [x, id] of [[S, wrapReq.request_id], [T, unwrapReq.request_id]] as const) {
      assert.equal(x.state.approvalRequests().find((r) => r.request_id === id)?.executions, 1)
    }
    for (const e of sent) validateRequest(e.method, e.path, e.body)
  })
})

describe('a damaged blob', () => {
  let sim: RunningSimulator
  before(async () => { sim = await startSimulator({ appliances: 1, createCmk: false }) })
  after(() => sim.close())

  it('unwrap of a bit-flipped blob: quorum met, operation FAILED → ApprovalFailedError with the appliance message', async () => {
    const x = sim.appliances[0]!
    const conn = connect(x)
    const app = await AppSession.open(conn, Buffer.from(x.apiKey))
    const transfer = await app.keys.generate({ name: 'damaged-transfer', obj_type: 'RSA', key_size: 2048, key_ops: ['UNWRAPKEY', 'DECRYPT'], group_id: x.groupId })
    const blob = Buffer.alloc(256, 0x5a) // not an OAEP encryption under this key
    const req = await app.approvals.createUnwrap(
      buildUnwrapKeyRequest({ unwrappingKey: { kid: transfer.kid }, wrappedKey: blob, name: 'cmk-copy', keyOps: ['EXPORT'], oaepHash: 'SHA1', groupId: x.groupId }),
      'damaged blob test nonce 9f8e7d6c',
    )
    await approveAs(conn, x, [0, 1], req.request_id)
    await assert.rejects(app.approvals.awaitDecision(req.request_id, { initialIntervalMs: 10 }), (e: unknown) => {
      assert.ok(e instanceof ApprovalFailedError, String(e))
      assert.ok(e.status !== undefined && e.status >= 400)
      assert.ok(!e.message.endsWith('the operation failed after approval'), 'carries the appliance message')
      return true
    })
    await assert.rejects(app.approvals.unwrapResult(req.request_id), ApprovalFailedError)
    assert.equal(await app.keys.findByName('cmk-copy'), null)
    await app.logout()
  })
})

describe('approval expiry (appliance clock)', () => {
  let sim: RunningSimulator
  let now = Date.now()
  before(async () => { sim = await startSimulator({ appliances: 1, approvalTtlSeconds: 60, now: () => now }) })
  after(() => sim.close())

  it('a PENDING request past its expiry is ApprovalExpiredError, and so is approving it', async () => {
    const x = sim.appliances[0]!
    const conn = connect(x)
    const app = await AppSession.open(conn, Buffer.from(x.apiKey))
    await app.keys.importPublicKey({
      name: 'expiry-transfer',
      spkiDer: generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' }),
      key_ops: ['WRAPKEY', 'ENCRYPT'],
      group_id: x.groupId,
    })
    const req = await app.approvals.createWrap(
      buildWrapKeyRequest({ wrappingKey: { name: 'expiry-transfer' }, subject: { name: x.cmkName! }, oaepHash: 'SHA1' }),
      'expiry test nonce 1234abcd',
    )
    const c = x.custodians[0]!
    const custodian = await UserSession.login(conn, { username: c.user, password: Buffer.from(c.password), accountId: x.accountId })
    now += 61_000 // the appliance's clock passes the expiry; the local clock does not move
    await assert.rejects(app.approvals.awaitDecision(req.request_id), ApprovalExpiredError)
    await assert.rejects(custodian.approvals.approve(req.request_id, { password: Buffer.from(c.password) }), ApprovalExpiredError)
    await custodian.logout()
    await app.logout()
  })
})

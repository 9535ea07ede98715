/**
 * Trust only what this ceremony made and what was approved (design §6), tried as an attacker would:
 * someone holding the source's app credentials swaps the approval request under our nonce; a blob
 * is planted on the media; a custodian decides on a view that is no longer current, or is not in
 * the plan. Each is refused by name before anything is approved, exported or imported.
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import type { CeremonyEngine } from '../main/ceremony/engine'
import { runToCompletion } from '../main/ceremony/driver'
import { AppSession, DsmConnection } from '../main/dsm'
import { publicKeyDerFromBase64, spkiPemToDer } from '../main/keys'
import { ceremonyFixture, decide, signWhatIsDue, type Fixture } from './support/ceremony-fixture'

const VECTORS = join(__dirname, '../../shared/reference/vectors')

async function runUntil(f: Fixture, engine: CeremonyEngine, stepId: string): Promise<void> {
  while (engine.currentStep() && engine.currentStep()!.id !== stepId) {
    await signWhatIsDue(engine)
    const step = engine.currentStep()!
    if (step.interaction === 'approval') {
      await engine.runStep(step.id)
      for (const c of f.creds.appliances.find((a) => a.id === step.approval!.appliance)!.custodians!.slice(0, 2)) {
        await decide(engine, step.id, c, 'approve', { confirmation: engine.expectedConfirmation(step.id) ?? undefined })
      }
    } else {
      await engine.runStep(step.id, { confirmation: engine.expectedConfirmation(step.id) ?? undefined })
    }
  }
  await signWhatIsDue(engine)
}

/** The attacker: the source's own app credentials, used from somewhere else. */
async function attacker(f: Fixture, appliance = 0): Promise<AppSession> {
  const a = f.sim.appliances[appliance]!
  return AppSession.open(new DsmConnection({ host: a.host, port: a.port, trust: { spkiSha256: a.spkiSha256 } }), Buffer.from(a.apiKey))
}

test('a wrap request swapped under our nonce after a crash is refused (APPROVAL_REQUEST_MISMATCH); nothing is approved or exported', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    await runUntil(f, engine, 'wrap-request:fips-2')
    const source = f.sim.appliances[0]!
    // The request reaches the source, but its answer never comes back (the workstation "crashed").
    source.faults.once({ method: 'POST', path: '/sys/v1/approval_requests', kind: '500', after: 'after-apply' })
    await assert.rejects(engine.runStep('wrap-request:fips-2'), { code: 'SERVER_ERROR' })
    const ours = source.state.approvalRequests()
    assert.equal(ours.length, 1)

    // Someone with the source's app credentials withdraws it and opens one with the same description
    // that wraps the CMK under a key they hold.
    const evil = await attacker(f)
    const theirKey = await evil.keys.importPublicKey({ name: 'harmless-looking-key', spkiDer: spkiPemToDer(readFileSync(join(VECTORS, 'transfer-rsa2048.pub.pem'), 'utf8')), key_ops: ['WRAPKEY', 'ENCRYPT'] })
    const original = await evil.approvals.get(ours[0]!.request_id)
    await evil.approvals.withdraw(original.request_id)
    const body = { ...(original.body as Record<string, unknown>), key: { kid: theirKey.kid } }
    const swapped = await evil.approvals.create({ method: 'POST', operation: '/crypto/v1/wrapkey', body, description: original.description! })
    await evil.logout()

    await assert.rejects(engine.runStep('wrap-request:fips-2'), (err: { code?: string; message?: string }) => {
      assert.equal(err.code, 'APPROVAL_REQUEST_MISMATCH')
      assert.match(err.message!, /body\.key/)
      return true
    })
    assert.equal(engine.record('wrap-request:fips-2').state, 'failed')
    assert.equal(engine.currentStep()!.id, 'wrap-request:fips-2', 'the ceremony does not move on to the approval')
    const request = source.state.approvalRequests().find((r) => r.request_id === swapped.request_id)!
    assert.equal(request.status, 'PENDING')
    assert.equal(request.approvers.length, 0, 'no custodian was asked to approve it')
    assert.equal(request.executions, 0, 'nothing was exported')
    const logged = engine.logEntries().filter((e) => e.kind === 'step-failed' && e.step === 'wrap-request:fips-2').at(-1)!
    assert.equal(logged.facts['code'], 'APPROVAL_REQUEST_MISMATCH')
    await engine.shutdown()
  } finally {
    await f.cleanup()
  }
})

test('a second request under our nonce beside ours is refused as well: nothing carrying the nonce is adopted unless all of it is ours', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    await runUntil(f, engine, 'wrap-request:fips-2')
    const source = f.sim.appliances[0]!
    source.faults.once({ method: 'POST', path: '/sys/v1/approval_requests', kind: '500', after: 'after-apply' })
    await assert.rejects(engine.runStep('wrap-request:fips-2'), { code: 'SERVER_ERROR' })
    const evil = await attacker(f)
    const original = await evil.approvals.get(source.state.approvalRequests()[0]!.request_id)
    await evil.approvals.create({ method: 'POST', operation: '/crypto/v1/wrapkey', body: { ...(original.body as object), mode: { OAEP: { mgf: { mgf1: { hash: 'SHA1' } } } } }, description: original.description! })
    await evil.logout()
    await assert.rejects(engine.runStep('wrap-request:fips-2'), { code: 'APPROVAL_REQUEST_MISMATCH', message: /body\.mode/ })
    assert.ok(source.state.approvalRequests().every((r) => r.executions === 0))
    await engine.shutdown()
  } finally {
    await f.cleanup()
  }
})

test('the request our interrupted attempt opened, untouched, is adopted (not opened twice)', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    await runUntil(f, engine, 'wrap-request:fips-2')
    f.sim.appliances[0]!.faults.once({ method: 'POST', path: '/sys/v1/approval_requests', kind: '500', after: 'after-apply' })
    await assert.rejects(engine.runStep('wrap-request:fips-2'), { code: 'SERVER_ERROR' })
    await engine.runStep('wrap-request:fips-2')
    assert.equal(f.sim.appliances[0]!.state.approvalRequests().length, 1)
    assert.equal(engine.record('wrap-request:fips-2').result!['requestId'], f.sim.appliances[0]!.state.approvalRequests()[0]!.request_id)
    assert.ok(engine.reconcileFindings().some((x) => /exactly as intended; adopted/.test(x.finding)))
    await runToCompletion(engine, { credentials: f.creds, confirm: true, witnessing: { kind: 'simulated' } })
    await engine.shutdown()
  } finally {
    await f.cleanup()
  }
})

test('a blob planted on the media, with and without a forged manifest, is refused (UNEXPECTED_FILE) before any unwrap request exists', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    await runUntil(f, engine, 'wrap-result:fips-2')
    const blobFile = join(f.mediaDir, `${f.plan.id}-fips-2-wrapped_master_key.out`)
    const manifestFile = join(f.mediaDir, `${f.plan.id}-fips-2-wrapped_master_key.manifest.json`)
    // The attacker's key, wrapped under the target's own transfer key (it is public): a perfectly valid blob.
    const target = await attacker(f, 1)
    const transfer = await target.keys.get(engine.record('transfer-key:fips-2').result!['kid'] as string)
    await target.logout()
    const { publicEncrypt, constants, randomBytes, createHash, createPublicKey } = await import('node:crypto')
    const key = createPublicKey({ key: publicKeyDerFromBase64(transfer.pub_key!), format: 'der', type: 'spki' })
    const planted = publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, randomBytes(32))
    writeFileSync(blobFile, planted)
    await assert.rejects(engine.runStep('wrap-result:fips-2'), { code: 'UNEXPECTED_FILE', message: /this ceremony did not write it/ })
    const manifest = { format: 'dsm-key-ceremony/wrapped-key-manifest', version: 2, ceremonyId: f.plan.id, target: 'fips-2', blobSha256: createHash('sha256').update(planted).digest('hex'), transferKeyFingerprint: engine.record('transfer-key:fips-2').result!['fingerprint'] }
    writeFileSync(manifestFile, JSON.stringify(manifest))
    await assert.rejects(engine.runStep('wrap-result:fips-2'), { code: 'UNEXPECTED_FILE' })
    assert.equal(readFileSync(blobFile).equals(planted), true, 'the planted file is left as evidence, not overwritten')
    assert.equal(f.sim.appliances[1]!.state.approvalRequests().length, 0, 'no unwrap was requested on the target')
    assert.equal(engine.currentStep()!.id, 'wrap-result:fips-2')
    await engine.shutdown()
  } finally {
    await f.cleanup()
  }
})

test('a decision on a view that is no longer current is refused (VIEW_STALE), and so is an approver the plan does not name', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  // The plan names two of the source's three custodians.
  const [c1, c2, outsider] = f.creds.appliances[0]!.custodians!
  const { parsePlan } = await import('../main/ceremony/plan')
  const { CeremonyEngine } = await import('../main/ceremony/engine')
  const { engineOptions } = await import('./support/ceremony-fixture')
  const plan = parsePlan({ ...f.plan, participants: { ...f.plan.participants, custodians: { ...f.plan.participants.custodians, 'fips-1': [c1!.user, c2!.user] } } })
  try {
    const engine = await CeremonyEngine.open(engineOptions(plan, f.creds, f.stateDir, f.mediaDir))
    await runUntil(f, engine, 'wrap-approval:fips-2')
    await engine.runStep('wrap-approval:fips-2')
    const entry = engine.approvalEntry('wrap-approval:fips-2')!
    const confirmation = engine.expectedConfirmation('wrap-approval:fips-2')!
    const attempt = (user: { user: string; password: string }, requestId: string, viewDigest: string) =>
      engine.decideApproval('wrap-approval:fips-2', { user: user.user, password: Buffer.from(user.password), decision: 'approve', requestId, viewDigest, confirmation })

    await assert.rejects(attempt(c1!, entry.request.request_id, 'ab'.repeat(32)), { code: 'VIEW_STALE' })
    await assert.rejects(attempt(c1!, '00000000-0000-4000-8000-000000000000', entry.viewDigest), { code: 'VIEW_STALE' })
    await assert.rejects(attempt(outsider!, entry.request.request_id, entry.viewDigest), { code: 'APPROVER_NOT_IN_PLAN' })
    assert.equal(f.sim.appliances[0]!.state.approvalRequests()[0]!.approvers.length, 0, 'no approval reached the appliance')
    // The view each decision is bound to is in the log, with its digest.
    const views = engine.logEntries().filter((e) => e.kind === 'approval-view')
    assert.ok(views.some((e) => e.facts['viewDigest'] === entry.viewDigest))
    await attempt(c1!, entry.request.request_id, entry.viewDigest)
    const approval = engine.logEntries().find((e) => e.kind === 'approval')!
    assert.equal(approval.facts['viewDigest'], entry.viewDigest)
    assert.equal(approval.facts['requestId'], entry.request.request_id)
    await engine.shutdown()
  } finally {
    await f.cleanup()
  }
})

test('a fresh request is refused while the old one is still waiting for decisions', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    await runUntil(f, engine, 'wrap-approval:fips-2')
    await engine.runStep('wrap-approval:fips-2')
    await assert.rejects(engine.restartApproval('wrap-approval:fips-2'), { code: 'APPROVAL_STILL_PENDING' })
    assert.equal(f.sim.appliances[0]!.state.approvalRequests().length, 1)
    await engine.shutdown()
  } finally {
    await f.cleanup()
  }
})

test('the ceremony against an appliance that reports KCVs in upper case still proves the same key (KCVs compared without case)', async () => {
  const f = await ceremonyFixture({ targets: 1, sim: { vendor: { kcvCase: 'upper' } } })
  try {
    const engine = await f.open()
    await runToCompletion(engine, { credentials: f.creds, confirm: true, witnessing: { kind: 'simulated' } })
    assert.ok(f.sim.appliances.every((a) => /^[0-9A-F]{6}$/.test(a.state.sobjects().find((o) => o.name === f.plan.cmk.name)!.kcv!)), 'the appliances spoke upper case')
    assert.equal(engine.isComplete(), true)
    const kcv = engine.evidence('unwrap-result:fips-2')!.comparisons[0]!
    assert.equal(kcv.match, true)
    await engine.shutdown()
  } finally {
    await f.cleanup()
  }
})

test('the vendor CLI stays a fallback: the raw wrapped file on the media imports on the target with sdkms-cli\'s own request body and gives the source KCV', async () => {
  const { cliUnwrapKeyApproval } = await import('./support/sim-client')
  const { UserSession } = await import('../main/dsm')
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    await runUntil(f, engine, 'load-blob:fips-2')
    // What `sdkms-cli unwrap-key --in <file> --wrapping-kid <kid> … --exportable --quorum` sends, reading our file.
    const raw = readFileSync(join(f.mediaDir, `${f.plan.id}-fips-2-wrapped_master_key.out`))
    assert.equal(raw.length, 256)
    const cli = cliUnwrapKeyApproval(engine.record('transfer-key:fips-2').result!['kid'] as string, raw.toString('base64'), 'cmk-by-cli')
    const target = f.sim.appliances[1]!
    const app = await attacker(f, 1)
    const request = await app.approvals.create({ method: 'POST', operation: cli.operation, body: cli.body, description: 'sdkms-cli fallback' })
    for (const c of target.custodians.slice(0, 2)) {
      const s = await UserSession.login(new DsmConnection({ host: target.host, port: target.port, trust: { spkiSha256: target.spkiSha256 } }), { username: c.user, password: Buffer.from(c.password), accountId: target.accountId })
      await s.approvals.approve(request.request_id, { password: Buffer.from(c.password) })
      await s.logout()
    }
    const key = await app.approvals.unwrapResult(request.request_id)
    await app.logout()
    const sourceKcv = f.sim.appliances[0]!.state.sobjects().find((o) => o.name === f.plan.cmk.name)!.kcv!
    assert.equal(key.kcv!.toLowerCase(), sourceKcv.toLowerCase())
    await engine.shutdown()
  } finally {
    await f.cleanup()
  }
})

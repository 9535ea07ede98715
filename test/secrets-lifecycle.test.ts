/**
 * Secrets (security.md §4.2, §4.4; §8 G): the API keys the operator entered are zeroed and every
 * DSM session ends when the record is sealed, after an idle time-out the operator sees counting
 * down, and when the app quits. Each is shown by scanning the service's whole object graph for the
 * keys' bytes (found before, gone after) and by the appliances' own count of live sessions.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { CeremonyService } from '../main/ceremony/ceremony-service'
import { fileJournalStore } from '../main/ceremony/journal-file'
import { planForAppliances, type Credentials } from '../main/ceremony/simulated-plan'
import { startSimulator, type RunningSimulator } from '../main/simulator'
import type { CeremonySnapshot } from '../preload/contract'
import { credentialsOf } from './support/ceremony-fixture'
import { findBytes } from './support/memory-scan'

async function production(idleTimeoutMs?: number) {
  const sim = await startSimulator({ appliances: 2 })
  const dir = mkdtempSync(join(tmpdir(), 'dsm-secrets-'))
  const creds = credentialsOf(sim)
  const plan = planForAppliances(creds, { id: 'secrets-test', mode: 'production', operator: 'Olga Operator' })
  writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan))
  const service = new CeremonyService({
    stateRoot: join(dir, 'state'), journalStore: fileJournalStore, onChange: () => undefined,
    dialogs: { openPlanFile: async () => join(dir, 'plan.json'), savePlanFile: async () => null, saveRecordFile: async () => null },
    startSimulator: () => Promise.reject(new Error('not in this test')),
    ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }),
  })
  await service.openPlan()
  await service.confirmParticipants(['Olga Operator', 'Witness One'])
  const enterKeys = () => creds.appliances.forEach((a) => service.setApiKey(a.id, a.apiKey))
  enterKeys()
  const keyHits = () => creds.appliances.flatMap((a) => findBytes(service, Buffer.from(a.apiKey, 'utf8')))
  const liveSessions = () => sim.appliances.map((a) => a.state.liveSessions())
  const cleanup = async () => {
    await service.shutdown()
    await sim.close()
    rmSync(dir, { recursive: true, force: true })
  }
  return { sim, creds, plan, service, enterKeys, keyHits, liveSessions, cleanup }
}

/** Witness One, in the room, signs every step due a sign-off (the closing one before it runs). */
async function signDue(service: CeremonyService): Promise<void> {
  const snap = service.snapshot()
  for (const step of snap.steps) {
    const due = step.signoff && !step.signoff.complete && (step.state === 'done' || (step.seals && step.id === snap.currentStepId))
    if (due) await service.signOff(step.id, 'Witness One', 'WO', step.witnessItems)
  }
}

/** Runs the current step as the operator and custodians would on screen (typed confirmations from the view). */
async function runCurrent(service: CeremonyService, creds: Credentials): Promise<CeremonySnapshot> {
  await signDue(service)
  let snap = service.snapshot()
  const step = snap.steps.find((s) => s.id === snap.currentStepId)!
  const typed = (v: CeremonySnapshot['steps'][number]) => (v.confirmation?.value ? v.confirmation.value.hex.slice(-v.confirmation.length).toUpperCase() : undefined)
  if (step.interaction === 'run') return service.runStep(step.id, typed(step))
  snap = await service.runStep(step.id)
  const approval = snap.steps.find((s) => s.id === step.id)!.approval!
  for (const c of creds.appliances.find((a) => a.id === approval.appliance)!.custodians!.slice(0, 2)) {
    const confirmation = typed(step)
    snap = await service.decideApproval({ stepId: step.id, user: c.user, password: c.password, decision: 'approve', requestId: approval.requestId, viewDigest: approval.viewDigest, ...(confirmation ? { confirmation } : {}) })
  }
  return snap
}

function assertNoSessions(sim: RunningSimulator, when: string): void {
  assert.deepEqual(sim.appliances.map((a) => a.state.liveSessions()), sim.appliances.map(() => 0), `${when}: no DSM session is left open`)
}

test('G sealed: the API keys are zeroed and every DSM session ended once the record is sealed', async () => {
  const s = await production()
  try {
    await s.service.runStep('preflight')
    assert.ok(s.keyHits().length > 0, 'the scan finds the keys while the ceremony runs (it can see them)')
    assert.ok(s.liveSessions().some((n) => n > 0), 'the app is signed in while the ceremony runs')
    let snap = s.service.snapshot()
    while (snap.phase !== 'complete') {
      assert.equal(snap.secrets?.wiped, null, `keys held until the seal (at ${snap.currentStepId})`)
      snap = await runCurrent(s.service, s.creds)
      assert.notEqual(snap.phase, 'failed', JSON.stringify(snap.steps.find((x) => x.error)?.error))
    }
    assert.equal(snap.secrets?.wiped?.reason, 'sealed')
    assert.deepEqual(snap.connections.map((c) => c.hasApiKey), [false, false])
    assert.deepEqual(s.keyHits(), [], 'no copy of any API key is left in the service')
    assertNoSessions(s.sim, 'after the seal')
  } finally {
    await s.cleanup()
  }
})

test('G idle: after the time-out the operator sees, the keys are zeroed and the sessions end; activity postpones it; keys entered again carry on', async () => {
  const IDLE = 1500
  const s = await production(IDLE)
  try {
    let snap = s.service.snapshot()
    assert.equal(snap.secrets?.idleTimeoutSeconds, 2)
    const wipesAt = Date.parse(snap.secrets!.wipesAt!)
    assert.ok(Math.abs(wipesAt - (Date.now() + IDLE)) < 500, 'the screen is told when the keys will be wiped')
    await s.service.runStep('preflight')
    await signDue(s.service)
    assert.ok(s.liveSessions().some((n) => n > 0))
    // Activity (each action of the operator) starts the count again.
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, IDLE / 3))
      await s.service.confirmParticipants(['Olga Operator', 'Witness One'])
    }
    assert.equal(s.service.snapshot().secrets?.wiped, null, 'not wiped while the operator is active')
    await new Promise((r) => setTimeout(r, IDLE + 500))
    snap = s.service.snapshot()
    assert.equal(snap.secrets?.wiped?.reason, 'idle')
    assert.equal(snap.secrets?.wipesAt, null)
    assert.deepEqual(snap.connections.map((c) => c.hasApiKey), [false, false])
    assert.deepEqual(s.keyHits(), [], 'no copy of any API key is left in the service')
    assertNoSessions(s.sim, 'after the idle time-out')
    // Nothing runs without the keys; entered again, the ceremony carries on.
    await assert.rejects(s.service.runStep('transfer-key:fips-2'), { code: 'API_KEY_MISSING' })
    assert.equal(s.sim.appliances[1]!.state.sobjects().filter((o) => o.name?.includes('transfer')).length, 0)
    s.enterKeys()
    assert.equal(s.service.snapshot().secrets?.wiped, null)
    snap = await s.service.runStep('transfer-key:fips-2')
    assert.equal(snap.steps.find((x) => x.id === 'transfer-key:fips-2')!.state, 'done')
  } finally {
    await s.cleanup()
  }
})

test('G quit: shutting the app down zeroes the keys and ends every session', async () => {
  const s = await production()
  try {
    await s.service.runStep('preflight')
    await signDue(s.service)
    await s.service.runStep('transfer-key:fips-2')
    assert.ok(s.keyHits().length > 0)
    assert.ok(s.liveSessions().some((n) => n > 0))
    await s.service.shutdown()
    assert.deepEqual(s.keyHits(), [], 'no copy of any API key is left in the service')
    assert.equal(s.service.snapshot().secrets?.wiped?.reason, 'quit')
    assertNoSessions(s.sim, 'after quitting')
  } finally {
    await s.cleanup()
  }
})

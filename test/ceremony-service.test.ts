/**
 * The service behind the ceremony IPC channels: a production plan opened through main's dialog,
 * API keys kept in main only, the views the screens render, and resuming after the app restarts.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import Conf from 'conf'
import { CeremonyService } from '../main/ceremony/ceremony-service'
import type { JournalStore } from '../main/ceremony/journal'
import { planForAppliances } from '../main/ceremony/simulated-plan'
import { startSimulator } from '../main/simulator'
import type { CeremonySnapshot } from '../preload/contract'
import { credentialsOf } from './support/ceremony-fixture'

function service(stateRoot: string, planPath: string, pushed: CeremonySnapshot[]) {
  const answers = [planPath]
  return new CeremonyService({
    stateRoot,
    dialogs: { openPlanFile: async () => answers.shift() ?? null, savePlanFile: async () => null, saveRecordFile: async () => null },
    journalStore: (dir) => new Conf({ cwd: dir, configName: 'journal', projectName: 'dsm-key-ceremony' }) as unknown as JournalStore,
    startSimulator: () => Promise.reject(new Error('not in this test')),
    onChange: (s) => pushed.push(s),
  })
}

test('a production ceremony through the service: views, secrets kept in main, and resume after a restart', async () => {
  const sim = await startSimulator({ appliances: 2 })
  const dir = mkdtempSync(join(tmpdir(), 'dsm-service-'))
  try {
    const creds = credentialsOf(sim)
    const plan = planForAppliances(creds, { id: 'prod-1', mode: 'production', operator: 'Olga Operator' })
    const planPath = join(dir, 'plan.json')
    writeFileSync(planPath, JSON.stringify(plan))
    const pushed: CeremonySnapshot[] = []
    const first = service(join(dir, 'state'), planPath, pushed)

    assert.equal((await first.openPlan()).cancelled, false)
    let snap = first.snapshot()
    assert.equal(snap.phase, 'setup')
    assert.equal(snap.plan?.mode, 'production')
    assert.equal(snap.plan?.digest.words.length, 32)
    assert.deepEqual(snap.rehearsalCredentials, [], 'no credentials are shown for a production plan')
    await assert.rejects(first.runStep('preflight'), { code: 'PARTICIPANTS_NOT_CONFIRMED' })
    await assert.rejects(first.confirmParticipants(['Someone Else']), { code: 'UNKNOWN_PARTICIPANT' })
    await assert.rejects(first.confirmParticipants(['Witness One']), { code: 'OPERATOR_NOT_PRESENT' })
    await assert.rejects(first.confirmParticipants(['Olga Operator']), { code: 'NO_WITNESS_PRESENT' })
    await first.confirmParticipants(['Olga Operator', 'Witness One'])
    assert.deepEqual(first.snapshot().people.filter((p) => p.present).map((p) => p.name), ['Olga Operator', 'Witness One'])
    await assert.rejects(first.runStep('preflight'), { code: 'API_KEY_MISSING' })

    for (const a of creds.appliances) first.setApiKey(a.id, a.apiKey)
    snap = await first.checkConnections()
    assert.deepEqual(snap.connections.map((c) => [c.state, c.hasApiKey]), [['ok', true], ['ok', true]])
    assert.equal(snap.connections[0]!.pin?.hex, creds.appliances[0]!.spkiSha256)

    // Witness One (the only witness present) signs each step before the next one runs.
    for (const id of ['preflight', 'transfer-key:fips-2', 'export-pubkey:fips-2', 'import-pubkey:fips-2']) {
      snap = await first.runStep(id)
      const step = snap.steps.find((s) => s.id === id)!
      assert.equal(step.signoff?.complete, false)
      snap = await first.signOff(id, 'Witness One', 'wo', step.witnessItems)
    }
    const imported = snap.steps.find((s) => s.id === 'import-pubkey:fips-2')!
    assert.equal(imported.state, 'done')
    assert.equal(imported.comparisons.length, 2)
    assert.ok(imported.comparisons.every((c) => c.match && c.left.value.hex === c.right.value.hex))
    assert.equal(snap.currentStepId, 'wrap-request:fips-2')
    assert.deepEqual(snap.groups.map((g) => [g.id, g.done, g.total]), [['fips-2', 3, 11]])

    // Nothing the renderer is given (views pushed or returned) carries a secret.
    const everything = JSON.stringify(pushed) + JSON.stringify(snap)
    for (const a of creds.appliances) assert.equal(everything.includes(a.apiKey), false)

    // The app restarts (the first process is gone, and with it its lock on the state folder): the new
    // service finds the interrupted ceremony and resumes it once keys are entered.
    await first.shutdown()
    const second = service(join(dir, 'state'), planPath, [])
    snap = second.snapshot()
    assert.equal(snap.plan?.id, 'prod-1')
    assert.match(snap.reconcile[0]!.finding, /interrupted ceremony/)
    assert.deepEqual(snap.connections.map((c) => c.hasApiKey), [false, false], 'API keys did not survive the restart')
    for (const a of creds.appliances) second.setApiKey(a.id, a.apiKey)
    await second.confirmParticipants(['Olga Operator', 'Witness One'])
    // Two calls at once while the engine opens: one journal, one log, one chain.
    ;[snap] = await Promise.all([second.runStep('wrap-request:fips-2'), second.recordException('import-pubkey:fips-2', 'Witness One', 'Two calls at once')])
    snap = second.snapshot()
    assert.equal(snap.steps.find((s) => s.id === 'import-pubkey:fips-2')!.state, 'done')
    assert.equal(snap.steps.find((s) => s.id === 'wrap-request:fips-2')!.state, 'done')
    assert.equal((await second.runStep('preflight')).steps[0]!.state, 'done', 'a finished step is not run again, and is no error')
    const { verifyRecord } = await import('../main/evidence')
    assert.equal(verifyRecord(second.getRecord().record).ok, true, 'the chain is intact')
    await second.signOff('wrap-request:fips-2', 'Witness One', 'WO', snap.steps.find((s) => s.id === 'wrap-request:fips-2')!.witnessItems)
    await assert.rejects(second.signOff('wrap-request:fips-2', 'Witness One', 'WO', snap.steps.find((s) => s.id === 'wrap-request:fips-2')!.witnessItems), { code: 'ALREADY_SIGNED' })
    snap = await second.runStep('wrap-approval:fips-2')
    const approval = snap.steps.find((s) => s.id === 'wrap-approval:fips-2')!.approval!
    assert.equal(approval.status, 'PENDING')
    assert.deepEqual(approval.quorum, { n: 2, of: 3 })
    // What custodians read is the request as the appliance holds it, checked against this ceremony.
    assert.deepEqual(approval.checks.map((c) => c.ok), [true, true, true])
    assert.ok(approval.facts.some((f) => f.label === 'Key exported' && f.value.startsWith(`${plan.cmk.name} (AES-256`)))
    assert.match(approval.viewDigest, /^[0-9a-f]{64}$/)
    const custodian = creds.appliances[0]!.custodians![0]!
    const decision = { stepId: 'wrap-approval:fips-2', user: custodian.user, password: custodian.password, decision: 'approve' as const, requestId: approval.requestId }
    await assert.rejects(second.decideApproval({ ...decision, viewDigest: approval.viewDigest }), { code: 'CONFIRMATION_REQUIRED' })
    await assert.rejects(second.decideApproval({ ...decision, viewDigest: '0'.repeat(64), confirmation: 'ABCD' }), { code: 'CONFIRMATION_WRONG' })
    await second.shutdown()
  } finally {
    await sim.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('after a restart a closed (aborted) ceremony opens with whoever is in the room now: its record is shown unchanged, its digest the one read aloud', async () => {
  const sim = await startSimulator({ appliances: 2 })
  const dir = mkdtempSync(join(tmpdir(), 'dsm-service-'))
  try {
    const creds = credentialsOf(sim)
    const plan = planForAppliances(creds, { id: 'prod-abort', mode: 'production', operator: 'Olga Operator' })
    const planPath = join(dir, 'plan.json')
    writeFileSync(planPath, JSON.stringify(plan))
    const first = service(join(dir, 'state'), planPath, [])
    await first.openPlan()
    await first.confirmParticipants(['Olga Operator', 'Witness One'])
    await first.abort('The room was not ready')
    const entries = first.getRecord().record.entries.length
    const sealed = first.getRecord().finalDigest.hex
    await first.shutdown()

    // The next day the record is shown to someone with Witness Two, who was not in the room then.
    const second = service(join(dir, 'state'), planPath, [])
    await second.openPlan()
    await second.confirmParticipants(['Olga Operator', 'Witness One', 'Witness Two'])
    await assert.rejects(second.abort('again'), { code: 'CEREMONY_ABORTED' })
    const { record } = second.getRecord()
    assert.equal(record.entries.length, entries, `the closed record gained nothing: no arrival of Witness Two (${record.entries.slice(entries).map((e) => e.kind).join(', ')})`)
    assert.equal(second.getRecord().finalDigest.hex, sealed, 'the digest read aloud at the stop is still the record\'s')
    await assert.rejects(second.abort('again'), { code: 'CEREMONY_ABORTED' }, 'the same refusal again, never STATE_LOCKED')
    await second.shutdown()
  } finally {
    await sim.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

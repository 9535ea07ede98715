/**
 * The app's service for the cluster kinds: a link-cluster rehearsal started from the home screen
 * runs the replication first (headless, sealed) and enters the administrator's password, the
 * record and the API keys for the operator; the whole link runs step by step through the service
 * with the typed confirmation from the step's own view. A production plan: the administrator's
 * password goes to main only; the record is opened in main's dialog, verified, and must be one the
 * plan names. Nothing the renderer is given holds a secret.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import Conf from 'conf'
import { CeremonyService } from '../main/ceremony/ceremony-service'
import type { JournalStore } from '../main/ceremony/journal'
import { startClusterSimulator, startSimulator, type RunningCluster, type RunningSimulator } from '../main/simulator'
import type { CeremonySnapshot } from '../preload/contract'
import { clusterPlanFor, readCredentialFiles } from '../main/ceremony/simulated-cluster-plan'
import { parseCredentials, planForAppliances } from '../main/ceremony/simulated-plan'
import { runHeadless } from '../main/cli/headless'
import { findBytes } from './support/memory-scan'

const dir = mkdtempSync(join(tmpdir(), 'dsm-cluster-service-'))
const started: { close(): Promise<void> }[] = []
after(async () => {
  for (const s of started) await s.close()
  rmSync(dir, { recursive: true, force: true })
})

function service(name: string, answers: string[], pushed: CeremonySnapshot[], idleTimeoutMs?: number) {
  let sim: RunningSimulator | undefined
  /** replace-appliance: the fresh spare, its own simulator. */
  let spare: RunningSimulator | undefined
  let cluster: RunningCluster | undefined
  const svc = new CeremonyService({
    stateRoot: join(dir, name),
    dialogs: { openPlanFile: async () => answers.shift() ?? null, savePlanFile: async () => null, saveRecordFile: async () => null, openRecordFile: async () => answers.shift() ?? null },
    journalStore: (d) => new Conf({ cwd: d, configName: 'journal', projectName: 'dsm-key-ceremony' }) as unknown as JournalStore,
    startSimulator: async (n, ids, fresh) => {
      const started = await startSimulator({ appliances: n, ...(ids ? { ids } : {}), ...(fresh ? { fresh: true, custodianUsers: fresh.custodianUsers } : {}) })
      return fresh ? (spare = started) : (sim = started)
    },
    startCluster: async () => (cluster = await startClusterSimulator({ fipsConnectTimeoutMs: 1000, fipsResponseTimeoutMs: 4000 })),
    onChange: (s) => pushed.push(s),
    ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }),
  })
  return { svc, sims: () => ({ sim: sim!, spare, cluster: cluster! }) }
}

/** Witness One at the terminal of a production headless run: names themself and types their initials for every step. */
function witnessAnswers(): (question: string) => Promise<string | null> {
  return async (question) => {
    if (/witness name: $/.test(question)) return 'Witness One'
    // The deviation register at the close: what was done, who allowed it, and the witness's initials.
    if (/ resolution: $/.test(question)) return 'Noted in the room; nothing else was done'
    if (/ allowed to go on by \(name\): $/.test(question)) return 'Olga Operator'
    return 'WO'
  }
}

/**
 * The run screen's loop: Witness One (the witness present) signs each step due a sign-off — the
 * close before it runs — and the next step runs with the confirmation its own view shows.
 */
async function runUntil(svc: CeremonyService, snap: CeremonySnapshot, stopAt: string | null = null): Promise<CeremonySnapshot> {
  for (let guard = 0; guard < 80 && snap.currentStepId && snap.currentStepId !== stopAt; guard++) {
    const due = snap.steps.find((s) => s.signoff && !s.signoff.complete && (s.state === 'done' || (s.seals && s.id === snap.currentStepId)))
    if (due) {
      snap = await svc.signOff(due.id, 'Witness One', 'WO', due.witnessItems)
      continue
    }
    const step = snap.steps.find((s) => s.id === snap.currentStepId)!
    // The record is sealed only once the register is resolved (the refused drill and its exception are lines).
    const open = snap.deviations.lines.find((d) => !d.resolution)
    if (step.seals && open) {
      await assert.rejects(svc.runStep(step.id), { code: 'DEVIATION_UNRESOLVED' })
      snap = await svc.resolveDeviation({ deviation: open.id, resolution: 'The drill is done at the next check; the group was otherwise proved', allowedBy: snap.deviations.allowers[0]!, initials: snap.deviations.witnessesPresent.map((w) => ({ witness: w, initials: w.split(' ').map((x) => x[0]).join('') })) })
      continue
    }
    const typed = step.confirmation?.value ? step.confirmation.value.hex.slice(-4) : undefined
    // A quorum request (a replication's export): the rehearsal's simulated custodians approve at this screen, as many as the quorum needs.
    const pending = step.approval?.status === 'PENDING' && step.approval.approvals.length === 0 ? step.approval : null
    if (pending) {
      // Each custodian signs in on the appliance asking (a replacement's fresh spare has accounts of the same names, its own passwords).
      for (const c of snap.rehearsalCredentials.filter((x) => x.applianceId === pending.appliance && pending.custodians.includes(x.user)).slice(0, pending.quorum.n)) {
        snap = await svc.decideApproval({ stepId: step.id, user: c.user, password: c.password, decision: 'approve', requestId: pending.requestId, viewDigest: pending.viewDigest, ...(typed ? { confirmation: typed } : {}) })
      }
      continue
    }
    // What is read in the room (a replacement's destruction record): typed as the simulated chassis shows it, as the operator does on screen.
    const input = step.input && step.input.earlier === null ? Object.fromEntries(step.input.fields.flatMap((f) => (f.twice ? [f.id, `${f.id}:again`] : [f.id]).map((id) => [id, f.simulatedShows ?? '']))) : undefined
    snap = await svc.runStep(step.id, typed, input)
    assert.notEqual(snap.steps.find((s) => s.id === step.id)!.state, 'failed', JSON.stringify(snap.steps.find((s) => s.id === step.id)!.error))
  }
  return snap
}

test('a link-cluster rehearsal from the home screen: replication first, then every step through the service', async () => {
  const pushed: CeremonySnapshot[] = []
  const { svc, sims } = service('rehearsal', [], pushed)
  try {
    assert.deepEqual(svc.snapshot().rehearsalKinds.map((k) => k.kind), ['replicate-cmk', 'link-cluster', 'verify-cluster', 'add-appliance', 'replace-appliance'])
    let snap = await svc.startRehearsal(1, { kind: 'link-cluster' })
    assert.equal(snap.plan?.kind, 'link-cluster')
    assert.deepEqual(snap.signIns.map((s) => s.hasPassword), [true], 'the simulated administrator signs in for the operator')
    assert.deepEqual(snap.buildsOn.map((r) => r.provided), [true], 'the replication record is handed on')
    await svc.checkConnections()
    await svc.confirmParticipants(['Rehearsal operator', 'Witness One'])
    snap = await runUntil(svc, await svc.runStep('preflight')) // the first step opens the engine
    assert.equal(snap.phase, 'complete')
    // Read aloud and printed by the same ids: P.0 the preflight, L.k the link, V.k the verification, C.1 the close.
    assert.deepEqual(snap.steps.map((s) => s.scriptId), ['P.0', 'L.1', 'L.2', 'L.3', 'L.4', 'L.5', 'L.6', 'V.1', 'V.2', 'V.3', 'V.4', 'C.0', 'C.1'])
    assert.deepEqual(svc.script().steps.map((s) => s.scriptId), snap.steps.map((s) => s.scriptId), 'the printed script numbers the steps as the run screen does')
    assert.ok(svc.script().steps.every((s) => s.witnessItems.length > 0), 'every step has a checklist for the witnesses')
    // The close is signed before it runs (its sign-off is in the record, below); every other step after it ran.
    for (const step of snap.steps.filter((s) => !s.seals)) {
      assert.equal(step.signoff?.complete, true, `${step.scriptId} ${step.title} is signed`)
      assert.deepEqual(step.signoffs.map((x) => [x.witness, x.simulated]), [['Witness One', false]])
    }
    const signed = svc.getRecord().record.entries.filter((e) => e.kind === 'witness-signoff').map((e) => e.facts['scriptId'])
    assert.deepEqual(signed, snap.steps.map((s) => s.scriptId), 'the record holds each sign-off by its script id')
    const create = snap.steps.find((s) => s.id === 'create-group')!
    assert.equal(create.state, 'done')
    const drill = snap.steps.find((s) => s.id === 'failover-drill')!
    assert.ok(drill.evidence.some((e) => e.label === 'Canary decrypted through the group' && e.value === 'MATCH'))
    assert.deepEqual(snap.groups.map((g) => [g.id, g.state]), [['link', 'done'], ['verify', 'done']])
    const { sim, cluster } = sims()
    const everything = JSON.stringify(pushed) + JSON.stringify(snap)
    for (const secret of [...sim.appliances.map((a) => a.apiKey), ...cluster.users.map((u) => u.password)]) assert.equal(everything.includes(secret), false)
  } finally {
    await svc.shutdown()
  }
})

test('a production link plan: the password to main only, the record from main\'s dialog, verified and named by the plan', async () => {
  const sim = await startSimulator({ appliances: 2 })
  const cluster = await startClusterSimulator({ fipsConnectTimeoutMs: 1000, fipsResponseTimeoutMs: 4000 })
  started.push(sim, cluster)
  const creds = parseCredentials(sim.readyLine())
  // Two production replication records (the second finds the CMK already replicated): only the first is the plan's.
  const records: string[] = []
  for (const id of ['prod-rep-1', 'prod-rep-2']) {
    // The second comes later: appliance log times are whole seconds, and the first one's changes
    // must fall before the second's window at C.0 (2 s margin), or they would be its findings.
    if (id === 'prod-rep-2') await new Promise((r) => setTimeout(r, 3100))
    const r = await runHeadless({ plan: planForAppliances(creds, { id, mode: 'production', operator: 'Olga Operator' }), credentials: creds, stateDir: join(dir, id), confirm: true, witnessing: { kind: 'ask', present: ['Olga Operator', 'Witness One'], ask: witnessAnswers() } })
    assert.equal(r.ok, true, JSON.stringify(r.error))
    records.push(r.record!)
  }
  const good = JSON.parse(readFileSync(records[0]!, 'utf8'))
  const tampered = structuredClone(good)
  tampered.entries[2].facts.title = 'changed'
  writeFileSync(join(dir, 'tampered.json'), JSON.stringify(tampered))
  const set = readCredentialFiles([{ name: 'a', text: sim.readyLine() }, { name: 'c', text: cluster.readyLine() }])
  const plan = clusterPlanFor(set, { kind: 'link-cluster', id: 'prod-link', mode: 'production', buildsOn: [good.finalDigest], operator: 'Olga Operator' })
  writeFileSync(join(dir, 'prod-link.json'), JSON.stringify(plan))
  const pushed: CeremonySnapshot[] = []
  const { svc } = service('production', [join(dir, 'prod-link.json'), join(dir, 'tampered.json'), records[1]!, records[0]!], pushed)
  const password = cluster.users.find((u) => u.role === 'account-admin')!.password
  try {
    await svc.openPlan()
    let snap = svc.snapshot()
    assert.deepEqual(snap.signIns.map((s) => [s.id, s.user, s.hasPassword]), [['cluster', (plan as unknown as { cluster: { admin: string } }).cluster.admin, false]])
    assert.deepEqual(snap.buildsOn.map((r) => [r.digest.hex, r.provided]), [[good.finalDigest, false]])
    assert.throws(() => svc.setPassword('nobody', 'x'), { code: 'SIGN_IN_UNKNOWN' })
    snap = svc.setPassword('cluster', password)
    assert.equal(snap.signIns[0]!.hasPassword, true)
    await assert.rejects(svc.openRecord(), { code: 'RECORD_INVALID' })
    await assert.rejects(svc.openRecord(), { code: 'RECORD_MISMATCH' })
    snap = (await svc.openRecord()).snapshot
    assert.equal(snap.buildsOn[0]!.provided, true)
    for (const a of creds.appliances) svc.setApiKey(a.id, a.apiKey)
    await svc.checkConnections()
    await svc.confirmParticipants(['Olga Operator', 'Witness One'])
    snap = await runUntil(svc, await svc.runStep('preflight'), 'failover-drill')
    // The scan can see the password while the administrator is signed in (one vault, with the keys).
    assert.ok(findBytes(svc, Buffer.from(password, 'utf8')).length > 0)
    assert.ok(cluster.state.liveSessions() > 0)
    // A step is left only once it is signed: the canary's test is not signed yet.
    await assert.rejects(svc.runStep('failover-drill'), { code: 'STEP_NOT_SIGNED' })
    const crypto = snap.steps.find((s) => s.id === 'canary-crypto')!
    snap = await svc.signOff(crypto.id, 'Witness One', 'WO', crypto.witnessItems)
    // Production: nobody but the operator takes an appliance down.
    await assert.rejects(svc.runStep('failover-drill'), { code: 'FAILOVER_DRILL_NOT_READY' })
    await svc.recordException('failover-drill', 'Olga Operator', 'No access to the appliance room today.')
    snap = await runUntil(svc, await svc.runStep('failover-drill'))
    assert.equal(snap.phase, 'complete')
    assert.equal(snap.steps.find((s) => s.id === 'failover-drill')!.scriptId, 'V.3')
    // Sealed: the password went with the API keys (api-key-vault.ts) and the cluster session ended.
    assert.equal(snap.secrets?.wiped?.reason, 'sealed')
    assert.equal(snap.signIns[0]!.hasPassword, false)
    assert.deepEqual(findBytes(svc, Buffer.from(password, 'utf8')), [], 'no copy of the password is left in the service')
    assert.equal(cluster.state.liveSessions(), 0)
    assert.equal(snap.steps.find((s) => s.id === 'failover-restore')!.state, 'skipped')
    const everything = JSON.stringify(pushed) + JSON.stringify(snap) + JSON.stringify(svc.getRecord())
    for (const secret of [password, ...creds.appliances.map((a) => a.apiKey)]) assert.equal(everything.includes(secret), false)
  } finally {
    await svc.shutdown()
  }
})

test('the administrator\'s password is held with the API keys: the idle time-out wipes both, and a new plan does too', async () => {
  const sim = await startSimulator({ appliances: 2 })
  const cluster = await startClusterSimulator()
  started.push(sim, cluster)
  const creds = parseCredentials(sim.readyLine())
  const set = readCredentialFiles([{ name: 'a', text: sim.readyLine() }, { name: 'c', text: cluster.readyLine() }])
  // Only the setup screen is used here: the record the plan names is never opened.
  const plan = clusterPlanFor(set, { kind: 'link-cluster', id: 'idle-link', mode: 'production', buildsOn: ['ab'.repeat(32)], operator: 'Olga Operator' })
  writeFileSync(join(dir, 'idle-link.json'), JSON.stringify(plan))
  const IDLE = 1500
  const { svc } = service('idle', [join(dir, 'idle-link.json'), join(dir, 'idle-link.json')], [], IDLE)
  const password = cluster.users.find((u) => u.role === 'account-admin')!.password
  const held = () => findBytes(svc, Buffer.from(password, 'utf8'))
  try {
    await svc.openPlan()
    svc.setPassword('cluster', password)
    let snap = svc.snapshot()
    assert.ok(snap.secrets?.wipesAt, 'a password alone starts the idle count')
    assert.ok(held().length > 0, 'the scan finds the password while it is held')
    svc.setApiKey(creds.appliances[0]!.id, creds.appliances[0]!.apiKey)
    await new Promise((r) => setTimeout(r, IDLE + 500))
    snap = svc.snapshot()
    assert.equal(snap.secrets?.wiped?.reason, 'idle')
    assert.deepEqual([snap.signIns[0]!.hasPassword, snap.connections[0]!.hasApiKey], [false, false])
    assert.deepEqual(held(), [], 'no copy of the password is left after the idle time-out')
    // Entered again, then another plan opened: the vault is wiped for it.
    svc.setPassword('cluster', password)
    await svc.openPlan()
    snap = svc.snapshot()
    assert.equal(snap.secrets?.wiped?.reason, 'new-plan')
    assert.equal(snap.signIns[0]!.hasPassword, false)
    assert.deepEqual(held(), [])
  } finally {
    await svc.shutdown()
  }
})

test('a replace-appliance rehearsal from the home screen: replication, link and verification first, fips-1 failed for good, then the fresh spare onboarded through the API and the replacement through the service', async () => {
  const pushed: CeremonySnapshot[] = []
  const { svc, sims } = service('replace-rehearsal', [], pushed)
  try {
    let snap = await svc.startRehearsal(1, { kind: 'replace-appliance' })
    const plan = JSON.parse(snap.plan!.json) as { kind: string; id: string; fips: string[]; added: string; failed: { id: string; evidenceFile: string } }
    assert.deepEqual([plan.kind, plan.fips, plan.added, plan.failed.id], ['replace-appliance', ['fips-2', 'fips-4'], 'fips-4', 'fips-1'])
    assert.deepEqual(snap.plan!.appliances.map((a) => [a.id, a.role]), [['fips-1', 'Failed appliance (removed, not contacted)'], ['fips-2', 'Source of the CMK, priority 0'], ['fips-4', 'Replacement']])
    assert.deepEqual(snap.buildsOn.map((r) => r.provided), [true, true, true], 'the replication, link and verification records are handed on')
    // The cluster's administrator, and the fresh spare's system administrator who onboards it.
    assert.deepEqual(snap.signIns.map((s) => s.hasPassword), [true, true])
    const { sim, spare } = sims()
    assert.deepEqual(sim.appliances.map((a) => [a.id, a.isUp]), [['fips-1', false], ['fips-2', true]], 'fips-1 has failed for good')
    // fips-4 is fresh, in its own simulator: no app, no group, no key; its custodians' accounts are fips-1's custodians, as the records name them.
    assert.deepEqual(spare?.appliances.map((a) => [a.id, a.isUp, a.apiKey, a.sysadmin !== undefined]), [['fips-4', true, '', true]])
    assert.deepEqual(spare!.appliances[0]!.custodians.map((c) => c.user), sim.appliances[0]!.custodians.map((c) => c.user))
    assert.deepEqual((plan as { onboarding?: { sysadmin: string } }).onboarding?.sysadmin, spare!.appliances[0]!.sysadmin!.user, 'the plan onboards the spare through the API')
    assert.deepEqual(snap.connections.map((c) => [c.applianceId, c.hasApiKey, c.keyMadeHere ?? false]), [['fips-1', false, false], ['fips-2', true, false], ['fips-4', false, true]], 'no key is entered for the appliance never contacted, nor for the one whose key the ceremony makes')
    assert.deepEqual(snap.rehearsalCredentials.filter((c) => c.applianceId === 'fips-4').map((c) => c.user), spare!.appliances[0]!.custodians.map((c) => c.user), 'the spare\'s custodians\' sign-ins are shown, for their approvals on it')
    const evidence = join(dir, 'replace-rehearsal', `REHEARSAL-${plan.id}-media`, plan.failed.evidenceFile)
    assert.match(readFileSync(evidence, 'utf8'), /^REHEARSAL: zeroisation report of fips-1/)
    snap = await svc.checkConnections()
    assert.deepEqual(snap.connections.filter((c) => c.contacted !== false).map((c) => [c.applianceId, c.state]), [['fips-2', 'ok'], ['fips-4', 'ok']])
    await svc.confirmParticipants(['Rehearsal operator', 'Witness One'])
    snap = await runUntil(svc, await svc.runStep('onboarding')) // the first step opens the engine
    const cur = snap.steps.find((s) => s.id === snap.currentStepId)
    assert.equal(snap.phase, 'complete', JSON.stringify([cur?.id, cur?.state, cur?.error, cur?.approval, cur?.input]))
    assert.deepEqual(['onboard-group', 'onboard-app'].map((id) => snap.steps.find((s) => s.id === id)?.state), ['done', 'done'], 'the quorum group and the app were made through the API')
    // Offered once after P.2; nobody asked to see it here, and that is recorded as it is: no api-key-shown entry.
    assert.deepEqual(snap.keyReveals?.map((r) => [r.applianceId, r.stepId]), [['fips-4', 'onboard-app']])
    const afterwards = svc.getRecord().record.entries.find((e) => e.kind === 'step-done' && e.step === 'group-afterwards')!.facts['result'] as { members: string[] }
    assert.deepEqual(afterwards.members, ['fips-2', 'fips-4'], 'the group names fips-2 and fips-4, no longer fips-1')
  } finally {
    await svc.shutdown()
  }
})

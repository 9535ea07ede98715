/**
 * Issue 12, the app's side of "create the app and show its API key once for the operator": a
 * replace-appliance plan with onboarding through the API, run step by step through the app's
 * service (every appliance and the cluster in its own simulator process). The attack: anyone at the
 * screen, or a compromised renderer, asking for the key more than once, before its step verified
 * it, or after it was meant to be gone; and the key leaking into anything kept.
 * - P.2 offers the key (the snapshot says so, never holding it); the step's result says it was
 *   offered, not that it was seen.
 * - The first request answers the key the appliance holds for the app; two racing requests get it
 *   once between them; every later one answers KEY_ALREADY_SHOWN. The log records the reveal (an
 *   `api-key-shown` entry by the operator at that step), never the key.
 * - No snapshot pushed to the screens, no record, and no file of the state folder (journal, log,
 *   plan copy, media) holds the key in any of its forms.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { CeremonyService } from '../main/ceremony/ceremony-service'
import { fileJournalStore } from '../main/ceremony/journal-file'
import { parsePlan } from '../main/ceremony/plan'
import { clusterPasswordFor, readCredentialFiles } from '../main/ceremony/simulated-cluster-plan'
import { AccountsApi, DsmConnection, UserSession } from '../main/dsm'
import type { CeremonySnapshot } from '../preload/contract'
import { canaryForms, runCeremonyAsync } from './support/cli-output'
import { clusterProcess, filesUnder, fipsProcess, freshProcess, replicate, secretsOf, type ClusterProcess, type FipsProcess, type FreshProcess } from './support/cluster-fixture'
import { findBytes } from './support/memory-scan'
import { stopAllSimulators } from './support/sim-processes'

const dir = mkdtempSync(join(tmpdir(), 'dsm-reveal-'))
let f1: FipsProcess
let f2: FipsProcess
let f4: FreshProcess
let cluster: ClusterProcess
let canaries: string[]
let records: string[]
const last = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!)

before(async () => {
  ;[f1, f2, cluster] = await Promise.all([fipsProcess(dir, 'fips-1'), fipsProcess(dir, 'fips-2', { cmk: false }), clusterProcess(dir)])
  f4 = await freshProcess(dir, 'fips-4', f1.entry.custodians.map((c) => c.user))
  canaries = [...secretsOf([f1, f2], cluster), f4.sysadmin.password, ...f4.entry.custodians.map((c) => c.password)]
  const replication = await replicate(join(dir, 'state'), [f1, f2], 'replicate-rv')
  const linkPlan = await runCeremonyAsync(['plan', '--kind', 'link-cluster', '--appliances', `${f1.file},${f2.file}`, '--cluster', cluster.file, '--record', replication.file, '--no-failover-drill', '--id', 'link-rv'], { canaries })
  writeFileSync(join(dir, 'link.plan.json'), linkPlan.stdout)
  const link = await runCeremonyAsync(['run', '--plan', join(dir, 'link.plan.json'), '--credentials', f1.file, '--credentials', f2.file, '--credentials', cluster.file, '--record', replication.file, '--state', join(dir, 'state', 'link-rv')], { canaries })
  assert.equal(link.status, 0, link.stderr.slice(-2000))
  records = [replication.file, last(link.stdout).record as string]
  await f1.process.kill() // for good
})
after(async () => {
  await stopAllSimulators()
  rmSync(dir, { recursive: true, force: true })
})

async function sysadminOf(a: FreshProcess): Promise<UserSession> {
  const conn = new DsmConnection({ host: a.entry.host, port: a.entry.port, trust: { spkiSha256: a.entry.spkiSha256 }, retry: { maxAttempts: 1 } })
  return UserSession.login(conn, { username: a.sysadmin.user, password: Buffer.from(a.sysadmin.password), accountId: a.accountId })
}

/** The run screen's loop up to (not including) `stopAt`: Witness One signs each step due, the next step runs. */
async function runUntil(svc: CeremonyService, snap: CeremonySnapshot, stopAt: string, witness: string): Promise<CeremonySnapshot> {
  for (let guard = 0; guard < 20 && snap.currentStepId; guard++) {
    const due = snap.steps.find((s) => s.signoff && !s.signoff.complete && s.state === 'done')
    if (due) {
      snap = await svc.signOff(due.id, witness, 'WO', due.witnessItems)
      continue
    }
    if (snap.currentStepId === stopAt) break
    const step = snap.steps.find((s) => s.id === snap.currentStepId)!
    snap = await svc.runStep(step.id)
    const now = snap.steps.find((s) => s.id === step.id)!
    assert.notEqual(now.state, 'failed', JSON.stringify(now.error))
  }
  return snap
}

test('the key P.2 made is revealed once on the operator\'s request, recorded as shown, and kept nowhere', async () => {
  const out = await runCeremonyAsync(['plan', '--kind', 'replace-appliance', '--appliances', `${f1.file},${f2.file},${f4.file}`, '--cluster', cluster.file, ...records.flatMap((r) => ['--record', r]),
    '--added', 'fips-4', '--failed', 'fips-1', '--failed-serial', 'FX2200-SIM-0001', '--disposition', 'zeroised', '--evidence-file', 'fips-1-zeroisation.txt', '--id', 'replace-rv'], { canaries })
  assert.equal(out.status, 0, out.stderr)
  const planFile = join(dir, 'replace-rv.plan.json')
  writeFileSync(planFile, out.stdout)
  const plan = parsePlan(JSON.parse(out.stdout))
  assert.ok((plan as { onboarding?: unknown }).onboarding, 'the fresh replacement is onboarded through the API')
  const stateRoot = join(dir, 'app-state')
  // A rehearsal plan (the records it builds on are rehearsals): its media is its own folder.
  const media = join(stateRoot, `REHEARSAL-${plan.id}`, 'media')
  mkdirSync(media, { recursive: true })
  writeFileSync(join(media, 'fips-1-zeroisation.txt'), 'zeroisation report of FX2200-SIM-0001\n')

  const pushed: CeremonySnapshot[] = []
  const answers = [planFile, ...records]
  const svc = new CeremonyService({
    stateRoot, journalStore: fileJournalStore, onChange: (s) => pushed.push(s),
    dialogs: { openPlanFile: async () => answers.shift() ?? null, openRecordFile: async () => answers.shift() ?? null, savePlanFile: async () => null, saveRecordFile: async () => null },
    startSimulator: () => Promise.reject(new Error('not in this test')),
  })
  const admin = await sysadminOf(f4)
  try {
    await svc.openPlan()
    // What the custodians approve: who signs in, in which account, and what is made, one fact a line.
    const details = new Map(svc.snapshot().plan!.details.map((d) => [d.label, d.value]))
    assert.equal(details.get('System administrator who signs in (own password, typed at the ceremony)'), f4.sysadmin.user)
    assert.equal(details.get('Their account on the new appliance'), f4.accountId)
    assert.match(details.get('Made through the API')!, /the app "Key Ceremony App" in it, its API key shown once to the operator, typed nowhere/)
    for (const _ of records) await svc.openRecord()
    const set = readCredentialFiles([f1.file, f2.file, f4.file, cluster.file].map((f) => ({ name: f, text: readFileSync(f, 'utf8') })))
    for (const a of set.credentials.appliances) if (a.apiKey !== '' && a.id !== 'fips-1') svc.setApiKey(a.id, a.apiKey)
    for (const [id, password] of clusterPasswordFor(set, plan)) svc.setPassword(id, password)
    // Setup asks no key for the replacement (the ceremony makes it) and checks its connection without one.
    const before = svc.snapshot().connections.find((c) => c.applianceId === 'fips-4')!
    assert.deepEqual([before.keyMadeHere, before.hasApiKey, before.state], [true, false, 'unknown'])
    const checked = (await svc.checkConnections()).connections
    assert.deepEqual(checked.map((c) => [c.applianceId, c.state, c.contacted ?? true]), [['fips-1', 'unknown', false], ['fips-2', 'ok', true], ['fips-4', 'ok', true]], 'every contacted appliance checked, fips-4 without a key; the failed fips-1 never')
    assert.equal(checked.find((c) => c.applianceId === 'fips-2')!.keyMadeHere, undefined, 'an appliance that has its key is not one the ceremony makes')
    const named = plan.participants.witnesses[0]!
    const witness = typeof named === 'string' ? named : named.name
    await svc.confirmParticipants([plan.participants.operator, witness])
    // Not before the ceremony made one: nothing is offered, for any appliance.
    await assert.rejects(svc.revealApiKey('fips-4'), { code: 'KEY_NOT_OFFERED' })
    let snap = await runUntil(svc, await svc.runStep('onboarding'), 'onboard-app', witness)
    await assert.rejects(svc.revealApiKey('fips-4'), { code: 'KEY_NOT_OFFERED' }, 'the group is made, the app not yet')
    snap = await svc.runStep('onboard-app')
    assert.equal(snap.steps.find((s) => s.id === 'onboard-app')!.state, 'done', JSON.stringify(snap.steps.find((s) => s.id === 'onboard-app')!.error))
    assert.deepEqual(snap.keyReveals, [{ applianceId: 'fips-4', label: 'FIPS appliance 3 (fips-4)', stepId: 'onboard-app', state: 'offered', shownAt: null, lapsed: null }])
    const result = () => svc.getRecord().record.entries.find((e) => e.kind === 'step-done' && e.step === 'onboard-app')!.facts['result'] as { appId: string; keyShown: boolean; keyOffered: boolean }
    assert.deepEqual([result().keyShown, result().keyOffered], [false, true], 'the step says the key was offered; that it was seen is the reveal\'s own entry')
    await assert.rejects(svc.revealApiKey('fips-2'), { code: 'KEY_NOT_OFFERED' }, 'a typed key is never revealed')
    await assert.rejects(svc.revealApiKey('fips-9'), { code: 'UNKNOWN_APPLIANCE' })
    // Not during a break, nor with no witness in the room to see it: refused, and the offer stands.
    const custodian = plan.participants.custodians['fips-4']![0]!
    await svc.attendance(custodian, 'arrive')
    await svc.takeBreak('start', [plan.participants.operator, custodian])
    await assert.rejects(svc.revealApiKey('fips-4'), { code: 'BREAK_IN_PROGRESS' })
    await svc.takeBreak('end')
    await svc.attendance(witness, 'leave')
    await assert.rejects(svc.revealApiKey('fips-4'), { code: 'NO_WITNESS_PRESENT' })
    await svc.attendance(witness, 'arrive')
    assert.deepEqual(svc.snapshot().keyReveals!.map((r) => r.state), ['offered'], 'a refused reveal gives the offer back')
    assert.equal(svc.getRecord().record.entries.filter((e) => e.kind === 'api-key-shown').length, 0)

    // Two requests racing: the key is answered once between them.
    const raced = await Promise.allSettled([svc.revealApiKey('fips-4'), svc.revealApiKey('fips-4')])
    const shown = raced.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<{ applianceId: string; apiKey: string }>).value)
    assert.equal(shown.length, 1, 'one of the two got the key')
    assert.equal(((raced.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as { code: string }).code, 'KEY_ALREADY_SHOWN')
    const expected = await new AccountsApi(admin).apiKey(result().appId)
    assert.equal(shown[0]!.apiKey, expected.toString('utf8'), 'the key shown is the app\'s own')
    await assert.rejects(svc.revealApiKey('fips-4'), { code: 'KEY_ALREADY_SHOWN' })
    snap = svc.snapshot()
    assert.deepEqual(snap.keyReveals!.map((r) => [r.state, r.lapsed]), [['shown', null]])
    assert.ok(snap.keyReveals![0]!.shownAt)
    const revealed = svc.getRecord().record.entries.filter((e) => e.kind === 'api-key-shown')
    assert.deepEqual(revealed.map((e) => [e.step, e.actor, e.facts['appliance']]), [['onboard-app', plan.participants.operator, 'fips-4']], 'the record says the key was shown once, by whom, at which step')

    // The ceremony goes on with the made key (the next step uses it): a reveal takes nothing from it.
    const afterPreflight = snap.steps[snap.steps.findIndex((s) => s.id === 'appliance-preflight') + 1]!.id
    snap = await runUntil(svc, snap, afterPreflight, witness)
    assert.equal(snap.steps.find((s) => s.id === 'appliance-preflight')!.state, 'done')

    const forms = canaryForms([expected.toString('utf8')])
    const bytes = Buffer.from(expected)
    expected.fill(0)
    // In main's memory the key is the vault's alone (the reveal's bookkeeping holds none); the quit wipes it.
    const inMemory = findBytes(svc, bytes)
    assert.ok(inMemory.length > 0 && inMemory.every((h) => h.startsWith('$.secrets.keys')), inMemory.join(', '))
    const kept = [
      ...pushed.map((s, i) => [`snapshot ${i}`, JSON.stringify(s)]),
      ['the record', JSON.stringify(svc.getRecord())],
      ...filesUnder(stateRoot).map((f) => [f, readFileSync(f, 'latin1')]),
    ]
    assert.ok(kept.length > 10)
    for (const [where, text] of kept) for (const f of forms) assert.ok(!text!.includes(f), `${where} holds the API key (${f.slice(0, 4)}…)`)
    await svc.shutdown()
    assert.deepEqual(findBytes(svc, bytes), [], 'no copy of the key is left after the quit')
  } finally {
    await admin.logout()
    await svc.shutdown()
  }
})

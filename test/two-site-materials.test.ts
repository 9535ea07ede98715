/**
 * The materials manifest across two sites (issue 14 part 4): each station checks its own
 * appliances' chassis (M.1a, M.1b) and opens its own bags (M.2b at site B) in its first leg, and
 * stores its own items (M.3a, M.3b) in its last — three legs, as without the manifest. A bag number
 * misread at site B is named and is a line of the deviation register, as is a bag number at a
 * receipt that is not the one logged at the hand-off; a hand-off bag and a manifest bag are never
 * the same (BAG_REUSED, both ways). The merged record verifies.
 *
 * Site B's legs are driven step by step on the engine (to type what the simulated operator would
 * not); site A's leg runs as `ceremony run --station` runs it (runStation), against in-process
 * simulated appliances.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { runToCompletion } from '../main/ceremony/driver'
import { rehearsalInput } from '../main/ceremony/driver-input'
import { CeremonyEngine } from '../main/ceremony/engine'
import { handOff, tripsOfPlan, writeHandoffBundle } from '../main/ceremony/handoff'
import { receiveHandoff } from '../main/ceremony/handoff-receive'
import { fileJournalStore } from '../main/ceremony/journal-file'
import { planWithStations } from '../main/ceremony/station-plan'
import { legOfStep } from '../main/ceremony/stations'
import { deviationsOf, verifyRecord } from '../main/evidence'
import { startSimulator } from '../main/simulator'
import { runStation } from '../main/cli/station-run'
import { verifyRecordAddenda } from '../main/cli/verify-addenda'
import { checkPlan } from '../main/ceremony/plan'
import { credentialsOf, engineOptions } from './support/ceremony-fixture'
import { runCli } from './support/two-site'

const UNSEAL_B = 'materials-unseal:site-b'
const STORAGE_B = 'materials-storage:site-b'

test('two sites with a materials manifest: each station checks its own appliances and bags, a bag misread at B is named and registered, the record verifies', { timeout: 240_000 }, async () => {
  const sim = await startSimulator({ appliances: 2 })
  const dir = mkdtempSync(join(tmpdir(), 'dsm-two-site-materials-'))
  try {
    const creds = credentialsOf(sim)
    const plan = planWithStations(creds, { sites: 2, id: 'two-site-materials', materials: true })
    const trips = tripsOfPlan(plan)
    assert.deepEqual(trips.map((t) => t.station), ['site-b', 'site-a', 'site-b'], 'the manifest adds no trip')
    const legs = legOfStep(trips)
    const media = join(dir, 'media')
    const state = (s: string) => join(dir, `state-${s}`)
    for (const d of [media, state('site-a'), state('site-b')]) mkdirSync(d, { recursive: true })
    const openB = () => CeremonyEngine.open({ ...engineOptions(plan, creds, state('site-b'), media), station: 'site-b', operator: 'Operator at Site B' })
    const runB = (engine: CeremonyEngine, stop: (id: string) => boolean) =>
      runToCompletion(engine, { credentials: creds, confirm: true, witnessing: { kind: 'simulated' }, stopAt: (s) => stop(s.id) || legs.get(s.id)?.station !== 'site-b' })

    // --- Leg 1 at B: its chassis checked, then the laptop's bag read as another number.
    let engine = await openB()
    await runB(engine, (id) => id === UNSEAL_B)
    assert.equal(engine.currentStep()?.id, UNSEAL_B)
    assert.equal(engine.record('materials-appliances:site-b').state, 'done')
    const chassis = engine.record('materials-appliances:site-b').result as { appliances: { id: string }[] }
    assert.deepEqual(chassis.appliances.map((a) => a.id), ['fips-2'], 'B reads only the chassis at B')
    const fields = engine.def(UNSEAL_B).input!.fields
    // B's own items: its laptop in its bag, and the new archive drive that stays at B where the record is sealed.
    assert.deepEqual(fields.map((f) => f.id), ['item:laptop-b:bag', 'item:laptop-b:serial', 'item:archive-media:serial'], 'B opens only the bags at B')
    const planned = plan.materials!.items.find((i) => i.id === 'laptop-b')!.bag!
    const misread = 'TEB-299999'
    const typed = { ...rehearsalInput(fields), 'item:laptop-b:bag': misread }
    await assert.rejects(engine.runStep(UNSEAL_B, { input: typed }), { code: 'BAG_NUMBER_MISMATCH' })
    const mismatch = engine.logEntries().find((e) => e.kind === 'materials-mismatch')!
    assert.deepEqual([mismatch.step, mismatch.facts['scriptId'], mismatch.facts['item'], mismatch.facts['expected'], mismatch.facts['typed']], [UNSEAL_B, 'M.2b', 'laptop-b', planned, misread])
    const reference = String(mismatch.facts['reference'])
    const line = engine.witnesses.deviations().find((d) => d.seq === mismatch.seq)
    assert.ok(line, 'the mismatch at B is a line of the deviation register')
    assert.deepEqual([line.scriptId, line.source, line.resolution], ['M.2b', 'refusal', null])
    assert.ok(line.what.includes(reference) && line.what.includes(misread))
    // The witness at B names it: the bag was replaced by site security, with its own log.
    await engine.recordException(UNSEAL_B, 'Witness at Site B', `${reference}: the laptop's bag was replaced by site security on 1 December; their log shows ${misread}`)
    await engine.runStep(UNSEAL_B, { input: typed })
    assert.equal(engine.record(UNSEAL_B).state, 'done')
    await runB(engine, () => false)
    // The media may not go into a bag of the manifest.
    await assert.rejects(handOff(engine, 'site-b', { label: 'USB-0042', bag: misread.toLowerCase() }), (err: { code: string; message: string }) => err.code === 'BAG_REUSED' && err.message.includes('Ceremony laptop at Site B'))
    await handOff(engine, 'site-b', { label: 'USB-0042', bag: 'TEB-900001' })
    await engine.shutdown()
    const h1 = await writeHandoffBundle({ plan, station: 'site-b', stateDir: state('site-b'), mediaDir: media })

    // --- Leg 2 at A: the bag at receipt read wrong first (a named refusal), then right; A checks and stores its own.
    const common = { plan, credentials: creds, station: 'site-a', stateDir: state('site-a'), mediaDir: media, confirm: true, media: { label: 'USB-0042', bag: 'TEB-900002' } }
    const wrong = await runStation({ ...common, words: h1.words.join(' '), receivedMedia: { label: 'USB-0042', bag: 'TEB-900009' } })
    assert.equal(wrong.error?.code, 'BAG_NUMBER_MISMATCH')
    const a = await runStation({ ...common, words: h1.words.join(' '), receivedMedia: { label: 'USB-0042', bag: 'TEB-900001' } })
    assert.equal(a.ok, true, JSON.stringify(a.error))

    // --- Leg 3 at B: the new bag for the laptop may not be one the media travelled in.
    await receiveHandoff({ plan, station: 'site-b', stateDir: state('site-b'), mediaDir: media, words: a.handoff!.words.join(' '), media: { label: 'USB-0042', bag: 'TEB-900002' }, openJournalStore: () => fileJournalStore(state('site-b')) })
    engine = await openB()
    await runB(engine, (id) => id === STORAGE_B)
    const storeFields = engine.def(STORAGE_B).input!.fields
    const reused = { ...rehearsalInput(storeFields), 'item:laptop-b:bag': 'TEB-900001', 'item:laptop-b:bag:again': 'TEB-900001' }
    const logged = engine.logEntries().length
    await assert.rejects(engine.runStep(STORAGE_B, { input: reused }), (err: { code: string; message: string }) => err.code === 'BAG_REUSED' && /the media USB-0042 \(hand-off 1\)/.test(err.message))
    assert.equal(engine.logEntries().length, logged, 'nothing was recorded')
    await runB(engine, () => false)
    assert.equal(engine.isComplete(), true)
    const sealed = await engine.sealRecord()
    await engine.shutdown()

    const record = JSON.parse(readFileSync(sealed.path, 'utf8'))
    const verified = verifyRecord(record, { artifactsDir: media })
    assert.equal(verified.ok, true, JSON.stringify(verified))
    assert.deepEqual(record.segments.map((s: { station: string }) => s.station), ['site-b', 'site-a', 'site-b'])
    const done = (step: string) => record.entries.filter((e: { kind: string; step: string }) => e.kind === 'step-done' && e.step === step).at(-1)?.facts.result
    // Every item accounted for where it is: each station's chassis, bags and storage are its own.
    assert.deepEqual(done('materials-appliances:site-a').appliances.map((x: { id: string }) => x.id), ['fips-1'])
    assert.deepEqual(done('materials-unseal:site-a').items.map((x: { id: string; bag: string }) => [x.id, x.bag]), [['laptop-a', 'TEB-100001']])
    assert.deepEqual(done(UNSEAL_B).items.map((x: { id: string; bag: string }) => [x.id, x.bag]), [['laptop-b', misread], ['archive-media', null]])
    assert.deepEqual(Object.keys(done(UNSEAL_B).acknowledged), [reference])
    assert.deepEqual(done('materials-storage:site-a').allocation.map((x: { item: string; to: string }) => [x.item, x.to]), [['laptop-a', 'safe-a']])
    assert.deepEqual(done(STORAGE_B).allocation.map((x: { item: string; to: string }) => [x.item, x.to]), [['laptop-b', 'safe-b'], ['archive-media', 'safe-b']])
    // Each ran in its station's leg: A's between the two hand-offs, B's storage after the second.
    const seqOf = (kind: string, step: string) => record.entries.find((e: { kind: string; step: string }) => e.kind === kind && e.step === step).seq
    const handoffs = record.entries.filter((e: { kind: string }) => e.kind === 'handoff').map((e: { seq: number }) => e.seq)
    assert.ok(seqOf('step-done', 'materials-unseal:site-a') > handoffs[0] && seqOf('step-done', 'materials-storage:site-a') < handoffs[1])
    assert.ok(seqOf('step-done', UNSEAL_B) < handoffs[0] && seqOf('step-done', STORAGE_B) > handoffs[1])
    // The register, as verify derives it: the misread bag at B and the refused receipt at A, both resolved before the seal.
    const register = deviationsOf(record.entries)
    const atB = register.find((d) => d.seq === mismatch.seq)!
    assert.equal(atB.scriptId, 'M.2b')
    assert.ok(atB.resolution, 'resolved before the seal')
    const receipt = register.find((d) => d.source === 'refusal' && d.what.includes('BAG_NUMBER_MISMATCH') && d.what.includes('hand-off 1'))
    assert.ok(receipt?.resolution, JSON.stringify(register.map((d) => d.what)))
    assert.deepEqual(record.deviations.map((d: { id: string }) => d.id), register.map((d) => d.id))
  } finally {
    await sim.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('`ceremony plan --sites 2 --materials` writes a plan whose manifest each site checks; `ceremony rehearse --sites 2` types it, in three legs, and the record verifies', { timeout: 240_000 }, async () => {
  const sim = await startSimulator({ appliances: 3 })
  const dir = mkdtempSync(join(tmpdir(), 'dsm-two-site-materials-cli-'))
  try {
    writeFileSync(join(dir, 'appliances.json'), sim.readyLine())
    const planned = await runCli(['plan', '--appliances', join(dir, 'appliances.json'), '--sites', '2', '--materials', '--id', 'cli-sites-materials'])
    assert.equal(planned.code, 0, planned.stderr)
    const checked = checkPlan(JSON.parse(planned.stdout))
    assert.equal(checked.ok, true)
    if (!checked.ok) return
    assert.deepEqual(checked.plan.materials!.items.map((i) => [i.id, i.station]), [['laptop-a', 'site-a'], ['laptop-b', 'site-b'], ['archive-media', 'site-b']])
    assert.equal(tripsOfPlan(checked.plan).length, 3)
  } finally {
    await sim.close()
  }
  try {
    const rehearsed = await runCli(['rehearse', '--sites', '2', '--targets', '2', '--state', join(dir, 'rehearsal')])
    assert.equal(rehearsed.code, 0, rehearsed.stderr.slice(-1500))
    assert.match(rehearsed.stderr, /across 2 sites, 3 legs/)
    assert.match(rehearsed.stderr, /record verified across 3 legs/)
    const record = JSON.parse(readFileSync(rehearsed.summary.record, 'utf8'))
    const ran = (step: string) => record.entries.some((e: { kind: string; step: string }) => e.kind === 'step-done' && e.step === step)
    for (const step of ['materials-appliances:site-a', 'materials-unseal:site-a', 'materials-storage:site-a', 'materials-appliances:site-b', 'materials-unseal:site-b', 'materials-storage:site-b']) assert.ok(ran(step), step)
    assert.equal(verifyRecord(record, { artifactsDir: join(dir, 'rehearsal', 'media') }).ok, true)
    // The whole auditor's package, as at one site: a sample video addendum over the plan's cameras, verified with the record.
    assert.match(rehearsed.stderr, /sample video addendum sealed and verified: .*-REHEARSAL-addendum-1\.json/)
    const addenda = await verifyRecordAddenda(rehearsed.summary.record, record, { videosDir: join(dir, 'rehearsal', 'videos') })
    assert.equal(addenda.ok, true, addenda.ok ? '' : addenda.failure)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

/**
 * The materials manifest (issue 14 part 4), attacked: a bag whose number differs from the one the
 * last record sealed it in, a chassis whose serial differs from the plan, an appliance whose API
 * reports another FIPS level. Each is named, logged as a `materials-mismatch` entry (the deviation
 * register reads them), and the step will not pass until a witness's exception names it. Bad input
 * is refused by name before anything is recorded. At the close each item's new bag and receiver is
 * in the record, and the next ceremony checks its bags against it.
 */
import assert from 'node:assert/strict'
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { runToCompletion } from '../main/ceremony/driver'
import { CeremonyEngine } from '../main/ceremony/engine'
import type { ReplicateCmkPlan } from '../main/ceremony/kinds/replicate-cmk/plan'
import { MATERIALS_STEP } from '../main/ceremony/materials'
import { parsePlan } from '../main/ceremony/plan'
import { verifyRecord, type CeremonyRecord } from '../main/evidence'
import { ceremonyFixture, decide, engineOptions, signWhatIsDue, type Fixture } from './support/ceremony-fixture'

async function runUntil(f: Fixture, engine: CeremonyEngine, stepId: string): Promise<void> {
  while (engine.currentStep() && engine.currentStep()!.id !== stepId) {
    await signWhatIsDue(engine)
    const step = engine.currentStep()!
    if (step.interaction === 'approval') {
      await engine.runStep(step.id)
      for (const c of f.creds.appliances.find((a) => a.id === step.approval!.appliance)!.custodians!.slice(0, 2)) {
        await decide(engine, step.id, c, 'approve', { confirmation: engine.expectedConfirmation(step.id) ?? undefined })
      }
    } else if (step.input) {
      await engine.runStep(step.id, { input: rehearsalInput(engine, step.id) })
    } else {
      await engine.runStep(step.id, { confirmation: engine.expectedConfirmation(step.id) ?? undefined })
    }
  }
  await signWhatIsDue(engine)
}

/** What the simulated bags and chassis show: each field's rehearsal value (typed twice where asked). */
function rehearsalInput(engine: CeremonyEngine, stepId: string, change: Record<string, string> = {}): Record<string, string> {
  const input: Record<string, string> = {}
  for (const field of engine.def(stepId).input!.fields) {
    input[field.id] = change[field.id] ?? field.rehearsal
    if (field.twice) input[`${field.id}:again`] = change[`${field.id}:again`] ?? change[field.id] ?? field.rehearsal
  }
  return input
}

async function refusal(engine: CeremonyEngine, stepId: string, opts: Parameters<CeremonyEngine['runStep']>[1] = {}): Promise<{ code: string; message: string }> {
  const err = await engine.runStep(stepId, opts).then(() => null, (e: { code: string; message: string }) => e)
  assert.ok(err, `${stepId} refused`)
  return err
}

const mismatches = (engine: CeremonyEngine, stepId: string) => engine.logEntries().filter((e) => e.kind === 'materials-mismatch' && e.step === stepId)

async function finish(f: Fixture, engine: CeremonyEngine, mediaDir = f.mediaDir): Promise<{ path: string; record: CeremonyRecord }> {
  await runToCompletion(engine, { credentials: f.creds, confirm: true, witnessing: { kind: 'simulated' } })
  const sealed = await engine.sealRecord()
  await engine.shutdown()
  const verified = verifyRecord(JSON.parse(readFileSync(sealed.path, 'utf8')), { artifactsDir: mediaDir })
  assert.equal(verified.ok, true, JSON.stringify(verified))
  return sealed
}

test('a chassis serial that differs from the plan and a FIPS level the API reports differently are named, logged and stand only with an exception naming each', async () => {
  const f = await ceremonyFixture({ targets: 1, materials: true, sim: { vendor: { fipsLevel: 2 } } })
  try {
    const engine = await f.open()
    const step = MATERIALS_STEP.appliances
    await runUntil(f, engine, step)
    const before = engine.logEntries().length

    // Nothing typed, or something that is no serial: refused by name, nothing recorded.
    assert.equal((await refusal(engine, step)).code, 'STEP_INPUT_REQUIRED')
    const bad = await refusal(engine, step, { input: rehearsalInput(engine, step, { 'appliance:fips-2:serial': 'FX 2200 / ??' }) })
    assert.equal(bad.code, 'STEP_INPUT_INVALID')
    assert.match(bad.message, /fips-2.*Serial number.*not a serial number/s)
    const stranger = await refusal(engine, step, { input: { ...rehearsalInput(engine, step), 'appliance:fips-9:serial': 'X1' } })
    assert.equal(stranger.code, 'STEP_INPUT_INVALID')
    assert.equal(engine.logEntries().length, before, 'a refused input records nothing')
    assert.equal(engine.record(step).attempts, 0)

    // The target's chassis shows another serial; both appliances report FIPS level 2 where the plan says 3.
    const expectedSerial = f.plan.materials!.appliances!['fips-2']!.serial
    const err = await refusal(engine, step, { input: rehearsalInput(engine, step, { 'appliance:fips-2:serial': 'fx2200-sim-9999' }) })
    const logged = mismatches(engine, step)
    assert.deepEqual(logged.map((e) => [e.facts['code'], e.facts['item'], e.facts['source'], e.facts['expected'], e.facts['typed']]).sort(), [
      ['APPLIANCE_SERIAL_MISMATCH', 'fips-2', 'operator', expectedSerial, 'FX2200-SIM-9999'],
      ['FIPS_LEVEL_MISMATCH', 'fips-1', 'appliance', '3', '2'],
      ['FIPS_LEVEL_MISMATCH', 'fips-2', 'appliance', '3', '2'],
    ])
    assert.ok(['APPLIANCE_SERIAL_MISMATCH', 'FIPS_LEVEL_MISMATCH'].includes(err.code))
    const refs = logged.map((e) => String(e.facts['reference']))
    for (const ref of refs) assert.ok(err.message.includes(ref), `the refusal names ${ref}`)
    const failedAt = engine.logEntries().findIndex((e) => e.kind === 'step-failed' && e.step === step)
    assert.ok(logged.every((e) => engine.logEntries().indexOf(e) < failedAt), 'each mismatch is logged before the refusal')

    // An exception naming two of the three leaves the third open; nothing is logged twice.
    await engine.recordException(step, 'Witness One', `${refs[0]} and ${refs[1]}: checked against the vendor's invoice`)
    const again = await refusal(engine, step)
    assert.ok(again.message.includes(refs[2]!) && !again.message.includes(refs[0]!))
    assert.equal(mismatches(engine, step).length, 3, 'a mismatch already logged is not logged again')
    await engine.recordException(step, 'Witness Two', `${refs[2]}: seen and accepted`)
    await engine.runStep(step)
    assert.equal(engine.record(step).state, 'done')
    const result = engine.record(step).result as { appliances: { id: string; serial: string; tamperLabels: string[]; reported: { version: string; fipsLevel: number | null; serverMode: string; pluginsDigest: string | null } }[]; acknowledged: Record<string, number> }
    const target = result.appliances.find((a) => a.id === 'fips-2')!
    assert.equal(target.serial, 'FX2200-SIM-9999', 'the record keeps what was typed')
    assert.equal(target.reported.fipsLevel, 2)
    assert.ok(target.reported.pluginsDigest, 'asked with detailed_fips_info, the FIPS build gives its plugins digest')
    assert.deepEqual(Object.keys(result.acknowledged).sort(), [...refs].sort())

    const { record } = await finish(f, engine)
    assert.equal(record.entries.filter((e) => e.kind === 'materials-mismatch').length, 3)
  } finally {
    await f.cleanup()
  }
})

test('the new bags at the close are checked before anything is recorded, and the allocation is in the record', async () => {
  const f = await ceremonyFixture({ targets: 1, materials: true })
  try {
    const engine = await f.open()
    const step = MATERIALS_STEP.storage
    await runUntil(f, engine, step)
    const before = engine.logEntries().length
    const differ = await refusal(engine, step, { input: rehearsalInput(engine, step, { 'item:ceremony-laptop:bag': 'TEB-200001', 'item:ceremony-laptop:bag:again': 'TEB-200010' }) })
    assert.equal(differ.code, 'TYPED_TWICE_DIFFER')
    const opened = await refusal(engine, step, { input: rehearsalInput(engine, step, { 'item:ceremony-laptop:bag': 'teb-100002' }) })
    assert.equal(opened.code, 'BAG_REUSED')
    assert.match(opened.message, /TEB-100002.*came out of/)
    const twice = await refusal(engine, step, { input: rehearsalInput(engine, step, { 'item:ceremony-laptop:bag': 'TEB-300001', 'item:ceremony-media:bag': 'TEB-300001' }) })
    assert.equal(twice.code, 'BAG_REUSED')
    const nobody = await refusal(engine, step, { input: rehearsalInput(engine, step, { 'item:archive-media:to': 'Mallory' }) })
    assert.equal(nobody.code, 'STEP_INPUT_INVALID')
    assert.equal(engine.logEntries().length, before, 'a refused input records nothing')

    // Given to someone else than the plan says: a mismatch a witness must name.
    const err = await refusal(engine, step, { input: rehearsalInput(engine, step, { 'item:archive-media:to': 'Witness Two' }) })
    assert.equal(err.code, 'STORAGE_MISMATCH')
    const [m] = mismatches(engine, step)
    await engine.recordException(step, 'Witness One', `${String(m!.facts['reference'])}: safe B is being moved; Witness Two keeps the drive until then`)
    await engine.runStep(step)
    const { record } = await finish(f, engine)
    const done = record.entries.find((e) => e.kind === 'step-done' && e.step === step)!
    const allocation = (done.facts['result'] as { allocation: { item: string; to: string; kind: string; bag: string }[] }).allocation
    assert.deepEqual(allocation.find((a) => a.item === 'archive-media'), { ...allocation.find((a) => a.item === 'archive-media'), to: 'Witness Two', kind: 'person' })
    assert.equal(allocation.find((a) => a.item === 'ceremony-laptop')!.kind, 'safe')
  } finally {
    await f.cleanup()
  }
})

test('a bag number that differs from the one the last record sealed the item in is a mismatch; a tampered earlier record is refused', async () => {
  const f = await ceremonyFixture({ targets: 1, materials: true, planId: 'first-ceremony' })
  const cleanups: Fixture[] = []
  try {
    // The first ceremony seals the items in new bags and records where each went.
    const first = await finish(f, await f.open())
    const sealedIn = (first.record.entries.find((e) => e.kind === 'step-done' && e.step === MATERIALS_STEP.storage)!.facts['result'] as { allocation: { item: string; bag: string }[] }).allocation
    const laptopBag = sealedIn.find((a) => a.item === 'ceremony-laptop')!.bag

    // The second ceremony (on other appliances: the first one's changes are not in its window) takes
    // them out again: its plan names that record and the bags it sealed.
    const g = await ceremonyFixture({ targets: 1, materials: true, planId: 'second-ceremony' })
    cleanups.push(g)
    const file = 'first-ceremony-REHEARSAL-record.json'
    copyFileSync(first.path, join(g.mediaDir, file))
    const plan = parsePlan({
      ...g.plan,
      materials: {
        ...g.plan.materials,
        previousRecords: [{ finalDigest: first.record.finalDigest, file }],
        items: g.plan.materials!.items.map((i) => ({ ...i, bag: sealedIn.find((a) => a.item === i.id)!.bag, previousRecord: first.record.finalDigest })),
      },
    }) as ReplicateCmkPlan
    const mediaDir = g.mediaDir
    const engine = await CeremonyEngine.open(engineOptions(plan, g.creds, g.stateDir, mediaDir))
    const step = MATERIALS_STEP.unseal
    await runUntil(g, engine, step)

    // The laptop's bag in the room carries another number than the one the first record sealed.
    const err = await refusal(engine, step, { input: rehearsalInput(engine, step, { 'item:ceremony-laptop:bag': 'TEB-999999' }) })
    assert.equal(err.code, 'BAG_NUMBER_MISMATCH')
    const logged = mismatches(engine, step)
    assert.equal(logged.length, 1)
    assert.equal(logged[0]!.facts['expected'], laptopBag)
    assert.equal(logged[0]!.facts['typed'], 'TEB-999999')
    assert.match(String(logged[0]!.facts['against']), /first-ceremony/)
    assert.ok(err.message.includes(String(logged[0]!.facts['reference'])))

    // An earlier record altered on the media is refused by name before any bag is judged.
    const original = readFileSync(join(mediaDir, file), 'utf8')
    writeFileSync(join(mediaDir, file), original.replace(laptopBag, 'TEB-999999'))
    assert.equal((await refusal(engine, step, { input: rehearsalInput(engine, step, { 'item:ceremony-laptop:bag': 'TEB-999999' }) })).code, 'PREVIOUS_RECORD_INVALID')
    writeFileSync(join(mediaDir, file), original)

    // Read again, the number is right: a new attempt, and the mismatch stays in the log for the register.
    await engine.runStep(step, { input: rehearsalInput(engine, step) })
    const result = engine.record(step).result as { items: { id: string; bag: string | null; sealedBy: { ceremonyId: string; bag: string } | null }[] }
    assert.deepEqual(result.items.find((i) => i.id === 'ceremony-laptop')!.sealedBy, { ...result.items.find((i) => i.id === 'ceremony-laptop')!.sealedBy!, ceremonyId: 'first-ceremony', bag: laptopBag })
    const { record } = await finish(g, engine, mediaDir)
    assert.equal(record.entries.filter((e) => e.kind === 'materials-mismatch').length, 1)
  } finally {
    await f.cleanup()
    for (const c of cleanups) await c.cleanup()
  }
})

test('the run screen is given each field and where to read it; a production plan never sends the values it expects', async () => {
  const f = await ceremonyFixture({ targets: 1, materials: true })
  try {
    const { stepView } = await import('../main/ceremony/views')
    const rehearsal = await f.open()
    const shown = stepView(rehearsal, rehearsal.def(MATERIALS_STEP.appliances)).input!
    assert.deepEqual(shown.fields.map((x) => x.simulatedShows), ['FX2200-SIM-0001', 'TL-101 TL-102', 'FX2200-SIM-0002', 'TL-201 TL-202'])
    assert.equal(shown.earlier, null)
    await rehearsal.shutdown()
    const production = parsePlan({ ...f.plan, id: 'production-view', mode: 'production' })
    mkdirSync(join(f.dir, 'prod-state'))
    const engine = await CeremonyEngine.open(engineOptions(production, f.creds, join(f.dir, 'prod-state'), f.mediaDir))
    for (const id of Object.values(MATERIALS_STEP)) {
      const view = stepView(engine, engine.def(id)).input!
      assert.ok(view.fields.length > 0)
      assert.ok(view.fields.every((x) => x.simulatedShows === null), `${id} shows nothing it expects`)
      const text = JSON.stringify(view)
      for (const secretish of ['FX2200-SIM-0002', 'TEB-100001', 'TL-201']) assert.ok(!text.includes(secretish), `${id} does not give away ${secretish}`)
    }
    await engine.shutdown()
  } finally {
    await f.cleanup()
  }
})

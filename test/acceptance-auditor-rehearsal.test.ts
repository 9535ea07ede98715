/**
 * Acceptance for issue 14, end to end: "A rehearsal with a break, two deviations, a bag-number
 * mismatch and a video addendum prints and verifies." One rehearsal against simulated appliances
 * (one target, a plan with a materials manifest) is driven the way the room drives it: a break with
 * two people staying, two deviations written down (one at a step, one for the whole ceremony), a
 * bag number misread at M.2 and then read again, the close refused until every line of the register
 * is resolved, the record sealed and verified (here and by the standalone Python method), then a
 * video addendum made with the `ceremony addendum` CLI from files on disk and checked by
 * `ceremony verify` — which must fail once one byte of a video changes.
 *
 * "Prints" is checked on the record the RecordPage prints: its `deviations` (the register section)
 * and the renderer's own pure record model for the breaks and the per-step events, since node
 * cannot render the page itself.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import type { CeremonyEngine } from '../main/ceremony/engine'
import { MATERIALS_STEP } from '../main/ceremony/materials'
import { addendumFileName, deviationsOf, sha256Hex, verifyRecord, type CeremonyRecord, type VideoAddendum } from '../main/evidence'
import { breakRows, eventsByStep } from '../renderer/src/screens/record/record-model'
import { runCeremony } from './support/cli-output'
import { ceremonyFixture, decide, signWhatIsDue, type Fixture } from './support/ceremony-fixture'

const OPERATOR = 'Rehearsal operator'
// The simulated plan's witnesses are plain names: each signs with the first letters of their name.
const BOTH = [{ witness: 'Witness One', initials: 'WO' }, { witness: 'Witness Two', initials: 'WT' }]
const python = spawnSync('python3', ['--version']).status === 0

/** The value each field of a step's input expects in a rehearsal, with `change` typed instead where given. */
function typedInput(engine: CeremonyEngine, stepId: string, change: Record<string, string> = {}): Record<string, string> {
  const input: Record<string, string> = {}
  for (const field of engine.def(stepId).input!.fields) {
    input[field.id] = change[field.id] ?? field.rehearsal
    if (field.twice) input[`${field.id}:again`] = change[field.id] ?? field.rehearsal
  }
  return input
}

/** Runs steps in order — approving with two custodians, typing what the simulated chassis and bags show — until `stepId` is next. */
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
      await engine.runStep(step.id, { input: typedInput(engine, step.id) })
    } else {
      await engine.runStep(step.id, { confirmation: engine.expectedConfirmation(step.id) ?? undefined })
    }
  }
  await signWhatIsDue(engine)
}

async function refusal(run: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await run.then(() => null, (e: { code: string; message: string }) => e)
  assert.ok(err, 'refused')
  return err
}

/**
 * A small file shaped like an MP4 (an `ftyp` box, then an `mdat` box of random bytes) — no encoder
 * is installed here, and the product only hashes the bytes; random content keeps each camera's
 * digest distinct, as the addendum requires.
 */
function smallVideo(): Buffer {
  const box = (type: string, body: Buffer) => {
    const size = Buffer.alloc(4)
    size.writeUInt32BE(8 + body.length)
    return Buffer.concat([size, Buffer.from(type, 'latin1'), body])
  }
  return Buffer.concat([box('ftyp', Buffer.from('isom\0\0\x02\0isomiso2mp41', 'latin1')), box('mdat', randomBytes(4096))])
}

/** A recorder's UTC time: whole seconds, with the Z. */
const recorderTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')

test('issue 14 acceptance: a rehearsal with a break, two deviations, a bag-number mismatch and a video addendum prints and verifies', { timeout: 180_000 }, async (t) => {
  const f = await ceremonyFixture({ targets: 1, materials: true, planId: 'auditor-rehearsal' })
  try {
    const engine = await f.open()
    const unseal = MATERIALS_STEP.unseal
    assert.equal(engine.def(unseal).scriptId, 'M.2')
    await runUntil(f, engine, MATERIALS_STEP.appliances)

    // --- The break: two people stay; no step runs until it ends, and it raises no deviation.
    await engine.people((desk) => desk.breakStart(['Witness One', 'Witness Two'], OPERATOR))
    const duringBreak = engine.logEntries().length
    const blocked = await refusal(engine.runStep(MATERIALS_STEP.appliances, { input: typedInput(engine, MATERIALS_STEP.appliances) }))
    assert.equal(blocked.code, 'BREAK_IN_PROGRESS')
    assert.match(blocked.message, /Witness One and Witness Two stayed/)
    assert.equal(engine.logEntries().length, duringBreak, 'a step refused for the break records nothing')
    // The whole-ceremony deviation, written down during the break.
    const ceremonyNote = 'The room camera stopped for about two minutes during the break; restarted by Witness Two'
    await engine.recordException('ceremony', 'Witness Two', ceremonyNote)
    await engine.people((desk) => desk.breakEnd(OPERATOR))
    assert.equal(engine.witnesses.deviations().length, 1, 'only the written exception is a line; the break itself is not a deviation')

    await runUntil(f, engine, unseal)

    // --- M.2: the laptop's bag number is misread. Refused by name, logged, and a line of the register.
    const expectedBag = f.plan.materials!.items.find((i) => i.id === 'ceremony-laptop')!.bag!
    const misread = 'TEB-100007'
    assert.notEqual(misread, expectedBag)
    const bad = await refusal(engine.runStep(unseal, { input: typedInput(engine, unseal, { 'item:ceremony-laptop:bag': misread }) }))
    assert.equal(bad.code, 'BAG_NUMBER_MISMATCH')
    assert.equal(engine.record(unseal).state, 'failed')
    const mismatches = engine.logEntries().filter((e) => e.kind === 'materials-mismatch')
    assert.equal(mismatches.length, 1)
    const m = mismatches[0]!
    assert.equal(m.step, unseal)
    assert.deepEqual([m.facts['code'], m.facts['item'], m.facts['expected'], m.facts['typed'], m.facts['against']], ['BAG_NUMBER_MISMATCH', 'ceremony-laptop', expectedBag, misread, 'the plan'])
    const reference = String(m.facts['reference'])
    assert.match(reference, /^BAG-[0-9a-f]{8}$/)
    assert.ok(bad.message.includes(reference), 'the refusal names the mismatch by its reference')
    const mismatchLine = engine.witnesses.deviations().find((d) => d.seq === m.seq)
    assert.ok(mismatchLine, 'the mismatch is a line of the deviation register')
    assert.deepEqual([mismatchLine.source, mismatchLine.step, mismatchLine.scriptId, mismatchLine.resolution], ['refusal', unseal, 'M.2', null])
    assert.ok(mismatchLine.what.includes(reference) && mismatchLine.what.includes(misread) && mismatchLine.what.includes(expectedBag), mismatchLine.what)

    // Read again, the number is the plan's: the step stands with nothing to acknowledge, and the line stays open for the close.
    await engine.runStep(unseal, { input: typedInput(engine, unseal) })
    assert.equal(engine.record(unseal).state, 'done')
    const unsealed = engine.record(unseal).result as { items: { id: string; bag: string | null }[]; mismatches: unknown[]; acknowledged: Record<string, number> }
    assert.equal(unsealed.items.find((i) => i.id === 'ceremony-laptop')!.bag, expectedBag)
    assert.deepEqual([unsealed.mismatches, unsealed.acknowledged], [[], {}])
    assert.equal(engine.logEntries().filter((e) => e.kind === 'materials-mismatch').length, 1, 'the right number logs no new mismatch')
    assert.equal(engine.witnesses.deviations().find((d) => d.id === mismatchLine.id)!.resolution, null)

    // The step deviation, written down at T2.2 once it has run.
    await runUntil(f, engine, 'import-pubkey:fips-2')
    const stepNote = 'Page 7 of the printed script (T2.2) was missing; read from the spare copy checked against the approved digest'
    await engine.recordException('export-pubkey:fips-2', 'Witness One', stepNote)
    await runUntil(f, engine, 'close')

    // --- The register before the close: every line, in the order raised.
    const register = engine.witnesses.deviations()
    const ceremonyLine = register.find((d) => d.source === 'exception' && d.step === 'ceremony')
    const stepLine = register.find((d) => d.source === 'exception' && d.step === 'export-pubkey:fips-2')
    assert.deepEqual([ceremonyLine?.what, ceremonyLine?.raisedBy, ceremonyLine?.scriptId], [ceremonyNote, 'Witness Two', null])
    assert.deepEqual([stepLine?.what, stepLine?.raisedBy, stepLine?.scriptId], [stepNote, 'Witness One', 'T2.2'])
    // The M.2 attempt refused on the mismatch is not a second line: the mismatch's own line says it.
    assert.equal(engine.logEntries().filter((e) => e.kind === 'step-failed' && e.step === unseal).length, 1)
    assert.deepEqual(register.filter((d) => d.source === 'failure'), [])
    assert.deepEqual(register.map((d) => d.id), [ceremonyLine!.id, mismatchLine.id, stepLine!.id], JSON.stringify(register, null, 1))
    assert.ok(register.every((d) => d.resolution === null && /^D-\d+$/.test(d.id) && /Z$/.test(d.ts)))

    // --- The close is refused while any line is open, naming exactly the open ones.
    const resolve = (id: string) => engine.people((desk) => desk.resolveDeviation({ deviation: id, resolution: `Resolved in the room: ${id}`, allowedBy: OPERATOR, initials: BOTH }, OPERATOR))
    for (const d of register) {
      const open = engine.witnesses.deviations().filter((x) => !x.resolution)
      const closing = await refusal(engine.runStep('close'))
      assert.equal(closing.code, 'DEVIATION_UNRESOLVED')
      // Ids are D-<seq>: match whole ids, so D-1 is not found inside D-12.
      const named = new Set(closing.message.match(/D-\d+/g))
      assert.deepEqual([...named].sort(), open.map((o) => o.id).sort(), 'the refusal names exactly the open lines')
      assert.equal(engine.record('close').state, 'pending', 'nothing was sealed')
      await resolve(d.id)
    }
    assert.ok(engine.witnesses.deviations().every((d) => d.resolution !== null))
    await signWhatIsDue(engine)
    await engine.runStep('close')
    assert.equal(engine.isComplete(), true)
    const { path: recordPath, record } = await engine.sealRecord()
    await engine.shutdown()

    // --- Prints: the record holds what the RecordPage prints.
    const sealed = JSON.parse(readFileSync(recordPath, 'utf8')) as CeremonyRecord
    assert.deepEqual(sealed.deviations.map((d) => d.id), register.map((d) => d.id))
    for (const d of sealed.deviations) {
      assert.equal(d.resolution?.allowedBy, OPERATOR)
      assert.deepEqual(d.resolution?.initials, BOTH)
      assert.equal(d.resolution?.simulated, false, 'resolved by the people in the room, not the headless driver')
      assert.ok(d.resolution!.seq > d.seq)
    }
    assert.deepEqual(sealed.deviations, deviationsOf(sealed.entries), 'the printed register is the log\'s')
    const breaks = breakRows(sealed)
    assert.equal(breaks.length, 1)
    assert.deepEqual(breaks[0]!.stays, ['Witness One', 'Witness Two'])
    assert.ok(breaks[0]!.end !== null && breaks[0]!.end > breaks[0]!.start, 'the break was ended')
    assert.equal(sealed.entries.filter((e) => e.kind === 'materials-mismatch').length, 1)
    assert.ok(eventsByStep(sealed).get(unseal)!.some((e) => e.text.includes(reference) && e.text.includes(misread)), 'the mismatch is printed under M.2')
    assert.equal(sealed.exceptions.length, 2)

    // --- Verifies: here and with the standalone method.
    const verified = verifyRecord(sealed, { artifactsDir: f.mediaDir })
    assert.equal(verified.ok, true, JSON.stringify(verified))
    assert.ok(verified.ok && verified.artifactsChecked.length > 0 && verified.artifactsMissing.length === 0)
    assert.equal(record.finalDigest, sealed.finalDigest)
    if (python) {
      const py = spawnSync('python3', [join(__dirname, '../docs/verify_record.py'), recordPath, f.mediaDir], { encoding: 'utf8' })
      assert.equal(py.stdout.trim(), `OK ${sealed.entries.length} ${sealed.finalDigest}`, py.stdout + py.stderr)
    } else {
      t.diagnostic('python3 is not installed here: the standalone Python method was not run')
    }

    // --- The video addendum: a file for each camera the plan names, filming from before the open to after the seal.
    const videosDir = join(f.dir, 'videos')
    mkdirSync(videosDir)
    const start = recorderTime(Math.floor(Date.parse(sealed.entries[0]!.ts) / 1000) * 1000 - 60_000)
    const stop = recorderTime(Math.ceil(Date.parse(sealed.entries.at(-1)!.ts) / 1000) * 1000 + 60_000)
    const cameras = f.plan.cameras!
    assert.ok(cameras.length >= 1)
    const files = cameras.map((c, i) => ({ camera: c.id, name: `CAM${i + 1}-0001.MP4`, bytes: smallVideo() }))
    for (const v of files) writeFileSync(join(videosDir, v.name), v.bytes)
    const canaries = f.creds.appliances.flatMap((a) => [a.apiKey, ...(a.custodians ?? []).map((c) => c.password)])
    const made = runCeremony(['addendum', recordPath, '--by', OPERATOR, '--witness', 'Witness One,WO', '--videos', videosDir, ...files.flatMap((v) => ['--video', `${v.camera},${v.name},${start},${stop}`])], { canaries })
    assert.equal(made.status, 0, made.stdout + made.stderr)
    const addendum = JSON.parse(readFileSync(join(f.stateDir, addendumFileName(f.plan.id, 'rehearsal', 1)), 'utf8')) as VideoAddendum
    assert.equal(addendum.extends.recordFinalDigest, sealed.finalDigest)
    assert.deepEqual(addendum.videos.map((v) => [v.camera, v.name, v.sha256, v.bytes]), files.map((v) => [v.camera, v.name, sha256Hex(v.bytes), v.bytes.length]))
    assert.deepEqual(addendum.attestedBy, [{ name: 'Witness One', initials: 'WO' }])

    const verify = () => runCeremony(['verify', recordPath, '--artifacts', f.mediaDir, '--videos', videosDir], { canaries })
    const ok = verify()
    assert.equal(ok.status, 0, ok.stdout + ok.stderr)
    assert.match(ok.stdout, /Ceremony record OK: auditor-rehearsal/)
    assert.match(ok.stdout, /exceptions:\s+2/)
    assert.match(ok.stdout, /deviations:\s+3, every one resolved/)
    assert.match(ok.stdout, /addenda:\s+1 \(chained to the final digest/)
    assert.match(ok.stdout, new RegExp(`videos:\\s+${files.length} listed, ${files.length} re-hashed OK`))

    // One byte of one video changed: verify names the file, and passes again once it is put back.
    const target = join(videosDir, files.at(-1)!.name)
    const original = readFileSync(target)
    const altered = Buffer.from(original)
    altered[altered.length - 1] = altered[altered.length - 1]! ^ 0x01
    writeFileSync(target, altered)
    const tampered = verify()
    assert.equal(tampered.status, 1, tampered.stdout + tampered.stderr)
    assert.match(tampered.stdout, new RegExp(`^FAILED at addendum 1: VIDEO_DIGEST_MISMATCH: ${files.at(-1)!.name.replace('.', '\\.')}`, 'm'))
    writeFileSync(target, original)
    assert.equal(verify().status, 0, 'the original bytes verify again')
  } finally {
    await f.cleanup()
  }
})

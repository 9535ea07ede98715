/**
 * The deviation register (issue 14 part 3): every departure from the script is one line — the ones
 * people write down (exceptions) and the failures, denials and retries the engine saw, raised on
 * their own — with its UTC time, step, what happened, the resolution, who allowed going on, and the
 * initials of every witness present. The record cannot be sealed while a line is open, and the
 * sealed record's register is the log's, line for line.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { parsePlan } from '../main/ceremony/plan'
import { CeremonyEngine } from '../main/ceremony/engine'
import { runToCompletion } from '../main/ceremony/driver'
import { verifyRecord } from '../main/evidence'
import { ceremonyFixture, decide, engineOptions, signWhatIsDue } from './support/ceremony-fixture'
import { runUntil } from './support/ceremony-checks'

const OPERATOR = 'Rehearsal operator'
const KEEPER = 'Ingrid Internal'
const both = [{ witness: 'Witness One', initials: 'WO' }, { witness: 'Witness Two', initials: 'WT' }]

test('a denial, the fresh request after it and a written exception are lines of the register; the seal waits for every resolution, each checked', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  const plan = parsePlan({ ...f.plan, participants: { ...f.plan.participants, internalWitness: KEEPER } })
  try {
    const engine = await CeremonyEngine.open(engineOptions(plan, f.creds, f.stateDir, f.mediaDir))
    await runUntil(f, engine, 'wrap-approval:fips-2')
    await engine.runStep('wrap-approval:fips-2')
    await decide(engine, 'wrap-approval:fips-2', f.creds.appliances[0]!.custodians![0]!, 'deny', { reason: 'the fingerprint read aloud was not the one on screen' })
    await engine.restartApproval('wrap-approval:fips-2')
    await engine.recordException('ceremony', OPERATOR, 'Camera 2 stopped recording for three minutes; restarted at 10:42 UTC')
    await runUntil(f, engine, 'close')

    const register = engine.witnesses.deviations()
    assert.deepEqual(register.map((d) => d.source), ['denial', 'retry', 'exception'])
    assert.match(register[0]!.what, /denied the approval request: the fingerprint read aloud/)
    assert.equal(register[0]!.step, 'wrap-approval:fips-2')
    // The printed script's id, from the step's own intent: the auditor reads T<n>.5, not an internal name.
    assert.deepEqual(register.map((d) => d.scriptId), [engine.steps.find((s) => s.id === 'wrap-approval:fips-2')!.scriptId, engine.steps.find((s) => s.id === 'wrap-approval:fips-2')!.scriptId, null])
    assert.equal(register[2]!.raisedBy, OPERATOR)
    assert.ok(register.every((d) => /^D-\d+$/.test(d.id) && d.resolution === null && /Z$/.test(d.ts)))

    await assert.rejects(engine.runStep('close'), (e: { code?: string; message?: string }) => {
      assert.equal(e.code, 'DEVIATION_UNRESOLVED')
      for (const d of register) assert.match(e.message!, new RegExp(d.id))
      return true
    })
    assert.equal(engine.record('close').state, 'pending', 'nothing was sealed')

    const first = register[0]!.id
    const resolve = (over: Record<string, unknown>) => engine.people((desk) => desk.resolveDeviation({ deviation: first, resolution: 'Read again from the screen; approved on the fresh request', allowedBy: OPERATOR, initials: both, ...over }, OPERATOR))
    await assert.rejects(resolve({ deviation: 'D-9999' }), { code: 'DEVIATION_UNKNOWN' })
    await assert.rejects(resolve({ resolution: '   ' }), { code: 'RESOLUTION_REQUIRED' })
    await assert.rejects(resolve({ allowedBy: 'Witness One' }), { code: 'ALLOWED_BY_NOT_ENTITLED' }, 'a witness attests; they do not allow')
    await assert.rejects(resolve({ allowedBy: f.plan.participants.custodians['fips-1']![0] }), { code: 'ALLOWED_BY_NOT_ENTITLED' })
    await assert.rejects(resolve({ allowedBy: KEEPER }), { code: 'NOT_PRESENT' }, 'the internal witness may allow it, once in the room')
    await assert.rejects(resolve({ initials: [both[0]] }), { code: 'WITNESS_INITIALS_MISSING', message: /Witness Two/ })
    await assert.rejects(resolve({ initials: [both[0], { witness: 'Witness Two', initials: 'WO' }] }), { code: 'INITIALS_WRONG' })
    await assert.rejects(resolve({ initials: [...both, { witness: 'Nobody', initials: 'N' }] }), { code: 'UNKNOWN_WITNESS' })

    await engine.attendance(KEEPER, 'arrive', OPERATOR)
    for (const d of engine.witnesses.deviations().filter((x) => !x.resolution)) {
      await engine.people((desk) => desk.resolveDeviation({ deviation: d.id, resolution: `Resolution of ${d.id}`, allowedBy: KEEPER, initials: both }, OPERATOR))
    }
    await assert.rejects(resolve({}), { code: 'DEVIATION_RESOLVED' })
    await signWhatIsDue(engine)
    await engine.runStep('close')
    const { path, record } = await engine.sealRecord()
    await engine.shutdown()

    assert.equal(record.deviations.length, 3)
    for (const d of record.deviations) {
      assert.equal(d.resolution?.allowedBy, KEEPER)
      assert.deepEqual(d.resolution?.initials, both)
      assert.ok(d.resolution!.seq > d.seq)
    }
    const sealed = JSON.parse(readFileSync(path, 'utf8'))
    assert.equal(verifyRecord(sealed).ok, true)

    // The register cannot be trimmed or embellished after the fact.
    const dropped = structuredClone(sealed)
    dropped.deviations.splice(1, 1)
    const v1 = verifyRecord(dropped)
    assert.equal(v1.ok, false)
    assert.match(!v1.ok ? v1.reason : '', /deviation register does not match the log/)
    const softened = structuredClone(sealed)
    softened.deviations[0].what = 'nothing happened'
    assert.equal(verifyRecord(softened).ok, false)
  } finally {
    await f.cleanup()
  }
})

test('a failed step is raised on its own; in a rehearsal the headless run resolves the register as the simulated witnesses, marked so', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    // The target makes the transfer key but answers 500: the step fails, and running it again adopts the key.
    f.sim.appliances[1]!.faults.once({ method: 'POST', path: '/crypto/v1/keys', kind: '500', after: 'after-apply' })
    await runToCompletion(engine, { credentials: f.creds, confirm: true, witnessing: { kind: 'simulated' } })
    const { record } = await engine.sealRecord()
    await engine.shutdown()
    const failures = record.deviations.filter((d) => d.source === 'failure')
    assert.ok(failures.length >= 1, JSON.stringify(record.deviations))
    assert.ok(record.deviations.every((d) => d.resolution?.simulated === true && d.resolution.initials.length === 2))
    assert.equal(verifyRecord(record).ok, true)
  } finally {
    await f.cleanup()
  }
})

test('production: no simulated resolution; once sealed, the close shows the signatures given before it ran', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  const plan = parsePlan({ ...f.plan, mode: 'production' })
  try {
    const engine = await CeremonyEngine.open(engineOptions(plan, f.creds, f.stateDir, f.mediaDir))
    await signWhatIsDue(engine)
    await engine.recordException('ceremony', OPERATOR, 'The second witness arrived late')
    const [d] = engine.witnesses.deviations()
    await assert.rejects(engine.people((desk) => desk.resolveDeviation({ deviation: d!.id, resolution: 'noted', allowedBy: OPERATOR, initials: both, simulated: true }, OPERATOR)), { code: 'SIMULATED_WITNESS' })
    await engine.people((desk) => desk.resolveDeviation({ deviation: d!.id, resolution: 'Noted; nothing ran before both witnesses were present', allowedBy: OPERATOR, initials: both }, OPERATOR))
    await runUntil(f, engine, 'close')
    await engine.runStep('close')
    assert.equal(engine.isComplete(), true)
    const status = engine.witnesses.status(engine.def('close'))
    assert.equal(status?.complete, true, 'the close was signed before it ran, and still shows so')
    await assert.rejects(engine.signOff('close', { witness: 'Witness One', initials: 'WO', items: engine.def('close').text.witnessItems }), { code: 'CEREMONY_CLOSED' })
    await engine.shutdown()
  } finally {
    await f.cleanup()
  }
})

test('at the terminal (production CLI): each open line is shown, its resolution and who allowed it are asked, every witness present initials it; a refusal asks again', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    for (const p of [OPERATOR, 'Witness One']) await engine.attendance(p, 'arrive', OPERATOR)
    await engine.recordException('ceremony', OPERATOR, 'The paper script was missing page 3; a spare copy was printed')
    const asked: string[] = []
    let allowedTries = 0
    const ask = async (q: string): Promise<string | null> => {
      asked.push(q)
      if (/witness name: $/.test(q)) return 'Witness One'
      if (/initials of Witness One: $/.test(q)) return 'WO'
      if (/resolution: $/.test(q)) return 'A spare copy was printed and checked against the approved digest'
      // The first answer names a witness, who cannot allow going on: refused by name, and asked again.
      if (/allowed to go on by \(name\): $/.test(q)) return allowedTries++ === 0 ? 'Witness One' : OPERATOR
      return null
    }
    const said: string[] = []
    await runToCompletion(engine, { credentials: f.creds, confirm: true, witnessing: { kind: 'ask', present: [OPERATOR, 'Witness One'], ask }, progress: (l) => said.push(l) })
    const { record } = await engine.sealRecord()
    await engine.shutdown()
    const [line] = record.deviations
    assert.equal(line?.resolution?.allowedBy, OPERATOR)
    assert.deepEqual(line?.resolution?.initials, [{ witness: 'Witness One', initials: 'WO' }])
    assert.equal(line?.resolution?.simulated, false)
    assert.ok(said.some((l) => /ALLOWED_BY_NOT_ENTITLED/.test(l)), said.join('\n'))
    assert.ok(said.some((l) => l.includes(`${line!.id} (`) && l.includes('page 3')), 'the line is shown before it is resolved')
    assert.equal(asked.filter((q) => /resolution: $/.test(q)).length, 2)
  } finally {
    await f.cleanup()
  }
})

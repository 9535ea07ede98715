/**
 * Witnesses who really sign: a step cannot be left until the plan's witnesses signed it (or an
 * exception says who allowed going on without, and why); each sign-off is a present witness's own,
 * with their initials, once per attempt; the headless runner never signs for anyone.
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { runToCompletion } from '../main/ceremony/driver'
import { parsePlan } from '../main/ceremony/plan'
import { runCeremonyAsync } from './support/cli-output'
import { ceremonyFixture, decide, signWhatIsDue, engineOptions } from './support/ceremony-fixture'

const ITEMS = ['Appliance versions and clocks were read', 'The quorum policy on "Quorum Group" is in place', 'The CMK KCV on the source was read aloud']

test('an unsigned step cannot be left; only an exception naming who allowed it passes it, and the record shows it', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    for (const p of ['Rehearsal operator', 'Witness One', 'Witness Two']) await engine.attendance(p, 'arrive', 'Rehearsal operator')
    await engine.runStep('preflight')
    await assert.rejects(engine.runStep('transfer-key:fips-2'), { code: 'STEP_NOT_SIGNED', message: /P\.0 .*needs 2 witness sign-off\(s\) \(0 so far\)/ })
    await engine.signOff('preflight', { witness: 'Witness One', initials: 'wo', items: ITEMS })
    await assert.rejects(engine.runStep('transfer-key:fips-2'), { code: 'STEP_NOT_SIGNED', message: /\(1 so far\)/ }, 'every witness present signs by default')
    assert.equal(f.sim.appliances[1]!.state.sobjects().filter((o) => o.name?.includes('transfer')).length, 0, 'nothing was done meanwhile')
    // Witness Two cannot sign (say, called away): the lead witness allows going on, and says why.
    await engine.recordException('preflight', 'Witness One', 'Witness Two was called away before signing; Witness One read every value aloud.', { waivesSignoff: true })
    await engine.runStep('transfer-key:fips-2')
    const waiver = engine.logEntries().find((e) => e.kind === 'exception' && e.facts['waivesSignoff'] === true)!
    assert.equal(waiver.facts['by'], 'Witness One')
    assert.equal(waiver.facts['scriptId'], 'P.0')
    assert.equal(engine.witnesses.status(engine.def('preflight'))!.waivedBy!.by, 'Witness One')
    await engine.shutdown()
  } finally {
    await f.cleanup()
  }
})

test('a sign-off is the witness\'s own: wrong initials, a witness not in the room, a second signature and a partial checklist are refused', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    await engine.attendance('Rehearsal operator', 'arrive', 'Rehearsal operator')
    await engine.attendance('Witness One', 'arrive', 'Rehearsal operator')
    await engine.runStep('preflight')
    await assert.rejects(engine.signOff('preflight', { witness: 'Witness One', initials: 'XX', items: ITEMS }), { code: 'INITIALS_WRONG' })
    await assert.rejects(engine.signOff('preflight', { witness: 'Witness Two', initials: 'WT', items: ITEMS }), { code: 'WITNESS_NOT_PRESENT' })
    await assert.rejects(engine.signOff('preflight', { witness: 'Someone Else', initials: 'SE', items: ITEMS }), { code: 'UNKNOWN_WITNESS' })
    await assert.rejects(engine.signOff('preflight', { witness: 'Witness One', initials: 'WO', items: ITEMS.slice(0, 1) }), { code: 'CHECKLIST_INCOMPLETE' })
    await assert.rejects(engine.signOff('preflight', { witness: 'Witness One', initials: 'WO', items: ITEMS, simulated: true }).catch((e) => {
      throw e
    }).then(() => engine.signOff('preflight', { witness: 'Witness One', initials: 'WO', items: ITEMS })), { code: 'ALREADY_SIGNED' })
    assert.equal(engine.logEntries().filter((e) => e.kind === 'witness-signoff').length, 1, 'one signature, once')
    // Only Witness One is present: one signature is what "every witness present" asks for now.
    await engine.runStep('transfer-key:fips-2')
    // Witnesses sign what has run, not what is to come.
    await assert.rejects(engine.signOff('export-pubkey:fips-2', { witness: 'Witness One', initials: 'WO', items: engine.def('export-pubkey:fips-2').text.witnessItems }), { code: 'NOTHING_TO_SIGN' })
    // Two trusted people stay in the room at every moment: the operator and Witness One leave it to no one alone.
    await assert.rejects(engine.attendance('Witness One', 'leave', 'Rehearsal operator'), { code: 'TWO_PERSON_RULE' })
    await engine.attendance('Witness Two', 'arrive', 'Rehearsal operator')
    await engine.attendance('Witness One', 'leave', 'Rehearsal operator')
    await assert.rejects(engine.signOff('transfer-key:fips-2', { witness: 'Witness One', initials: 'WO', items: engine.def('transfer-key:fips-2').text.witnessItems }), { code: 'WITNESS_NOT_PRESENT' })
    await assert.rejects(engine.attendance('Witness One', 'leave', 'Rehearsal operator'), { code: 'NOT_PRESENT' })
    await engine.shutdown()
  } finally {
    await f.cleanup()
  }
})

test('a fresh approval request needs fresh signatures: sign-offs belong to one attempt of a step', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    while (engine.currentStep()!.id !== 'wrap-approval:fips-2') {
      await signWhatIsDue(engine)
      await engine.runStep(engine.currentStep()!.id)
    }
    await signWhatIsDue(engine)
    assert.deepEqual(engine.witnesses.status(engine.def('wrap-request:fips-2'))!.signed.sort(), ['Witness One', 'Witness Two'])
    await engine.runStep('wrap-approval:fips-2')
    await decide(engine, 'wrap-approval:fips-2', f.creds.appliances[0]!.custodians![0]!, 'deny', { reason: 'the wrong fingerprint was read aloud' })
    await engine.restartApproval('wrap-approval:fips-2')
    await engine.runStep('wrap-request:fips-2')
    const status = engine.witnesses.status(engine.def('wrap-request:fips-2'))!
    assert.deepEqual(status.signed, [], 'the signatures on the denied request do not carry over')
    assert.equal(status.complete, false)
    await assert.rejects(engine.runStep('wrap-approval:fips-2'), { code: 'STEP_NOT_SIGNED' })
    await signWhatIsDue(engine)
    await engine.runStep('wrap-approval:fips-2')
    assert.equal(engine.record('wrap-approval:fips-2').state, 'waiting')
    await engine.shutdown()
  } finally {
    await f.cleanup()
  }
})

test('the close runs only once every step is signed or excepted and its own checklist is signed; a plan can ask for a fixed number of signers', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  const { CeremonyEngine } = await import('../main/ceremony/engine')
  const plan = parsePlan({ ...f.plan, witnessing: { signersPerStep: 1 } })
  try {
    const engine = await CeremonyEngine.open(engineOptions(plan, f.creds, f.stateDir, f.mediaDir))
    // The driver signs as the simulated witnesses; stop it just before the close by running the rest by hand.
    for (const p of ['Rehearsal operator', 'Witness One', 'Witness Two']) await engine.attendance(p, 'arrive', 'Rehearsal operator')
    let guard = 0
    while (engine.currentStep()!.id !== 'close' && guard++ < 40) {
      const step = engine.currentStep()!
      const due = engine.steps.find((s) => engine.witnesses.status(s) && !engine.witnesses.status(s)!.complete && s !== engine.steps.at(-1))
      if (due) await engine.signOff(due.id, { witness: 'Witness Two', initials: 'WT', items: due.text.witnessItems })
      else if (step.interaction === 'approval') {
        await engine.runStep(step.id)
        for (const c of f.creds.appliances.find((a) => a.id === step.approval!.appliance)!.custodians!.slice(0, 2)) await decide(engine, step.id, c, 'approve', { confirmation: engine.expectedConfirmation(step.id) ?? undefined })
      } else await engine.runStep(step.id, { confirmation: engine.expectedConfirmation(step.id) ?? undefined })
    }
    const last = engine.steps.at(-2)!
    await engine.signOff(last.id, { witness: 'Witness Two', initials: 'WT', items: last.text.witnessItems })
    // One signer per step was enough for every step so far.
    assert.ok(engine.logEntries().filter((e) => e.kind === 'witness-signoff').every((e) => e.facts['witness'] === 'Witness Two'))
    await assert.rejects(engine.runStep('close'), { code: 'STEP_NOT_SIGNED', message: /^C\.1 / })
    await engine.signOff('close', { witness: 'Witness One', initials: 'WO', items: engine.def('close').text.witnessItems })
    await engine.runStep('close')
    assert.equal(engine.isComplete(), true)
    await engine.shutdown()
  } finally {
    await f.cleanup()
  }
})

test('the headless runner never signs for anyone: in production each witness signs at the terminal, and an unanswered sign-off stops the run by name', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const { planForAppliances } = await import('../main/ceremony/simulated-plan')
    const plan = planForAppliances(f.creds, { id: 'prod-at-terminal', mode: 'production' })
    const planFile = join(f.dir, 'plan.json')
    const credsFile = join(f.dir, 'creds.json')
    writeFileSync(planFile, JSON.stringify(plan))
    // Production: no custodian password in any file.
    writeFileSync(credsFile, JSON.stringify({ appliances: f.creds.appliances.map(({ custodians: _c, ...a }) => a) }))
    const args = ['run', '--plan', planFile, '--credentials', credsFile, '--state', f.stateDir, '--media', f.mediaDir, '--yes', '--present', 'Rehearsal operator,Witness One']
    // Witness One answers for the preflight (a wrong initial first), then nobody answers any more.
    const run = await runCeremonyAsync(args, { input: 'Witness One\nXX\nWitness One\nWO\n', canaries: f.creds.appliances.map((a) => a.apiKey), timeoutMs: 60_000 })
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!)
    assert.equal(summary.ok, false)
    assert.equal(summary.error.code, 'WITNESS_SIGNOFF_REQUIRED', run.stderr)
    assert.match(run.stderr, /P\.0 witness name: /)
    assert.match(run.stderr, /INITIALS_WRONG/)
    assert.match(run.stderr, /P\.0: signed by Witness One/)
    const log = readFileSync(join(f.stateDir, 'audit-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    const signoffs = log.filter((e) => e.kind === 'witness-signoff')
    assert.equal(signoffs.length, 1)
    assert.equal(signoffs[0].facts.simulated, undefined, 'a real witness signed, not a simulated one')
    assert.equal(signoffs[0].facts.witness, 'Witness One')
  } finally {
    await f.cleanup()
  }
})

test('in a rehearsal the simulated witnesses sign every step, and their sign-offs say so', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    await runToCompletion(engine, { credentials: f.creds, confirm: true, witnessing: { kind: 'simulated' } })
    const { record } = await engine.sealRecord()
    await engine.shutdown()
    const signed = new Set(record.signoffs.map((s) => s.step))
    for (const step of engine.steps) {
      if (step.text.witnessItems.length === 0 || engine.record(step.id).state === 'skipped') continue
      assert.ok(signed.has(step.id), `${step.scriptId} was signed`)
    }
    assert.ok(record.signoffs.every((s) => s.facts['simulated'] === true))
  } finally {
    await f.cleanup()
  }
})

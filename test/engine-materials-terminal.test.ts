/**
 * The headless run in production types what is read in the room at the terminal. A value refused as
 * input is asked again; a value that differs from the plan offers to type it again (a slip of the
 * finger) or to have a witness record an exception, which names the mismatch's reference itself.
 * Nothing is made up: an unanswered question stops the run by name.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runToCompletion } from '../main/ceremony/driver'
import { MATERIALS_STEP } from '../main/ceremony/materials'
import { ceremonyFixture } from './support/ceremony-fixture'

const stopAtTransfer = (step: { id: string }) => step.id.startsWith('transfer-key')

test('at the terminal: a bad value is asked again, a mismatch is typed again or excepted by a witness naming it', async () => {
  const f = await ceremonyFixture({ targets: 1, materials: true })
  try {
    const engine = await f.open()
    const m = f.plan.materials!
    const asked: string[] = []
    const said: string[] = []
    let serialTries = 0
    let bagTries = 0
    const ask = async (q: string): Promise<string | null> => {
      asked.push(q)
      if (/witness name: $/.test(q)) return 'Witness One'
      if (/initials of Witness One/.test(q)) return 'WO'
      if (/what was found/.test(q)) return 'the laptop was rebagged by site security on 1 December; their log shows it'
      if (/type "again"/.test(q)) return asked.some((x) => /type "again"/.test(x) && x !== q) ? 'exception' : 'again'
      const last = said.at(-1) ?? ''
      if (/Serial number/.test(q) && /fips-2/.test(last)) return ++serialTries === 1 ? 'FX2200-SIM-0099' : m.appliances!['fips-2']!.serial
      if (/Serial number/.test(q) && /fips-1/.test(last)) return m.appliances!['fips-1']!.serial
      if (/Tamper-evident label numbers/.test(q)) return /fips-1/.test(last) ? 'tl-101 tl-102' : 'TL-201, TL-202'
      if (/Number on its tamper-evident bag/.test(q) && /ceremony-laptop/.test(last)) return ['TEB 1', 'TEB-999999'][bagTries++] ?? 'TEB-999999'
      if (/Number on its tamper-evident bag/.test(q)) return 'TEB-100002'
      if (/Serial number/.test(q) && /ceremony-laptop/.test(last)) return 'LT-SIM-0001'
      if (/Serial number/.test(q) && /ceremony-media/.test(last)) return 'USB-SIM-0001'
      if (/Serial number/.test(q) && /archive-media/.test(last)) return 'USB-SIM-0002'
      return null
    }
    const say = (line: string) => void said.push(line)
    await runToCompletion(engine, { credentials: f.creds, confirm: true, witnessing: { kind: 'ask', present: ['Rehearsal operator', 'Witness One'], ask }, progress: say, stopAt: stopAtTransfer })

    // M.1: the serial was mistyped, then typed again: the slip is in the log, the record keeps the right one.
    const slips = engine.logEntries().filter((e) => e.kind === 'materials-mismatch' && e.step === MATERIALS_STEP.appliances)
    assert.deepEqual(slips.map((e) => [e.facts['code'], e.facts['typed']]), [['APPLIANCE_SERIAL_MISMATCH', 'FX2200-SIM-0099']])
    const identified = engine.record(MATERIALS_STEP.appliances).result as { appliances: { id: string; serial: string; tamperLabels: string[] }[] }
    assert.deepEqual(identified.appliances.map((a) => [a.id, a.serial, a.tamperLabels]), [
      ['fips-1', 'FX2200-SIM-0001', ['TL-101', 'TL-102']], ['fips-2', 'FX2200-SIM-0002', ['TL-201', 'TL-202']],
    ])

    // M.2: "TEB 1" is no bag number (asked again); TEB-999999 is not the plan's: a witness's exception names it.
    assert.ok(said.some((l) => /STEP_INPUT_INVALID: .*"TEB 1" is not a bag or label number/.test(l)), said.join('\n'))
    const [bag] = engine.logEntries().filter((e) => e.kind === 'materials-mismatch' && e.step === MATERIALS_STEP.unseal)
    assert.equal(bag!.facts['code'], 'BAG_NUMBER_MISMATCH')
    const exception = engine.logEntries().find((e) => e.kind === 'exception' && e.step === MATERIALS_STEP.unseal)!
    assert.equal(exception.facts['by'], 'Witness One')
    assert.match(String(exception.facts['note']), new RegExp(`^${String(bag!.facts['reference'])}: the laptop was rebagged`))
    assert.equal(engine.record(MATERIALS_STEP.unseal).state, 'done')
    assert.equal(engine.currentStep()!.id.startsWith('transfer-key'), true)
    await engine.shutdown()
  } finally {
    await f.cleanup()
  }
})

test('at the terminal: nobody types the chassis serial, and the run stops by name with nothing recorded for the step', async () => {
  const f = await ceremonyFixture({ targets: 1, materials: true })
  try {
    const engine = await f.open()
    const ask = async (q: string) => (/witness name: $/.test(q) ? 'Witness One' : /initials of/.test(q) ? 'WO' : null)
    await assert.rejects(
      runToCompletion(engine, { credentials: f.creds, confirm: true, witnessing: { kind: 'ask', present: ['Rehearsal operator', 'Witness One'], ask }, stopAt: stopAtTransfer }),
      { code: 'STEP_INPUT_REQUIRED' },
    )
    assert.equal(engine.record(MATERIALS_STEP.appliances).attempts, 0)
    assert.equal(engine.logEntries().some((e) => e.step === MATERIALS_STEP.appliances && e.kind === 'step-intent'), false)
    await engine.shutdown()
  } finally {
    await f.cleanup()
  }
})

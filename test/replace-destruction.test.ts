/**
 * replace-appliance D.1, the destruction record: the serial, what was done with the failed
 * appliance and the RMA number are typed from what the room reads (never copied from the plan);
 * each difference from the plan is a named mismatch that stands only with an exception naming its
 * reference; a malformed value is refused before anything is recorded; the evidence is kept by the
 * SHA-256 of the file on the media, and the failed appliance must no longer answer.
 * The step runs here with a context of its own (the process-level rehearsal is replace-appliance.test.ts).
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { destructionRecord } from '../main/ceremony/kinds/replace-appliance/destruction'
import type { ReplaceAppliancePlan } from '../main/ceremony/kinds/replace-appliance/plan'
import { membershipPlanFor } from '../main/ceremony/simulated-membership-plan'
import type { Mismatch, StepContext } from '../main/ceremony/step'
import { readInput } from '../main/ceremony/step-input'
import { CeremonyError } from '../main/errors'

/** A loopback port nothing listens on: the failed appliance's address, where nothing answers. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

const pin = (c: string) => c.repeat(64)

function planOf(port: number, failed: Partial<NonNullable<Parameters<typeof membershipPlanFor>[1]['failed']>> = {}): ReplaceAppliancePlan {
  const fips = (id: string, p: number, c: string) => ({ id, host: '127.0.0.1', port: p, spkiSha256: pin(c), apiKey: 'unused', custodians: [1, 2].map((n) => ({ user: `${id}-custodian-${n}@example.test`, password: 'unused' })) })
  const set = {
    credentials: { appliances: [fips('fips-1', port, 'a'), fips('fips-2', 4432, 'b'), fips('fips-4', 4434, 'c')] },
    cluster: { id: 'sim-cluster', host: '127.0.0.1', port: 4440, spkiSha256: pin('d'), accountId: '6f1c2a4e-0b7d-4c55-9e3a-2d8f10b7c9e1', users: [{ user: 'admin@example.test', password: 'unused', role: 'account-admin' }] },
    loadBalancer: null,
  }
  return membershipPlanFor(set as never, {
    kind: 'replace-appliance', added: 'fips-4', buildsOn: [pin('e')], id: 'replace-d1',
    failed: { id: 'fips-1', serial: 'FX2200-SIM-0001', disposition: 'zeroised', evidenceFile: 'fips-1-zeroisation.txt', ...failed },
  }) as ReplaceAppliancePlan
}

const EVIDENCE = Buffer.from('zeroisation report of FX2200-SIM-0001\n')

/** What the engine gives the step: the plan, the media holding the evidence, the exceptions recorded here, the mismatch log. */
function contextFor(plan: ReplaceAppliancePlan, opts: { exceptions?: string[]; media?: Record<string, Buffer> } = {}) {
  const media = opts.media ?? { 'fips-1-zeroisation.txt': EVIDENCE }
  const logged: Mismatch[] = []
  const ctx = {
    plan, planDigest: pin('f'), stepId: 'destruction-record',
    label: (id: string) => plan.appliances.find((a) => a.id === id)?.label ?? id,
    media: {
      exists: (name: string) => name in media,
      readUnverified: async (name: string) => media[name]!,
    },
    exceptionsHere: () => (opts.exceptions ?? []).map((note, i) => ({ seq: 40 + i, facts: { note } })),
    recorded: () => logged.map((m) => ({ kind: 'materials-mismatch', step: 'destruction-record', facts: { reference: m.reference } })),
    mismatch: (m: Mismatch) => void logged.push(m),
  }
  return { ctx: ctx as unknown as StepContext<ReplaceAppliancePlan>, logged }
}

/** Runs the step as the runner does: typed values read, intent, act, verify. */
async function run(plan: ReplaceAppliancePlan, raw: Record<string, string>, opts: Parameters<typeof contextFor>[1] = {}) {
  const step = destructionRecord(plan)
  const { ctx, logged } = contextFor(plan, opts)
  const typed = readInput(step.input!.fields, raw)
  const intent = await step.intent(ctx, typed)
  const result = (await step.act(ctx, intent)) as Exclude<Awaited<ReturnType<typeof step.act>>, symbol>
  let refused: CeremonyError | null = null
  try {
    step.verify(ctx, result)
  } catch (err) {
    refused = err as CeremonyError
  }
  return { result, refused, logged, intent }
}

const asPlanned = { 'failed:serial': 'fx2200-sim-0001', 'failed:disposition': 'zeroised' }

test('the fields are read in the room: the serial, what was done (the plan\'s choice first, every other offered), the RMA number only for a return', async () => {
  const port = await closedPort()
  const fields = destructionRecord(planOf(port)).input!.fields
  assert.deepEqual(fields.map((f) => [f.id, f.format]), [['failed:serial', 'serial'], ['failed:disposition', 'choice']])
  assert.deepEqual(fields[1]!.options!.map((o) => o.value), ['zeroised', 'destroyed', 'returned-rma'])
  const rma = destructionRecord(planOf(port, { disposition: 'returned-rma', rmaNumber: 'RMA-2026-0042' })).input!.fields
  assert.deepEqual(rma.map((f) => f.id), ['failed:serial', 'failed:disposition', 'failed:rma-number'])
  assert.equal(rma[1]!.options![0]!.value, 'returned-rma')
  assert.deepEqual(rma.map((f) => f.rehearsal), ['FX2200-SIM-0001', 'returned-rma', 'RMA-2026-0042'])
})

test('typed as the plan says: the record keeps what was typed, the evidence by its SHA-256, and that nothing answers at the address', async () => {
  const plan = planOf(await closedPort())
  const { result, refused, logged, intent } = await run(plan, asPlanned)
  assert.equal(refused, null)
  assert.deepEqual(logged, [])
  assert.deepEqual(intent['typed'], [{ field: 'failed:serial', typed: 'FX2200-SIM-0001' }, { field: 'failed:disposition', typed: 'zeroised' }])
  assert.deepEqual([result.serial, result.disposition, result.rmaNumber, result.answered, result.mismatches], ['FX2200-SIM-0001', 'zeroised', null, false, []])
  assert.equal(result.evidenceSha256, createHash('sha256').update(EVIDENCE).digest('hex'))
  assert.equal(result.evidenceBytes, EVIDENCE.length)
})

test('a serial read off the chassis that is not the plan\'s is refused by name, logged once, and stands only with an exception naming its reference', async () => {
  const plan = planOf(await closedPort())
  const typed = { ...asPlanned, 'failed:serial': 'FX2200-SIM-0007' }
  const first = await run(plan, typed)
  assert.equal(first.refused?.code, 'APPLIANCE_SERIAL_MISMATCH')
  assert.equal(first.logged.length, 1)
  const m = first.logged[0]!
  assert.deepEqual([m.expected, m.typed, m.item, m.source], ['FX2200-SIM-0001', 'FX2200-SIM-0007', 'fips-1', 'operator'])
  assert.match(first.refused!.message, new RegExp(m.reference))
  // An exception naming another reference does not let it stand.
  assert.equal((await run(plan, typed, { exceptions: ['CHS-00000000: something else'] })).refused?.code, 'APPLIANCE_SERIAL_MISMATCH')
  const excepted = await run(plan, typed, { exceptions: [`${m.reference}: the plan had a typo; the chassis reads 0007, photographed`] })
  assert.equal(excepted.refused, null)
  assert.equal(excepted.result.serial, 'FX2200-SIM-0007', 'the record keeps what the chassis shows')
  assert.deepEqual(excepted.result.acknowledged, { [m.reference]: 40 })
})

test('what was done and the RMA number are compared with the plan too: DISPOSITION_MISMATCH, RMA_NUMBER_MISMATCH', async () => {
  const port = await closedPort()
  const destroyed = await run(planOf(port), { ...asPlanned, 'failed:disposition': 'destroyed' })
  assert.equal(destroyed.refused?.code, 'DISPOSITION_MISMATCH')
  assert.deepEqual([destroyed.logged[0]!.expected, destroyed.logged[0]!.typed], ['zeroised', 'destroyed'])
  const rmaPlan = planOf(port, { disposition: 'returned-rma', rmaNumber: 'RMA-2026-0042' })
  const rma = await run(rmaPlan, { 'failed:serial': 'FX2200-SIM-0001', 'failed:disposition': 'returned-rma', 'failed:rma-number': 'rma-2026-0043' })
  assert.equal(rma.refused?.code, 'RMA_NUMBER_MISMATCH')
  assert.equal((await run(rmaPlan, { 'failed:serial': 'FX2200-SIM-0001', 'failed:disposition': 'returned-rma', 'failed:rma-number': 'rma-2026-0042' })).refused, null)
})

test('a value that is no serial, a choice not offered, or a field missing is refused before anything is recorded', async () => {
  const fields = destructionRecord(planOf(await closedPort())).input!.fields
  for (const raw of [{ ...asPlanned, 'failed:serial': 'FX 2200 !' }, { ...asPlanned, 'failed:disposition': 'lost' }, { 'failed:serial': 'FX2200-SIM-0001' }, { ...asPlanned, 'failed:rma-number': 'RMA-1' }]) {
    assert.throws(() => readInput(fields, raw), (err: CeremonyError) => err.code === 'STEP_INPUT_INVALID', JSON.stringify(raw))
  }
})

test('after a crash, with nothing typed anew, the step looks: it judges the journaled values again (never asks for them, never makes them up)', async () => {
  const plan = planOf(await closedPort())
  const step = destructionRecord(plan)
  const first = await run(plan, { ...asPlanned, 'failed:serial': 'FX2200-SIM-0007' })
  const { ctx } = contextFor(plan)
  const again = (await step.look(ctx, first.intent)) as typeof first.result
  assert.deepEqual([again.serial, again.disposition, again.mismatches.map((m) => m.reference)], ['FX2200-SIM-0007', 'zeroised', first.logged.map((m) => m.reference)])
  await assert.rejects(async () => step.look(ctx, { appliance: 'fips-1', evidenceFile: 'fips-1-zeroisation.txt' }), (err: CeremonyError) => err.code === 'JOURNAL_CORRUPT')
})

test('without the evidence on the media the step stops by name (DESTRUCTION_EVIDENCE_MISSING)', async () => {
  await assert.rejects(run(planOf(await closedPort()), asPlanned, { media: {} }), (err: CeremonyError) => err.code === 'DESTRUCTION_EVIDENCE_MISSING')
})

/**
 * M.3, at the close: the storage allocation. Each item is sealed in a new tamper-evident bag and
 * handed to a person named in the plan or put in one of its safes. The operator chooses the receiver
 * (the plan's is offered first) and types the new bag's number twice — nothing else records it, and
 * the next ceremony checks its bag against this record (previous-record.ts). A bag is used once: a
 * number that is one just opened, or given to two items, is refused before anything is recorded
 * (BAG_REUSED). A receiver or bag other than the plan's is a mismatch a witness must name.
 */
import { z } from 'zod'
import { sha256Hex } from '../../evidence'
import { CeremonyError } from '../../errors'
import type { Plan, Station } from '../plan-envelope'
import { defineStep, item, stepRef, type JsonObject, type Mismatch, type StepContext } from '../step'
import { intentOf, typedFrom, valueOf, type InputField, type Typed } from '../step-input'
import { handoffBags } from './bags'
import { MismatchSchema, acknowledgedBy, compare, describeMismatch, openMismatches } from './mismatch'
import { AllocationSchema, STORAGE_STEP_ID } from './previous-record'
import { receiversAt, type Materials } from './schema'
import { UNSEAL_STEP_ID, UnsealResult } from './unseal-step'

export { STORAGE_STEP_ID }

export const StorageResult = z.strictObject({
  allocation: z.array(AllocationSchema),
  mismatches: z.array(MismatchSchema),
  acknowledged: z.record(z.string(), z.number()),
})
export type StorageResult = z.infer<typeof StorageResult>

const toField = (id: string) => `item:${id}:to`
const bagField = (id: string) => `item:${id}:bag`

/** A rehearsal's new bag: the same on every run of the plan, another for the next plan (its bags are new too). */
const rehearsalBag = (plan: Plan, item: string) => `RB-${sha256Hex(`${plan.id}\n${item}`).slice(0, 8).toUpperCase()}`

/** The items stored: every one, or across sites those at one station (schema.ts: an item is stored where it is). */
const storedAt = (m: Materials, station: Station | undefined) => m.storage.filter((s) => !station || m.items.find((i) => i.id === s.item)?.station === station.id)

function fields(plan: Plan, m: Materials, station: Station | undefined): InputField[] {
  const options = receiversAt(plan, m, station?.id)
  return storedAt(m, station).flatMap((s) => {
    const described = m.items.find((i) => i.id === s.item)!
    const group = `${described.description} (${s.item})`
    // The plan's receiver is offered first, so the form's default is what was planned.
    const ordered = [...options.filter((o) => o.value === s.to), ...options.filter((o) => o.value !== s.to)]
    return [
      { id: toField(s.item), subject: s.item, group, label: 'Given to', hint: 'the person or safe that receives it now', format: 'choice' as const, options: ordered, rehearsal: s.to },
      { id: bagField(s.item), subject: s.item, group, label: 'New tamper-evident bag number', hint: 'seal the item in a new bag, then read the number from it; type it twice', format: 'bag' as const, twice: true, rehearsal: s.bag ?? rehearsalBag(plan, s.item) },
    ]
  })
}

/** The opening of the bags: the one step, or across sites one per station (each carried to the others in the hand-offs). */
const unsealRefs = (plan: Plan) => [UNSEAL_STEP_ID, ...(plan.stations ?? []).map((s) => `${UNSEAL_STEP_ID}:${s.id}`)].map((id) => stepRef(id, UnsealResult))
const unsealedItem = (ctx: StepContext, item: string) => unsealRefs(ctx.plan).map((r) => ctx.find(r)?.items.find((x) => x.id === item)).find(Boolean)

/** Before anything is recorded: every new bag is new. */
function checkBags(ctx: StepContext, m: Materials, typed: Typed, station: Station | undefined): void {
  const opened = new Map<string, string>()
  for (const i of m.items) {
    const bag = unsealedItem(ctx, i.id)?.bag ?? i.bag
    if (bag) opened.set(bag, i.description)
  }
  const carried = handoffBags(ctx.recorded())
  const given = new Map<string, string>()
  for (const s of storedAt(m, station)) {
    const bag = typed[bagField(s.item)]
    if (bag === undefined) continue
    const item = m.items.find((i) => i.id === s.item)!.description
    if (opened.has(bag)) throw new CeremonyError('BAG_REUSED', `${item}: bag ${bag} is the one "${opened.get(bag)}" came out of in this ceremony. A tamper-evident bag is used once: seal it in a new bag and type that one. Nothing was recorded.`)
    if (carried.has(bag)) throw new CeremonyError('BAG_REUSED', `${item}: bag ${bag} is the one ${carried.get(bag)} was sealed in. A tamper-evident bag is used once: seal it in a new bag and type that one. Nothing was recorded.`)
    if (given.has(bag)) throw new CeremonyError('BAG_REUSED', `${item}: bag ${bag} was also typed for "${given.get(bag)}". Each item goes in its own bag. Nothing was recorded.`)
    given.set(bag, item)
  }
}

function judge(ctx: StepContext, m: Materials, typed: Typed, station: Station | undefined): StorageResult {
  const options = receiversAt(ctx.plan, m, station?.id)
  const safes = new Set((m.safes ?? []).map((s) => s.id))
  const mismatches: Mismatch[] = []
  const add = (x: Mismatch | null) => void (x && mismatches.push(x))
  const allocation = storedAt(m, station).map((s) => {
    const i = m.items.find((x) => x.id === s.item)!
    const to = valueOf(typed, toField(s.item))
    const bag = valueOf(typed, bagField(s.item))
    const base = { item: s.item, description: i.description, source: 'operator' as const, against: 'the plan' }
    const label = (v: string) => options.find((o) => o.value === v)?.label ?? v
    add(compare(ctx.stepId, { ...base, code: 'STORAGE_MISMATCH', field: toField(s.item), expected: label(s.to), typed: label(to) }))
    add(compare(ctx.stepId, { ...base, code: 'BAG_NUMBER_MISMATCH', field: bagField(s.item), expected: s.bag, typed: bag }))
    const serial = unsealedItem(ctx, s.item)?.serial ?? i.serial ?? null
    return { item: s.item, description: i.description, serial, to, toLabel: label(to), kind: safes.has(to) ? 'safe' as const : 'person' as const, bag }
  })
  return { allocation, mismatches, acknowledged: acknowledgedBy(ctx, mismatches) }
}

/** `station`: across sites, the step of one station, for the items there (materials-storage:<station>, in its last leg). */
export function storageStep(plan: Plan, m: Materials, station?: Station) {
  const judged = (ctx: StepContext, intent: JsonObject) => {
    const typed = typedFrom(intent)
    if (!typed) throw new CeremonyError('JOURNAL_CORRUPT', 'The journaled intent of the storage allocation holds no typed values')
    return judge(ctx, m, typed, station)
  }
  return defineStep<StorageResult, JsonObject>({
    id: station ? `${STORAGE_STEP_ID}:${station.id}` : STORAGE_STEP_ID, name: 'materials-storage', group: null, appliances: [], ...(station ? { station: station.id } : {}),
    interaction: 'run', confirmation: null,
    result: StorageResult, input: { fields: fields(plan, m, station), check: (ctx, typed) => checkBags(ctx, m, typed, station) },
    text: {
      where: station ? `${station.label}: the new tamper-evident bags` : 'the new tamper-evident bags',
      title: `Seal each item${station ? ` at ${station.label}` : ''} in a new bag and hand it over for storage`,
      explain: 'Seal each item in a new tamper-evident bag, read the bag\'s number aloud and type it twice, and say who receives it: the person or safe the plan names is offered first. The record keeps each item\'s new bag and where it went; the next ceremony checks its bag against it.',
      witnessItems: ['Each item was sealed in a new bag whose number was read aloud', 'Each item was handed to the person or put in the safe shown'],
    },
    intent: (_ctx, typed) => {
      if (!typed) throw new CeremonyError('STEP_INPUT_REQUIRED', 'Type each new bag number first')
      return intentOf(typed)
    },
    look: async (ctx, earlier) => judged(ctx, earlier),
    act: async (ctx, intent) => judged(ctx, intent),
    verify(ctx, r) {
      const refused = openMismatches(ctx, r.mismatches, r.acknowledged)
      if (refused) throw refused
    },
    evidence: (r) => ({
      items: [
        ...r.allocation.flatMap((a) => item(a.description, `sealed in bag ${a.bag}; given to ${a.toLabel}`)),
        ...r.mismatches.flatMap((x) => item(`Mismatch ${x.reference}`, `${describeMismatch(x)}; acknowledged at log entry ${r.acknowledged[x.reference] ?? '?'}`)),
      ],
      comparisons: [],
    }),
  })
}

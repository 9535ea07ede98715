/**
 * M.2: the materials come out of their tamper-evident bags. Before each bag is opened its number is
 * read and typed, with the item's serial number once it is out. The bag number is checked against
 * the last record that sealed the item — an earlier ceremony's record on the media, verified whole
 * (previous-record.ts) — or, for an item no record sealed, against the plan. A difference is a
 * mismatch (mismatch.ts): a `materials-mismatch` entry for the deviation register, and the step
 * stands only once a witness's exception names it. Nothing on the appliances: running it again
 * reads the records again and judges the values typed at that attempt.
 */
import { z } from 'zod'
import { CeremonyError } from '../../errors'
import type { Plan, Station } from '../plan-envelope'
import { defineStep, item, type JsonObject, type Mismatch, type StepContext } from '../step'
import { intentOf, typedFrom, valueOf, type InputField, type Typed } from '../step-input'
import { MismatchSchema, acknowledgedBy, compare, describeMismatch, openMismatches } from './mismatch'
import { readPreviousRecord, type PreviousRecord } from './previous-record'
import type { Materials } from './schema'

export const UNSEAL_STEP_ID = 'materials-unseal'

export const UnsealResult = z.strictObject({
  items: z.array(z.strictObject({
    id: z.string(), description: z.string(),
    /** The bag number typed from the bag before it was opened (null: the item was not in a bag). */
    bag: z.string().nullable(),
    serial: z.string().nullable(),
    /** What the earlier record says of it, when the plan names one. */
    sealedBy: z.strictObject({ ceremonyId: z.string(), finalDigest: z.string(), bag: z.string(), to: z.string() }).nullable(),
  })),
  records: z.array(z.strictObject({ file: z.string(), finalDigest: z.string(), ceremonyId: z.string(), mode: z.string(), sealedAt: z.string() })),
  mismatches: z.array(MismatchSchema),
  acknowledged: z.record(z.string(), z.number()),
})
export type UnsealResult = z.infer<typeof UnsealResult>

export const bagField = (id: string) => `item:${id}:bag`
const serialField = (id: string) => `item:${id}:serial`

/** The items opened: every one, or across sites those at one station. */
export const itemsAt = (m: Materials, station: Station | undefined) => m.items.filter((i) => !station || i.station === station.id)

/** Items with something to read at the opening: a bag, a serial number, or both. */
export function unsealFields(m: Materials, station?: Station): InputField[] {
  return itemsAt(m, station).flatMap((i) => {
    const group = `${i.description} (${i.id})`
    const fields: InputField[] = []
    if (i.bag) fields.push({ id: bagField(i.id), subject: i.id, group, label: 'Number on its tamper-evident bag', hint: 'read it before opening the bag, and check the bag is intact', format: 'bag', rehearsal: i.bag })
    if (i.serial) fields.push({ id: serialField(i.id), subject: i.id, group, label: 'Serial number', hint: 'as printed on the item', format: 'serial', rehearsal: i.serial })
    return fields
  })
}

const short = (digest: string) => `${digest.slice(0, 8)}…`

async function judge(ctx: StepContext, m: Materials, typed: Typed, station: Station | undefined): Promise<UnsealResult> {
  const opened = itemsAt(m, station)
  const records = new Map<string, PreviousRecord>()
  for (const r of m.previousRecords ?? []) {
    if (opened.some((i) => i.previousRecord === r.finalDigest)) records.set(r.finalDigest, await readPreviousRecord(ctx.media, r.file, r.finalDigest))
  }
  const mismatches: Mismatch[] = []
  const add = (x: Mismatch | null) => void (x && mismatches.push(x))
  const items: UnsealResult['items'] = []
  for (const i of opened) {
    const bag = i.bag ? valueOf(typed, bagField(i.id)) : null
    const serial = i.serial ? valueOf(typed, serialField(i.id)) : null
    const base = { item: i.id, description: i.description }
    const record = i.previousRecord ? records.get(i.previousRecord)! : null
    const sealed = record?.sealed.get(i.id) ?? null
    if (record && !sealed) {
      add(compare(ctx.stepId, { ...base, code: 'ITEM_NOT_IN_RECORD', field: bagField(i.id), source: 'plan', against: `the record of ${record.ceremonyId} (${short(record.finalDigest)})`, expected: 'no bag: that record does not seal this item', typed: i.bag ?? '' }))
    }
    if (bag !== null) {
      // The record that sealed it decides; the plan's number is what the planner copied from it.
      if (record && sealed) {
        const against = `the record of ${record.ceremonyId} (${short(record.finalDigest)}), which sealed it`
        add(compare(ctx.stepId, { ...base, code: 'BAG_NUMBER_MISMATCH', field: bagField(i.id), source: 'operator', against, expected: sealed.bag, typed: bag }))
        if (i.bag !== sealed.bag) add(compare(ctx.stepId, { ...base, code: 'BAG_NUMBER_MISMATCH', field: `${bagField(i.id)} (plan)`, source: 'plan', against, expected: sealed.bag, typed: i.bag! }))
      } else if (!record) {
        add(compare(ctx.stepId, { ...base, code: 'BAG_NUMBER_MISMATCH', field: bagField(i.id), source: 'operator', against: 'the plan', expected: i.bag, typed: bag }))
      }
    }
    if (serial !== null) {
      add(compare(ctx.stepId, { ...base, code: 'ITEM_SERIAL_MISMATCH', field: serialField(i.id), source: 'operator', against: 'the plan', expected: i.serial, typed: serial }))
      if (sealed?.serial && sealed.serial !== i.serial) add(compare(ctx.stepId, { ...base, code: 'ITEM_SERIAL_MISMATCH', field: `${serialField(i.id)} (record)`, source: 'operator', against: `the record of ${record!.ceremonyId}`, expected: sealed.serial, typed: serial }))
    }
    items.push({ id: i.id, description: i.description, bag, serial, sealedBy: record && sealed ? { ceremonyId: record.ceremonyId, finalDigest: record.finalDigest, bag: sealed.bag, to: sealed.toLabel } : null })
  }
  return {
    items,
    records: [...records.values()].map((r) => ({ file: r.file, finalDigest: r.finalDigest, ceremonyId: r.ceremonyId, mode: r.mode, sealedAt: r.sealedAt })),
    mismatches, acknowledged: acknowledgedBy(ctx, mismatches),
  }
}

/** `station`: across sites, the step of one station, for the items there (materials-unseal:<station>, run at that station). */
export function unsealStep(_plan: Plan, m: Materials, station?: Station) {
  const judged = (ctx: StepContext, intent: JsonObject) => {
    const typed = typedFrom(intent)
    if (!typed) throw new CeremonyError('JOURNAL_CORRUPT', 'The journaled intent of the opening of the bags holds no typed values')
    return judge(ctx, m, typed, station)
  }
  return defineStep<UnsealResult, JsonObject>({
    id: station ? `${UNSEAL_STEP_ID}:${station.id}` : UNSEAL_STEP_ID, name: 'materials-unseal', group: null, appliances: [], ...(station ? { station: station.id } : {}),
    interaction: 'run', confirmation: null,
    result: UnsealResult, input: { fields: unsealFields(m, station) },
    text: {
      where: station ? `${station.label}: the tamper-evident bags` : 'the tamper-evident bags',
      title: `Take the materials${station ? ` at ${station.label}` : ''} out of their tamper-evident bags`,
      explain: 'Before opening each bag, read its number aloud and type it; once the item is out, type its serial number. Each bag number is checked against the record that last sealed the item (or the plan). A bag that is damaged or carries another number stops the step until a witness records an exception naming it.',
      witnessItems: ['Each bag was intact and its number was read aloud before it was opened', 'Each item\'s serial number was read from the item'],
    },
    intent: (_ctx, typed) => {
      if (!typed) throw new CeremonyError('STEP_INPUT_REQUIRED', 'Type each bag number first')
      return intentOf(typed)
    },
    look: (ctx, earlier) => judged(ctx, earlier),
    act: (ctx, intent) => judged(ctx, intent),
    verify(ctx, r) {
      const refused = openMismatches(ctx, r.mismatches, r.acknowledged)
      if (refused) throw refused
    },
    evidence: (r) => ({
      items: [
        ...r.records.flatMap((x) => item(`Earlier record ${x.file} (${x.ceremonyId}, ${x.mode}) — final digest`, x.finalDigest, 'digest')),
        ...r.items.flatMap((i) => item(i.description, [i.bag ? `bag ${i.bag}` : 'not in a bag', i.serial ? `serial ${i.serial}` : '', i.sealedBy ? `sealed by ${i.sealedBy.ceremonyId} in bag ${i.sealedBy.bag}, given to ${i.sealedBy.to}` : ''].filter(Boolean).join('; '))),
        ...r.mismatches.flatMap((x) => item(`Mismatch ${x.reference}`, `${describeMismatch(x)}; acknowledged at log entry ${r.acknowledged[x.reference] ?? '?'}`)),
      ],
      comparisons: [],
    }),
  })
}

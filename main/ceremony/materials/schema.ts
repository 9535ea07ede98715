/**
 * The materials manifest in a plan (issue 14 part 4; ICANN scripts list the same): for each
 * appliance the chassis serial number and tamper-label numbers expected (from the last ceremony's
 * record or the inventory), and optionally the version and FIPS level it must report; the items
 * that come out of tamper-evident bags (smart cards, media, laptops, documents), each with the bag
 * it is sealed in now or the record that sealed it; and where each item goes at the close, with the
 * new bag numbers when they are known in advance. Any kind's plan may carry it (plan-envelope.ts).
 */
import { z } from 'zod'
import { spokenTextProblem } from '../plan-names'
import type { Plan } from '../plan-envelope'
import { BAG_FORMAT, SERIAL_FORMAT, canonical } from '../step-input'
import { participantsOf } from '../witnessing'

const id = z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$/, 'use 3–64 lowercase letters, digits and dashes')
const text = (max: number) => z.string().trim().min(1).max(max).superRefine((value, ctx) => {
  const problem = spokenTextProblem(value)
  if (problem) ctx.addIssue({ code: 'custom', message: problem })
})
/** Bag and label numbers as printed on common tamper-evident bags: kept in capitals. */
const bag = z.string().transform(canonical).pipe(z.string().regex(BAG_FORMAT, 'letters, digits and dashes, 4 to 32 characters, as printed on the bag or label'))
const serial = z.string().transform(canonical).pipe(z.string().regex(SERIAL_FORMAT, 'letters, digits, dashes, dots and slashes, up to 64 characters'))
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex characters (a record\'s final digest)')
/** A file on the ceremony media, by a plain name (the media is read only by such names). */
const mediaFile = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/, 'a plain file name on the ceremony media (letters, digits, . _ -)')

export const ApplianceMaterialsSchema = z.strictObject({
  /** The serial number printed on the chassis. */
  serial,
  /** The numbers of the tamper-evident labels on the chassis. */
  tamperLabels: z.array(bag).min(1).max(16),
  /** The FIPS level the appliance must report (`fips_level` of GET /sys/v1/version). */
  fipsLevel: z.number().int().min(1).max(4).optional(),
  /** The software version it must report ("major.minor.build"). */
  version: z.string().regex(/^\d{1,4}\.\d{1,4}\.\d{1,8}$/, 'major.minor.build, as GET /sys/v1/version reports it').optional(),
})

export const ItemSchema = z.strictObject({
  id,
  /** What it is, as read aloud ("Quorum card of Alice", "USB drive for the wrapped key"). */
  description: text(120),
  serial: serial.optional(),
  /** The tamper-evident bag it is sealed in now; absent for an item not in a bag (new media). */
  bag: bag.optional(),
  /** The final digest of the record of the ceremony that last sealed it (listed in previousRecords). */
  previousRecord: hex64.optional(),
  /** Across sites: the station where the item is (its bag is opened and it is stored there). */
  station: id.optional(),
})

export const MaterialsSchema = z.strictObject({
  /** Per appliance id: what its chassis shows. When given, every appliance of the plan is listed. */
  appliances: z.record(id, ApplianceMaterialsSchema).optional(),
  items: z.array(ItemSchema).max(64).default([]),
  /** Earlier ceremonies' records, as files on the ceremony media: each item's bag is checked against the one that sealed it. */
  previousRecords: z.array(z.strictObject({ finalDigest: hex64, file: mediaFile })).max(8).optional(),
  /** Safes that receive items at the close. */
  safes: z.array(z.strictObject({ id, label: text(80), /** Across sites: the station the safe is at. */ station: id.optional() })).max(16).optional(),
  /** Where each item goes at the close: a person named in the plan or a safe, and its new bag if known. */
  storage: z.array(z.strictObject({ item: id, to: text(254), bag: bag.optional() })).max(64).default([]),
})

export type Materials = z.output<typeof MaterialsSchema>
export type MaterialItem = z.output<typeof ItemSchema>
export type ApplianceMaterials = z.output<typeof ApplianceMaterialsSchema>
export type PlanWithMaterials = Plan & { materials: Materials }

export function hasMaterials(plan: Plan): plan is PlanWithMaterials {
  return plan.materials !== undefined
}

/** People and safes that may receive an item: value (what the record keeps) and how it is shown. */
export function receivers(plan: Plan, materials: Materials): { value: string; label: string }[] {
  return [
    ...participantsOf(plan).map((p) => ({ value: p.name, label: `${p.name} (${p.role})` })),
    ...(materials.safes ?? []).map((s) => ({ value: s.id, label: `${s.label} (safe)` })),
  ]
}

/** Who may receive an item at `station` (across sites): the people there and its safes; everyone without stations. */
export function receiversAt(plan: Plan, materials: Materials, station: string | undefined): { value: string; label: string }[] {
  if (!station) return receivers(plan, materials)
  const people = peopleAt(plan, station)
  const safes = new Set((materials.safes ?? []).filter((s) => s.station === station).map((s) => s.id))
  return receivers(plan, materials).filter((r) => people.has(r.value) || safes.has(r.value))
}

type Ctx = z.RefinementCtx

/** Cross-field checks, run with the envelope's: every reference resolves, nothing is listed twice. */
export function checkMaterials(plan: Plan, m: Materials, ctx: Ctx): void {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path: ['materials', ...path], message })
  if (plan.stations) checkAtStations(plan, m, issue)
  else {
    m.items.forEach((item, i) => item.station && issue(['items', i, 'station'], 'only a plan with stations says where an item is'))
    ;(m.safes ?? []).forEach((safe, i) => safe.station && issue(['safes', i, 'station'], 'only a plan with stations says where a safe is'))
  }
  if (m.appliances) {
    for (const a of Object.keys(m.appliances)) if (!plan.appliances.some((x) => x.id === a)) issue(['appliances', a], `no appliance with id "${a}"`)
    for (const a of plan.appliances) if (!m.appliances[a.id]) issue(['appliances'], `appliance "${a.id}" is missing: list what every appliance's chassis shows`)
    for (const [a, x] of Object.entries(m.appliances)) {
      const twice = x.tamperLabels.find((l, i) => x.tamperLabels.indexOf(l) !== i)
      if (twice) issue(['appliances', a, 'tamperLabels'], `label "${twice}" is listed twice`)
    }
  }
  const items = new Set<string>()
  const records = new Set((m.previousRecords ?? []).map((r) => r.finalDigest))
  m.items.forEach((item, i) => {
    if (items.has(item.id)) issue(['items', i, 'id'], `item "${item.id}" is listed twice`)
    items.add(item.id)
    if (item.previousRecord && !records.has(item.previousRecord)) issue(['items', i, 'previousRecord'], 'not one of previousRecords: name the record\'s file there')
    // The plan says which bag to expect, so reviewers see it and a rehearsal can type it; the step
    // checks it against the record too.
    if (item.previousRecord && !item.bag) issue(['items', i, 'bag'], 'an item sealed by an earlier record needs the bag number that record gives')
  })
  const safes = new Set((m.safes ?? []).map((s) => s.id))
  if (safes.size !== (m.safes ?? []).length) issue(['safes'], 'a safe id is listed twice')
  const people = new Set(participantsOf(plan).map((p) => p.name))
  for (const s of safes) if (people.has(s)) issue(['safes'], `"${s}" is both a safe and a person's name`)
  const stored = new Map<string, number>()
  m.storage.forEach((s, i) => {
    if (!items.has(s.item)) issue(['storage', i, 'item'], `no item with id "${s.item}"`)
    if (stored.has(s.item)) issue(['storage', i, 'item'], `item "${s.item}" is given two places`)
    stored.set(s.item, i)
    if (!people.has(s.to) && !safes.has(s.to)) issue(['storage', i, 'to'], `"${s.to}" is neither a person named in the plan nor one of its safes`)
  })
  for (const item of items) if (!stored.has(item)) issue(['storage'], `item "${item}" has no place at the close: say which person or safe receives it`)
  const opened = new Set(m.items.map((x) => x.bag).filter((b): b is string => b !== undefined))
  m.storage.forEach((s, i) => {
    if (s.bag && opened.has(s.bag)) issue(['storage', i, 'bag'], `bag "${s.bag}" is one the materials come out of: a tamper-evident bag is used once`)
  })
}

/** The people at a station: its operator and witnesses, and the custodians of its appliances. */
export function peopleAt(plan: Plan, station: string): Set<string> {
  const s = plan.stations?.find((x) => x.id === station)
  if (!s) return new Set()
  return new Set([s.operator, ...s.witnesses, ...s.appliances.flatMap((a) => plan.participants.custodians[a] ?? [])])
}

/**
 * Across sites each station accounts for what is physically there (stations.ts runs its materials
 * steps in its own legs): every item and safe names its station, and an item is stored at its own
 * station — in a safe there, or given to someone there. Nothing of the manifest travels: the media
 * carried between stations is the hand-off's (its label and bag logged at each hand-off, checked at
 * each receipt).
 */
function checkAtStations(plan: Plan, m: Materials, issue: (path: (string | number)[], message: string) => void): void {
  const stations = new Set((plan.stations ?? []).map((s) => s.id))
  const known = (v: string) => stations.has(v)
  m.items.forEach((item, i) => {
    if (!item.station) issue(['items', i, 'station'], 'a plan with stations says at which station each item is')
    else if (!known(item.station)) issue(['items', i, 'station'], `no station with id "${item.station}"`)
  })
  ;(m.safes ?? []).forEach((safe, i) => {
    if (!safe.station) issue(['safes', i, 'station'], 'a plan with stations says at which station each safe is')
    else if (!known(safe.station)) issue(['safes', i, 'station'], `no station with id "${safe.station}"`)
  })
  m.storage.forEach((s, i) => {
    const at = m.items.find((x) => x.id === s.item)?.station
    if (!at || !known(at)) return
    const safe = (m.safes ?? []).find((x) => x.id === s.to)
    if (safe?.station && safe.station !== at) issue(['storage', i, 'to'], `safe "${s.to}" is at station "${safe.station}", not at "${at}" where item "${s.item}" is: store it at its own station`)
    if (!safe && !peopleAt(plan, at).has(s.to)) issue(['storage', i, 'to'], `"${s.to}" is not at station "${at}" where item "${s.item}" is (its operator, witnesses and custodians are)`)
  })
}

/**
 * Across sites two records of tamper-evident bags meet: the manifest's (the bags items come out of
 * at M.2 and go into at M.3) and the hand-offs' (the bag the carried media is sealed in at each
 * hand-off, checked at each receipt: BAG_NUMBER_MISMATCH in handoff-receive.ts). A bag is used
 * once, so the two must never name the same bag: M.3 refuses a new bag that sealed the media
 * (storage-step.ts), and a hand-off refuses a bag of the manifest (handoff.ts). Both are read from
 * the log, which at any station holds every earlier leg.
 */
import type { LogEntry } from '../../evidence'
import { ENTRY } from '../entry-kinds'
import type { Plan } from '../plan-envelope'
import { canonical } from '../step-input'
import { STORAGE_STEP_ID } from './previous-record'
import { UNSEAL_STEP_ID } from './unseal-step'

type Entries = readonly Pick<LogEntry, 'kind' | 'step' | 'facts'>[]

/** Bag number (in capitals, as the manifest keeps them) -> the media sealed in it and at which hand-off. */
export function handoffBags(entries: Entries): Map<string, string> {
  const bags = new Map<string, string>()
  for (const e of entries) {
    const media = e.kind === ENTRY.handoff ? (e.facts['media'] as { bag?: unknown; label?: unknown } | undefined) : undefined
    if (typeof media?.bag === 'string') bags.set(canonical(media.bag), `the media ${String(media.label)} (hand-off ${String(e.facts['n'])})`)
  }
  return bags
}

const ofStep = (step: string, id: string) => step === id || step.startsWith(`${id}:`)

/** Bag number -> the item of the manifest in it: planned, typed at an opening (M.2) or at a storage (M.3). */
export function manifestBags(plan: Plan, entries: Entries): Map<string, string> {
  const bags = new Map<string, string>()
  const m = plan.materials
  if (!m) return bags
  const described = (id: string) => m.items.find((i) => i.id === id)?.description ?? id
  for (const i of m.items) if (i.bag) bags.set(i.bag, described(i.id))
  for (const s of m.storage) if (s.bag) bags.set(s.bag, described(s.item))
  for (const e of entries) {
    if (e.kind !== ENTRY.stepDone) continue
    const result = e.facts['result'] as { items?: { id?: unknown; bag?: unknown }[]; allocation?: { item?: unknown; bag?: unknown }[] } | undefined
    if (ofStep(e.step, UNSEAL_STEP_ID)) for (const i of result?.items ?? []) if (typeof i.bag === 'string') bags.set(i.bag, described(String(i.id)))
    if (ofStep(e.step, STORAGE_STEP_ID)) for (const a of result?.allocation ?? []) if (typeof a.bag === 'string') bags.set(a.bag, described(String(a.item)))
  }
  return bags
}

/**
 * A mismatch between what was typed (or what an appliance reports) and what the plan or an earlier
 * record says, the way C.0's findings work: each has a short reference (BAG-3fa94c1b) derived from
 * what differed; the step logs every open one as a `materials-mismatch` entry and refuses by its
 * code; it stands only once an exception recorded at the step names its reference — who allowed
 * going on with it, and why. The reference depends on the values, so an exception covers exactly
 * the mismatch it names: a different number typed later is a new mismatch.
 */
import { z } from 'zod'
import { sha256Hex } from '../../evidence'
import { CeremonyError } from '../../errors'
import { ENTRY } from '../entry-kinds'
import type { Mismatch, StepContext } from '../step'

export const MismatchSchema = z.strictObject({
  code: z.string(), item: z.string(), description: z.string(), field: z.string(), expected: z.string(), typed: z.string(),
  source: z.enum(['operator', 'appliance', 'plan']), against: z.string(), reference: z.string(),
})

/** The codes, with the reference's prefix (short, read aloud) and what differs, in words. */
export const MISMATCH = {
  BAG_NUMBER_MISMATCH: { prefix: 'BAG', what: 'bag number' },
  ITEM_SERIAL_MISMATCH: { prefix: 'SN', what: 'serial number' },
  APPLIANCE_SERIAL_MISMATCH: { prefix: 'CHS', what: 'chassis serial number' },
  TAMPER_LABEL_MISMATCH: { prefix: 'TL', what: 'tamper labels' },
  FIPS_LEVEL_MISMATCH: { prefix: 'FIPS', what: 'FIPS level' },
  APPLIANCE_VERSION_MISMATCH: { prefix: 'VER', what: 'software version' },
  STORAGE_MISMATCH: { prefix: 'STO', what: 'place of storage' },
  ITEM_NOT_IN_RECORD: { prefix: 'REC', what: 'bag of the earlier record' },
  // A replaced appliance's destruction record (replace-appliance D.1).
  DISPOSITION_MISMATCH: { prefix: 'DSP', what: 'fate of the appliance' },
  RMA_NUMBER_MISMATCH: { prefix: 'RMA', what: 'RMA number' },
} as const
export type MismatchCode = keyof typeof MISMATCH

export interface Compared {
  code: MismatchCode
  item: string
  description: string
  field: string
  expected: string
  typed: string
  source: 'operator' | 'appliance' | 'plan'
  against: string
}

export function referenceOf(stepId: string, c: Compared): string {
  return `${MISMATCH[c.code].prefix}-${sha256Hex(JSON.stringify([stepId, c.code, c.item, c.field, c.against, c.expected, c.typed])).slice(0, 8)}`
}

/**
 * Compares one value and, when it differs, returns the mismatch. `expected` undefined means the
 * plan and the records say nothing of it: nothing to compare, nothing refused.
 */
export function compare(stepId: string, c: Omit<Compared, 'expected'> & { expected: string | undefined | null }, same: (a: string, b: string) => boolean = (a, b) => a === b): Mismatch | null {
  if (c.expected === undefined || c.expected === null || same(c.expected, c.typed)) return null
  const compared = { ...c, expected: c.expected }
  return { ...compared, reference: referenceOf(stepId, compared) }
}

/** The same set of labels, in any order. */
export const sameSet = (a: string, b: string) => a.split(' ').filter(Boolean).sort().join(' ') === b.split(' ').filter(Boolean).sort().join(' ')

/** Each mismatch's reference -> the log entry (seq) of the latest exception at this step naming it. */
export function acknowledgedBy(ctx: StepContext, mismatches: readonly Mismatch[]): Record<string, number> {
  const exceptions = ctx.exceptionsHere()
  const acknowledged: Record<string, number> = {}
  for (const m of mismatches) {
    const by = exceptions.filter((e) => String(e.facts['note'] ?? '').toUpperCase().includes(m.reference.toUpperCase())).at(-1)
    if (by) acknowledged[m.reference] = by.seq
  }
  return acknowledged
}

export function describeMismatch(m: Pick<Mismatch, 'code' | 'description' | 'expected' | 'typed' | 'source' | 'against' | 'reference'>): string {
  const what = MISMATCH[m.code as MismatchCode]?.what ?? 'value'
  const given = m.source === 'appliance' ? 'the appliance reports' : m.source === 'plan' ? 'the plan says' : 'typed'
  return `${m.reference}: ${m.description}, ${what} ${given} "${m.typed}", ${m.against} says "${m.expected}"`
}

/**
 * Logs every mismatch no exception names yet (ctx.mismatch) and returns what to refuse with: the
 * first one's code, every one listed. Null when all stand acknowledged.
 */
export function openMismatches(ctx: StepContext, mismatches: readonly Mismatch[], acknowledged: Record<string, number>): CeremonyError | null {
  const open = mismatches.filter((m) => !(m.reference in acknowledged))
  if (open.length === 0) return null
  // Each is logged once: running the step again with the same values finds the same references.
  const logged = new Set(ctx.recorded().filter((e) => e.kind === ENTRY.materialsMismatch && e.step === ctx.stepId).map((e) => String(e.facts['reference'])))
  for (const m of open) if (!logged.has(m.reference)) ctx.mismatch(m)
  const listed = open.slice(0, 6).map(describeMismatch).join('; ')
  return new CeremonyError(open[0]!.code, `${open.length} value(s) differ from what is expected: ${listed}${open.length > 6 ? `; and ${open.length - 6} more` : ''}. Check again; if it really differs, a witness records an exception at this step naming each reference (e.g. "${open[0]!.reference}: …"), then run the step again.`)
}

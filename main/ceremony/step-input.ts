/**
 * Typed step input: what the operator reads in the room and types — a bag number, a serial number,
 * the tamper labels on a chassis, who receives an item — given to a step as part of running it, the
 * way a typed confirmation is. A step that takes input declares its fields (what to type, where to
 * read it, in which format); this module validates every value before anything is journaled or
 * logged, so a bad value is refused by name (STEP_INPUT_INVALID, TYPED_TWICE_DIFFER) and changes
 * nothing. The values then travel inside the step's intent: journaled and logged before the step
 * acts (they are in the record), and judged again from the journal when the step resumes, so
 * nothing typed is lost or recorded twice.
 *
 * Values are normalised before they are compared or kept: trimmed, in capitals (a bag printed
 * "TEB-00123" and typed "teb-00123" is the same bag), tamper labels as one space-separated list.
 */
import { CeremonyError } from '../errors'
import type { Plan } from './plan-envelope'
import type { Json, JsonObject, StepContext } from './step'

export type InputFormat = 'bag' | 'serial' | 'labels' | 'choice'

export interface InputField {
  /** Unique within the step ("item:laptop:bag"): lowercase letters, digits and : . _ - */
  id: string
  /** The item or appliance the field is about (its plan id). */
  subject: string
  /** The heading it is shown under ("Laptop (laptop)"). */
  group: string
  /** What to type, in plain words. */
  label: string
  /** Where to read it from. */
  hint: string
  format: InputFormat
  /** For `choice`: the values that may be chosen, each with how it is shown. */
  options?: { value: string; label: string }[]
  /** Typed twice, to catch a slip of the finger (a new bag number, which nothing else records). */
  twice?: boolean
  /** What the simulated operator types in a rehearsal (what the simulated bag or chassis shows). */
  rehearsal: string
}

/** Field id -> the normalised value. */
export type Typed = Record<string, string>

export interface StepInput<P extends Plan = Plan> {
  fields: InputField[]
  /**
   * Checks across fields and against earlier results, before anything is recorded: a value no
   * ceremony could accept (a new bag number that is one just opened) is refused by name here.
   */
  check?(ctx: StepContext<P>, typed: Typed): void
}

/** The id of a field's second typing. */
export const again = (id: string) => `${id}:again`

export const BAG_FORMAT = /^[A-Z0-9][A-Z0-9-]{2,30}[A-Z0-9]$/
export const SERIAL_FORMAT = /^[A-Z0-9](?:[A-Z0-9./-]{0,62}[A-Z0-9])?$/
const BAG_SAYS = 'use letters, digits and dashes, 4 to 32 characters, as printed on the bag or label'
const SERIAL_SAYS = 'use letters, digits, dashes, dots and slashes, up to 64 characters, as printed on the item'
const MAX_LABELS = 16

/** Capitals, no surrounding space: how bag numbers, labels and serials are compared and kept. */
export const canonical = (raw: string) => raw.trim().toUpperCase()

/** Tamper labels typed in one box, separated by spaces, commas or semicolons. */
export function splitLabels(raw: string): string[] {
  return canonical(raw).split(/[\s,;]+/).filter(Boolean)
}

type Checked = { ok: true; value: string } | { ok: false; problem: string }

export function checkValue(field: Pick<InputField, 'format' | 'options'>, raw: string): Checked {
  switch (field.format) {
    case 'bag': {
      const v = canonical(raw)
      return BAG_FORMAT.test(v) ? { ok: true, value: v } : { ok: false, problem: `"${raw.trim()}" is not a bag or label number: ${BAG_SAYS}` }
    }
    case 'serial': {
      const v = canonical(raw)
      return SERIAL_FORMAT.test(v) ? { ok: true, value: v } : { ok: false, problem: `"${raw.trim()}" is not a serial number: ${SERIAL_SAYS}` }
    }
    case 'labels': {
      const labels = splitLabels(raw)
      const bad = labels.find((l) => !BAG_FORMAT.test(l))
      if (bad !== undefined) return { ok: false, problem: `"${bad}" is not a tamper-label number: ${BAG_SAYS}` }
      if (labels.length > MAX_LABELS) return { ok: false, problem: `at most ${MAX_LABELS} labels` }
      const twice = labels.find((l, i) => labels.indexOf(l) !== i)
      if (twice !== undefined) return { ok: false, problem: `"${twice}" is typed twice` }
      return { ok: true, value: labels.join(' ') }
    }
    case 'choice': {
      const v = raw.trim()
      return field.options?.some((o) => o.value === v) ? { ok: true, value: v } : { ok: false, problem: `"${v}" is not one of the choices offered` }
    }
  }
}

const invalid = (message: string) => new CeremonyError('STEP_INPUT_INVALID', `${message}. Nothing was recorded; type it again.`)

/**
 * Validates and normalises what was typed for a step: every field present and in its format, a
 * field typed twice the same both times, nothing else. Throws before anything is recorded.
 */
export function readInput(fields: readonly InputField[], raw: Readonly<Record<string, string>>): Typed {
  const known = new Set(fields.flatMap((f) => (f.twice ? [f.id, again(f.id)] : [f.id])))
  const stranger = Object.keys(raw).find((k) => !known.has(k))
  if (stranger !== undefined) throw invalid(`"${stranger.slice(0, 80)}" is not a value this step takes`)
  const typed: Typed = {}
  for (const f of fields) {
    const where = `${f.group} — ${f.label}`
    const given = raw[f.id]
    if (given === undefined || given.trim() === '') throw invalid(`${where}: nothing was typed`)
    const first = checkValue(f, given)
    if (!first.ok) throw invalid(`${where}: ${first.problem}`)
    if (f.twice) {
      const second = raw[again(f.id)]
      if (second === undefined || second.trim() === '') throw invalid(`${where}: type it a second time`)
      const checked = checkValue(f, second)
      if (!checked.ok || checked.value !== first.value) {
        throw new CeremonyError('TYPED_TWICE_DIFFER', `${where}: the two typings differ ("${first.value}" and "${second.trim().slice(0, 40)}"). Nothing was recorded: read it from the bag again and type it twice.`)
      }
    }
    typed[f.id] = first.value
  }
  return typed
}

/**
 * The values as a step's intent holds them: a list, so that no item id ever becomes a key (the
 * audit log's secret filter reads keys, and an item may well be called "pin-envelope").
 */
export function intentOf(typed: Typed): JsonObject {
  return { typed: Object.entries(typed).map(([field, value]) => ({ field, typed: value })) }
}

/** The values an earlier attempt journaled in its intent, or null if it holds none. */
export function typedFrom(intent: Readonly<Record<string, Json>> | null): Typed | null {
  const list = intent?.['typed']
  if (!Array.isArray(list)) return null
  const typed: Typed = {}
  for (const x of list) {
    if (x === null || typeof x !== 'object' || Array.isArray(x) || typeof x['field'] !== 'string' || typeof x['typed'] !== 'string') return null
    typed[x['field']] = x['typed']
  }
  return typed
}

/** A step's field value, or a named error if the journal holds none (a journal from another plan). */
export function valueOf(typed: Typed, id: string): string {
  const v = typed[id]
  if (v === undefined) throw new CeremonyError('JOURNAL_CORRUPT', `The journaled input has no value for "${id}"`)
  return v
}

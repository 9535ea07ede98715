/**
 * Witnesses, as the protocol sees them (issue: "witnesses who really sign"). Everything here is
 * derived from the audit log, so what the screen enforces is exactly what the record shows:
 *
 * - attendance: who is in the room (arrive / leave entries); only someone present can sign;
 * - a sign-off is one witness's own act, with the initials the plan holds for them, once per
 *   attempt of a step (a fresh approval request needs fresh signatures);
 * - a step is left only when the plan's required witnesses have signed it, or an exception names
 *   who allowed going on unsigned, and why.
 */
import type { LogEntry } from '../evidence'
import { CeremonyError } from '../errors'
import { ENTRY } from './entry-kinds'
import type { JournalState } from './journal'
import type { Plan } from './plan-envelope'

export interface Witness {
  name: string
  initials: string
}

/** Initials a witness written as a plain name signs with: the first letter of each word. */
export function initialsOf(name: string): string {
  return name.split(/\s+/).filter(Boolean).map((w) => w[0]!.toUpperCase()).join('')
}

/** Witnesses who may sign steps: the plan's, and its backup witnesses (stand-ins named in advance). */
export function witnessesOf(plan: Plan): Witness[] {
  return [...plan.participants.witnesses, ...(plan.participants.backups?.witnesses ?? [])].map((w) => (typeof w === 'string' ? { name: w, initials: initialsOf(w) } : { name: w.name, initials: w.initials.toUpperCase() }))
}

const asWitness = (w: string | { name: string; initials: string }): Witness => (typeof w === 'string' ? { name: w, initials: initialsOf(w) } : { name: w.name, initials: w.initials.toUpperCase() })

/** The plan's approvers of the script, with the initials they sign with. */
export function approversOf(plan: Plan): Witness[] {
  return (plan.participants.approvers ?? []).map(asWitness)
}

/** Everyone the plan names, with the role they hold (a person in two roles is listed once, first role). */
export function participantsOf(plan: Plan): { name: string; role: string }[] {
  const p = plan.participants
  const people = [
    { name: p.operator, role: 'operator' },
    // Across sites each station names its own operator.
    ...(plan.stations ?? []).map((st) => ({ name: st.operator, role: `operator (${st.label})` })),
    ...witnessesOf(plan).map((w) => ({ name: w.name, role: p.internalWitness === w.name ? 'witness (keeps the deviation register)' : 'witness' })),
    ...(p.internalWitness ? [{ name: p.internalWitness, role: 'internal witness' }] : []),
    ...approversOf(plan).map((a) => ({ name: a.name, role: 'approver' })),
    ...Object.entries(p.custodians).flatMap(([appliance, users]) => users.map((u) => ({ name: u, role: `custodian (${appliance})` }))),
    ...(p.backups?.operator ?? []).map((n) => ({ name: n, role: 'backup operator' })),
    ...(p.backups?.witnesses ?? []).map(asWitness).map((w) => ({ name: w.name, role: 'backup witness' })),
    ...Object.entries(p.backups?.custodians ?? {}).flatMap(([appliance, users]) => users.map((u) => ({ name: u, role: `backup custodian (${appliance})` }))),
  ]
  return people.filter((x, i) => people.findIndex((q) => q.name === x.name) === i)
}

/** Who is in the room now, from the attendance entries. */
/** The break in progress (who stayed), if one has started and not ended. */
export function breakInProgress(entries: readonly LogEntry[]): { stays: string[]; since: string } | null {
  let current: { stays: string[]; since: string } | null = null
  for (const e of entries) {
    if (e.kind !== ENTRY.break) continue
    current = e.facts['event'] === 'start' ? { stays: (e.facts['stays'] as string[]) ?? [], since: e.ts } : null
  }
  return current
}

export function presentNow(entries: readonly LogEntry[]): Set<string> {
  const present = new Set<string>()
  for (const e of entries) {
    // A hand-off ends a station's leg: whoever was in that room is not in the next station's.
    if (e.kind === ENTRY.handoff) present.clear()
    if (e.kind !== ENTRY.attendance) continue
    const person = String(e.facts['person'])
    if (e.facts['event'] === 'arrive') present.add(person)
    else present.delete(person)
  }
  return present
}

export interface SignoffStatus {
  /** How many witnesses must sign this attempt. */
  required: number
  /** Witnesses who signed this attempt. */
  signed: string[]
  /** The exception that allowed going on unsigned, if one was recorded. */
  waivedBy: { by: string; seq: number } | null
  complete: boolean
}

/** Does the step have a checklist, and has it run (or, for the sealing step, is it about to)? */
export function needsSignoff(witnessItems: string[], state: JournalState, seals: boolean): boolean {
  if (witnessItems.length === 0) return false
  return seals ? state !== 'skipped' : state === 'done'
}

/**
 * The plan's rule (`witnessing.signersPerStep`): a number, or every witness present (at least one).
 * Counted at the moment of asking: a witness who left is no longer required, one who arrived is.
 */
export function requiredSigners(plan: Plan, present: Set<string>): number {
  const rule = plan.witnessing?.signersPerStep ?? 'all-present'
  if (typeof rule === 'number') return rule
  return Math.max(1, witnessesOf(plan).filter((w) => present.has(w.name)).length)
}

/** `present` may be given when the caller already knows it (presentNow of the same entries). */
export function signoffStatus(plan: Plan, entries: readonly LogEntry[], stepId: string, attempt: number, present?: Set<string>): SignoffStatus {
  const here = entries.filter((e) => e.step === stepId)
  const signed = [...new Set(here.filter((e) => e.kind === ENTRY.witnessSignoff && e.facts['attempt'] === attempt).map((e) => String(e.facts['witness'])))]
  const waiver = here.filter((e) => e.kind === ENTRY.exception && e.facts['waivesSignoff'] === true && e.facts['attempt'] === attempt).at(-1)
  const required = requiredSigners(plan, present ?? presentNow(entries))
  const waivedBy = waiver ? { by: String(waiver.facts['by']), seq: waiver.seq } : null
  return { required, signed, waivedBy, complete: waivedBy !== null || signed.length >= required }
}

/** Refuses a sign-off that is not the witness's own, current and first one. */
export function checkSignoff(plan: Plan, entries: readonly LogEntry[], input: { stepId: string; witness: string; initials: string; attempt: number }): void {
  const witness = witnessesOf(plan).find((w) => w.name === input.witness)
  if (!witness) throw new CeremonyError('UNKNOWN_WITNESS', `"${input.witness}" is not a witness in the plan`)
  if (input.initials.trim().toUpperCase() !== witness.initials) throw new CeremonyError('INITIALS_WRONG', `The initials typed are not ${input.witness}'s as the plan records them`)
  if (!presentNow(entries).has(witness.name)) throw new CeremonyError('WITNESS_NOT_PRESENT', `${witness.name} is not recorded as present; record their arrival first`)
  if (signoffStatus(plan, entries, input.stepId, input.attempt).signed.includes(witness.name)) {
    throw new CeremonyError('ALREADY_SIGNED', `${witness.name} has already signed this step`)
  }
}

/**
 * What the people in the room do besides running steps: arrive and leave, sign a step's checklist,
 * record an exception (and, with one, allow going on past an unsigned step), or stop the ceremony.
 * Every act is an audit-log entry; the gate that keeps an unsigned step from being left reads the
 * same entries (witnessing.ts), so the screen, the CLI and the record agree.
 */
import type { AuditLog } from '../evidence'
import { CeremonyError } from '../errors'
import { ENTRY } from './entry-kinds'
import type { Journal } from './journal'
import type { ScriptedStep } from './kind'
import type { Plan } from './plan-envelope'
import { checkSignoff, needsSignoff, participantsOf, presentNow, signoffStatus, type SignoffStatus } from './witnessing'

export interface SignoffInput {
  witness: string
  initials: string
  items: string[]
  /** Rehearsal only: a simulated witness signed (the driver), marked so in the record. */
  simulated?: boolean
}

export class WitnessDesk {
  constructor(
    private readonly plan: Plan,
    private readonly steps: ScriptedStep[],
    private readonly journal: Journal,
    private readonly log: AuditLog,
    private readonly changed: () => void,
  ) {}

  private seals(step: ScriptedStep): boolean {
    return step === this.steps.at(-1)
  }

  /** The sign-off state of the step's current attempt, or null if it has nothing to sign (yet). */
  status(step: ScriptedStep): SignoffStatus | null {
    const record = this.journal.get(step.id)
    if (!needsSignoff(step.text.witnessItems, record.state, this.seals(step))) return null
    return signoffStatus(this.plan, this.log.entries(), step.id, record.attempts)
  }

  /** The first finished step before `step` whose checklist is neither signed nor excepted. */
  firstUnsignedBefore(step: ScriptedStep): ScriptedStep | null {
    for (const earlier of this.steps.slice(0, this.steps.indexOf(step))) {
      const status = this.status(earlier)
      if (status && !status.complete) return earlier
    }
    return null
  }

  /** Refuses to run `step` while an earlier one is unsigned, and the sealing step before its own checklist is signed. */
  assertMayRun(step: ScriptedStep): void {
    this.refuseUnsigned(this.firstUnsignedBefore(step) ?? (this.seals(step) && !this.status(step)?.complete ? step : null))
  }

  /** Refuses to hand the ceremony on while any finished step is unsigned: the next station cannot sign for this room. */
  assertAllSigned(): void {
    this.refuseUnsigned(this.steps.find((s) => !this.seals(s) && this.status(s)?.complete === false) ?? null)
  }

  private refuseUnsigned(unsigned: ScriptedStep | null): void {
    if (!unsigned) return
    const status = this.status(unsigned)!
    throw new CeremonyError('STEP_NOT_SIGNED', `${unsigned.scriptId} "${unsigned.text.title}" needs ${status.required} witness sign-off(s) (${status.signed.length} so far). Witnesses sign its checklist, or an exception records who allowed going on without, and why.`)
  }

  async signOff(step: ScriptedStep, input: SignoffInput): Promise<void> {
    const record = this.journal.get(step.id)
    if (!needsSignoff(step.text.witnessItems, record.state, this.seals(step))) {
      throw new CeremonyError('NOTHING_TO_SIGN', this.seals(step) ? 'This step has nothing to sign' : 'Witnesses sign a step once it has run')
    }
    if (input.items.length !== step.text.witnessItems.length || step.text.witnessItems.some((i) => !input.items.includes(i))) {
      throw new CeremonyError('CHECKLIST_INCOMPLETE', 'A sign-off confirms every item of the step\'s checklist')
    }
    if (input.simulated && this.plan.mode !== 'rehearsal') throw new CeremonyError('SIMULATED_WITNESS', 'Only a rehearsal has simulated witnesses')
    checkSignoff(this.plan, this.log.entries(), { stepId: step.id, witness: input.witness, initials: input.initials, attempt: record.attempts })
    await this.log.append({
      actor: input.witness, step: step.id, kind: ENTRY.witnessSignoff,
      facts: { witness: input.witness, initials: input.initials.trim().toUpperCase(), items: input.items, attempt: record.attempts, scriptId: step.scriptId, ...(input.simulated ? { simulated: true } : {}) },
    })
    this.changed()
  }

  /** Someone named in the plan arrives in or leaves the room. */
  async attendance(person: string, event: 'arrive' | 'leave', recordedBy: string): Promise<void> {
    const known = participantsOf(this.plan).find((p) => p.name === person)
    if (!known) throw new CeremonyError('UNKNOWN_PARTICIPANT', `"${person}" is not named in the plan`)
    const here = presentNow(this.log.entries()).has(person)
    if (event === 'arrive' && here) throw new CeremonyError('ALREADY_PRESENT', `${person} is already recorded as present`)
    if (event === 'leave' && !here) throw new CeremonyError('NOT_PRESENT', `${person} is not recorded as present`)
    await this.log.append({ actor: recordedBy, step: 'ceremony', kind: ENTRY.attendance, facts: { person, role: known.role, event } })
    this.changed()
  }

  /**
   * A deviation from the script, at a step or for the whole ceremony. With `waivesSignoff`, it is
   * also what allows the ceremony past that step's missing sign-offs: who allowed it, and why.
   */
  async exception(stepId: string, by: string, note: string, waivesSignoff = false): Promise<void> {
    const step = stepId === 'ceremony' ? null : this.steps.find((s) => s.id === stepId)
    if (stepId !== 'ceremony' && !step) throw new CeremonyError('UNKNOWN_STEP', `No step "${stepId}" in this ceremony`)
    if (waivesSignoff && (!step || !this.status(step))) throw new CeremonyError('NOTHING_TO_SIGN', 'Only a step with a checklist to sign can be passed unsigned')
    const attempt = step ? this.journal.get(step.id).attempts : null
    await this.log.append({ actor: by, step: stepId, kind: ENTRY.exception, facts: { by, note, ...(waivesSignoff ? { waivesSignoff: true, attempt } : {}), ...(step ? { scriptId: step.scriptId } : {}) } })
    this.changed()
  }
}

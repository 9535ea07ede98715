/**
 * What the people in the room do besides running steps: arrive and leave, sign a step's checklist,
 * record an exception (and, with one, allow going on past an unsigned step), or stop the ceremony.
 * Every act is an audit-log entry; the gate that keeps an unsigned step from being left reads the
 * same entries (witnessing.ts), so the screen, the CLI and the record agree.
 */
import { deviationsOf, type AuditLog, type Deviation, type LogEntry } from '../evidence'
import { CeremonyError } from '../errors'
import { ENTRY } from './entry-kinds'
import type { Journal } from './journal'
import type { ScriptedStep } from './kind'
import type { Plan } from './plan-envelope'
import { scriptDigest } from './script'
import { approversOf, breakInProgress, checkSignoff, needsSignoff, participantsOf, presentNow, signoffStatus, witnessesOf, type SignoffStatus } from './witnessing'

export interface SignoffInput {
  witness: string
  initials: string
  items: string[]
  /** Rehearsal only: a simulated witness signed (the driver), marked so in the record. */
  simulated?: boolean
}

export interface ResolutionInput {
  deviation: string
  resolution: string
  /** Who allowed the ceremony to go on: an operator, the internal witness or an approver, in the room. */
  allowedBy: string
  /** Every witness in the room, with the initials they typed. */
  initials: { witness: string; initials: string }[]
  /** Rehearsal only: the simulated witnesses resolved it (the headless driver), marked so in the record. */
  simulated?: boolean
}

export class WitnessDesk {
  constructor(
    private readonly plan: Plan,
    private readonly planDigest: string,
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
    const { byStep, present } = this.index()
    return signoffStatus(this.plan, byStep.get(step.id) ?? [], step.id, this.signedAttempt(step), present)
  }

  #index: { length: number; byStep: Map<string, LogEntry[]>; present: Set<string> } | undefined

  /**
   * The log's entries by step and who is present, rebuilt only when the log has grown (it only
   * grows, so its length identifies its content). status() is asked for every earlier step before
   * each step runs and for every step in the view: reading the whole log each time made the CPU
   * time of a ceremony grow with the square of its length.
   */
  private index(): { byStep: Map<string, LogEntry[]>; present: Set<string> } {
    if (this.#index?.length === this.log.length) return this.#index
    const entries = this.log.entries()
    const byStep = new Map<string, LogEntry[]>()
    for (const e of entries) {
      const list = byStep.get(e.step)
      if (list) list.push(e)
      else byStep.set(e.step, [e])
    }
    this.#index = { length: entries.length, byStep, present: presentNow(entries) }
    return this.#index
  }

  /**
   * The attempt witnesses sign: the one that ran. The sealing step is signed before it runs, so once
   * it is done its signatures are those given before its last attempt began.
   */
  signedAttempt(step: ScriptedStep): number {
    const record = this.journal.get(step.id)
    return this.seals(step) && record.state === 'done' ? record.attempts - 1 : record.attempts
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
    const pendingApproval = this.approversStillToSign()
    if (pendingApproval.length > 0) {
      throw new CeremonyError('SCRIPT_NOT_APPROVED', `The plan and its script are not approved yet: ${pendingApproval.join(', ')} must sign them (digest ${this.scriptDigest().slice(0, 16)}…) before the first step`)
    }
    const pause = breakInProgress(this.log.entries())
    if (pause) throw new CeremonyError('BREAK_IN_PROGRESS', `A break is in progress (since ${pause.since}; ${pause.stays.join(' and ')} stayed): end it before the next step`)
    const open = this.seals(step) ? this.deviations().filter((d) => !d.resolution) : []
    if (open.length > 0) {
      throw new CeremonyError('DEVIATION_UNRESOLVED', `The record cannot be sealed while ${open.length === 1 ? 'a deviation is' : `${open.length} deviations are`} unresolved (${open.map((d) => d.id).join(', ')}): write each one's resolution in the deviation register, with who allowed going on and the witnesses' initials`)
    }
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
    if (this.seals(step) && record.state === 'done') throw new CeremonyError('NOTHING_TO_SIGN', 'The record is sealed: its checklist was signed before it ran')
    checkSignoff(this.plan, this.log.entries(), { stepId: step.id, witness: input.witness, initials: input.initials, attempt: record.attempts })
    await this.log.append({
      actor: input.witness, step: step.id, kind: ENTRY.witnessSignoff,
      facts: { witness: input.witness, initials: input.initials.trim().toUpperCase(), items: input.items, attempt: record.attempts, scriptId: step.scriptId, ...(input.simulated ? { simulated: true } : {}) },
    })
    this.changed()
  }

  /** Someone named in the plan arrives in or leaves the room. */
  /**
   * The operator reveals a key the step made, once (key-reveal.ts): recorded before the key leaves
   * main. Not during a break, and only with a witness in the room to see it shown (and attest, at
   * the step's sign-off, that it was not copied).
   */
  async apiKeyShown(stepId: string, applianceId: string, by: string): Promise<void> {
    const entries = this.log.entries()
    const pause = breakInProgress(entries)
    if (pause) throw new CeremonyError('BREAK_IN_PROGRESS', `A break is in progress (since ${pause.since}): the API key is shown after it, with the witnesses back`)
    const present = presentNow(entries)
    if (!witnessesOf(this.plan).some((w) => present.has(w.name))) throw new CeremonyError('NO_WITNESS_PRESENT', 'The API key is shown only with a witness in the room: record a witness\'s arrival first')
    // The witnesses attest at the step's sign-off that the key was shown at most once and not copied:
    // once they have signed, or the ceremony has moved on, nothing is left to attest a reveal.
    if (revealClosed(entries, stepId)) {
      throw new CeremonyError('KEY_REVEAL_CLOSED', 'The API key is shown only before the witnesses sign this step off and before the next step starts: they attest that it was shown at most once. It stays held in memory, unshown')
    }
    await this.log.append({ actor: by, step: stepId, kind: ENTRY.apiKeyShown, facts: { appliance: applianceId, by, shown: 'once, on the run screen, at the operator\'s request' } })
    this.changed()
  }

  async attendance(person: string, event: 'arrive' | 'leave', recordedBy: string): Promise<void> {
    const known = participantsOf(this.plan).find((p) => p.name === person)
    if (!known) throw new CeremonyError('UNKNOWN_PARTICIPANT', `"${person}" is not named in the plan`)
    const present = presentNow(this.log.entries())
    const here = present.has(person)
    if (event === 'arrive' && here) throw new CeremonyError('ALREADY_PRESENT', `${person} is already recorded as present`)
    if (event === 'leave' && !here) throw new CeremonyError('NOT_PRESENT', `${person} is not recorded as present`)
    // Two trusted people in the room at every moment: the last two cannot leave it to one.
    if (event === 'leave' && present.size - 1 < 2) {
      throw new CeremonyError('TWO_PERSON_RULE', `${person} cannot leave: at least two trusted people must be in the room at every moment. Someone arrives first, or the room is sealed and the ceremony stopped.`)
    }
    await this.log.append({ actor: recordedBy, step: 'ceremony', kind: ENTRY.attendance, facts: { person, role: known.role, event } })
    this.changed()
  }

  scriptDigest(): string {
    return scriptDigest(this.planDigest, this.steps)
  }

  /** Approvers the plan names who have not signed this plan's script (this digest) yet. */
  approversStillToSign(): string[] {
    const signed = new Set(this.log.entries().filter((e) => e.kind === ENTRY.scriptApproval && e.facts['scriptDigest'] === this.scriptDigest()).map((e) => String(e.facts['approver'])))
    return approversOf(this.plan).map((a) => a.name).filter((n) => !signed.has(n))
  }

  /**
   * An approver named in the plan signs the plan and its printed script, before the first step: their
   * own act (initials as the plan holds them, present in the room), bound to the script's digest.
   */
  async approveScript(approver: string, initials: string): Promise<void> {
    const named = approversOf(this.plan).find((a) => a.name === approver)
    if (!named) throw new CeremonyError('UNKNOWN_APPROVER', `"${approver}" is not named in the plan as an approver`)
    if (initials.trim().toUpperCase() !== named.initials) throw new CeremonyError('INITIALS_WRONG', `The initials typed are not ${approver}'s as the plan records them`)
    if (!presentNow(this.log.entries()).has(approver)) throw new CeremonyError('WITNESS_NOT_PRESENT', `${approver} is not recorded as present`)
    if (!this.approversStillToSign().includes(approver)) throw new CeremonyError('ALREADY_SIGNED', `${approver} has already approved this script`)
    if (this.steps.some((s) => this.journal.get(s.id).attempts > 0)) throw new CeremonyError('CEREMONY_BEGUN', 'The script is approved before the first step, not during the ceremony')
    await this.log.append({ actor: approver, step: 'ceremony', kind: ENTRY.scriptApproval, facts: { approver, initials: named.initials, planDigest: this.planDigest, scriptDigest: this.scriptDigest() } })
    this.changed()
  }

  /** A break: who stays in the room (at least two of those present); no step runs until it ends. */
  async breakStart(stays: string[], recordedBy: string): Promise<void> {
    if (breakInProgress(this.log.entries())) throw new CeremonyError('BREAK_IN_PROGRESS', 'A break is already in progress')
    const present = presentNow(this.log.entries())
    const absent = stays.find((p) => !present.has(p))
    if (absent) throw new CeremonyError('NOT_PRESENT', `${absent} is not recorded as present, so cannot stay in the room`)
    if (new Set(stays).size < 2) throw new CeremonyError('TWO_PERSON_RULE', 'At least two trusted people stay in the room during a break')
    await this.log.append({ actor: recordedBy, step: 'ceremony', kind: ENTRY.break, facts: { event: 'start', stays: [...new Set(stays)] } })
    this.changed()
  }

  async breakEnd(recordedBy: string): Promise<void> {
    if (!breakInProgress(this.log.entries())) throw new CeremonyError('NO_BREAK', 'No break is in progress')
    await this.log.append({ actor: recordedBy, step: 'ceremony', kind: ENTRY.break, facts: { event: 'end' } })
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

  /** Who may allow the ceremony to go on past a deviation: the operators, the internal witness, the approvers. */
  allowers(): string[] {
    const p = this.plan.participants
    return [...new Set([p.operator, ...(this.plan.stations ?? []).map((st) => st.operator), ...(p.internalWitness ? [p.internalWitness] : []), ...approversOf(this.plan).map((a) => a.name)])]
  }

  /** The deviation register as the log has it (main/evidence/deviations.ts). */
  deviations(): Deviation[] {
    return deviationsOf(this.log.entries())
  }

  /**
   * Resolves a line of the register: what was done about it, who allowed going on, and the initials
   * of every witness in the room at that moment — each their own, as the plan records them.
   */
  async resolveDeviation(input: ResolutionInput, recordedBy: string): Promise<void> {
    const entries = this.log.entries()
    const deviation = this.deviations().find((d) => d.id === input.deviation)
    if (!deviation) throw new CeremonyError('DEVIATION_UNKNOWN', `No deviation ${input.deviation} in the register`)
    if (deviation.resolution) throw new CeremonyError('DEVIATION_RESOLVED', `${deviation.id} was resolved at ${deviation.resolution.ts}`)
    const resolution = input.resolution.trim()
    if (resolution.length === 0) throw new CeremonyError('RESOLUTION_REQUIRED', 'Write what was done about the deviation')
    if (input.simulated && this.plan.mode !== 'rehearsal') throw new CeremonyError('SIMULATED_WITNESS', 'Only a rehearsal has simulated witnesses')
    const present = presentNow(entries)
    if (!this.allowers().includes(input.allowedBy)) throw new CeremonyError('ALLOWED_BY_NOT_ENTITLED', `"${input.allowedBy}" cannot allow the ceremony to go on: an operator, the internal witness or an approver does`)
    if (!present.has(input.allowedBy)) throw new CeremonyError('NOT_PRESENT', `${input.allowedBy} is not recorded as present`)
    const witnesses = witnessesOf(this.plan)
    const here = witnesses.filter((w) => present.has(w.name))
    if (here.length === 0) throw new CeremonyError('NO_WITNESS_PRESENT', 'A deviation is resolved in front of the witnesses: none is recorded as present')
    for (const given of input.initials) {
      const w = witnesses.find((x) => x.name === given.witness)
      if (!w) throw new CeremonyError('UNKNOWN_WITNESS', `"${given.witness}" is not a witness in the plan`)
      if (!present.has(w.name)) throw new CeremonyError('WITNESS_NOT_PRESENT', `${w.name} is not recorded as present`)
      if (given.initials.trim().toUpperCase() !== w.initials) throw new CeremonyError('INITIALS_WRONG', `The initials typed are not ${w.name}'s as the plan records them`)
    }
    const missing = here.filter((w) => !input.initials.some((g) => g.witness === w.name)).map((w) => w.name)
    if (missing.length > 0) throw new CeremonyError('WITNESS_INITIALS_MISSING', `Every witness in the room initials the resolution: ${missing.join(', ')} ${missing.length === 1 ? 'has' : 'have'} not`)
    await this.log.append({
      actor: recordedBy, step: deviation.step, kind: ENTRY.deviationResolution,
      facts: {
        deviation: deviation.id, resolution, allowedBy: input.allowedBy,
        initials: here.map((w) => ({ witness: w.name, initials: w.initials })), ...(input.simulated ? { simulated: true } : {}),
      },
    })
    this.changed()
  }
}

/** After the step's sign-off, or once another step has started since it was done, a key it made is shown no more. */
export function revealClosed(entries: readonly Pick<LogEntry, 'seq' | 'kind' | 'step'>[], stepId: string): boolean {
  const done = entries.reduce((seq, e) => (e.kind === ENTRY.stepDone && e.step === stepId ? e.seq : seq), -1)
  return entries.some((e) => (e.kind === ENTRY.witnessSignoff && e.step === stepId) || (e.kind === ENTRY.stepIntent && e.step !== stepId && e.seq > done))
}

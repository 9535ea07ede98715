/**
 * The ceremony engine: opens one ceremony's state (lock, journal, audit log), expands its plan into
 * the kind's steps, and offers what the screens and the CLI do with them — run a step, resume after
 * a crash, custodian decisions, a fresh approval request, witness sign-offs, exceptions, the record.
 * The step protocol itself is the runner's (runner.ts); what a step does is its kind's (kinds/); how
 * the state is opened and the parts are wired, engine-open.ts.
 * One action at a time: a second call waits for the first (engine-gate.ts).
 */
import { join } from 'node:path'
import { buildRecord, type AuditLog, recordFileName, type CeremonyRecord, type LogEntry } from '../evidence'
import { CeremonyError } from '../errors'
import { writeFileAtomic } from '../media'
import type { ApprovalDesk, DecideInput, DeskEntry } from './approval-desk'
import { recallMadeKeys } from './made-keys'
import type { CeremonySessions } from './ceremony-sessions'
import { checkTyped, confirmationFor, type Confirming } from './confirmation'
import { ENTRY } from './entry-kinds'
import { ActionGate } from './engine-gate'
import { completeIn, engineParts, openEngineFolder } from './engine-open'
import type { EngineOptions } from './engine-options'
import type { Journal, StepRecord } from './journal'
import type { CeremonyKind, ResultReader, ScriptedStep } from './kind'
import { applianceOf, type Plan } from './plan-envelope'
import { planDigest } from './plan'
import { kindOf } from './registry'
import type { Boundary, Finding, StepRunner } from './runner'
import type { StateLock } from './state-lock'
import type { AnyStep, Evidence, StepRef } from './step'
import { inputFor } from './step-input-gate'
import type { Typed } from './step-input'
import type { SignoffInput, WitnessDesk } from './witness-desk'
import { checkStepHere } from './station-guard'

export type { Boundary, EngineOptions, Finding }

export class CeremonyEngine {
  readonly plan: Plan
  readonly planDigest: string
  readonly kind: CeremonyKind<Plan>
  readonly steps: ScriptedStep[]
  /** Attendance, sign-offs, exceptions: the people's side of the protocol. */
  readonly witnesses: WitnessDesk
  /** Who runs the ceremony here (the station's operator across sites): the actor of what the engine records for them. */
  get operator(): string {
    return this.options.operator
  }
  private readonly runner: StepRunner
  private readonly desk: ApprovalDesk
  /** Every DSM session of this ceremony: one per appliance, and the named users' (ceremony-sessions.ts). */
  private readonly sessions: CeremonySessions
  /** One action at a time, and only while the ceremony is open (engine-gate.ts). */
  private readonly gate = new ActionGate(this)

  private constructor(
    private readonly options: EngineOptions,
    private readonly journal: Journal,
    private readonly log: AuditLog,
    private readonly lock: StateLock,
    steps: ScriptedStep[],
  ) {
    this.plan = options.plan
    this.planDigest = planDigest(options.plan)
    this.kind = kindOf(options.plan)
    this.steps = steps
    const parts = engineParts({ options, kind: this.kind, planDigest: this.planDigest, journal, log, steps, changed: () => this.changed() })
    this.sessions = parts.sessions
    this.runner = parts.runner
    this.desk = parts.desk
    this.witnesses = parts.witnesses
  }

  /** Opens (or re-opens) the ceremony's state folder: one runner at a time (STATE_LOCKED otherwise); engine-open.ts. */
  static open(options: EngineOptions): Promise<CeremonyEngine> {
    return openEngineFolder(options, async ({ steps, journal, log, lock, findings }) => {
      const engine = new CeremonyEngine(options, journal, log, lock, steps)
      engine.runner.findings.push(...findings)
      await engine.runner.backfillDoneEntries(steps)
      await engine.applySkips()
      return engine
    })
  }

  // ------------------------------------------------------------------------------------------
  // Queries

  record(stepId: string): StepRecord {
    return this.journal.get(stepId)
  }

  def(stepId: string): ScriptedStep {
    const step = this.steps.find((s) => s.id === stepId)
    if (!step) throw new CeremonyError('UNKNOWN_STEP', `No step "${stepId}" in this ceremony`)
    return step
  }

  /** The first step that is not finished, or null when the ceremony is complete. */
  currentStep(): ScriptedStep | null {
    return this.steps.find((s) => !['done', 'skipped'].includes(this.journal.get(s.id).state)) ?? null
  }

  /** Stopped before the end, with the reason and what was left, by the people in the room. */
  isAborted(): boolean {
    return this.log.entries().some((e) => e.kind === ENTRY.ceremonyAbort)
  }

  isComplete(): boolean {
    return completeIn(this.journal, this.steps)
  }

  logEntries(): LogEntry[] {
    return this.log.entries()
  }

  logHead(): string {
    return this.log.head()
  }

  approvalEntry(stepId: string): DeskEntry | undefined {
    return this.desk.entry(stepId)
  }

  reconcileFindings(): readonly Finding[] {
    return this.runner.findings
  }

  evidence(stepId: string): Evidence | null {
    return this.runner.evidenceOf(this.def(stepId))
  }

  results(): ResultReader {
    const ctx = this.runner.context(this.steps[0]!)
    return { find: <R>(ref: StepRef<R>) => ctx.find(ref), state: (id) => this.journal.get(id).state }
  }

  /** What must be typed to confirm an irreversible step (derived from this run's own values), with what it refers to. */
  confirmationOf(stepId: string): Confirming | null {
    const step = this.def(stepId)
    return confirmationFor(step, () => this.runner.context(step))
  }

  expectedConfirmation(stepId: string): string | null {
    return this.confirmationOf(stepId)?.expected ?? null
  }

  // ------------------------------------------------------------------------------------------
  // Actions

  /**
   * Runs the step (in order). Irreversible steps need their typed confirmation; approval steps start
   * waiting; a step that takes input needs what was typed (validated before anything is recorded), or
   * judges again the values its earlier attempt journaled.
   */
  runStep(stepId: string, opts: { confirmation?: string; input?: Record<string, string> } = {}): Promise<StepRecord> {
    return this.gate.whileOpen(async () => {
      const step = this.def(stepId)
      const current = this.currentStep()
      if (!current || current.id !== stepId) {
        throw new CeremonyError('STEP_OUT_OF_ORDER', current ? `"${step.text.title}" cannot run yet: the next step is "${current.text.title}"` : 'The ceremony is complete')
      }
      if (this.options.station) checkStepHere(this.plan, this.options.station, this.steps, step)
      // A step is left only once its witnesses signed it (or an exception allowed going on without).
      this.witnesses.assertMayRun(step)
      const record = this.journal.get(stepId)
      // A resumed intent was confirmed when it was first started; an approval step is confirmed per approval.
      if (step.interaction === 'run' && record.state !== 'intent') checkTyped(step, this.confirmationOf(stepId), opts.confirmation)
      const input = inputFor(step, opts.input, record, () => this.runner.context(step))
      await this.execute(step, opts.confirmation !== undefined, input)
      return this.journal.get(stepId)
    })
  }

  /**
   * Resumes after a restart: every step left in "intent" is run again (it looks before it acts and
   * adopts only what its interrupted attempt made). Waiting approvals are watched again.
   */
  resume(): Promise<Finding[]> {
    return this.gate.exclusive(async () => {
      const before = this.runner.findings.length
      for (const step of this.steps) {
        const state = this.journal.get(step.id).state
        if (state !== 'intent' && state !== 'waiting') continue
        await this.execute(step, true).catch(async (err: unknown) => {
          this.runner.findings.push({ stepId: step.id, finding: `could not be completed on resume: ${err instanceof Error ? err.message : String(err)}` })
        })
        if (this.journal.get(step.id).state !== 'done') break
      }
      return this.runner.findings.slice(before)
    })
  }

  /** A custodian's decision, bound to the request id and the digest of the view they saw. */
  decideApproval(stepId: string, input: DecideInput): Promise<DeskEntry> {
    return this.gate.exclusive(async () => {
      try {
        this.gate.assertOpen()
        const step = this.approvalStep(stepId)
        if (this.journal.get(stepId).state !== 'waiting') throw new CeremonyError('APPROVAL_CLOSED', `"${step.text.title}" is not waiting for decisions`)
        if (input.decision === 'approve') checkTyped(step, this.confirmationOf(stepId), input.confirmation)
        const entry = await this.desk.decide(step, input)
        // The decision is made; what the appliance then did (approved, denied, failed) is the step's
        // state, journaled and shown — not an error of the custodian's call. Still PENDING (the
        // appliance's answer to the decision says so): nothing changed for the step, polling goes on.
        if (entry.request.status !== 'PENDING') await this.execute(step, true).catch(() => undefined)
        return entry
      } finally {
        input.password.fill(0)
      }
    })
  }

  /** After DENIED, FAILED, expiry or a lost result: a fresh request for the same operation, with a new nonce. */
  restartApproval(stepId: string): Promise<void> {
    return this.gate.whileOpen(async () => {
      const group = this.def(stepId).approvalGroup
      const approval = this.steps.find((s) => s.approvalGroup === group && s.interaction === 'approval')
      if (!group || !approval?.approval) throw new CeremonyError('STEP_NOT_APPROVAL', `"${this.def(stepId).text.title}" has no approval request`)
      await this.desk.restart(approval, { operator: this.options.operator, reasonFrom: stepId })
    })
  }

  /** Resolves when the approval step is decided (or the wait is stopped); polling runs meanwhile. */
  waitForApproval(stepId: string): Promise<void> {
    const step = this.approvalStep(stepId)
    return this.desk.watch(step, () => this.gate.exclusive(async () => {
      if (this.journal.get(stepId).state === 'waiting') await this.execute(step, true).catch(() => undefined)
    }))
  }

  signOff(stepId: string, input: SignoffInput): Promise<void> {
    return this.gate.whileOpen(() => this.witnesses.signOff(this.def(stepId), input))
  }

  attendance(person: string, event: 'arrive' | 'leave', recordedBy: string): Promise<void> {
    return this.gate.whileOpen(() => this.witnesses.attendance(person, event, recordedBy))
  }

  /** People's acts outside the steps: approving the script, breaks. */
  people(act: (desk: WitnessDesk) => Promise<void>): Promise<void> {
    return this.gate.whileOpen(() => act(this.witnesses))
  }

  recordException(stepId: string, by: string, note: string, opts: { waivesSignoff?: boolean } = {}): Promise<void> {
    return this.gate.whileOpen(() => this.witnesses.exception(stepId, by, note, opts.waivesSignoff === true))
  }

  /** Stops the ceremony for good: why, who decided, and what is left on which appliance and medium. */
  abort(by: string, reason: string): Promise<void> {
    return this.gate.whileOpen(async () => {
      this.desk.stopAll()
      const unfinished = this.steps.filter((s) => !['done', 'skipped'].includes(this.journal.get(s.id).state)).map((s) => ({ scriptId: s.scriptId, title: s.text.title }))
      const leftBehind = this.kind.leftBehind?.(this.plan, this.results()) ?? []
      await this.log.append({ actor: by, step: 'ceremony', kind: ENTRY.ceremonyAbort, facts: { by, reason, unfinished, leftBehind } })
      await this.sessions.signOut()
      this.changed()
    })
  }

  /** Stations: the hand-off entry ends this leg (handoff.ts); nothing more is appended here until the media comes back. */
  handOff(facts: Record<string, unknown>): Promise<LogEntry> {
    return this.gate.whileOpen(async () => {
      this.witnesses.assertAllSigned()
      const entry = await this.log.append({ actor: this.options.operator, step: 'ceremony', kind: ENTRY.handoff, facts })
      this.gate.handOff()
      await this.sessions.signOut().finally(() => this.changed())
      return entry
    })
  }

  /** The record as it stands (sealed once the last step is done). */
  buildRecord(): CeremonyRecord {
    const entries = this.log.entries()
    return buildRecord({ plan: this.plan, planDigest: this.planDigest, entries, mode: this.plan.mode })
  }

  /** Seals the record into the state folder once the ceremony is complete. */
  async sealRecord(): Promise<{ path: string; record: CeremonyRecord }> {
    const record = this.buildRecord()
    const path = join(this.options.stateDir, recordFileName(this.plan.id, this.plan.mode))
    await writeFileAtomic(path, JSON.stringify(record, null, 2) + '\n', { overwrite: true })
    return { path, record }
  }

  /**
   * Ends every DSM session once the secrets are wiped: the app sessions and the named users' (the
   * cluster administrator's), whose password is gone too. A waiting approval stays waiting, watched
   * again when run.
   */
  endSessions(): Promise<void> {
    return this.gate.exclusive(async () => {
      this.desk.stopAll()
      await this.sessions.signOut()
    })
  }

  /** Stops polling, signs out of every appliance, closes the log and releases the state folder. */
  async shutdown(): Promise<void> {
    this.desk.stopAll()
    try {
      // Let a running step finish writing its journal and log entries (a stuck call is bounded by its timeout).
      await this.gate.settled(35_000)
      await this.sessions.signOut()
      await this.log.close()
    } finally {
      // Every entry was fsynced when it was appended; a failing close must not keep the folder locked.
      this.lock.release()
    }
  }

  // ------------------------------------------------------------------------------------------
  // Internals

  private async execute(step: AnyStep, confirmed: boolean, input?: Typed): Promise<void> {
    try {
      // Keys this ceremony made and the vault lost in a restart are read again before any step needs them.
      await recallMadeKeys(this.kind.madeApiKeys?.(this.plan, this.results()) ?? [], {
        options: this.options, user: (id) => this.sessions.user(id), label: (id) => applianceOf(this.plan, id).label,
        found: async (finding) => {
          this.runner.findings.push({ stepId: step.id, finding })
          await this.log.append({ actor: 'engine', step: step.id, kind: ENTRY.reconcile, facts: { finding } })
        },
      })
      const outcome = await this.runner.run(step, { confirmed, ...(input ? { input } : {}) })
      if (outcome === 'waiting') {
        await this.desk.ensure(step).catch(() => undefined) // a decision just rebuilt it; otherwise read it now
        void this.waitForApproval(step.id)
        return
      }
      this.desk.stop(step.id)
      await this.applySkips()
      if (this.isComplete()) await this.sessions.signOut()
    } finally {
      this.changed()
    }
  }

  /** Marks skipped every pending step whose kind says it is not needed (decided from earlier results). */
  private async applySkips(): Promise<void> {
    for (const step of this.steps) {
      const record = this.journal.get(step.id)
      if (record.state !== 'pending' || record.attempts > 0 || !step.skip) continue
      let reason: string | null
      try {
        reason = step.skip(this.runner.context(step))
      } catch {
        continue // what decides it has not run yet
      }
      if (reason) await this.runner.skip(step, reason)
    }
  }

  private approvalStep(stepId: string): AnyStep {
    const step = this.def(stepId)
    if (step.interaction !== 'approval' || !step.approval) throw new CeremonyError('STEP_NOT_APPROVAL', `"${step.text.title}" has no approval request`)
    return step
  }

  private changed(): void {
    this.options.onChange?.()
  }
}

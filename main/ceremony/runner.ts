/**
 * The step protocol, owned here alone (design §6). For every step:
 *
 *   audit "step-intent" -> journal intent (fsynced) -> act -> verify -> journal done -> audit "step-done"
 *
 * and, when the journal records an earlier attempt of the step, `look` first: it adopts what that
 * attempt made only if it equals what that attempt intended. If the log cannot be written nothing
 * runs. Files go through the same discipline (their digest is journaled before the first byte is
 * written). The fault-injection boundaries used by the SIGKILL tests are here, not in the steps.
 */
import { createHash } from 'node:crypto'
import { lstatSync } from 'node:fs'
import { join } from 'node:path'
import type { AppSession, UserSession } from '../dsm'
import { AuditLog, type LogEntry } from '../evidence'
import { CeremonyError, errorCode } from '../errors'
import { readFileCapped, readFileVerified, writeFileAtomic } from '../media'
import { ENTRY } from './entry-kinds'
import { isFileSystemCode, keepsIntent } from './error-codes'
import type { Journal } from './journal'
import type { ApplianceOutage } from './outage'
import { labelOf, type Plan } from './plan-envelope'
import { WAITING, evidenceForLog, type AnyStep, type Evidence, type JsonObject, type MediaAccess, type Mismatch, type StepContext, type StepRef } from './step'
import type { Typed } from './step-input'

/**
 * The protocol boundaries of a step, in the order one attempt passes them: before its intent is
 * recorded; intent recorded, nothing sent; `media-write`: a file journaled, not yet written (the
 * state-write kill loop kills during it); the file written; `after-act`: the appliances did what
 * the step set out to do, the journal does not know yet (the resumed run must find it by looking);
 * the result journaled, its log entry not yet written.
 */
export const BOUNDARIES = ['before-intent', 'after-intent', 'media-write', 'after-artifact', 'after-act', 'after-done'] as const
export type Boundary = (typeof BOUNDARIES)[number]

export interface RunnerDeps {
  plan: Plan
  planDigest: string
  journal: Journal
  log: AuditLog
  mediaDir: string
  stateDir: string
  operator: string
  now: () => Date
  app(applianceId: string): Promise<AppSession>
  /** Named DSM users' sessions, earlier records and the rehearsal outage control (step.ts StepContext). */
  user(signInId: string): Promise<UserSession>
  apiKey(applianceId: string): Buffer
  /** A key the ceremony made: to the vault, and shown once when asked (step.ts StepContext.madeApiKey). */
  madeApiKey?(applianceId: string, key: Buffer, show: boolean): boolean
  records(): unknown[]
  outage: ApplianceOutage | null
  /** Fault injection for the kill-and-resume tests (a real SIGKILL at a protocol boundary). */
  boundary?(stepId: string, phase: Boundary): void
}

export interface Finding {
  stepId: string
  finding: string
}

export class StepRunner {
  readonly findings: Finding[] = []

  constructor(private readonly deps: RunnerDeps) {}

  /**
   * Runs one step through the protocol. Returns 'waiting' when an approval step waits for its quorum.
   * A refusal is journaled and logged, then thrown.
   */
  async run(step: AnyStep, facts: { confirmed?: boolean; actor?: string; input?: Typed } = {}): Promise<'done' | 'waiting'> {
    const { journal, log } = this.deps
    const record = journal.get(step.id)
    if (record.state === 'done' || record.state === 'skipped') return 'done'
    const ctx = this.context(step)
    this.deps.boundary?.(step.id, 'before-intent')
    try {
      let result: unknown = null
      // Values typed anew are a new attempt; without them, a step that takes input resumes from its journaled values.
      const fresh = step.input !== undefined && facts.input !== undefined
      if (step.input && !fresh && !(record.attempts > 0 && record.intent)) throw new CeremonyError('STEP_INPUT_REQUIRED', `"${step.text.title}" needs what is read in the room to be typed first`)
      if (!fresh && record.attempts > 0 && record.intent) result = await step.look(ctx, record.intent)
      if (result === null && step.interaction === 'approval' && record.intent) {
        // Still waiting for the same request: nothing new is intended.
        result = WAITING
      } else if (result === null) {
        const intent = (await step.intent(ctx, facts.input ?? null)) as JsonObject
        await log.append({ actor: facts.actor ?? this.deps.operator, step: step.id, kind: ENTRY.stepIntent, facts: { title: step.text.title, scriptId: step.scriptId ?? step.id, confirmed: facts.confirmed ?? false, intent } })
        journal.intent(step.id, intent, this.deps.now())
        this.deps.boundary?.(step.id, 'after-intent')
        result = await step.act(ctx, intent)
        this.deps.boundary?.(step.id, 'after-act')
      }
      await this.flushNotes(ctx)
      await this.flushMismatches(step, ctx)
      if (result === WAITING) {
        journal.setState(step.id, 'waiting')
        return 'waiting'
      }
      await this.finish(step, ctx, result)
      return 'done'
    } catch (err) {
      await this.flushNotes(ctx)
      await this.flushMismatches(step, ctx).catch(() => undefined)
      throw await this.fail(step, err)
    }
  }

  /** Marks a step skipped, with its reason in the journal and the log. */
  async skip(step: AnyStep, reason: string): Promise<void> {
    await this.deps.log.append({ actor: 'engine', step: step.id, kind: ENTRY.stepSkipped, facts: { reason } })
    this.deps.journal.skip(step.id, reason, this.deps.now())
  }

  /** The evidence of a finished step, from its journaled result. */
  evidenceOf(step: AnyStep): Evidence | null {
    const record = this.deps.journal.get(step.id)
    if (record.state !== 'done' || !record.result) return null
    const parsed = step.result.safeParse(record.result)
    return parsed.success ? step.evidence(parsed.data, this.context(step)) : null
  }

  context(step: AnyStep): StepContext & { notes: string[]; mismatches: Mismatch[] } {
    const { journal, plan, planDigest } = this.deps
    const read = <R>(ref: StepRef<R>, required: boolean): R | null => {
      let record
      try {
        record = journal.get(ref.id)
      } catch {
        if (required) throw new CeremonyError('JOURNAL_INCOMPLETE', `This ceremony has no step "${ref.id}"`)
        return null
      }
      if (record.state !== 'done') {
        if (required) throw new CeremonyError('JOURNAL_INCOMPLETE', `The step "${ref.id}" has not finished`)
        return null
      }
      const parsed = ref.schema.safeParse(record.result)
      if (!parsed.success) throw new CeremonyError('JOURNAL_CORRUPT', `The journaled result of "${ref.id}" is not what that step records`)
      return parsed.data
    }
    const notes: string[] = []
    const mismatches: Mismatch[] = []
    return {
      plan, planDigest, stepId: step.id, notes, mismatches,
      label: (id) => labelOf(plan, id),
      now: this.deps.now,
      app: (id) => this.deps.app(id),
      get: (ref) => read(ref, true)!,
      find: (ref) => read(ref, false),
      media: this.media(step.id, notes),
      note: (finding) => void notes.push(finding),
      exceptionsHere: () => this.deps.log.entries().filter((e) => e.kind === ENTRY.exception && e.step === step.id),
      user: (id) => this.deps.user(id),
      apiKey: (id) => this.deps.apiKey(id),
      madeApiKey: (id, key, show) => {
        if (!this.deps.madeApiKey) throw new CeremonyError('API_KEY_NOT_HELD', 'This runner cannot hold an API key the ceremony makes')
        return this.deps.madeApiKey(id, key, show)
      },
      records: () => this.deps.records(),
      outage: this.deps.outage,
      recorded: () => this.deps.log.entries(),
      mismatch: (m) => void mismatches.push(m),
    }
  }

  private async finish(step: AnyStep, ctx: StepContext, result: unknown): Promise<void> {
    await step.verify(ctx, result)
    const parsed = step.result.safeParse(result)
    if (!parsed.success) throw new CeremonyError('INTERNAL', `The step "${step.id}" produced a result it does not declare: ${parsed.error.issues[0]?.message ?? ''}`)
    const evidence = step.evidence(parsed.data, ctx)
    this.deps.journal.done(step.id, parsed.data as JsonObject, this.deps.now())
    this.deps.boundary?.(step.id, 'after-done')
    await this.logDone(step, parsed.data as JsonObject, evidence)
  }

  /** A crash between "journal done" and "log done" leaves a done step without its entry; write it now. */
  async backfillDoneEntries(steps: AnyStep[]): Promise<void> {
    const logged = new Set(this.deps.log.entries().filter((e) => e.kind === ENTRY.stepDone).map((e) => e.step))
    for (const step of steps) {
      const record = this.deps.journal.get(step.id)
      if (record.state !== 'done' || logged.has(step.id)) continue
      const evidence = this.evidenceOf(step)
      await this.logDone(step, { ...(record.result as JsonObject), recovered: true }, evidence ?? { items: [], comparisons: [] })
    }
  }

  private async logDone(step: AnyStep, result: JsonObject, evidence: Evidence): Promise<void> {
    await this.deps.log.append({ actor: step.interaction === 'approval' ? 'engine' : this.deps.operator, step: step.id, kind: ENTRY.stepDone, facts: { scriptId: step.scriptId ?? step.id, title: step.text.title, result, evidence: evidenceForLog(evidence) } })
  }

  private async flushNotes(ctx: { notes: string[]; stepId: string }): Promise<void> {
    for (const finding of ctx.notes.splice(0)) {
      this.findings.push({ stepId: ctx.stepId, finding })
      await this.deps.log.append({ actor: 'engine', step: ctx.stepId, kind: ENTRY.reconcile, facts: { finding } }).catch(() => undefined)
    }
  }

  /** Each mismatch the step found is its own entry, before the step's refusal: the deviation register lists them. */
  private async flushMismatches(step: AnyStep, ctx: { mismatches: Mismatch[] }): Promise<void> {
    for (const m of ctx.mismatches.splice(0)) {
      await this.deps.log.append({ actor: 'engine', step: step.id, kind: ENTRY.materialsMismatch, facts: { ...m, scriptId: step.scriptId ?? step.id } })
    }
  }

  /** Journals and logs a refusal; returns the error to throw (file errors named, folders removed). */
  async fail(step: AnyStep, err: unknown): Promise<Error> {
    let code = errorCode(err, 'INTERNAL')
    // What the journal, the log and the screen keep: file names, never this workstation's folders.
    let message = err instanceof Error ? err.message : String(err)
    for (const dir of [this.deps.mediaDir, this.deps.stateDir]) message = message.split(`${dir}/`).join('').split(dir).join('the ceremony folder')
    if (isFileSystemCode(code)) {
      message = `A file this step needs could not be used (${code})`
      code = 'FILE_ERROR'
    }
    const named = err instanceof CeremonyError && err.code === code && err.message === message ? err : Object.assign(new CeremonyError(code, message), { cause: err })
    // An intent stays an intent when the outcome is unknown: the next run looks before it acts.
    try {
      this.deps.journal.failed(step.id, { code, message }, keepsIntent(code))
    } catch (journalErr) {
      // The journal cannot be saved either (a full disk): it still holds the state before this
      // attempt, and the refusal is reported as it is.
      if (!(journalErr instanceof CeremonyError)) throw journalErr
    }
    await this.deps.log.append({ actor: 'engine', step: step.id, kind: ENTRY.stepFailed, facts: { code, message } }).catch(() => undefined)
    return named
  }

  private media(stepId: string, notes: string[]): MediaAccess {
    const { mediaDir, journal, log } = this.deps
    const pathOf = (name: string) => {
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/.test(name)) throw new CeremonyError('INTERNAL', `Not a plain media file name: ${name}`)
      return join(mediaDir, name)
    }
    const unexpected = (name: string, why: string) =>
      new CeremonyError('UNEXPECTED_FILE', `${name} is on the media, but ${why}. It was not used and not overwritten.`)
    return {
      // A link counts as there (it is then refused by name, never followed).
      exists: (name) => lstatSync(pathOf(name), { throwIfNoEntry: false }) !== undefined,
      journaled: (name) => journal.get(stepId).artifacts[name] ?? null,
      read: (name, sha256, maxBytes) => readFileVerified(pathOf(name), sha256, { maxBytes }),
      // Never through a link, never a FIFO or device, never more than maxBytes (SYMLINK_REFUSED, NOT_A_FILE, FILE_TOO_LARGE).
      readUnverified: (name, maxBytes) => readFileCapped(pathOf(name), maxBytes),
      write: async (name, data) => {
        const path = pathOf(name)
        const sha256 = createHash('sha256').update(data).digest('hex')
        const journaled = journal.get(stepId).artifacts[name]
        if (lstatSync(path, { throwIfNoEntry: false }) !== undefined) {
          // Only a file this step journaled before writing it, byte for byte, is ours to adopt.
          if (journaled === undefined) throw unexpected(name, 'this ceremony did not write it')
          if (journaled !== sha256) throw unexpected(name, 'it is not what this step set out to write')
          await readFileVerified(path, sha256).catch(() => Promise.reject(unexpected(name, 'its contents differ from what this step wrote')))
          notes.push(`found ${name} written before the interruption, byte for byte as journaled; adopted`)
        } else {
          journal.artifact(stepId, name, sha256)
          this.deps.boundary?.(stepId, 'media-write')
          try {
            await writeFileAtomic(path, data)
          } catch (err) {
            if (errorCode(err, '') === 'TARGET_EXISTS') throw unexpected(name, 'it appeared while this step was writing')
            throw err
          }
        }
        const logged = log.entries().some((e: LogEntry) => e.kind === ENTRY.artifact && e.facts['name'] === name && e.facts['sha256'] === sha256)
        if (!logged) await log.append({ actor: this.deps.operator, step: stepId, kind: ENTRY.artifact, facts: { name, sha256, bytes: data.length } })
        this.deps.boundary?.(stepId, 'after-artifact')
        return { name, sha256, bytes: data.length }
      },
    }
  }
}

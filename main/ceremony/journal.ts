/**
 * The crash-safe journal (design §6): per step, `intent` is written (with the exact request) before
 * anything is sent to an appliance, and `done` (with the result) after. On restart every `intent`
 * is reconciled with the appliances before the ceremony moves on, so no step is ever done twice.
 * The store is injected: electron-store in the app, conf in the CLI and tests (both write the file
 * atomically with fsync). No secret is ever written here.
 */
import { assertNoSecrets } from '../evidence'
import { CeremonyError } from '../errors'

export type JournalState = 'pending' | 'intent' | 'waiting' | 'done' | 'failed' | 'skipped'
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

export interface StepRecord {
  state: JournalState
  /** What the step was about to do (request bodies, names, nonces). */
  intent: Record<string, Json> | null
  /** What it found or made (kids, fingerprints, KCVs, digests, request ids). */
  result: Record<string, Json> | null
  error: { code: string; message: string } | null
  startedAt: string | null
  finishedAt: string | null
  attempts: number
}

export interface JournalData {
  version: 1
  ceremonyId: string
  planDigest: string
  createdAt: string
  steps: Record<string, StepRecord>
}

export interface JournalStore {
  get store(): Record<string, unknown>
  set store(value: Record<string, unknown>)
}

export class JournalMismatchError extends CeremonyError {
  constructor(message: string) {
    super('JOURNAL_PLAN_MISMATCH', message)
    this.name = 'JournalMismatchError'
  }
}

/** The journal file cannot be read (truncated, not JSON, not a journal). It is never reset silently. */
export class JournalCorruptError extends CeremonyError {
  constructor(detail: string) {
    super('JOURNAL_CORRUPT', `The ceremony journal cannot be read (${detail}). It was left untouched for inspection; nothing was sent to any appliance.`)
    this.name = 'JournalCorruptError'
  }
}

/** Written by a newer version of the app: refused rather than misread. */
export class JournalUnsupportedError extends CeremonyError {
  constructor(version: unknown) {
    super('JOURNAL_UNSUPPORTED', `The ceremony journal has format version ${String(version)}, which this version of the app does not understand. Use the app version that started the ceremony.`)
    this.name = 'JournalUnsupportedError'
  }
}

const STATES = new Set<JournalState>(['pending', 'intent', 'waiting', 'done', 'failed', 'skipped'])

function checkShape(data: Partial<JournalData>): void {
  if (typeof data.ceremonyId !== 'string' || typeof data.planDigest !== 'string' || !data.steps || typeof data.steps !== 'object') {
    throw new JournalCorruptError('it is not a ceremony journal')
  }
  for (const [id, record] of Object.entries(data.steps)) {
    if (!record || typeof record !== 'object' || !STATES.has((record as StepRecord).state)) throw new JournalCorruptError(`step "${id}" has no valid state`)
  }
}

const EMPTY_RECORD: StepRecord = { state: 'pending', intent: null, result: null, error: null, startedAt: null, finishedAt: null, attempts: 0 }

export class Journal {
  private data: JournalData

  /** Opens the journal for this plan, creating it when new; a journal for another plan is refused. */
  constructor(
    private readonly store: JournalStore,
    init: { ceremonyId: string; planDigest: string; stepIds: string[]; now: () => Date },
  ) {
    const existing = store.store as Partial<JournalData>
    const isNew = Object.keys(existing).length === 0
    if (!isNew && existing.version !== 1) throw new JournalUnsupportedError(existing.version)
    if (!isNew) {
      checkShape(existing)
      if (existing.planDigest !== init.planDigest || existing.ceremonyId !== init.ceremonyId) {
        throw new JournalMismatchError(
          `This workstation holds an unfinished ceremony "${existing.ceremonyId}" for another plan (digest ${String(existing.planDigest).slice(0, 8)}…). Finish it, or use another state folder.`,
        )
      }
      this.data = existing as JournalData
    } else {
      this.data = { version: 1, ceremonyId: init.ceremonyId, planDigest: init.planDigest, createdAt: init.now().toISOString(), steps: {} }
    }
    for (const id of init.stepIds) this.data.steps[id] ??= { ...EMPTY_RECORD }
    this.flush()
  }

  /** Opens the store, naming a damaged file instead of letting a parse error escape. */
  static openStore(open: () => JournalStore): JournalStore {
    try {
      return open()
    } catch (err) {
      throw new JournalCorruptError(err instanceof SyntaxError ? 'the file is not valid JSON' : err instanceof Error ? err.name : 'unknown error')
    }
  }

  /** True when a journal for this ceremony already existed (a resume). */
  static exists(store: JournalStore): boolean {
    return (store.store as Partial<JournalData>).version === 1
  }

  get(stepId: string): StepRecord {
    const record = this.data.steps[stepId]
    if (!record) throw new CeremonyError('UNKNOWN_STEP', `No step "${stepId}" in this ceremony`)
    return record
  }

  all(): Readonly<Record<string, StepRecord>> {
    return this.data.steps
  }

  /** Records what is about to be done. Written (fsynced) before the first byte goes to an appliance. */
  intent(stepId: string, intent: Record<string, Json>, now: Date): void {
    assertNoSecrets(intent)
    const r = this.get(stepId)
    this.data.steps[stepId] = { ...r, state: 'intent', intent, error: null, startedAt: r.startedAt ?? now.toISOString(), attempts: r.attempts + 1 }
    this.flush()
  }

  /** Merges facts into the step's result without finishing it (e.g. a request id, or a waiting approval). */
  progress(stepId: string, facts: Record<string, Json>, state: JournalState = 'intent'): void {
    assertNoSecrets(facts)
    const r = this.get(stepId)
    this.data.steps[stepId] = { ...r, state, result: { ...(r.result ?? {}), ...facts } }
    this.flush()
  }

  done(stepId: string, result: Record<string, Json>, now: Date): void {
    assertNoSecrets(result)
    const r = this.get(stepId)
    this.data.steps[stepId] = { ...r, state: 'done', result: { ...(r.result ?? {}), ...result }, error: null, finishedAt: now.toISOString() }
    this.flush()
  }

  skip(stepId: string, reason: string, now: Date): void {
    const r = this.get(stepId)
    this.data.steps[stepId] = { ...r, state: 'skipped', result: { ...(r.result ?? {}), skipped: reason }, finishedAt: now.toISOString() }
    this.flush()
  }

  failed(stepId: string, error: { code: string; message: string }): void {
    const r = this.get(stepId)
    this.data.steps[stepId] = { ...r, state: 'failed', error }
    this.flush()
  }

  /** Puts steps back to pending (a fresh approval request after a denial); their old facts stay in the audit log. */
  reset(stepIds: string[]): void {
    for (const id of stepIds) this.data.steps[id] = { ...EMPTY_RECORD, attempts: this.get(id).attempts }
    this.flush()
  }

  private flush(): void {
    this.store.store = this.data as unknown as Record<string, unknown>
  }
}

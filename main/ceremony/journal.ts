/**
 * The crash-safe journal (design §6): per step, `intent` is written (with the exact request) before
 * anything is sent to an appliance, and `done` (with the result) after. On restart every `intent`
 * is reconciled with the appliances before the ceremony moves on, so no step is ever done twice.
 * The store is injected: electron-store in the app, conf in the CLI and tests (both write the file
 * atomically with fsync). No secret is ever written here.
 */
import { assertNoSecrets } from '../evidence'
import { CeremonyError } from '../errors'
import type { Json } from './step'

export type JournalState = 'pending' | 'intent' | 'waiting' | 'done' | 'failed' | 'skipped'
export type { Json }

/** The journal format this version writes. Version 1 (before ceremony kinds) is not read. */
export const JOURNAL_VERSION = 2

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
  /** Files this step is writing, name -> SHA-256, journaled before the first byte is written. */
  artifacts: Record<string, string>
  /** Why the step was skipped. */
  skipped: string | null
}

export interface JournalData {
  version: typeof JOURNAL_VERSION
  ceremonyId: string
  planDigest: string
  createdAt: string
  steps: Record<string, StepRecord>
}

export interface JournalStore {
  get store(): Record<string, unknown>
  set store(value: Record<string, unknown>)
  /** The store fsyncs the folder after each save itself (journal-file.ts does; conf does not). */
  readonly syncsFolder?: boolean
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

/**
 * The journal could not be saved (a full disk, an I/O error). The step does not advance: the journal
 * in memory is put back to what is on disk, so what the screen shows is what a restart would find.
 */
export class JournalWriteError extends CeremonyError {
  readonly osCode: string | undefined
  constructor(cause: unknown) {
    const osCode = (cause as NodeJS.ErrnoException | undefined)?.code
    const full = osCode === 'ENOSPC' || osCode === 'EDQUOT'
    super(
      full ? 'STATE_DISK_FULL' : 'STATE_WRITE_FAILED',
      full
        ? `The ceremony journal could not be saved: the disk holding the ceremony's state is full (${osCode}). The ceremony did not advance; free space, then go on.`
        : `The ceremony journal could not be saved (${osCode ?? 'write failed'}). The ceremony did not advance; check the disk holding the ceremony's state, then go on.`,
    )
    this.name = 'JournalWriteError'
    this.osCode = osCode
    this.cause = cause
  }
}

/** A file-system failure (ENOSPC, EIO …) rather than a damaged file. */
function isIoError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) && code !== 'ENOENT'
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

const EMPTY_RECORD: StepRecord = { state: 'pending', intent: null, result: null, error: null, startedAt: null, finishedAt: null, attempts: 0, artifacts: {}, skipped: null }

export class Journal {
  private data: JournalData
  private readonly afterWrite: () => void
  private readonly beforeWrite: () => void

  /** Opens the journal for this plan, creating it when new; a journal for another plan is refused. */
  constructor(
    private readonly store: JournalStore,
    init: { ceremonyId: string; planDigest: string; stepIds: string[]; now: () => Date; afterWrite?: () => void; beforeWrite?: () => void },
  ) {
    this.afterWrite = init.afterWrite ?? (() => undefined)
    /** Fault injection only (the state-write kill loop): called just before each save. */
    this.beforeWrite = init.beforeWrite ?? (() => undefined)
    const existing = store.store as Partial<JournalData>
    const isNew = Object.keys(existing).length === 0
    if (!isNew && existing.version !== JOURNAL_VERSION) throw new JournalUnsupportedError(existing.version)
    if (!isNew) {
      checkShape(existing)
      if (existing.planDigest !== init.planDigest || existing.ceremonyId !== init.ceremonyId) {
        throw new JournalMismatchError(
          `This workstation holds an unfinished ceremony "${existing.ceremonyId}" for another plan (digest ${String(existing.planDigest).slice(0, 8)}…). Finish it, or use another state folder.`,
        )
      }
      this.data = existing as JournalData
    } else {
      this.data = { version: JOURNAL_VERSION, ceremonyId: init.ceremonyId, planDigest: init.planDigest, createdAt: init.now().toISOString(), steps: {} }
    }
    this.write(() => {
      for (const id of init.stepIds) this.data.steps[id] ??= { ...EMPTY_RECORD, artifacts: {} }
    })
  }

  /** Opens the store, naming a damaged file instead of letting a parse error escape. */
  static openStore(open: () => JournalStore): JournalStore {
    try {
      return open()
    } catch (err) {
      // A full disk or an I/O error is not a damaged journal: it is named as what it is.
      if (isIoError(err)) throw new JournalWriteError(err)
      throw new JournalCorruptError(err instanceof SyntaxError ? 'the file is not valid JSON' : err instanceof Error ? err.name : 'unknown error')
    }
  }

  /** True when the store holds anything at all (a journal, or something that claims to be one). */
  static exists(store: JournalStore): boolean {
    return Object.keys(store.store).length > 0
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
    this.write(() => void (this.data.steps[stepId] = { ...r, state: 'intent', intent, error: null, startedAt: r.startedAt ?? now.toISOString(), attempts: r.attempts + 1 }))
  }

  /** Moves the step to `state` without a result (an approval step starts or stops waiting). */
  setState(stepId: string, state: JournalState): void {
    const r = this.get(stepId)
    if (r.state === state) return
    this.write(() => void (this.data.steps[stepId] = { ...r, state }))
  }

  /** Journals the digest of a file before its first byte is written. */
  artifact(stepId: string, name: string, sha256: string): void {
    const r = this.get(stepId)
    this.write(() => void (this.data.steps[stepId] = { ...r, artifacts: { ...r.artifacts, [name]: sha256 } }))
  }

  done(stepId: string, result: Record<string, Json>, now: Date): void {
    assertNoSecrets(result)
    const r = this.get(stepId)
    this.write(() => void (this.data.steps[stepId] = { ...r, state: 'done', result, error: null, finishedAt: now.toISOString() }))
  }

  skip(stepId: string, reason: string, now: Date): void {
    const r = this.get(stepId)
    this.write(() => void (this.data.steps[stepId] = { ...r, state: 'skipped', skipped: reason, finishedAt: now.toISOString() }))
  }

  /** A refusal: the step stopped; `keepState` leaves an intent an intent (its outcome is unknown). */
  failed(stepId: string, error: { code: string; message: string }, keepState = false): void {
    const r = this.get(stepId)
    this.write(() => void (this.data.steps[stepId] = { ...r, state: keepState ? r.state : 'failed', error }))
  }

  /** Puts steps back to pending (a fresh approval request after a denial); their old facts stay in the audit log. */
  reset(stepIds: string[]): void {
    const attempts = stepIds.map((id) => this.get(id).attempts)
    this.write(() => stepIds.forEach((id, i) => void (this.data.steps[id] = { ...EMPTY_RECORD, artifacts: {}, attempts: attempts[i]! })))
  }

  /**
   * Applies `change` and saves the whole journal. If it cannot be saved, the change is undone in
   * memory too (JournalWriteError): memory never runs ahead of the file.
   */
  private write(change: () => void): void {
    const before = { ...this.data.steps }
    change()
    try {
      this.beforeWrite()
      this.store.store = this.data as unknown as Record<string, unknown>
      // The store renames a temp file into place; the rename is durable only once the folder is synced.
      this.afterWrite()
    } catch (err) {
      this.data.steps = before
      throw err instanceof CeremonyError ? err : new JournalWriteError(err)
    }
  }
}

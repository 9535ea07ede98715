/**
 * Opening a ceremony's state folder safely (design §6). The journal and the audit log must tell one
 * story: a log with entries but no journal is refused (JOURNAL_MISSING), never taken for a new
 * ceremony; a damaged log is refused by name (a torn last line is repaired only explicitly, with
 * `ceremony repair-log`). Journal writes are made durable by syncing the folder after each rename.
 */
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { AuditLog, AuditLogCorruptError, AuditLogWriteError, type AuditLog as AuditLogType, type LogFileHandle } from '../evidence'
import { CeremonyError, errorCode } from '../errors'
import { readFileCappedSync, removeStaleTempFiles } from '../media'
import { Journal, JournalCorruptError, type JournalStore } from './journal'
import { StateLock } from './state-lock'
import { JOURNAL_FILE, JOURNAL_MAX_BYTES, syncDir } from './journal-file'
import type { Plan } from './plan-envelope'

export const AUDIT_LOG_FILE = 'audit-log.jsonl'
export { JOURNAL_FILE, JOURNAL_MAX_BYTES, syncDir }

/**
 * The journal file, if there is one, must be a real file (not a link to somewhere else) and no
 * larger than any journal: checked before the store reads or writes it, refused by name otherwise.
 */
function checkJournalFile(stateDir: string): void {
  try {
    readFileCappedSync(join(stateDir, JOURNAL_FILE), JOURNAL_MAX_BYTES)
  } catch (err) {
    const code = errorCode(err, '')
    if (code === 'ENOENT') return
    if (code === 'SYMLINK_REFUSED') throw new JournalCorruptError(`${JOURNAL_FILE} is a symbolic link, not the journal itself`)
    if (code === 'NOT_A_FILE') throw new JournalCorruptError(`${JOURNAL_FILE} is not a regular file`)
    if (code === 'FILE_TOO_LARGE') throw new JournalCorruptError(`${JOURNAL_FILE} is larger than any ceremony journal (${JOURNAL_MAX_BYTES} bytes)`)
    throw err
  }
}

/**
 * What a failure while opening the state folder is called: a full disk or an unwritable folder is
 * named (STATE_DISK_FULL, STATE_UNAVAILABLE) with no path in the message, never a raw ENOSPC.
 */
export function namedStateError(err: unknown): unknown {
  const os = err instanceof AuditLogWriteError ? err.osCode : (err as NodeJS.ErrnoException | undefined)?.code
  const raw = typeof os === 'string' && /^E[A-Z]+$/.test(os) && (err instanceof AuditLogWriteError || !(err instanceof CeremonyError))
  if (!raw) return err
  if (os === 'ENOSPC' || os === 'EDQUOT') {
    return Object.assign(new CeremonyError('STATE_DISK_FULL', `The disk holding the ceremony's state is full (${os}); the ceremony was not opened. Nothing was sent to any appliance. Free space, then start again.`), { cause: err })
  }
  return Object.assign(new CeremonyError('STATE_UNAVAILABLE', `The ceremony's state folder could not be used (${os}); the ceremony was not opened. Nothing was sent to any appliance. Check the disk and the folder's permissions.`), { cause: err })
}

/** Takes the state folder's lock (STATE_LOCKED if a live runner holds it); a full disk is named, not a raw ENOSPC. */
export function acquireStateLock(stateDir: string, now: () => Date): StateLock {
  try {
    return StateLock.acquire(stateDir, now)
  } catch (err) {
    throw namedStateError(err)
  }
}

export interface OpenedState {
  journal: Journal
  log: AuditLogType
  /** The journal existed: this is a resume. */
  resuming: boolean
  /** Temp files a killed write left behind, removed at start (file names only). */
  removedTempFiles: string[]
}

export async function openCeremonyState(input: {
  stateDir: string
  mediaDir: string
  plan: Plan
  planDigest: string
  stepIds: string[]
  openJournalStore(): JournalStore
  now: () => Date
  /** Fault injection only: called before each journal save (the state-write kill loop). */
  beforeJournalWrite?(): void
  /** Fault injection only: how the audit log is opened for appending (the torn-append kill test). */
  openLogForAppend?(path: string): Promise<LogFileHandle>
}): Promise<OpenedState> {
  // The caller holds the state lock: no write of ours is in flight, so any temp file is a dead one.
  const removedTempFiles = [...(await removeStaleTempFiles(input.stateDir)), ...(await removeStaleTempFiles(input.mediaDir))]
  checkJournalFile(input.stateDir)
  const store = Journal.openStore(input.openJournalStore)
  const resuming = Journal.exists(store)
  const logPath = join(input.stateDir, AUDIT_LOG_FILE)
  if (!resuming && existsSync(logPath) && statSync(logPath).size > 0) {
    throw new CeremonyError('JOURNAL_MISSING', 'The audit log of this ceremony has entries, but its journal is missing or empty. It is not started again as a new ceremony: restore the journal, or use a new state folder.')
  }
  const journal = new Journal(store, {
    ceremonyId: input.plan.id, planDigest: input.planDigest, stepIds: input.stepIds, now: input.now,
    // A store that syncs the folder itself (ours) is not synced twice; conf and electron-store are not.
    afterWrite: () => (store.syncsFolder ? undefined : syncDir(input.stateDir)),
    ...(input.beforeJournalWrite ? { beforeWrite: input.beforeJournalWrite } : {}),
  })
  let log: AuditLogType
  try {
    log = await AuditLog.open(logPath, { planDigest: input.planDigest, clock: input.now, ...(input.openLogForAppend ? { openForAppend: input.openLogForAppend } : {}) })
  } catch (err) {
    if (err instanceof AuditLogCorruptError && err.code === 'TORN_TAIL') {
      throw new CeremonyError('AUDIT_LOG_TORN', `The last entry of the audit log was cut off (entry ${err.entry}). Nothing was changed. Repair it explicitly with "ceremony repair-log", which verifies the entries before it and records the repair.`)
    }
    throw err
  }
  return { journal, log, resuming, removedTempFiles }
}

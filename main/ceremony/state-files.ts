/**
 * Opening a ceremony's state folder safely (design §6). The journal and the audit log must tell one
 * story: a log with entries but no journal is refused (JOURNAL_MISSING), never taken for a new
 * ceremony; a damaged log is refused by name (a torn last line is repaired only explicitly, with
 * `ceremony repair-log`). Journal writes are made durable by syncing the folder after each rename.
 */
import { existsSync, openSync, closeSync, fsyncSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { AuditLog, AuditLogCorruptError, type AuditLog as AuditLogType } from '../evidence'
import { CeremonyError } from '../errors'
import { removeStaleTempFiles } from '../media'
import { Journal, type JournalStore } from './journal'
import type { Plan } from './plan-envelope'

export const AUDIT_LOG_FILE = 'audit-log.jsonl'

/** fsync a folder, so the renames into it (journal, media files) survive a power cut. */
export function syncDir(dir: string): void {
  if (process.platform === 'win32') return // folders cannot be opened for fsync there
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
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
}): Promise<OpenedState> {
  // The caller holds the state lock: no write of ours is in flight, so any temp file is a dead one.
  const removedTempFiles = [...(await removeStaleTempFiles(input.stateDir)), ...(await removeStaleTempFiles(input.mediaDir))]
  const store = Journal.openStore(input.openJournalStore)
  const resuming = Journal.exists(store)
  const logPath = join(input.stateDir, AUDIT_LOG_FILE)
  if (!resuming && existsSync(logPath) && statSync(logPath).size > 0) {
    throw new CeremonyError('JOURNAL_MISSING', 'The audit log of this ceremony has entries, but its journal is missing or empty. It is not started again as a new ceremony: restore the journal, or use a new state folder.')
  }
  const journal = new Journal(store, {
    ceremonyId: input.plan.id, planDigest: input.planDigest, stepIds: input.stepIds, now: input.now,
    afterWrite: () => syncDir(input.stateDir),
  })
  let log: AuditLogType
  try {
    log = await AuditLog.open(logPath, { planDigest: input.planDigest, clock: input.now })
  } catch (err) {
    if (err instanceof AuditLogCorruptError && err.code === 'TORN_TAIL') {
      throw new CeremonyError('AUDIT_LOG_TORN', `The last entry of the audit log was cut off (entry ${err.entry}). Nothing was changed. Repair it explicitly with "ceremony repair-log", which verifies the entries before it and records the repair.`)
    }
    throw err
  }
  return { journal, log, resuming, removedTempFiles }
}

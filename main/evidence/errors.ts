// Named failures of the audit log and the ceremony record.

export { SecretInLogError } from './secrets'
export { CanonicalJsonError } from './canonical-json'

/**
 * The entry could not be made durable (write or fsync failed: EACCES, ENOSPC, EIO …). The step
 * must not run: a ceremony without its audit trail is invalid. After this the log refuses further
 * appends (a torn line may be on disk); re-open it to find out what was persisted.
 */
export class AuditLogWriteError extends Error {
  override readonly name = 'AuditLogWriteError'
  readonly code = 'AUDIT_LOG_WRITE_FAILED' as const
  readonly osCode: string | undefined
  constructor(message: string, cause?: unknown) {
    super(message, { cause })
    this.osCode = (cause as NodeJS.ErrnoException | undefined)?.code
  }
}

export type AuditLogCorruptCode = 'BROKEN_CHAIN' | 'TORN_TAIL' | 'NOT_JSON' | 'PLAN_MISMATCH' | 'SYMLINK' | 'TOO_LARGE' | 'NOT_A_FILE'

/** An existing log file failed verification on open; it is not continued. */
export class AuditLogCorruptError extends Error {
  override readonly name = 'AuditLogCorruptError'
  readonly code: AuditLogCorruptCode
  /** 1-based entry (line) number where the problem was found; 0 for the file as a whole. */
  readonly entry: number
  constructor(code: AuditLogCorruptCode, entry: number, reason: string) {
    super(`The audit log is damaged at entry ${entry}: ${reason}`)
    this.code = code
    this.entry = entry
  }
}

/** append() was given an entry that does not follow the format (empty actor, bad sign-off …). */
export class InvalidEntryError extends Error {
  override readonly name = 'InvalidEntryError'
  readonly code = 'INVALID_ENTRY' as const
}

/** buildRecord() was asked to build a record that would not verify. */
export class RecordBuildError extends Error {
  override readonly name = 'RecordBuildError'
  readonly code = 'RECORD_INCONSISTENT' as const
}

/**
 * What an error code means for what happens next, in one place: the runner, the headless driver
 * and the service decide from here, and the renderer is told (it keeps no copy of these lists).
 */

/** The appliance may simply not have answered: waiting goes on, and the step is safe to run again. */
export const TRANSIENT_CODES: ReadonlySet<string> = new Set(['SERVER_ERROR', 'RATE_LIMITED', 'TIMEOUT', 'UNREACHABLE', 'OUTCOME_UNKNOWN'])

/** The request may have reached the appliance (or the log could not be written): the intent stays open. */
const KEEPS_INTENT: ReadonlySet<string> = new Set(['OUTCOME_UNKNOWN', 'TIMEOUT', 'UNREACHABLE', 'AUDIT_LOG_WRITE_FAILED'])

/** The request is finished and will not be executed: a fresh one can be opened. */
export const FRESH_REQUEST_CODES: ReadonlySet<string> = new Set(['QUORUM_DENIED', 'APPROVAL_EXPIRED', 'APPROVAL_FAILED', 'RESULT_LOST'])

export type Recovery = 'run-again' | 'fresh-request' | 'stop'

export function keepsIntent(code: string): boolean {
  return KEEPS_INTENT.has(code)
}

export function isTransient(code: string): boolean {
  return TRANSIENT_CODES.has(code)
}

/** Node's file-system codes (ENOENT, EACCES, ERR_FS_…): shown as FILE_ERROR, never with a path. */
export function isFileSystemCode(code: string): boolean {
  return /^(E[A-Z]+|ERR_[A-Z_]+)$/.test(code)
}

/** What the operator can do about a refusal. */
export function recoveryFor(code: string): Recovery {
  if (FRESH_REQUEST_CODES.has(code)) return 'fresh-request'
  return 'run-again'
}

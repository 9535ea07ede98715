// Named errors for everything the DSM client can fail with. The ceremony engine branches on the
// class (e.g. ApprovalRequiredError is a normal branch, OutcomeUnknownError means "reconcile
// before acting again"), so each failure has its own type instead of a generic Error + string.
//
// Messages never carry secrets: vendor bodies are plain text written by the appliance, and the
// sessions scrub their own token/API key from them before rethrowing (see session-core.ts).

export type DsmErrorCode =
  | 'DSM_ERROR'
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'APPROVAL_REQUIRED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'LOCKED'
  | 'RATE_LIMITED'
  | 'SERVER_ERROR'
  | 'BAD_RESPONSE'
  | 'UNREACHABLE'
  | 'TIMEOUT'
  | 'OUTCOME_UNKNOWN'
  | 'TLS_PIN_MISMATCH'
  | 'TLS_VERIFICATION_FAILED'
  | 'INVALID_HOST'
  | 'INVALID_TRUST'
  | 'INVALID_CREDENTIAL'
  | 'INVALID_ARGUMENT'
  | 'PLAINTEXT_EXPORT_REFUSED'
  | 'ENDPOINT_NOT_ALLOWED'
  | 'SESSION_CLOSED'
  | 'CONNECTION_CLOSED'
  | 'QUORUM_DENIED'
  | 'APPROVAL_EXPIRED'
  | 'APPROVAL_FAILED'

export interface DsmErrorDetails {
  /** HTTP status of the response that caused the error, if there was one. */
  status?: number
  /** "METHOD /path" of the request, without query values that could identify secrets. */
  request?: string
  cause?: unknown
}

/** Base class: `code` is stable for programs, `message` is for people, `status` is the HTTP status. */
export class DsmError extends Error {
  readonly code: DsmErrorCode
  readonly status: number | undefined
  readonly request: string | undefined

  constructor(code: DsmErrorCode, message: string, details: DsmErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = new.target.name
    this.code = code
    this.status = details.status
    this.request = details.request
  }
}

// ---- vendor HTTP errors (status + the appliance's plain-text body as the message) ----

export class BadRequestError extends DsmError {
  constructor(message: string, d: DsmErrorDetails = {}) { super('BAD_REQUEST', message, d) }
}
export class UnauthorizedError extends DsmError {
  constructor(message: string, d: DsmErrorDetails = {}) { super('UNAUTHORIZED', message, d) }
}
export class ForbiddenError extends DsmError {
  constructor(message: string, d: DsmErrorDetails = {}, code: DsmErrorCode = 'FORBIDDEN') { super(code, message, d) }
}
/** 403 "This operation requires approval": a quorum policy protects the call; use an approval request. */
export class ApprovalRequiredError extends ForbiddenError {
  constructor(message: string, d: DsmErrorDetails = {}) { super(message, d, 'APPROVAL_REQUIRED') }
}
export class NotFoundError extends DsmError {
  constructor(message: string, d: DsmErrorDetails = {}) { super('NOT_FOUND', message, d) }
}
/**
 * 404 on an approval request this session names by id. The appliance may delete an expired request
 * (`retain_expired_requests` off, dsm-api.md §10), so for a request the caller made this can mean
 * "expired"; the caller, who knows whether it made the request, decides.
 */
export class ApprovalRequestNotFoundError extends NotFoundError {
  readonly requestId: string
  constructor(requestId: string, message: string, d: DsmErrorDetails = {}) {
    super(`approval request ${requestId} does not exist on the appliance (${message})`, d)
    this.requestId = requestId
  }
}
export class ConflictError extends DsmError {
  constructor(message: string, d: DsmErrorDetails = {}) { super('CONFLICT', message, d) }
}
export class LockedError extends DsmError {
  constructor(message: string, d: DsmErrorDetails = {}) { super('LOCKED', message, d) }
}
export class RateLimitedError extends DsmError {
  /** Server's Retry-After in milliseconds, when it sent one. */
  readonly retryAfterMs: number | undefined
  constructor(message: string, d: DsmErrorDetails & { retryAfterMs?: number } = {}) {
    super('RATE_LIMITED', message, d)
    this.retryAfterMs = d.retryAfterMs
  }
}
/** 5xx. On a write (POST/PUT/PATCH/DELETE) the server may or may not have acted: reconcile. */
export class ServerError extends DsmError {
  constructor(message: string, d: DsmErrorDetails = {}) { super('SERVER_ERROR', message, d) }
}
/** A response that is not what the API promises (bad JSON, missing fields, unexpected status, too big). */
export class BadResponseError extends DsmError {
  constructor(message: string, d: DsmErrorDetails = {}) { super('BAD_RESPONSE', message, d) }
}

// ---- transport errors ----

/** The request never reached the appliance (DNS, refused, TLS handshake aborted): it was NOT executed. */
export class UnreachableError extends DsmError {
  constructor(message: string, d: DsmErrorDetails = {}) { super('UNREACHABLE', message, d) }
}
/** A call exceeded its deadline. For reads (nothing changed) this is the final error. */
export class TimeoutError extends DsmError {
  constructor(message: string, d: DsmErrorDetails = {}, code: DsmErrorCode = 'TIMEOUT') { super(code, message, d) }
}
/**
 * A write was sent but no answer came back (timeout, reset): the appliance may or may not have
 * acted. Never retried by the client; the engine must reconcile (look up by name / nonce) first.
 */
export class OutcomeUnknownError extends TimeoutError {
  constructor(message: string, d: DsmErrorDetails = {}) { super(message, d, 'OUTCOME_UNKNOWN') }
}
export class TlsVerificationError extends DsmError {
  constructor(message: string, d: DsmErrorDetails = {}, code: DsmErrorCode = 'TLS_VERIFICATION_FAILED') { super(code, message, d) }
}
/** The appliance presented a key whose SPKI SHA-256 is not the pinned one. Never bypassable. */
export class TlsPinMismatchError extends TlsVerificationError {
  readonly expected: string
  readonly actual: string
  constructor(expected: string, actual: string, d: DsmErrorDetails = {}) {
    super(
      `TLS pin mismatch: the appliance's public key SHA-256 is ${actual}, the pinned value is ${expected}`,
      d,
      'TLS_PIN_MISMATCH',
    )
    this.expected = expected
    this.actual = actual
  }
}

// ---- local refusals (thrown before any network I/O) ----

export class InvalidHostError extends DsmError {
  constructor(message: string) { super('INVALID_HOST', message) }
}
export class InvalidTrustError extends DsmError {
  constructor(message: string) { super('INVALID_TRUST', message) }
}
export class InvalidCredentialError extends DsmError {
  constructor(message: string) { super('INVALID_CREDENTIAL', message) }
}
export class InvalidArgumentError extends DsmError {
  constructor(message: string) { super('INVALID_ARGUMENT', message) }
}
/** The client never calls an endpoint that returns plaintext key material. */
export class PlaintextExportRefusedError extends DsmError {
  constructor(request: string) {
    super('PLAINTEXT_EXPORT_REFUSED', `refused: ${request} returns plaintext key material and is never called by this app`, { request })
  }
}
/** Only the endpoints the ceremony needs are reachable (security.md §4.1 allowlist). */
export class EndpointNotAllowedError extends DsmError {
  constructor(request: string) {
    super('ENDPOINT_NOT_ALLOWED', `refused: ${request} is not an endpoint this app uses`, { request })
  }
}
export class SessionClosedError extends DsmError {
  constructor() { super('SESSION_CLOSED', 'the DSM session has been closed') }
}
/** A DsmConnection its owner closed sends nothing more: its share of the appliance's sockets is given back. */
export class ConnectionClosedError extends DsmError {
  constructor(authority: string, request: string) {
    super('CONNECTION_CLOSED', `the connection to ${authority} has been closed; ${request} was not sent`, { request })
  }
}

// ---- quorum approval outcomes ----

export class QuorumDeniedError extends DsmError {
  readonly requestId: string
  readonly reason: string | undefined
  constructor(requestId: string, reason: string | undefined) {
    super('QUORUM_DENIED', `approval request ${requestId} was denied${reason ? `: ${reason}` : ''}`)
    this.requestId = requestId
    this.reason = reason
  }
}
export class ApprovalExpiredError extends DsmError {
  readonly requestId: string
  constructor(requestId: string, expiry?: string) {
    super('APPROVAL_EXPIRED', `approval request ${requestId} expired${expiry ? ` at ${expiry} (appliance time)` : ''} before it could be used`)
    this.requestId = requestId
  }
}
/** Quorum was met but the operation itself failed on the appliance (status FAILED, or an inner error status). */
export class ApprovalFailedError extends DsmError {
  readonly requestId: string
  constructor(requestId: string, message: string, innerStatus?: number) {
    super('APPROVAL_FAILED', `approved request ${requestId} failed on the appliance: ${message}`, innerStatus === undefined ? {} : { status: innerStatus })
    this.requestId = requestId
  }
}

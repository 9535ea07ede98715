// Quorum approval requests (dsm-api.md §6): create with a description carrying the ceremony id +
// step nonce (how the engine finds a request again after a crash), get, list, approve, deny, and
// read the result (POST …/result → {status, body}), withdraw. Status outcomes become named errors:
// DENIED → QuorumDeniedError, FAILED or an inner error status → ApprovalFailedError, past its
// expiry by the appliance's clock → ApprovalExpiredError (DSM has no EXPIRED status), and a 404 on
// a request named by id → ApprovalRequestNotFoundError (an appliance may delete expired requests).
import { checkApprovableOperation, type HttpMethod } from './endpoints'
import {
  ApprovalExpiredError,
  ApprovalFailedError,
  ApprovalRequestNotFoundError,
  BadRequestError,
  BadResponseError,
  InvalidArgumentError,
  NotFoundError,
  QuorumDeniedError,
} from './errors'
import { checkUuid, type UnwrapKeyRequest, type WrapKeyRequest } from './requests'
import {
  ApprovableResultSchema,
  ApprovalRequestListSchema,
  ApprovalRequestSchema,
  parseDsmTime,
  SobjectSchema,
  WrapKeyResponseSchema,
  type ApprovableResult,
  type ApprovalRequest,
  type ApprovalStatus,
  type Sobject,
  type WrapKeyResponse,
} from './schemas'
import type { AuthedCaller } from './session-core'

export interface CreateApprovalRequest {
  method: Extract<HttpMethod, 'POST' | 'DELETE'>
  /** path of the protected call, with leading slash, e.g. /crypto/v1/wrapkey */
  operation: string
  /** exactly the JSON the direct call would send */
  body?: unknown
  /** shown to custodians; carries ceremony id + step nonce for reconciliation */
  description: string
}

export interface ListApprovalsFilter {
  requester?: string
  reviewer?: string
  subject?: string
  status?: ApprovalStatus
}

export interface AwaitDecisionOptions {
  /** first poll delay (default 250 ms); doubles up to maxIntervalMs */
  initialIntervalMs?: number
  /** default 1000 ms: approval is noticed within ~1 s (design.md §11) */
  maxIntervalMs?: number
  /** give up (TimeoutError-free: resolves the last seen request) after this long; default: until expiry */
  maxWaitMs?: number
  /** stop polling when aborted */
  signal?: AbortSignal
  /** called with each polled state (for a progress display) */
  onPoll?: (req: ApprovalRequest) => void
}

/** An approval request plus the appliance's clock at the time it was read. */
export interface ApprovalSnapshot {
  request: ApprovalRequest
  serverDate: Date | undefined
}

export class ApprovalsApi {
  readonly #s: AuthedCaller
  constructor(session: AuthedCaller) {
    this.#s = session
  }

  /** POST /sys/v1/approval_requests. Not idempotent: on OutcomeUnknownError, find it by description first. */
  async create(req: CreateApprovalRequest): Promise<ApprovalRequest> {
    if (req.method !== 'POST' && req.method !== 'DELETE') throw new InvalidArgumentError('approval request method must be POST or DELETE')
    if (typeof req.operation !== 'string' || !req.operation.startsWith('/')) throw new InvalidArgumentError('operation must be a path with a leading "/"')
    checkApprovableOperation(req.method, req.operation)
    if (typeof req.description !== 'string' || req.description.trim().length === 0) {
      throw new InvalidArgumentError('an approval request needs a description (ceremony id + step nonce)')
    }
    const body: Record<string, unknown> = { method: req.method, operation: req.operation, description: req.description }
    if (req.body !== undefined) body['body'] = req.body
    const r = await this.#s.call({ method: 'POST', path: '/sys/v1/approval_requests', body, expect: [200, 201], schema: ApprovalRequestSchema })
    return r.value
  }

  /** Approval request for POST /crypto/v1/wrapkey (ceremony step 5). */
  createWrap(body: WrapKeyRequest, description: string): Promise<ApprovalRequest> {
    return this.create({ method: 'POST', operation: '/crypto/v1/wrapkey', body, description })
  }

  /** Approval request for POST /crypto/v1/unwrapkey (ceremony step 9). */
  createUnwrap(body: UnwrapKeyRequest, description: string): Promise<ApprovalRequest> {
    return this.create({ method: 'POST', operation: '/crypto/v1/unwrapkey', body, description })
  }

  /** Approval request for DELETE /crypto/v1/keys/{kid} (when DELETE_SOBJECTS is protected). */
  createDelete(kid: string, description: string): Promise<ApprovalRequest> {
    return this.create({ method: 'DELETE', operation: `/crypto/v1/keys/${checkUuid(kid, 'kid')}`, description })
  }

  async get(requestId: string): Promise<ApprovalRequest> {
    return (await this.snapshot(requestId)).request
  }

  /**
   * GET …/{id} with the server's Date, for expiry decisions by the appliance's clock. A request
   * the appliance does not have is ApprovalRequestNotFoundError (it may have been deleted when it
   * expired, or withdrawn).
   */
  async snapshot(requestId: string): Promise<ApprovalSnapshot> {
    const id = checkUuid(requestId, 'request_id')
    try {
      const r = await this.#s.call({ method: 'GET', path: `/sys/v1/approval_requests/${id}`, expect: [200], schema: ApprovalRequestSchema })
      return { request: r.value, serverDate: r.serverDate }
    } catch (err) {
      throw namedApprovalError(err, id)
    }
  }

  /** DELETE …/{id} (204): withdraws a request this app made. ApprovalRequestNotFoundError if it is gone. */
  async withdraw(requestId: string): Promise<void> {
    const id = checkUuid(requestId, 'request_id')
    try {
      await this.#s.call({ method: 'DELETE', path: `/sys/v1/approval_requests/${id}`, expect: [204, 200] })
    } catch (err) {
      throw namedApprovalError(err, id)
    }
  }

  async list(filter: ListApprovalsFilter = {}): Promise<ApprovalRequest[]> {
    const query: Record<string, string | undefined> = {
      requester: filter.requester === undefined ? undefined : checkUuid(filter.requester, 'requester'),
      reviewer: filter.reviewer === undefined ? undefined : checkUuid(filter.reviewer, 'reviewer'),
      subject: filter.subject === undefined ? undefined : checkUuid(filter.subject, 'subject'),
      status: filter.status,
    }
    const r = await this.#s.call({ method: 'GET', path: '/sys/v1/approval_requests', query, expect: [200], schema: ApprovalRequestListSchema })
    return r.value
  }

  /** Requests whose description contains `nonce` (reconciliation after a crash). */
  async findByNonce(nonce: string, filter: ListApprovalsFilter = {}): Promise<ApprovalRequest[]> {
    if (typeof nonce !== 'string' || nonce.length < 8) throw new InvalidArgumentError('nonce must be at least 8 characters')
    return (await this.list(filter)).filter((r) => (r.description ?? '').includes(nonce))
  }

  /**
   * POST …/approve. `password` (required when the policy sets require_password) is zeroed after
   * the call, whatever happens.
   */
  async approve(requestId: string, opts: { password?: Buffer } = {}): Promise<ApprovalRequest> {
    try {
      const id = checkUuid(requestId, 'request_id')
      const body: Record<string, unknown> = {}
      if (opts.password !== undefined) {
        if (!Buffer.isBuffer(opts.password)) throw new InvalidArgumentError('password must be a Buffer')
        body['password'] = opts.password.toString('utf8')
      }
      const r = await this.#s.call({ method: 'POST', path: `/sys/v1/approval_requests/${id}/approve`, body, expect: [200], schema: ApprovalRequestSchema })
      return r.value
    } catch (err) {
      throw namedApprovalError(err, requestId)
    } finally {
      if (Buffer.isBuffer(opts.password)) opts.password.fill(0)
    }
  }

  /** POST …/deny with an optional reason. */
  async deny(requestId: string, reason?: string): Promise<ApprovalRequest> {
    const id = checkUuid(requestId, 'request_id')
    const body = reason === undefined ? {} : { reason }
    try {
      const r = await this.#s.call({ method: 'POST', path: `/sys/v1/approval_requests/${id}/deny`, body, expect: [200], schema: ApprovalRequestSchema })
      return r.value
    } catch (err) {
      throw namedApprovalError(err, requestId)
    }
  }

  /** POST …/result → {status, body}: the inner HTTP status and response of the executed operation. */
  async result(requestId: string): Promise<ApprovableResult> {
    const id = checkUuid(requestId, 'request_id')
    try {
      const r = await this.#s.call({ method: 'POST', path: `/sys/v1/approval_requests/${id}/result`, expect: [200], schema: ApprovableResultSchema })
      return r.value
    } catch (err) {
      throw namedApprovalError(err, requestId)
    }
  }

  /** The wrapped CMK from an approved wrapkey request (ceremony step 7). */
  async wrapResult(requestId: string): Promise<WrapKeyResponse> {
    return parseInner(requestId, await this.result(requestId), WrapKeyResponseSchema)
  }

  /** The new key from an approved unwrapkey request (ceremony step 11). */
  async unwrapResult(requestId: string): Promise<Sobject> {
    return parseInner(requestId, await this.result(requestId), SobjectSchema)
  }

  /**
   * Polls until the request is decided. Resolves with the APPROVED request; throws
   * QuorumDeniedError, ApprovalFailedError or ApprovalExpiredError. Stops early (resolving the
   * last PENDING state) when maxWaitMs passes or the signal aborts.
   */
  async awaitDecision(requestId: string, opts: AwaitDecisionOptions = {}): Promise<ApprovalRequest> {
    const maxInterval = opts.maxIntervalMs ?? 1000
    let interval = Math.min(opts.initialIntervalMs ?? 250, maxInterval)
    const started = this.#s.clock.now()
    for (;;) {
      const snap = await this.snapshot(requestId)
      opts.onPoll?.(snap.request)
      const decided = await this.#decide(snap)
      if (decided) return decided
      if (opts.signal?.aborted) return snap.request
      if (opts.maxWaitMs !== undefined && this.#s.clock.now() - started >= opts.maxWaitMs) return snap.request
      await sleepUnlessAborted(this.#s, interval, opts.signal)
      interval = Math.min(maxInterval, interval * 2)
    }
  }

  /** Throws for a finished-but-unusable request; returns it if APPROVED; undefined while PENDING. */
  async #decide(snap: ApprovalSnapshot): Promise<ApprovalRequest | undefined> {
    const req = snap.request
    switch (req.status) {
      case 'APPROVED':
        return req
      case 'DENIED':
        throw new QuorumDeniedError(req.request_id, req.denial_reason ?? undefined)
      case 'FAILED': {
        // The result holds the appliance's error message for the failed operation.
        const res = await this.result(req.request_id).catch(() => undefined)
        throw new ApprovalFailedError(req.request_id, (res && innerMessage(res.body)) ?? 'the operation failed after approval', res?.status)
      }
      case 'PENDING':
        if (isExpired(req, snap.serverDate)) throw new ApprovalExpiredError(req.request_id, req.expiry)
        return undefined
    }
  }
}

/** Expiry by the appliance's clock (Date header); without one, by the local clock is not trusted: not expired. */
export function isExpired(req: ApprovalRequest, serverDate: Date | undefined): boolean {
  if (!serverDate) return false
  return parseDsmTime(req.expiry).getTime() <= serverDate.getTime()
}

function namedApprovalError(err: unknown, requestId: string): unknown {
  // The simulator (and, we assume, DSM) answers 400 "...expired" for an expired request it keeps.
  if (err instanceof BadRequestError && /expired/i.test(err.message)) {
    return new ApprovalExpiredError(requestId)
  }
  // One it deleted (or one withdrawn) is a 404: named, with the id, for the caller to judge.
  if (err instanceof NotFoundError && !(err instanceof ApprovalRequestNotFoundError)) {
    return new ApprovalRequestNotFoundError(requestId, err.message, { ...(err.status === undefined ? {} : { status: err.status }), ...(err.request === undefined ? {} : { request: err.request }) })
  }
  return err
}

function innerMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body.slice(0, 500)
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') return (body as { message: string }).message.slice(0, 500)
  return undefined
}

function parseInner<T>(requestId: string, res: ApprovableResult, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }): T {
  if (res.status < 200 || res.status >= 300) {
    throw new ApprovalFailedError(requestId, innerMessage(res.body) ?? `inner status ${res.status}`, res.status)
  }
  const parsed = schema.safeParse(res.body)
  if (!parsed.success) throw new BadResponseError(`approval request ${requestId}: the result body has an unexpected shape`)
  return parsed.data
}

function sleepUnlessAborted(s: AuthedCaller, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const h = s.timers.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      s.timers.clearTimeout(h)
      resolve()
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

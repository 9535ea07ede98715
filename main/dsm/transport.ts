// One appliance connection: host + port + TLS trust + the request function every call goes
// through. That single function is where the rules live, so no caller can skip them:
//   * endpoint allowlist and plaintext-export refusal, before any network I/O;
//   * one pinned keep-alive connection per DsmConnection (pinned-agent.ts): each new socket is
//     verified and pin-checked; a wrong pin on any new socket closes the connection for good;
//   * a connect timeout (in the TLS connector) and a response timeout on every call;
//   * reads retried with capped exponential backoff and full jitter on network errors, 5xx and
//     429 (Retry-After honoured; the policy is retry.ts); writes never retried once the request
//     may have been sent: a timeout or reset surfaces OutcomeUnknownError so the engine reconciles
//     first;
//   * vendor errors (plain-text bodies) mapped to named errors; responses parsed with zod
//     (responses.ts);
//   * a closed connection refuses every call by name (ConnectionClosedError), sending nothing:
//     its share of the appliance's sockets has been given back (appliance-link.ts);
//   * the server `Date` header captured for clock-skew checks;
//   * logging of method, path template, status and timing only: never headers or bodies.
import * as https from 'node:https'
import type { z } from 'zod'
import { checkEndpoint, type EndpointEffect, type HttpMethod } from './endpoints'
import {
  BadResponseError,
  ConnectionClosedError,
  DsmError,
  OutcomeUnknownError,
  TlsPinMismatchError,
  TimeoutError,
  UnreachableError,
} from './errors'
import { normaliseHost } from './host'
import { VersionResponseSchema, type VersionResponse } from './schemas'
import { parseHttpDate, queryString, redactSecrets, safeObserve, sleep } from './http-helpers'
import { openLink, type ApplianceLink } from './appliance-link'
import { errorForResponse, parseResponse, type RawResponse } from './responses'
import { DEFAULT_RETRY, isRetryable, retryDelay, type RetryPolicy } from './retry'
import { realTimers, type Timers, type TlsTrust } from './tls-pin'

export type { RetryPolicy } from './retry'

export interface Clock {
  /** ms since the epoch */
  now(): number
}

export interface DsmLogger {
  debug(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
}

const silentLogger: DsmLogger = { debug: () => undefined, warn: () => undefined }

/** What the request hook sees: enough to audit and to validate against the OpenAPI document. Never headers. */
export interface RequestEvent {
  method: HttpMethod
  /** path with query string, as sent */
  path: string
  /** the JSON body as sent (undefined when there is none) */
  body: unknown
  attempt: number
}

export interface ResponseEvent {
  method: HttpMethod
  path: string
  status: number
  attempt: number
  durationMs: number
}

export interface DsmConnectionOptions {
  /** as typed by the operator: host[:port], no scheme (see normaliseHost) */
  host: string
  /** overrides a port in `host`; default 443 */
  port?: number
  trust: TlsTrust
  /** TCP + TLS handshake + pin check (default 10 s) */
  connectTimeoutMs?: number
  /** from the moment the request is sent to the last byte of the response (default 30 s) */
  responseTimeoutMs?: number
  /** an idle keep-alive socket is closed after this long (default 4 s; see pinned-agent.ts) */
  idleTimeoutMs?: number
  /** sockets open to the appliance at once (default 1: one pinned connection, calls queue) */
  maxSockets?: number
  retry?: Partial<RetryPolicy>
  /** responses larger than this are refused (default 1 MiB) */
  maxResponseBytes?: number
  clock?: Clock
  timers?: Timers
  /** [0, 1) source for jitter (default Math.random) */
  random?: () => number
  logger?: DsmLogger
  /** observers (tests capture request bodies with these); exceptions they throw are ignored */
  onRequest?: (e: RequestEvent) => void
  onResponse?: (e: ResponseEvent) => void
}

export type QueryValue = string | number | boolean | undefined

export interface CallSpec<T> {
  method: HttpMethod
  /** pathname only; ids already validated by the caller */
  path: string
  query?: Record<string, QueryValue>
  body?: unknown
  /** full Authorization header value; built by the session, never logged */
  authorization?: string
  /** success statuses; anything else is an error */
  expect: readonly number[]
  /** response schema; omit for an empty (204) response */
  schema?: z.ZodType<T>
  responseTimeoutMs?: number
}

export interface CallResult<T> {
  value: T
  status: number
  /** server time from the `Date` header, if present and valid */
  serverDate: Date | undefined
  /** local clock when the request was started and when the response arrived (for skew) */
  sentAt: number
  receivedAt: number
}

export interface ApplianceVersion extends VersionResponse {
  /** true when the appliance reports a FIPS level */
  fips: boolean
  serverDate: Date | undefined
  skewMs: number | undefined
}

/** Marker for a failure after the request may have reached the appliance. */
class AfterSendFailure extends Error {
  constructor(readonly kind: 'timeout' | 'network', readonly inner: unknown) {
    super(kind)
  }
}

export class DsmConnection {
  readonly host: string
  readonly port: number
  /** `host:port` for messages and logs */
  readonly authority: string
  readonly clock: Clock
  readonly timers: Timers
  readonly logger: DsmLogger
  /** The appliance's one pinned connection, shared with other sessions to it (appliance-link.ts). */
  readonly #link: ApplianceLink
  #closed = false
  /** Requests of this connection still waiting for a socket (nothing of them sent yet). */
  readonly #queued = new Set<() => void>()
  #warnedRefusal = false
  readonly #responseTimeoutMs: number
  readonly #retry: RetryPolicy
  readonly #maxResponseBytes: number
  readonly #random: () => number
  readonly #onRequest: ((e: RequestEvent) => void) | undefined
  readonly #onResponse: ((e: ResponseEvent) => void) | undefined

  constructor(opts: DsmConnectionOptions) {
    const h = normaliseHost(opts.host)
    this.host = h.host
    this.port = opts.port ?? h.port ?? 443
    this.authority = h.host.includes(':') ? `[${h.host}]:${this.port}` : `${h.host}:${this.port}`
    this.clock = opts.clock ?? { now: () => Date.now() }
    this.timers = opts.timers ?? realTimers
    this.logger = opts.logger ?? silentLogger
    this.#responseTimeoutMs = opts.responseTimeoutMs ?? 30_000
    this.#retry = { ...DEFAULT_RETRY, ...opts.retry }
    this.#maxResponseBytes = opts.maxResponseBytes ?? 1024 * 1024
    this.#random = opts.random ?? Math.random
    this.#onRequest = opts.onRequest
    this.#onResponse = opts.onResponse
    const agentOptions = { ...(opts.idleTimeoutMs !== undefined ? { idleTimeoutMs: opts.idleTimeoutMs } : {}), ...(opts.maxSockets !== undefined ? { maxSockets: opts.maxSockets } : {}) }
    this.#link = openLink({ host: this.host, port: this.port, trust: opts.trust, connectTimeoutMs: opts.connectTimeoutMs ?? 10_000, timers: this.timers }, agentOptions)
  }

  /** TLS handshakes made so far on this appliance's connection: probes (pin-only first contact) and verified sockets. */
  get tlsHandshakes(): { probes: number; verified: number } {
    return this.#link.connector.handshakes
  }

  /** Every DSM call goes through here. */
  async call<T>(spec: CallSpec<T>): Promise<CallResult<T>> {
    const endpoint = checkEndpoint(spec.method, spec.path)
    const path = spec.path + queryString(spec.query)
    const where = `${spec.method} ${endpoint.template}`
    const attempts = endpoint.effect === 'read' ? Math.max(1, this.#retry.maxAttempts) : 1
    let lastError: DsmError | undefined
    for (let attempt = 1; attempt <= attempts; attempt++) {
      // Before every attempt, not only the first: a connection closed (a sign-out, the quit) or
      // refused while a read waited to retry sends nothing more.
      this.#assertUsable(where)
      let delay: number | undefined
      try {
        return await this.#attempt(spec, path, where, endpoint.effect, attempt)
      } catch (err) {
        const e = err instanceof DsmError ? err : new UnreachableError(`request to ${this.authority} failed`, { request: where, cause: err })
        lastError = e
        if (!isRetryable(e) || attempt === attempts) throw e
        delay = retryDelay(this.#retry, e, attempt, this.#random)
        if (delay === undefined) throw e
      }
      this.logger.debug('dsm retry', { request: where, attempt, delayMs: delay, error: lastError?.code })
      await sleep(this.timers, delay)
    }
    throw lastError ?? new UnreachableError(`request to ${this.authority} failed`, { request: where })
  }

  #assertUsable(where: string): void {
    if (this.#closed) throw new ConnectionClosedError(this.authority, where)
    const refused = this.#link.refused
    if (refused) {
      // A new socket presented another key: the connection is closed for good, nothing is sent.
      if (!this.#warnedRefusal) this.logger.warn('dsm TLS pin mismatch: connection closed', { appliance: this.authority })
      this.#warnedRefusal = true
      throw new TlsPinMismatchError(refused.expected, refused.actual, { request: where })
    }
  }

  async #attempt<T>(spec: CallSpec<T>, path: string, where: string, effect: EndpointEffect, attempt: number): Promise<CallResult<T>> {
    const bodyText = spec.body === undefined ? undefined : JSON.stringify(spec.body)
    if (this.#onRequest) {
      const body = bodyText === undefined ? undefined : redactSecrets(JSON.parse(bodyText) as unknown)
      safeObserve(this.#onRequest, { method: spec.method, path, body, attempt })
    }
    const sentAt = this.clock.now()
    let raw: RawResponse
    try {
      raw = await this.#send(spec, path, where, bodyText, spec.responseTimeoutMs ?? this.#responseTimeoutMs)
    } catch (err) {
      if (err instanceof AfterSendFailure) {
        const ms = spec.responseTimeoutMs ?? this.#responseTimeoutMs
        const what = err.kind === 'timeout' ? `no response within ${ms} ms` : 'the connection failed before the response arrived'
        this.logger.warn('dsm request failed after send', { request: where, attempt, kind: err.kind })
        if (effect === 'write') {
          throw new OutcomeUnknownError(`${where} on ${this.authority}: ${what}; the appliance may or may not have acted, reconcile before retrying`, { request: where, cause: err.inner })
        }
        if (err.kind === 'timeout') throw new TimeoutError(`${where} on ${this.authority}: ${what}`, { request: where, cause: err.inner })
        throw new UnreachableError(`${where} on ${this.authority}: ${what}`, { request: where, cause: err.inner })
      }
      if (err instanceof DsmError) {
        this.logger.warn('dsm connect failed', { request: where, attempt, error: err.code })
        if (err instanceof TlsPinMismatchError && !this.#warnedRefusal) {
          this.#warnedRefusal = true
          this.logger.warn('dsm TLS pin mismatch: connection closed', { appliance: this.authority })
        }
        throw withRequest(err, where)
      }
      throw new UnreachableError(`cannot reach ${this.authority}; the request was not sent`, { request: where, cause: err })
    }
    const receivedAt = this.clock.now()
    const durationMs = receivedAt - sentAt
    safeObserve(this.#onResponse, { method: spec.method, path, status: raw.status, attempt, durationMs })
    this.logger.debug('dsm response', { request: where, status: raw.status, attempt, durationMs })
    const serverDate = parseHttpDate(raw.headers['date'])

    if (!spec.expect.includes(raw.status)) throw errorForResponse(raw, where, this.authority, spec.authorization, () => this.clock.now())
    const value = parseResponse(raw, spec.schema, where, this.authority)
    return { value, status: raw.status, serverDate, sentAt, receivedAt }
  }

  #send(spec: CallSpec<unknown>, path: string, where: string, bodyText: string | undefined, responseTimeoutMs: number): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { accept: 'application/json' }
      if (spec.authorization) headers['authorization'] = spec.authorization
      if (bodyText !== undefined) {
        headers['content-type'] = 'application/json'
        headers['content-length'] = String(Buffer.byteLength(bodyText))
      }
      let sent = false // true once a verified socket was handed over: bytes may reach the appliance
      let timer: unknown
      let settled = false
      const finish = (fn: () => void) => {
        if (settled) return
        settled = true
        this.timers.clearTimeout(timer)
        fn()
      }
      const req = https.request({
        agent: this.#link.agent,
        host: this.host,
        port: this.port,
        method: spec.method,
        path,
        headers,
      })
      // Until a socket is handed over the request only waits in the link's queue (the appliance's
      // socket may be busy with another session's call): closing this connection withdraws it.
      const withdraw = () => {
        finish(() => reject(new ConnectionClosedError(this.authority, where)))
        req.destroy()
      }
      this.#queued.add(withdraw)
      req.on('close', () => this.#queued.delete(withdraw))
      req.on('socket', () => {
        this.#queued.delete(withdraw)
        sent = true
        timer = this.timers.setTimeout(() => {
          finish(() => reject(new AfterSendFailure('timeout', undefined)))
          req.destroy()
        }, responseTimeoutMs)
      })
      req.on('error', (err) => {
        finish(() => reject(sent ? new AfterSendFailure('network', err) : err))
      })
      req.on('response', (res) => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (c: Buffer) => {
          size += c.length
          if (size > this.#maxResponseBytes) {
            finish(() => reject(new BadResponseError(`response from ${this.authority} is larger than ${this.#maxResponseBytes} bytes`, { status: res.statusCode })))
            req.destroy()
            return
          }
          chunks.push(c)
        })
        res.on('end', () => finish(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) })))
        res.on('error', (err) => finish(() => reject(new AfterSendFailure('network', err))))
        res.on('aborted', () => finish(() => reject(new AfterSendFailure('network', undefined))))
      })
      req.end(bodyText)
    })
  }

  /**
   * GET /sys/v1/version (no auth) plus the appliance clock from the `Date` header: the version, the
   * FIPS level and, with `detailedFipsInfo`, the plugins digest (what the API says of an appliance's
   * identity; it gives no serial number or node id). `skewMs` is
   * server time minus local time at the midpoint of the call (positive: appliance is ahead);
   * the header has 1 s resolution.
   */
  async version(opts: { detailedFipsInfo?: boolean } = {}): Promise<ApplianceVersion> {
    // `detailed_fips_info` adds `plugins_digest` on FIPS builds (VersionParams); the others ignore it.
    const query = opts.detailedFipsInfo ? { detailed_fips_info: true } : undefined
    const r = await this.call({ method: 'GET', path: '/sys/v1/version', ...(query ? { query } : {}), expect: [200], schema: VersionResponseSchema })
    const midpoint = (r.sentAt + r.receivedAt) / 2
    return {
      ...r.value,
      fips: r.value.fips_level !== undefined && r.value.fips_level !== null,
      serverDate: r.serverDate,
      skewMs: r.serverDate ? r.serverDate.getTime() - midpoint : undefined,
    }
  }

  /** GET /sys/v1/health (no auth): resolves when the appliance answers 204; ServerError if unhealthy. */
  async health(): Promise<void> {
    await this.call({ method: 'GET', path: '/sys/v1/health', expect: [204, 200] })
  }

  /** True once its owner closed it (close()). */
  get closed(): boolean {
    return this.#closed
  }

  /**
   * Its owner is done with the appliance: later calls are refused (ConnectionClosedError) and its
   * share of the appliance's link is given back; the last connection out closes the sockets.
   * Idempotent, so the link is released exactly once whoever calls it again.
   */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    for (const withdraw of [...this.#queued]) withdraw()
    this.#link.release()
  }
}

function withRequest(e: DsmError, where: string): DsmError {
  if (e.request === undefined) (e as { request: string | undefined }).request = where
  return e
}

export { parseHttpDate } from './http-helpers'

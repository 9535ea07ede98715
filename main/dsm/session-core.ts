// What app and custodian sessions share: holding the bearer token (private, never logged, never
// serialised), attaching it to calls, one transparent re-authentication on 401 (safe because a
// 401 means the request was not executed), scrubbing the token out of any error message, and the
// typed API groups (keys, groups, approvals, crypto). A session opened with `ownsConnection`
// closes its DsmConnection when it ends (the ceremony gives each session a connection of its own;
// the appliance's sockets are shared underneath by its link, so the last one out closes them);
// one opened without it leaves the connection to whoever made it, who may share it.
import { inspect } from 'node:util'
import { ApprovalsApi } from './approvals'
import { CryptoApi } from './crypto'
import { DsmError, SessionClosedError, UnauthorizedError } from './errors'
import { GroupsApi } from './groups'
import type { AuthResponse } from './schemas'
import { SobjectsApi } from './sobjects'
import type { Timers } from './tls-pin'
import type { CallResult, CallSpec, Clock, DsmConnection } from './transport'

export type AuthedSpec<T> = Omit<CallSpec<T>, 'authorization'>

export interface SessionOptions {
  /**
   * The session owns the connection: it closes it when it ends (logout, even one the appliance
   * fails, or a login that fails). Leave unset when the connection is shared with other sessions.
   */
  ownsConnection?: boolean
}

/** What the API groups need from a session. */
export interface AuthedCaller {
  call<T>(spec: AuthedSpec<T>): Promise<CallResult<T>>
  readonly clock: Clock
  readonly timers: Timers
}

export abstract class DsmSession implements AuthedCaller {
  readonly connection: DsmConnection
  readonly keys: SobjectsApi
  readonly groups: GroupsApi
  readonly approvals: ApprovalsApi
  readonly crypto: CryptoApi
  #token: string | undefined
  #entityId: string
  #expiresInMs: number
  #lastUseAt: number
  #reauth: Promise<void> | undefined
  #closed = false
  readonly #ownsConnection: boolean

  protected constructor(connection: DsmConnection, auth: AuthResponse, options: SessionOptions = {}) {
    this.connection = connection
    this.#ownsConnection = options.ownsConnection ?? false
    this.#token = auth.access_token
    this.#entityId = auth.entity_id
    this.#expiresInMs = auth.expires_in * 1000
    this.#lastUseAt = connection.clock.now()
    this.keys = new SobjectsApi(this)
    this.groups = new GroupsApi(this)
    this.approvals = new ApprovalsApi(this)
    this.crypto = new CryptoApi(this)
  }

  get clock(): Clock { return this.connection.clock }
  get timers(): Timers { return this.connection.timers }
  /** uuid of the app or user this session belongs to (the `requester` of its approval requests) */
  get entityId(): string { return this.#entityId }
  get closed(): boolean { return this.#closed }
  /** Local estimate of when the session idles out (DSM counts from last use). */
  get idleExpiresAt(): number { return this.#lastUseAt + this.#expiresInMs }

  /** Subclasses: obtain a fresh session, or throw if they cannot (custodians must log in again). */
  protected abstract reauthenticate(): Promise<AuthResponse>

  /** Authenticated call with one transparent re-auth on 401. */
  async call<T>(spec: AuthedSpec<T>): Promise<CallResult<T>> {
    const token = this.#requireToken()
    try {
      const r = await this.connection.call({ ...spec, authorization: `Bearer ${token}` })
      this.#lastUseAt = this.clock.now()
      return r
    } catch (err) {
      if (!(err instanceof UnauthorizedError) || this.#closed) throw this.#scrub(err, token)
      this.connection.logger.debug('dsm session got 401; re-authenticating once', { request: err.request })
      try {
        await this.#reauthOnce(token)
      } catch (reauthErr) {
        throw this.#scrub(reauthErr, token)
      }
      const fresh = this.#requireToken()
      try {
        const r = await this.connection.call({ ...spec, authorization: `Bearer ${fresh}` })
        this.#lastUseAt = this.clock.now()
        return r
      } catch (err2) {
        throw this.#scrub(this.#scrub(err2, fresh), token)
      }
    }
  }

  /** Keeps the session alive (POST /sys/v1/session/refresh, 204). */
  async refresh(): Promise<void> {
    await this.call({ method: 'POST', path: '/sys/v1/session/refresh', expect: [204, 200] })
  }

  /**
   * Ends the session on the appliance (POST /sys/v1/session/terminate) and forgets the token.
   * Local secrets are wiped, and an owned connection closed, even if the appliance cannot be
   * reached or fails the request; an already expired session (401) counts as ended.
   */
  async logout(): Promise<void> {
    if (this.#closed) return
    const token = this.#token
    this.#closed = true
    this.#token = undefined
    try {
      if (token) {
        await this.connection.call({ method: 'POST', path: '/sys/v1/session/terminate', expect: [204, 200], authorization: `Bearer ${token}` })
      }
    } catch (err) {
      if (!(err instanceof UnauthorizedError)) throw this.#scrub(err, token ?? '')
    } finally {
      this.wipeSecrets()
      if (this.#ownsConnection) this.connection.close()
    }
  }

  /** Alias of logout, for `using`-style cleanup code. */
  close(): Promise<void> {
    return this.logout()
  }

  /** Subclasses zero the Buffers they hold. */
  protected wipeSecrets(): void {}

  #requireToken(): string {
    if (this.#closed || this.#token === undefined) throw new SessionClosedError()
    return this.#token
  }

  /** Concurrent 401s share one re-auth; a call that already used a newer token just retries. */
  async #reauthOnce(staleToken: string): Promise<void> {
    if (this.#token !== staleToken) return
    if (!this.#reauth) {
      this.#reauth = (async () => {
        try {
          const auth = await this.reauthenticate()
          if (this.#closed) return
          this.#token = auth.access_token
          this.#entityId = auth.entity_id
          this.#expiresInMs = auth.expires_in * 1000
          this.#lastUseAt = this.clock.now()
        } finally {
          this.#reauth = undefined
        }
      })()
    }
    await this.#reauth
  }

  /** Error messages come from the appliance; make sure none ever carries a token. */
  #scrub(err: unknown, token: string): unknown {
    if (!token || !(err instanceof Error)) return err
    if (err.message.includes(token)) err.message = err.message.split(token).join('[redacted]')
    if (err instanceof DsmError && err.request?.includes(token)) {
      (err as { request: string | undefined }).request = err.request.split(token).join('[redacted]')
    }
    return err
  }

  // Never show the token, even to a debugger's console or a careless JSON.stringify.
  toJSON(): Record<string, unknown> {
    return { type: this.constructor.name, appliance: this.connection.authority, entityId: this.#entityId, closed: this.#closed }
  }
  [inspect.custom](): string {
    return `${this.constructor.name} { appliance: ${this.connection.authority}, entityId: ${this.#entityId}, closed: ${this.#closed} }`
  }
}

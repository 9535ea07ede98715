// One pinned connection per appliance, shared by every DsmConnection to it in this process: the
// app's session and each custodian's session to the same appliance (same host, port, trust and
// limits) use one connector and one keep-alive agent, so a custodian signing in reuses the
// verified socket instead of opening and verifying another. Sockets are not tied to who is
// signed in: DSM authenticates each request by its own bearer token.
//
// A wrong pin on any new socket closes the link: its sockets (idle or busy) are destroyed, every
// DsmConnection on it refuses all later calls by name, and the link leaves the pool, so a
// connection made afterwards starts afresh and verifies (and fails) on its own.
import { createHash } from 'node:crypto'
import { PinnedHttpsAgent, type PinnedAgentOptions } from './pinned-agent'
import type { TlsPinMismatchError } from './errors'
import { formatSpkiPin, parseSpkiPin, PinnedTlsConnector, realTimers, type PinnedTlsConnectorOptions } from './tls-pin'

export class ApplianceLink {
  readonly connector: PinnedTlsConnector
  readonly agent: PinnedHttpsAgent
  #refused: TlsPinMismatchError | undefined
  #users = 0

  constructor(connector: PinnedTlsConnector, agentOptions: PinnedAgentOptions, private readonly key: string | undefined) {
    this.connector = connector
    this.agent = new PinnedHttpsAgent(connector, agentOptions)
  }

  /** The pin mismatch that closed this link, if one did. */
  get refused(): TlsPinMismatchError | undefined {
    return this.#refused
  }

  refuse(err: TlsPinMismatchError): void {
    this.#refused ??= err
    this.agent.destroy()
    if (this.key !== undefined && links.get(this.key) === this) links.delete(this.key)
  }

  /** One DsmConnection fewer; the last one out closes the sockets. */
  release(): void {
    if (--this.#users > 0) return
    this.agent.destroy()
    if (this.key !== undefined && links.get(this.key) === this) links.delete(this.key)
  }

  use(): this {
    this.#users++
    return this
  }
}

const links = new Map<string, ApplianceLink>()

/** The link for these options: an existing one if the same appliance is already connected, else a new one. */
export function openLink(connectorOptions: Omit<PinnedTlsConnectorOptions, 'onPinMismatch'>, agentOptions: PinnedAgentOptions): ApplianceLink {
  let link: ApplianceLink | undefined
  // Built first so the trust is validated (and named errors thrown) whether or not a link exists.
  const connector = new PinnedTlsConnector({ ...connectorOptions, onPinMismatch: (err) => link?.refuse(err) })
  // Only links on real timers are shared (a test's fake timers stay with its own connection).
  const shareable = (connectorOptions.timers ?? realTimers) === realTimers
  const { trust } = connectorOptions
  const key = shareable
    ? JSON.stringify([
        connectorOptions.host, connectorOptions.port,
        trust.spkiSha256 === undefined ? null : formatSpkiPin(parseSpkiPin(trust.spkiSha256)),
        trust.caPem === undefined ? null : createHash('sha256').update(trust.caPem).digest('hex'),
        connectorOptions.connectTimeoutMs, agentOptions.idleTimeoutMs ?? null, agentOptions.maxSockets ?? null,
      ])
    : undefined
  const existing = key === undefined ? undefined : links.get(key)
  if (existing) return existing.use()
  link = new ApplianceLink(connector, agentOptions, key)
  if (key !== undefined) links.set(key, link)
  return link.use()
}

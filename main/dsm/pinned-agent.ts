// One pinned connection per appliance session: an https.Agent that takes its sockets only from a
// PinnedTlsConnector (so every new socket is chain-, hostname- and pin-checked before a request
// byte is written) and keeps one of them alive between calls. A call then costs one round trip,
// not three (TCP, TLS, request); security.md §4.3, design §11.
//
// Bounded: at most `maxSockets` sockets (default 1; calls queue), and an idle socket is closed after
// `idleTimeoutMs` (default 4 s), or sooner when the appliance announces a shorter `Keep-Alive:
// timeout=` (Node's agent closes a second before it). Closing before the server does keeps the
// race small in which a write would go out on a socket the appliance is closing; if it happens
// anyway, the write still ends as OUTCOME_UNKNOWN and is never retried (transport.ts). No TLS
// session cache: a resumed session would skip the pin check.
import * as https from 'node:https'
import type { Duplex } from 'node:stream'
import type { PinnedTlsConnector } from './tls-pin'

export interface PinnedAgentOptions {
  /** idle keep-alive sockets are closed after this long (default 4000 ms) */
  idleTimeoutMs?: number
  /** sockets open to the appliance at once (default 1) */
  maxSockets?: number
}

export class PinnedHttpsAgent extends https.Agent {
  readonly #connector: PinnedTlsConnector

  constructor(connector: PinnedTlsConnector, opts: PinnedAgentOptions = {}) {
    const maxSockets = opts.maxSockets ?? 1
    super({
      keepAlive: true,
      keepAliveMsecs: 1000,
      maxSockets,
      maxTotalSockets: maxSockets,
      maxFreeSockets: maxSockets,
      timeout: opts.idleTimeoutMs ?? 4000,
      scheduling: 'lifo',
      maxCachedSessions: 0,
    })
    this.#connector = connector
  }

  override createConnection(
    _options: https.RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    if (!callback) throw new Error('PinnedHttpsAgent needs the asynchronous createConnection form')
    this.#connector.connect().then(
      (socket) => callback(null, socket),
      (err: Error) => callback(err, undefined as unknown as Duplex),
    )
    return undefined
  }
}

// A TCP proxy on loopback that delays every chunk, each way, by a fixed one-way latency, so that a
// TCP connect, a TLS handshake and a request each cost real round trips (`tc netem` is not
// available here). The TCP handshake is modelled too: the first bytes a client sends after
// connecting reach the server one round trip later than a packet sent on an open connection
// would (SYN, SYN-ACK, then data). Order is kept per direction; counts connections (each one is a
// TLS handshake through the proxy, probes included).
import { createConnection, createServer, type Server, type Socket } from 'node:net'

/** How a connection ended: who closed it first, and how long it had been idle by then. */
export interface ConnectionEnd {
  /** 'appliance': the server closed (an idle keep-alive timeout); 'client': the app closed; 'open': still open when the next began */
  closedBy: 'appliance' | 'client' | 'open'
  idleMs: number
  /** the connection carried no data from the client (a certificate probe's handshake only counts as data: it is not 0) */
  bytesFromClient: number
}

export interface LatencyProxy {
  port: number
  /** TCP connections accepted so far */
  connections(): number
  /** why each connection after the first was needed: how the one before it ended (see ConnectionEnd) */
  reconnects(): ConnectionEnd[]
  close(): Promise<void>
}

/**
 * Delivers `from`'s chunks to `to` one-way later (never before `notBefore()`), in order; an end or
 * close of `from` reaches `to` after the chunks sent before it, as it would on a wire.
 */
function delayedPipe(from: Socket, to: Socket, notBefore: () => number, oneWayMs: number): void {
  let last = 0
  const later = (fn: () => void) => {
    const due = Math.max(last, Math.max(Date.now(), notBefore()) + oneWayMs)
    last = due
    setTimeout(fn, due - Date.now())
  }
  from.on('data', (chunk: Buffer) => later(() => { if (!to.destroyed) to.write(chunk) }))
  from.on('end', () => later(() => to.end()))
  from.on('close', () => later(() => to.destroy()))
}

export async function startLatencyProxy(target: { host: string; port: number }, oneWayMs: number): Promise<LatencyProxy> {
  let connections = 0
  const open = new Set<Socket>()
  interface Seen { lastData: number; closedBy: ConnectionEnd['closedBy']; closedAt: number; fromClient: number }
  let previous: Seen | undefined
  const reconnects: ConnectionEnd[] = []
  const server: Server = createServer((client) => {
    connections++
    const accepted = Date.now()
    if (previous) {
      const until = previous.closedBy === 'open' ? accepted : previous.closedAt
      reconnects.push({ closedBy: previous.closedBy, idleMs: until - previous.lastData, bytesFromClient: previous.fromClient })
    }
    const seen: Seen = { lastData: accepted, closedBy: 'open', closedAt: 0, fromClient: 0 }
    previous = seen
    const upstream = createConnection(target)
    for (const s of [client, upstream]) {
      open.add(s)
      s.setNoDelay(true)
      s.on('error', () => undefined) // a reset shows as 'close', which reaches the other side in order
      s.on('close', () => open.delete(s))
      s.on('data', (chunk: Buffer) => {
        // Idle is counted up to the close: what crosses after it (the appliance's own close) does not count.
        if (seen.closedBy === 'open') seen.lastData = Date.now()
        if (s === client) seen.fromClient += chunk.length
      })
      // Who ended the connection first, as the proxy sees it.
      const ended = () => {
        if (seen.closedBy !== 'open') return
        seen.closedBy = s === client ? 'client' : 'appliance'
        seen.closedAt = Date.now()
      }
      s.on('end', ended)
      s.on('close', ended)
    }
    // Client data can leave only after the SYN / SYN-ACK round trip.
    delayedPipe(client, upstream, () => accepted + 2 * oneWayMs, oneWayMs)
    delayedPipe(upstream, client, () => 0, oneWayMs)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const addr = server.address()
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    connections: () => connections,
    reconnects: () => [...reconnects],
    close: () => new Promise<void>((r) => {
      for (const s of open) s.destroy()
      server.close(() => r())
    }),
  }
}

// A TCP pass-through load balancer in front of FIPS appliances (guide §4.0): no TLS termination,
// so a client still sees (and pins) the certificate of the appliance it reached. Each new client
// connection goes to the next backend in turn; a backend that refuses or does not accept within
// the connect timeout is skipped for that connection, and when none accepts the client's
// connection is closed.
import { connect, createServer, type Server, type Socket } from 'node:net'
import { HOST } from './defaults'

export interface Backend { host: string; port: number }

export interface LoadBalancerOptions {
  backends: Backend[]
  host?: string
  /** default 0 = random */
  port?: number
  /** per backend (default 1000 ms) */
  connectTimeoutMs?: number
}

export interface RunningLoadBalancer {
  host: string
  port: number
  /** host:port, as an hmg config's `url` names it (no scheme) */
  address: string
  /** The backends now, in turn order (a copy). */
  readonly backends: Backend[]
  /**
   * The balancer's administrator adds a backend (a new appliance, before the ceremony that joins
   * it): later client connections take it in turn; connections already made are untouched. A
   * backend already in the list is refused, as is an invalid one.
   */
  addBackend(b: Backend): void
  /** connections handed to each backend, by "host:port" */
  connections(): Record<string, number>
  close(): Promise<void>
  readyLine(): string
}

function dial(b: Backend, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: b.host, port: b.port })
    const t = setTimeout(() => { s.destroy(); reject(new Error('timeout')) }, timeoutMs)
    s.once('connect', () => { clearTimeout(t); s.off('error', reject); resolve(s) })
    s.once('error', (e) => { clearTimeout(t); reject(e) })
  })
}

function checkBackend(b: Backend): void {
  if (typeof b?.host !== 'string' || b.host === '' || !Number.isInteger(b.port) || b.port < 1 || b.port > 65535) throw new Error(`invalid backend ${JSON.stringify(b)}`)
}

export async function startLoadBalancer(opts: LoadBalancerOptions): Promise<RunningLoadBalancer> {
  if (!Array.isArray(opts.backends) || opts.backends.length === 0) throw new Error('a load balancer needs at least one backend')
  for (const b of opts.backends) checkBackend(b)
  // Our own list: the caller's array is not read again, so only addBackend changes it.
  const backends: Backend[] = opts.backends.map((b) => ({ host: b.host, port: b.port }))
  const timeoutMs = opts.connectTimeoutMs ?? 1000
  const counts: Record<string, number> = Object.fromEntries(backends.map((b) => [`${b.host}:${b.port}`, 0]))
  const sockets = new Set<Socket>()
  let next = 0

  const server: Server = createServer((client) => {
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    client.on('error', () => client.destroy())
    client.pause()
    const start = next % backends.length
    // The list as it is when this connection came: a backend added meanwhile waits for the next one.
    const turn = [...backends]
    next = (next + 1) % turn.length
    void (async () => {
      for (let i = 0; i < turn.length; i++) {
        const b = turn[(start + i) % turn.length] as Backend
        let upstream: Socket
        try {
          upstream = await dial(b, timeoutMs)
        } catch {
          continue // dead backend: try the next one for this connection
        }
        if (client.destroyed) { upstream.destroy(); return }
        counts[`${b.host}:${b.port}`] = (counts[`${b.host}:${b.port}`] ?? 0) + 1
        sockets.add(upstream)
        upstream.on('close', () => { sockets.delete(upstream); client.destroy() })
        upstream.on('error', () => upstream.destroy())
        client.on('close', () => upstream.destroy())
        client.pipe(upstream)
        upstream.pipe(client)
        client.resume()
        return
      }
      client.destroy()
    })()
  })
  const host = opts.host ?? HOST
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject)
      const a = server.address()
      resolve(typeof a === 'object' && a ? a.port : 0)
    })
  })
  let closed: Promise<void> | undefined
  return {
    host,
    port,
    address: `${host}:${port}`,
    get backends() { return backends.map((b) => ({ ...b })) },
    addBackend: (b: Backend) => {
      checkBackend(b)
      if (backends.some((x) => x.host === b.host && x.port === b.port)) throw new Error(`backend ${b.host}:${b.port} is already in the list`)
      backends.push({ host: b.host, port: b.port })
      counts[`${b.host}:${b.port}`] ??= 0
    },
    connections: () => ({ ...counts }),
    close: () => (closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve())
      for (const s of sockets) s.destroy()
    })),
    readyLine: () => JSON.stringify({ loadBalancer: { host, port, address: `${host}:${port}`, backends: backends.map((b) => `${b.host}:${b.port}`) } }),
  }
}

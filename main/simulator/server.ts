// The HTTPS face of one appliance: TLS with its own certificate, body parsing, the request log,
// and where faults strike (before the operation runs, or after it ran and the answer is lost).
import { performance } from 'node:perf_hooks'
import { createServer, type Server } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { ApiResponse, ApplianceApi } from './appliance'
import { isTornPhase, tearResponse, type Faults, type PlannedFault } from './faults'
import type { ServerIdentity } from './tls-cert'
import type { RequestLogEntry } from './types'

const MAX_BODY = 1024 * 1024

const FAULT_TEXT: Record<string, { status: number; text: string; headers?: Record<string, string> }> = {
  '500': { status: 500, text: 'Internal server error' },
  '502': { status: 502, text: 'Bad gateway' },
  '503': { status: 503, text: 'Service unavailable' },
  '429': { status: 429, text: 'Too many requests', headers: { 'Retry-After': '1' } },
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

export class ApplianceServer {
  private readonly server: Server
  private readonly stalled = new Set<Socket>()
  private readonly sockets = new Set<Socket>()
  readonly log: RequestLogEntry[] = []
  private faults: Faults | undefined

  constructor(private readonly api: ApplianceApi, identity: ServerIdentity, private readonly now: () => number) {
    this.server = createServer({ key: identity.keyPem, cert: identity.certPem, minVersion: 'TLSv1.2' }, (req, res) => {
      this.onRequest(req, res).catch(() => {
        if (!res.headersSent) res.destroy()
      })
    })
    this.server.on('secureConnection', (s) => {
      this.sockets.add(s)
      s.on('close', () => { this.sockets.delete(s); this.stalled.delete(s) })
    })
    // A client that disconnects mid-handshake is not the simulator's error.
    this.server.on('tlsClientError', () => { /* ignore */ })
  }

  attachFaults(f: Faults): void {
    this.faults = f
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, host, () => {
        this.server.off('error', reject)
        const addr = this.server.address()
        resolve(typeof addr === 'object' && addr ? addr.port : port)
      })
    })
  }

  get listening(): boolean {
    return this.server.listening
  }

  /** TLS connections open now (a client that signed out and let go of its sockets leaves none). */
  get openSockets(): number {
    return this.sockets.size
  }

  /**
   * Stops accepting connections and drops the open ones, as a pulled network cable would; the
   * appliance keeps its state. A rehearsal's failover drill uses it (then `listen` again, same port).
   */
  async goDown(): Promise<void> {
    if (this.server.listening) await this.close()
  }

  releaseStalled(): void {
    for (const s of this.stalled) s.destroy()
    this.stalled.clear()
  }

  close(): Promise<void> {
    this.releaseStalled()
    return new Promise((resolve) => {
      this.server.close(() => resolve())
      for (const s of this.sockets) s.destroy()
      this.server.closeAllConnections()
    })
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase()
    const url = req.url ?? '/'
    const path = new URL(url, 'https://appliance.invalid').pathname
    const entry: RequestLogEntry = { method, path, status: 0, at: this.now() }
    this.log.push(entry)
    const plan = this.faults?.plan(method, path)

    let raw: Buffer
    try {
      raw = await readBody(req)
    } catch {
      entry.status = 413
      this.send(res, { status: 413, body: 'Request body too large', contentType: 'text/plain; charset=utf-8' })
      return
    }
    let body: unknown
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'))
      } catch {
        entry.status = 400
        this.send(res, { status: 400, body: 'Invalid JSON in request body', contentType: 'text/plain; charset=utf-8' })
        return
      }
    }

    if (plan?.phase === 'before-apply' && (await this.strike(plan, req, res, entry, undefined))) return
    const started = performance.now()
    const response = await this.api.handle({ method, url, headers: req.headers, body })
    entry.handledMs = performance.now() - started
    if (plan?.phase === 'after-apply' && (await this.strike(plan, req, res, entry, response))) return
    entry.status = response.status
    if (plan && isTornPhase(plan.phase)) {
      plan.fire()
      entry.fault = plan.kind
      entry.status = plan.kind === 'reset' ? 'reset' : 'stall'
      tearResponse(res, plan, { stall: (s) => this.stalled.add(s), reset: resetSocket })
    }
    this.send(res, response)
  }

  /** Applies a fault; true when the request is finished (no normal answer follows). */
  private async strike(plan: PlannedFault, req: IncomingMessage, res: ServerResponse, entry: RequestLogEntry, _applied: ApiResponse | undefined): Promise<boolean> {
    plan.fire()
    entry.fault = plan.kind
    switch (plan.kind) {
      case 'latency':
        await sleep(plan.ms)
        return false
      case 'expire-session': {
        const token = /^Bearer\s+(\S+)/i.exec(String(req.headers['authorization'] ?? ''))?.[1]
        const s = token ? this.api.model.sessions.get(token) : undefined
        if (s) { s.lastUsed = 0; s.createdAt = 0 }
        return false
      }
      case 'reset':
        entry.status = 'reset'
        resetSocket(req.socket)
        return true
      case 'stall':
        entry.status = 'stall'
        this.stalled.add(req.socket)
        return true
      default: {
        const f = FAULT_TEXT[plan.kind]
        if (!f) return false
        entry.status = f.status
        this.send(res, { status: f.status, body: f.text, contentType: 'text/plain; charset=utf-8', ...(f.headers ? { headers: f.headers } : {}) })
        return true
      }
    }
  }

  private send(res: ServerResponse, r: ApiResponse): void {
    res.statusCode = r.status
    res.setHeader('Date', new Date(this.now()).toUTCString())
    for (const [k, v] of Object.entries(r.headers ?? {})) res.setHeader(k, v)
    if (r.body === undefined || r.status === 204) {
      res.end()
      return
    }
    const text = typeof r.body === 'string' && r.contentType !== 'application/json' ? r.body : JSON.stringify(r.body)
    res.setHeader('Content-Type', r.contentType ?? 'application/json')
    res.setHeader('Content-Length', Buffer.byteLength(text))
    res.end(text)
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > MAX_BODY) {
        reject(new Error('too large'))
        req.resume()
        return
      }
      chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** A TCP reset where the platform allows it (the TLS socket's TCP handle), else an abrupt close. */
function resetSocket(socket: Socket): void {
  const tcp = (socket as Socket & { _parent?: Socket })._parent
  for (const s of [tcp, socket]) {
    if (s && typeof s.resetAndDestroy === 'function') {
      try {
        s.resetAndDestroy()
        if (s !== socket) socket.destroy()
        return
      } catch { /* not a TCP handle: try the next */ }
    }
  }
  socket.destroy()
}

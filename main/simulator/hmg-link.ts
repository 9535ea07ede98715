// How a simulated DSM cluster talks to a FIPS appliance: the appliance's public REST API over TLS
// whose certificate must be one of the config's `tls.ca.pinned` certificates, byte for byte.
// Chain verification stays on with only the pinned certificates as roots (so a CA-issued
// appliance certificate is pinned together with its issuers), and the presented leaf must then
// equal one of the pinned certificates: a pinned CA alone does not vouch for any leaf. A connection is kept alive for the whole of one operation, so
// behind a TCP load balancer every step of it reaches the same appliance.
// This is the simulator's own client: it shares no code with the product's DSM client.
import { request as httpsRequest, Agent } from 'node:https'
import type { IncomingMessage } from 'node:http'
import { checkServerIdentity, type PeerCertificate, type TLSSocket } from 'node:tls'
import type { HmgConfigRecord } from './hmg-config'

/** Why a FIPS appliance could not be used. */
export type LinkFailure = 'unreachable' | 'not-pinned' | 'hostname' | 'not-fips' | 'bad-api-key' | 'unavailable' | 'no-cmk'

export class FipsLinkError extends Error {
  constructor(readonly kind: LinkFailure, readonly target: string, message: string) {
    super(message)
    this.name = 'FipsLinkError'
  }
}

export interface LinkTimeouts {
  /** TCP + TLS handshake */
  connectTimeoutMs: number
  /** from sending a request to the end of its response */
  responseTimeoutMs: number
}

export interface LinkResponse { status: number; body: unknown; text: string }

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ETIMEDOUT', 'EADDRNOTAVAIL'])
const CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'ERR_CERT_NOT_PINNED',
])
const MAX_RESPONSE = 1024 * 1024

function toPem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n')
  return `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`
}

/** One keep-alive TLS connection to the appliance a config names. */
export class FipsConnection {
  readonly target: string
  private readonly agent: Agent
  private established = false

  constructor(private readonly config: HmgConfigRecord, private readonly timeouts: LinkTimeouts) {
    this.target = config.url
    this.agent = new Agent({ keepAlive: true, maxSockets: 1 })
  }

  request(method: string, path: string, body?: unknown, authorization?: string): Promise<LinkResponse> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    const { config, timeouts } = this
    return new Promise((resolve, reject) => {
      let settled = false
      const timers: NodeJS.Timeout[] = []
      const done = (fn: () => void) => {
        if (settled) return
        settled = true
        timers.forEach(clearTimeout)
        fn()
      }
      const fail = (kind: LinkFailure, message: string) => done(() => reject(new FipsLinkError(kind, this.target, message)))
      const req = httpsRequest({
        agent: this.agent,
        host: config.host,
        port: config.port,
        method,
        path,
        // Verification is never off: only the pinned certificates are trusted roots, and the
        // leaf must be one of them exactly (a pinned CA does not vouch for other leaves).
        rejectUnauthorized: true,
        ca: config.pinned.map(toPem),
        checkServerIdentity: (host: string, cert: PeerCertificate) => {
          if (!config.pinned.some((der) => der.equals(cert.raw))) {
            return Object.assign(new Error('the presented certificate is not one of the pinned certificates'), { code: 'ERR_CERT_NOT_PINNED' })
          }
          return config.validateHostname ? checkServerIdentity(host, cert) : undefined
        },
        headers: {
          accept: 'application/json',
          ...(authorization ? { authorization } : {}),
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
        },
      })
      timers.push(setTimeout(() => {
        fail('unreachable', `FIPS appliance ${this.target} did not answer within ${timeouts.responseTimeoutMs} ms`)
        req.destroy()
      }, timeouts.responseTimeoutMs))
      req.on('socket', (socket) => {
        if (this.established) return
        const t = setTimeout(() => {
          fail('unreachable', `FIPS appliance ${this.target} is unreachable: no TLS connection within ${timeouts.connectTimeoutMs} ms`)
          req.destroy()
        }, timeouts.connectTimeoutMs)
        timers.push(t)
        ;(socket as TLSSocket).once('secureConnect', () => {
          clearTimeout(t)
          this.established = true
        })
      })
      req.on('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? ''
        if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') fail('hostname', `TLS certificate of ${this.target} does not name the host (validate_hostname is on)`)
        else if (CERT_CODES.has(code)) fail('not-pinned', `TLS certificate of ${this.target} is not pinned: it is not among the config's tls.ca.pinned certificates`)
        else if (NETWORK_CODES.has(code)) fail('unreachable', `FIPS appliance ${this.target} is unreachable (${code.toLowerCase()})`)
        else fail('unreachable', `FIPS appliance ${this.target} is unreachable: ${code || 'TLS or connection failure'}`)
      })
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (c: Buffer) => {
          size += c.length
          if (size > MAX_RESPONSE) {
            fail('unavailable', `FIPS appliance ${this.target} sent an oversized response`)
            req.destroy()
          } else chunks.push(c)
        })
        res.on('error', () => fail('unreachable', `FIPS appliance ${this.target} dropped the connection mid-response`))
        res.on('close', () => { if (!res.complete) fail('unreachable', `FIPS appliance ${this.target} dropped the connection mid-response`) })
        res.on('end', () => done(() => {
          this.established = true
          const text = Buffer.concat(chunks).toString('utf8')
          let parsed: unknown = text
          if (String(res.headers['content-type'] ?? '').startsWith('application/json')) {
            try { parsed = JSON.parse(text) } catch { parsed = text }
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, text })
        }))
      })
      req.end(payload)
    })
  }

  close(): void {
    this.agent.destroy()
  }
}

/** Which config entry a credential came from, for messages (never the credential itself). */
export function credentialName(c: HmgConfigRecord, i: number): string {
  return c.hasCredentials ? `credentials[${i}]` : 'pin'
}

/**
 * An authenticated session on one FIPS appliance over one connection: checks the appliance is in
 * FIPS mode (`/sys/v1/version` has a `fips_level`), then signs in with the first API key it
 * accepts (behind a load balancer only one of `credentials` belongs to the appliance reached).
 */
export class FipsSession {
  private constructor(readonly conn: FipsConnection, private readonly bearer: string, readonly keyIndex: number) {}

  static async open(config: HmgConfigRecord, timeouts: LinkTimeouts, keyOrder: number[] = config.apiKeys.map((_, i) => i)): Promise<FipsSession> {
    const conn = new FipsConnection(config, timeouts)
    try {
      await requireFips(conn)
      for (const i of keyOrder) {
        const r = await conn.request('POST', '/sys/v1/session/auth', undefined, `Basic ${config.apiKeys[i] ?? ''}`)
        if (r.status === 200 && typeof (r.body as { access_token?: unknown }).access_token === 'string') {
          return new FipsSession(conn, `Bearer ${(r.body as { access_token: string }).access_token}`, i)
        }
        if (r.status >= 500) throw new FipsLinkError('unavailable', conn.target, `FIPS appliance ${conn.target} answered ${r.status} to sign-in`)
        if (r.status !== 401) throw new FipsLinkError('bad-api-key', conn.target, `FIPS appliance ${conn.target} refused sign-in with ${credentialName(config, i)}: ${r.status} ${r.text.slice(0, 200)}`)
      }
      const which = config.hasCredentials ? `any of the ${config.apiKeys.length} credentials` : 'the pin'
      throw new FipsLinkError('bad-api-key', conn.target, `FIPS appliance ${conn.target} refused the API key: 401 for ${which}`)
    } catch (e) {
      conn.close()
      throw e
    }
  }

  call(method: string, path: string, body?: unknown): Promise<LinkResponse> {
    return this.conn.request(method, path, body, this.bearer)
  }

  async close(): Promise<void> {
    await this.conn.request('POST', '/sys/v1/session/terminate', undefined, this.bearer).catch(() => undefined)
    this.conn.close()
  }
}

async function requireFips(conn: FipsConnection): Promise<void> {
  const v = await conn.request('GET', '/sys/v1/version')
  if (v.status >= 500) throw new FipsLinkError('unavailable', conn.target, `FIPS appliance ${conn.target} answered ${v.status} to /sys/v1/version`)
  const level = (v.body as { fips_level?: unknown } | null)?.fips_level
  if (v.status !== 200 || typeof level !== 'number') {
    throw new FipsLinkError('not-fips', conn.target, `${conn.target} is not a FIPS appliance: /sys/v1/version reports no fips_level`)
  }
}

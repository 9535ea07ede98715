// TLS to DSM appliances: a pinned SPKI SHA-256 and/or a CA certificate (security.md §4.3).
//
// Design ("pin-anchored trust"): Node's TLS client offers no hook to replace OpenSSL's chain
// check, and the only way to accept an unknown self-signed certificate is to switch chain
// verification off. This module never does that: every socket it returns was opened with
// `rejectUnauthorized: true` set explicitly (so NODE_TLS_REJECT_UNAUTHORIZED=0 in the
// environment has no effect), verified by OpenSSL against an explicit `ca`, hostname-checked by
// `tls.checkServerIdentity`, and pin-checked in `checkServerIdentity`.
//
//  * CA mode (`caPem`): `ca` = the operator's CA; chain + hostname, plus the pin if one is given.
//  * Pin-only mode (`spkiSha256`, no CA): appliances ship self-signed certificates. We first run a
//    *probe* handshake, with verification ON, that only reads the certificate the appliance
//    presents (the 'secure' event fires before Node's verification verdict) and is then torn
//    down by Node itself; no application byte is ever written on it. If the leaf's SPKI SHA-256
//    equals the pin, the presented chain becomes the `ca` of the real connection, which is fully
//    verified (signature, validity dates, hostname) and pin-checked again. A different pin is a
//    TlsPinMismatchError before any request exists. The anchor (public certificates only) is
//    cached for the process by host, port and pin, so later connections to the appliance need no
//    probe; if the appliance later presents another certificate, it is re-learnt and re-pinned.
//
// Sockets are handed to node:https only after all checks passed (async createConnection), so no
// request byte can reach an unverified peer. Every new socket is checked this way, reused
// keep-alive sockets are the same verified socket (pinned-agent.ts). TLS sessions are never
// resumed: Node skips checkServerIdentity on a resumed session, which would skip the pin; a
// socket that reports a reused session is refused.
import { createHash, timingSafeEqual, X509Certificate } from 'node:crypto'
import { isIP } from 'node:net'
import type { Duplex } from 'node:stream'
import * as tls from 'node:tls'
import {
  DsmError,
  InvalidTrustError,
  TimeoutError,
  TlsPinMismatchError,
  TlsVerificationError,
  UnreachableError,
} from './errors'

export interface TlsTrust {
  /** SHA-256 of the appliance certificate's DER SubjectPublicKeyInfo: 64 hex digits (":" or spaces allowed) or base64. */
  spkiSha256?: string
  /** PEM of the CA (or the appliance's own self-signed certificate) to verify the chain against. */
  caPem?: string
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
}

/** Parses a pin given as hex (any case, optional ":"/space separators) or base64; returns the 32 bytes. */
export function parseSpkiPin(pin: string): Buffer {
  const compact = pin.trim().replace(/[:\s]/g, '')
  if (/^[0-9a-fA-F]{64}$/.test(compact)) return Buffer.from(compact, 'hex')
  if (/^[A-Za-z0-9+/]{43}=$/.test(compact) || /^[A-Za-z0-9_-]{43}$/.test(compact)) {
    const bytes = Buffer.from(compact.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
    if (bytes.length === 32) return bytes
  }
  throw new InvalidTrustError('the pinned SPKI SHA-256 must be 64 hex digits or 44 base64 characters')
}

/** Lower-case hex, as shown to people and in errors. */
export function formatSpkiPin(digest: Buffer): string {
  return digest.toString('hex')
}

/**
 * SHA-256 of the certificate's DER SubjectPublicKeyInfo. Computed from the certificate itself:
 * `PeerCertificate.pubkey` is SPKI DER only for RSA (for EC it is the bare curve point), so
 * hashing it would give a different pin per key type.
 */
export function spkiSha256OfPeer(cert: tls.PeerCertificate): Buffer {
  if (!cert.raw || cert.raw.length === 0) throw new TlsVerificationError('the appliance presented no certificate')
  let spki: Buffer
  try {
    spki = new X509Certificate(cert.raw).publicKey.export({ type: 'spki', format: 'der' })
  } catch (err) {
    throw new TlsVerificationError('the appliance certificate has no usable public key', { cause: err })
  }
  return createHash('sha256').update(spki).digest()
}

/** A CA file holds one certificate or a short chain: a few kilobytes. */
export const MAX_CA_PEM_CHARS = 64 * 1024
const MAX_CA_CERTS = 16
const BEGIN = '-----BEGIN '
const DASHES = '-----'
const END_CERT = '-----END CERTIFICATE-----'

/**
 * The CERTIFICATE blocks of a CA file, each checked by X509Certificate. Capped before anything is
 * read, and scanned with indexOf only, each search starting where the last ended: linear in the
 * input. (A lazy `[\s\S]+?` regex over many BEGIN lines without an END backtracks quadratically;
 * 896 KB of them held the main thread for 7.4 s.) Any other PEM block is refused, a private key by
 * name. Text outside the blocks (comments, `subject=` lines) is ignored.
 */
function validateCaPem(caPem: string): string {
  if (typeof caPem !== 'string') throw new InvalidTrustError('the CA certificate must be PEM text')
  if (caPem.length > MAX_CA_PEM_CHARS) {
    throw new InvalidTrustError(`the CA file is larger than ${MAX_CA_PEM_CHARS / 1024} KiB; a CA certificate or chain is a few kilobytes`)
  }
  const blocks: string[] = []
  for (let at = caPem.indexOf(BEGIN); at >= 0; at = caPem.indexOf(BEGIN, at)) {
    const labelEnd = caPem.indexOf(DASHES, at + BEGIN.length)
    if (labelEnd < 0) throw new InvalidTrustError('the CA file has a PEM BEGIN line that does not end')
    const label = caPem.slice(at + BEGIN.length, labelEnd)
    if (label !== 'CERTIFICATE') {
      throw new InvalidTrustError(/PRIVATE KEY/.test(label)
        ? 'the CA file contains a private key; only the CA certificate belongs here (and the key must not be on this workstation)'
        : 'the CA file contains a PEM block that is not a CERTIFICATE')
    }
    const end = caPem.indexOf(END_CERT, labelEnd + DASHES.length)
    if (end < 0) throw new InvalidTrustError('the CA file has a certificate without its END CERTIFICATE line')
    if (blocks.length === MAX_CA_CERTS) throw new InvalidTrustError(`the CA file holds more than ${MAX_CA_CERTS} certificates`)
    blocks.push(caPem.slice(at, end + END_CERT.length))
    at = end + END_CERT.length
  }
  if (blocks.length === 0) throw new InvalidTrustError('the CA file contains no PEM certificate')
  for (const b of blocks) {
    try {
      new X509Certificate(b)
    } catch {
      throw new InvalidTrustError('the CA file contains a certificate that does not parse')
    }
  }
  return blocks.join('\n')
}

// Verification error codes from OpenSSL / Node that mean "the certificate was not accepted",
// as opposed to network failures.
const TLS_VERIFY_CODE = /CERT|SELF_SIGNED|UNABLE_TO_|ALTNAME|HOSTNAME|CHAIN|SIGNATURE|PATH_LENGTH|INVALID_CA|INVALID_PURPOSE/

function classifyConnectError(err: unknown, where: string): DsmError {
  if (err instanceof DsmError) return err
  const e = err as NodeJS.ErrnoException & { reason?: string }
  const code = typeof e?.code === 'string' ? e.code : ''
  if (code && TLS_VERIFY_CODE.test(code)) {
    return new TlsVerificationError(`TLS certificate of ${where} was not accepted (${code})`, { cause: err })
  }
  return new UnreachableError(`cannot reach ${where}${code ? ` (${code})` : ''}; the request was not sent`, { cause: err })
}

export interface PinnedTlsConnectorOptions {
  host: string
  port: number
  trust: TlsTrust
  connectTimeoutMs: number
  timers?: Timers
  /** Told when a new socket's key is not the pinned one (the connection owner closes everything). */
  onPinMismatch?: (err: TlsPinMismatchError) => void
}

/** Pin-only mode: certificate chains whose leaf matched the pin, by `host|port|pin`. Public data. */
const anchors = new Map<string, string[]>()

/** Opens verified TLS sockets to one appliance. */
export class PinnedTlsConnector {
  readonly host: string
  readonly port: number
  readonly #pin: Buffer | undefined
  readonly #caPem: string | undefined
  readonly #connectTimeoutMs: number
  readonly #timers: Timers
  readonly #onPinMismatch: ((err: TlsPinMismatchError) => void) | undefined
  #probes = 0
  #verified = 0

  constructor(opts: PinnedTlsConnectorOptions) {
    this.host = opts.host
    this.port = opts.port
    this.#pin = opts.trust.spkiSha256 === undefined ? undefined : parseSpkiPin(opts.trust.spkiSha256)
    this.#caPem = opts.trust.caPem === undefined ? undefined : validateCaPem(opts.trust.caPem)
    if (!this.#pin && !this.#caPem) {
      throw new InvalidTrustError('an appliance needs a pinned SPKI SHA-256, a CA certificate, or both')
    }
    this.#connectTimeoutMs = opts.connectTimeoutMs
    this.#timers = opts.timers ?? realTimers
    this.#onPinMismatch = opts.onPinMismatch
  }

  /** TLS handshakes this connector made: probes (pin-only first contact) and verified sockets. */
  get handshakes(): { probes: number; verified: number } {
    return { probes: this.#probes, verified: this.#verified }
  }

  get #anchorKey(): string {
    return `${this.host}|${this.port}|${this.#pin ? formatSpkiPin(this.#pin) : ''}`
  }

  get where(): string {
    return isIP(this.host) === 6 ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`
  }

  /** Resolves with a socket whose peer passed chain, hostname and pin checks; nothing has been written to it. */
  async connect(): Promise<tls.TLSSocket> {
    const deadline = { expired: false }
    let timer: unknown
    let current: tls.TLSSocket | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = this.#timers.setTimeout(() => {
        deadline.expired = true
        current?.destroy()
        reject(new TimeoutError(`TLS connection to ${this.where} timed out after ${this.#connectTimeoutMs} ms; the request was not sent`))
      }, this.#connectTimeoutMs)
    })
    const track = (s: tls.TLSSocket) => { current = s }
    const work = this.#connectVerified(track, deadline)
    // If the deadline wins the race, the late outcome is dropped (and a late socket closed).
    work.then((s) => { if (deadline.expired) s.destroy() }, () => undefined)
    try {
      return await Promise.race([work, timeout])
    } catch (err) {
      if (err instanceof TlsPinMismatchError) this.#onPinMismatch?.(err)
      throw err
    } finally {
      this.#timers.clearTimeout(timer)
    }
  }

  async #connectVerified(track: (s: tls.TLSSocket) => void, deadline: { expired: boolean }): Promise<tls.TLSSocket> {
    if (this.#caPem) return this.#open(track, [this.#caPem])
    // Pin-only mode.
    const known = anchors.get(this.#anchorKey)
    if (known) {
      try {
        return await this.#open(track, known)
      } catch (err) {
        // The appliance may have a new certificate (same or other key): re-learn and re-pin once.
        if (!(err instanceof TlsVerificationError) || err instanceof TlsPinMismatchError || deadline.expired) throw err
        anchors.delete(this.#anchorKey)
      }
    }
    const chain = await this.#probe(track)
    const mismatch = this.#pinMismatch(chain[0]!)
    if (mismatch) throw mismatch
    const anchor = chain.map((c) => new X509Certificate(c.raw).toString())
    anchors.set(this.#anchorKey, anchor)
    if (deadline.expired) throw new TimeoutError(`TLS connection to ${this.where} timed out`)
    return this.#open(track, anchor)
  }

  #pinMismatch(cert: tls.PeerCertificate): TlsPinMismatchError | undefined {
    if (!this.#pin) return undefined
    const actual = spkiSha256OfPeer(cert)
    if (actual.length === this.#pin.length && timingSafeEqual(actual, this.#pin)) return undefined
    return new TlsPinMismatchError(formatSpkiPin(this.#pin), formatSpkiPin(actual), { request: this.where })
  }

  #baseOptions(): tls.ConnectionOptions {
    return {
      host: this.host,
      port: this.port,
      // SNI must not be an IP address (RFC 6066); the hostname check still uses `host`.
      servername: isIP(this.host) === 0 ? this.host : undefined,
      // Explicit, so the NODE_TLS_REJECT_UNAUTHORIZED environment variable cannot weaken it.
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      ALPNProtocols: ['http/1.1'],
    }
  }

  /** The real connection: OpenSSL chain check against `ca`, then hostname, then pin. */
  #open(track: (s: tls.TLSSocket) => void, ca: string[]): Promise<tls.TLSSocket> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        ...this.#baseOptions(),
        ca,
        checkServerIdentity: (hostname, cert) => {
          const hostErr = tls.checkServerIdentity(hostname, cert)
          if (hostErr) return hostErr
          try {
            return this.#pinMismatch(cert)
          } catch (err) {
            return err as Error // never throw out of Node's handshake callback
          }
        },
      })
      track(socket)
      const onError = (err: unknown) => reject(classifyConnectError(err, this.where))
      socket.once('error', onError)
      socket.once('secureConnect', () => {
        socket.removeListener('error', onError)
        this.#verified++
        if (!socket.authorized || socket.isSessionReused()) {
          // Unreachable with rejectUnauthorized: true and no session offered; a belt-and-braces
          // refusal (a resumed session would have skipped checkServerIdentity, and so the pin).
          socket.destroy()
          reject(new TlsVerificationError(`TLS certificate of ${this.where} was not accepted`))
          return
        }
        resolve(socket)
      })
    })
  }

  /**
   * Reads the certificate chain the appliance presents, with verification ON. Node emits
   * 'secure' when the handshake completes and only then decides; our listener runs first and
   * copies the chain. Node then destroys the socket (unknown issuer), or, if the chain happens
   * to verify, our checkServerIdentity refuses it: either way the socket dies unused.
   */
  #probe(track: (s: tls.TLSSocket) => void): Promise<tls.DetailedPeerCertificate[]> {
    return new Promise((resolve, reject) => {
      let chain: tls.DetailedPeerCertificate[] | undefined
      this.#probes++
      const socket = tls.connect({
        ...this.#baseOptions(),
        checkServerIdentity: () => new Error('certificate probe: connection is never used'),
      })
      track(socket)
      socket.prependListener('secure', () => {
        const leaf = socket.getPeerCertificate(true)
        if (!leaf || !leaf.raw) return
        const seen = new Set<string>()
        chain = []
        for (let c: tls.DetailedPeerCertificate | undefined = leaf; c && c.raw; c = c.issuerCertificate) {
          const fp = c.fingerprint256
          if (seen.has(fp)) break // a self-signed certificate is its own issuer
          seen.add(fp)
          chain.push(c)
        }
      })
      socket.on('error', (err) => {
        if (chain && chain.length > 0) resolve(chain)
        else reject(classifyConnectError(err, this.where))
      })
      socket.once('secureConnect', () => socket.destroy())
      socket.once('close', () => {
        if (chain && chain.length > 0) resolve(chain)
        else reject(new UnreachableError(`${this.where} closed the TLS connection during the handshake; the request was not sent`))
      })
    })
  }
}

export { PinnedHttpsAgent } from './pinned-agent'

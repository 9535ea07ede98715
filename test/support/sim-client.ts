// A deliberately small HTTPS client for the simulator's own tests. It is NOT the product's DSM
// client (main/dsm/): the simulator is tested through plain node:https so that a mistake shared
// with the product client cannot hide. Every response it receives is checked against the vendor's
// OpenAPI document unless a test opts out (for a route the document does not have).
import { createHash, X509Certificate } from 'node:crypto'
import { existsSync as _exists, readFileSync as _read } from 'node:fs'
import _path from 'node:path'
import { request as httpsRequest } from 'node:https'
import type { PeerCertificate } from 'node:tls'
import { validateRequest, validateResponse } from './openapi'

export interface Target { url: string; certPem: string; spkiSha256: string }

export interface SimResponse {
  status: number
  /** parsed JSON when the response is JSON, else the text */
  body: any // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string
  headers: Record<string, string | string[] | undefined>
}

export interface CallOptions {
  body?: unknown
  /** full Authorization header value */
  auth?: string
  /** check the response against the OpenAPI document (default true) */
  validate?: boolean
  /** check the request body against the OpenAPI document (default true) */
  validateReq?: boolean
  timeoutMs?: number
}

export class SimClient {
  constructor(readonly target: Target) {}

  request(method: string, path: string, opts: CallOptions = {}): Promise<SimResponse> {
    if (opts.validateReq !== false && opts.validate !== false) validateRequest(method, path, opts.body)
    const u = new URL(path, this.target.url)
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body))
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          method,
          host: u.hostname,
          port: u.port,
          path: u.pathname + u.search,
          ca: this.target.certPem,
          agent: false,
          servername: undefined,
          // The certificate chains to the pinned self-signed CA; the SPKI pin is checked too.
          checkServerIdentity: (_host: string, cert: PeerCertificate) => {
            const spki = new X509Certificate(cert.raw).publicKey.export({ type: 'spki', format: 'der' })
            const pin = createHash('sha256').update(spki).digest('hex')
            return pin === this.target.spkiSha256 ? undefined : new Error(`SPKI pin mismatch: ${pin}`)
          },
          headers: {
            ...(opts.auth ? { Authorization: opts.auth } : {}),
            ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) } : {}),
          },
          timeout: opts.timeoutMs ?? 10_000,
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('error', reject)
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            const isJson = String(res.headers['content-type'] ?? '').startsWith('application/json')
            const status = res.statusCode ?? 0
            let body: unknown = text
            try {
              if (isJson) body = JSON.parse(text)
              else if (text === '') body = undefined
              if (opts.validate !== false) validateResponse(method, path, status, body)
            } catch (e) {
              reject(e)
              return
            }
            resolve({ status, body, text, headers: res.headers })
          })
        },
      )
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })))
      req.on('error', reject)
      if (payload) req.write(payload)
      req.end()
    })
  }

  async appSession(apiKey: string): Promise<string> {
    const r = await this.request('POST', '/sys/v1/session/auth', { auth: `Basic ${apiKey}` })
    if (r.status !== 200) throw new Error(`app auth failed: ${r.status} ${r.text}`)
    return `Bearer ${r.body.access_token as string}`
  }

  async userSession(user: string, password: string, acctId: string): Promise<string> {
    const r = await this.request('POST', '/sys/v1/session/auth', { auth: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` })
    if (r.status !== 200) throw new Error(`user auth failed: ${r.status} ${r.text}`)
    const auth = `Bearer ${r.body.access_token as string}`
    const sel = await this.request('POST', '/sys/v1/session/select_account', { auth, body: { acct_id: acctId } })
    if (sel.status !== 200) throw new Error(`select_account failed: ${sel.status} ${sel.text}`)
    return auth
  }
}

// ---- test vectors (OpenSSL-made, ../shared/reference/vectors) ----

export function vectorsDir(): string {
  const candidates = [
    process.env['DSM_VECTORS_DIR'],
    _path.resolve(__dirname, '../fixtures/vectors'),
    _path.resolve(__dirname, '../../../shared/reference/vectors'),
  ].filter((p): p is string => !!p)
  const found = candidates.find((p) => _exists(_path.join(p, 'cmk.aes256.hex')))
  if (!found) throw new Error(`test vectors not found; looked in ${candidates.join(', ')} (set DSM_VECTORS_DIR)`)
  return found
}

export function vector(name: string): string {
  return _read(_path.join(vectorsDir(), name), 'utf8').trim()
}

/** The base64 body of a PEM file, exactly as it stands (no re-encoding, so damage is kept). */
export function pemBody(pem: string): string {
  return pem.split(/\r?\n/).filter((l) => l && !l.startsWith('-----')).join('')
}

// ---- request bodies exactly as the vendor's sdkms-cli 3.25 sends them (dsm-api.md §10) ----

/** `sdkms-cli wrap-key --wrapped-key-name S --wrapping-key-name K --alg RSA --quorum`: the approval request body. */
export function cliWrapKeyApproval(subjectName: string, wrappingKeyName: string) {
  return {
    method: 'POST',
    operation: '/crypto/v1/wrapkey',
    body: { alg: 'RSA', mode: null, iv: null, ad: null, tag_len: null, out: null, key_format: null, subject: { name: subjectName }, key: { name: wrappingKeyName } },
  }
}

/** `sdkms-cli unwrap-key --in F --wrapping-kid KID --alg RSA --obj-type AES --name N --exportable --quorum`: no group_id (the app's default group). */
export function cliUnwrapKeyApproval(wrappingKid: string, wrappedKeyB64: string, name: string) {
  return {
    method: 'POST',
    operation: '/crypto/v1/unwrapkey',
    body: {
      alg: 'RSA', mode: null, obj_type: 'AES', name, description: 'Created by sdkms-client', iv: null, ad: null, tag: null, custom_metadata: null,
      wrapped_key: wrappedKeyB64,
      key_ops: ['ENCRYPT', 'DECRYPT', 'WRAPKEY', 'UNWRAPKEY', 'DERIVEKEY', 'APPMANAGEABLE', 'EXPORT'],
      key: { kid: wrappingKid },
    },
  }
}

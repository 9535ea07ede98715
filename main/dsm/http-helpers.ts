// Small pure helpers for transport.ts: the vendor's error text (cleaned, credential removed), what
// observers may see of a body, query strings, HTTP dates, Retry-After, and timers.
import type { IncomingHttpHeaders } from 'node:http'
import type { QueryValue } from './transport'
import type { Timers } from './tls-pin'

/** The vendor's plain-text body (or `{message}` JSON, which some clients also accept), cleaned for display. */
export function vendorMessage(raw: { headers: IncomingHttpHeaders; body: Buffer }, authorization: string | undefined): string {
  let text = raw.body.subarray(0, 4096).toString('utf8').trim()
  const type = String(raw.headers['content-type'] ?? '')
  if (type.includes('json') || text.startsWith('{')) {
    try {
      const j = JSON.parse(text) as unknown
      if (j && typeof j === 'object' && typeof (j as { message?: unknown }).message === 'string') text = (j as { message: string }).message
      else if (typeof j === 'string') text = j
    } catch {
      // keep the text
    }
  }
  // Credential out before anything is cut, control characters out (log injection), length capped.
  return withoutCredential(text, authorization).replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 500)
}

/**
 * An appliance (or a proxy in front of it) that echoes the request's Authorization header into an
 * error body must not put the credential into an error message, which the engine shows and logs.
 * Removes the header's credential and, for Basic, its decoded `id:secret` and the secret alone.
 */
function withoutCredential(message: string, authorization: string | undefined): string {
  if (!authorization) return message
  const credential = authorization.replace(/^\s*(Basic|Bearer)\s+/i, '').trim()
  const forms = [credential]
  if (/^Basic\s/i.test(authorization)) {
    const decoded = Buffer.from(credential, 'base64').toString('latin1')
    forms.push(decoded, decoded.slice(decoded.indexOf(':') + 1))
  }
  let out = message
  for (const form of forms) if (form.length >= 8) out = out.split(form).join('[redacted]')
  return out
}

/** Observers see bodies as sent, except approval passwords. */
export function redactSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redactSecrets)
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === 'password' && typeof x === 'string' ? '[redacted]' : redactSecrets(x)]))
  }
  return v
}

export function queryString(q: Record<string, QueryValue> | undefined): string {
  if (!q) return ''
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(q)) if (v !== undefined) p.append(k, String(v))
  const s = p.toString()
  return s ? `?${s}` : ''
}

export function parseHttpDate(value: string | undefined): Date | undefined {
  if (!value) return undefined
  const t = Date.parse(value)
  return Number.isFinite(t) ? new Date(t) : undefined
}

export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const t = Date.parse(value)
  return Number.isFinite(t) ? Math.max(0, t - now) : undefined
}

export function sleep(timers: Timers, ms: number): Promise<void> {
  return new Promise((resolve) => { timers.setTimeout(resolve, ms) })
}

export function safeObserve<E>(fn: ((e: E) => void) | undefined, e: E): void {
  if (!fn) return
  try {
    fn(e)
  } catch {
    // an observer must never change what the client does
  }
}

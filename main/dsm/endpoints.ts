// The endpoint allowlist (security.md §4.1): the only DSM calls this app can make. Every request
// goes through `checkEndpoint` in the transport before any network I/O, so no method, present or
// future, can reach an endpoint that returns plaintext key material.

import { EndpointNotAllowedError, PlaintextExportRefusedError } from './errors'

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/**
 * - `read`: no side effect; retried with backoff on network errors, 5xx and 429.
 * - `write`: changes state (or may); never retried after the request may have been sent.
 */
export type EndpointEffect = 'read' | 'write'

export interface Endpoint {
  method: HttpMethod
  /** path template; `{id}` matches one UUID */
  template: string
  effect: EndpointEffect
}

export const ENDPOINTS: readonly Endpoint[] = [
  { method: 'POST', template: '/sys/v1/session/auth', effect: 'write' },
  { method: 'POST', template: '/sys/v1/session/terminate', effect: 'write' },
  { method: 'POST', template: '/sys/v1/session/refresh', effect: 'write' },
  { method: 'POST', template: '/sys/v1/session/select_account', effect: 'write' },
  { method: 'GET', template: '/sys/v1/version', effect: 'read' },
  { method: 'GET', template: '/sys/v1/health', effect: 'read' },
  // The appliance's own audit log, read at the close to corroborate the record (AUDIT permission).
  { method: 'GET', template: '/sys/v1/logs', effect: 'read' },
  { method: 'GET', template: '/sys/v1/groups', effect: 'read' },
  { method: 'GET', template: '/sys/v1/groups/{id}', effect: 'read' },
  // FIPS-backed groups on the non-FIPS cluster (dsm-api.md §11). A check changes nothing.
  { method: 'POST', template: '/sys/v1/groups', effect: 'write' },
  { method: 'PATCH', template: '/sys/v1/groups/{id}', effect: 'write' },
  { method: 'POST', template: '/sys/v1/groups/hmg/check', effect: 'read' },
  { method: 'POST', template: '/sys/v1/groups/{id}/hmg/check', effect: 'read' },
  // A FIPS appliance's users and apps, for replace-appliance's onboarding by a system administrator
  // (accounts.ts): the custodians' accounts found by e-mail, the ceremony's app made and its API key read.
  { method: 'GET', template: '/sys/v1/users', effect: 'read' },
  { method: 'GET', template: '/sys/v1/apps', effect: 'read' },
  { method: 'POST', template: '/sys/v1/apps', effect: 'write' },
  { method: 'GET', template: '/sys/v1/apps/{id}/credential', effect: 'read' },
  { method: 'POST', template: '/crypto/v1/keys', effect: 'write' },
  { method: 'PUT', template: '/crypto/v1/keys', effect: 'write' },
  { method: 'GET', template: '/crypto/v1/keys', effect: 'read' },
  // A lookup, POST only because the descriptor is a body: safe to retry (security.md §5.2).
  { method: 'POST', template: '/crypto/v1/keys/info', effect: 'read' },
  { method: 'GET', template: '/crypto/v1/keys/{id}', effect: 'read' },
  { method: 'DELETE', template: '/crypto/v1/keys/{id}', effect: 'write' },
  { method: 'POST', template: '/crypto/v1/wrapkey', effect: 'write' },
  { method: 'POST', template: '/crypto/v1/unwrapkey', effect: 'write' },
  // Data encryption with a FIPS-backed group's key (a check that the group works): no state change.
  { method: 'POST', template: '/crypto/v1/encrypt', effect: 'read' },
  { method: 'POST', template: '/crypto/v1/decrypt', effect: 'read' },
  { method: 'POST', template: '/sys/v1/approval_requests', effect: 'write' },
  { method: 'GET', template: '/sys/v1/approval_requests', effect: 'read' },
  { method: 'GET', template: '/sys/v1/approval_requests/{id}', effect: 'read' },
  // Withdraw (204): the ceremony's own requests only; the appliance refuses anyone else's.
  { method: 'DELETE', template: '/sys/v1/approval_requests/{id}', effect: 'write' },
  { method: 'POST', template: '/sys/v1/approval_requests/{id}/approve', effect: 'write' },
  { method: 'POST', template: '/sys/v1/approval_requests/{id}/deny', effect: 'write' },
  // Not retried: whether the result can be read twice is an open question (security.md §5.1).
  { method: 'POST', template: '/sys/v1/approval_requests/{id}/result', effect: 'write' },
]

/** Operations that may be put inside an approval request (they run on the appliance once approved). */
export const APPROVABLE_OPERATIONS: readonly Endpoint[] = ENDPOINTS.filter((e) =>
  ['/crypto/v1/wrapkey', '/crypto/v1/unwrapkey', '/crypto/v1/keys', '/crypto/v1/keys/{id}'].includes(e.template) && e.effect === 'write',
)

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'
export const UUID_RE = new RegExp(`^${UUID}$`)

function templateRe(template: string): RegExp {
  return new RegExp(`^${template.replace(/\{id\}/g, UUID)}$`)
}
const COMPILED = ENDPOINTS.map((e) => ({ ...e, re: templateRe(e.template) }))

/**
 * True for any path under /crypto that has an `export` segment (`/crypto/v1/keys/export`,
 * `/crypto/v1/keys/{kid}/export`, `/crypto/v1/keys/components/export`, …), however it is
 * spelled (case, percent-encoding, doubled or trailing slashes, missing leading slash).
 */
export function isPlaintextExportPath(path: string): boolean {
  let p = path.split(/[?#]/, 1)[0] ?? ''
  try {
    p = decodeURIComponent(p)
  } catch {
    // undecodable: judge the raw text
  }
  const segments = p.toLowerCase().split('/').map((s) => s.trim()).filter((s) => s.length > 0)
  return segments[0] === 'crypto' && segments.some((s) => s === 'export' || s.endsWith('export'))
}

/** Returns the allowlisted endpoint for `method path`, or throws the refusal. */
export function checkEndpoint(method: string, path: string): Endpoint {
  const request = `${method} ${path.split('?', 1)[0]}`
  if (isPlaintextExportPath(path)) throw new PlaintextExportRefusedError(request)
  const pathname = path.split('?', 1)[0] ?? ''
  const hit = COMPILED.find((e) => e.method === method && e.re.test(pathname))
  if (!hit) throw new EndpointNotAllowedError(request)
  return { method: hit.method, template: hit.template, effect: hit.effect }
}

/**
 * The operation inside an approval request runs on the appliance once approved, so it gets the
 * same refusal as a direct call, and must be one the ceremony uses.
 */
export function checkApprovableOperation(method: string, operation: string): void {
  const request = `${method} ${operation}`
  if (isPlaintextExportPath(operation)) throw new PlaintextExportRefusedError(request)
  const pathname = operation.split('?', 1)[0] ?? ''
  const ok = APPROVABLE_OPERATIONS.some((e) => e.method === method && templateRe(e.template).test(pathname))
  if (!ok) throw new EndpointNotAllowedError(`approval request for ${request}`)
}

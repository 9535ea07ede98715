// What an appliance's answer means: a response with an expected status becomes the parsed value
// (zod-checked; a body that is not JSON or not the expected shape is BadResponseError), any other
// becomes the named error for its status, with the vendor's plain-text message (the caller's own
// credential scrubbed out). Kept apart from the transport, which only sends and reads bytes, so
// the mapping can be read (and checked against dsm-api.md) in one place.
import type { IncomingHttpHeaders } from 'node:http'
import type { z } from 'zod'
import {
  ApprovalRequiredError,
  BadRequestError,
  BadResponseError,
  ConflictError,
  ForbiddenError,
  LockedError,
  NotFoundError,
  RateLimitedError,
  ServerError,
  UnauthorizedError,
  type DsmError,
} from './errors'
import { parseRetryAfter, vendorMessage } from './http-helpers'

export interface RawResponse {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

/** The named error for a response whose status the call did not expect. `now` dates a Retry-After. */
export function errorForResponse(raw: RawResponse, where: string, authority: string, authorization: string | undefined, now: () => number): DsmError {
  const status = raw.status
  const message = vendorMessage(raw, authorization) || `HTTP ${status}`
  const d = { status, request: where }
  if (status === 400) return new BadRequestError(message, d)
  if (status === 401) return new UnauthorizedError(message, d)
  if (status === 403) {
    if (/requires approval/i.test(message)) return new ApprovalRequiredError(message, d)
    return new ForbiddenError(message, d)
  }
  if (status === 404) return new NotFoundError(message, d)
  if (status === 409) return new ConflictError(message, d)
  if (status === 423) return new LockedError(message, d)
  if (status === 429) {
    const ra = parseRetryAfter(raw.headers['retry-after'], now())
    return new RateLimitedError(message, ra === undefined ? d : { ...d, retryAfterMs: ra })
  }
  if (status >= 500) return new ServerError(message, d)
  if (status >= 200 && status < 300) return new BadResponseError(`${where} on ${authority}: unexpected status ${status}`, d)
  // Redirects included: the client never follows one (security.md §6 case 46).
  return new BadResponseError(`${where} on ${authority}: unexpected HTTP ${status}${message ? `: ${message}` : ''}`, d)
}

/** The body of an expected response, checked against `schema`; undefined when there is no schema (a 204). */
export function parseResponse<T>(raw: RawResponse, schema: z.ZodType<T> | undefined, where: string, authority: string): T {
  if (!schema) return undefined as T
  let json: unknown
  try {
    json = JSON.parse(raw.body.toString('utf8'))
  } catch {
    throw new BadResponseError(`${where} on ${authority}: the response is not JSON`, { status: raw.status, request: where })
  }
  const parsed = schema.safeParse(json)
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')
    throw new BadResponseError(`${where} on ${authority}: unexpected response shape (${issues})`, { status: raw.status, request: where })
  }
  return parsed.data
}

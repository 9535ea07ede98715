// When a failed DSM call is tried again, and after how long. Kept apart from the transport (which
// sends and reads) because this is policy, the one place to read when asking "can this request go
// out twice?": only reads are retried (the transport never asks for a write), on network errors,
// 5xx and 429 (Retry-After honoured up to a bound), with capped exponential backoff and full jitter.
// A failure after a write may have been sent is OutcomeUnknownError and never retried.
import { BadResponseError, OutcomeUnknownError, RateLimitedError, ServerError, TimeoutError, UnreachableError, type DsmError } from './errors'

export interface RetryPolicy {
  /** attempts for reads, including the first (default 4) */
  maxAttempts: number
  /** first backoff ceiling in ms (default 200); doubles each attempt */
  baseDelayMs: number
  /** backoff ceiling in ms (default 3000) */
  maxDelayMs: number
  /** a Retry-After longer than this is not waited for: RateLimitedError instead (default 10000) */
  maxRetryAfterMs: number
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 3_000, maxRetryAfterMs: 10_000 }

const RETRYABLE_STATUS = (s: number) => s === 429 || s >= 500

export function isRetryable(e: DsmError): boolean {
  if (e instanceof OutcomeUnknownError) return false
  if (e instanceof TimeoutError || e instanceof UnreachableError) return true
  if (e instanceof RateLimitedError || e instanceof ServerError) return true
  return e.status !== undefined && RETRYABLE_STATUS(e.status) && !(e instanceof BadResponseError)
}

/**
 * How long to wait after failed attempt `attempt` (1-based) of a retryable error before the next
 * one, or undefined when the appliance asks for a longer wait than the policy allows (the caller
 * then gives up with the error). Full jitter under a doubling ceiling; never less than Retry-After.
 */
export function retryDelay(policy: RetryPolicy, e: DsmError, attempt: number, random: () => number): number | undefined {
  let retryAfterMs: number | undefined
  if (e instanceof RateLimitedError) {
    retryAfterMs = e.retryAfterMs
    if (retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs) return undefined
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1))
  return Math.max(retryAfterMs ?? 0, Math.floor(random() * ceiling))
}

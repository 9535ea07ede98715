// What every route handler sees: the appliance, the authenticated caller, the parsed request.
import type { HmgRuntime } from './hmg-failover'
import type { ApplianceModel, PrincipalRef, Session } from './model'
import type { VendorChoices } from './types'

export type Caller =
  | { kind: 'app'; appId: string; acctId: string; session?: Session }
  | { kind: 'user'; userId: string; acctId?: string; session: Session }

export interface ApplianceConfig {
  /** 'fips': a FIPS appliance (version shows fips_level); 'cluster': the non-FIPS DSM cluster */
  role: 'fips' | 'cluster'
  /** false: an appliance like a FIPS one (apps, keys, quorum) whose version reports no fips_level (tests name it as a FIPS one) */
  fipsMode?: boolean
  /** how this appliance reaches FIPS appliances for FIPS-backed groups (both roles run the same DSM software) */
  hmg?: HmgRuntime
  sessionTtlSeconds: number
  approvalTtlSeconds: number
  vendor: Required<VendorChoices>
  now: () => number
}

export interface Ctx {
  model: ApplianceModel
  config: ApplianceConfig
  method: string
  path: string
  query: URLSearchParams
  body: unknown
  params: Record<string, string>
  headers: Record<string, string | string[] | undefined>
  caller?: Caller
  /** true when the request runs as the operation of an approved approval request */
  approved: boolean
}

export interface Result {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

/** The groups whose quorum must approve an operation, and what it acts on. */
export interface Protection {
  policyGroups: string[]
  subjects: ({ sobject: string } | { group: string })[]
}

export interface Route {
  method: string
  /** '/crypto/v1/keys/:kid' style */
  pattern: string
  /** 'none': no credentials; 'session': any caller; 'account': a caller bound to an account */
  auth: 'none' | 'session' | 'account'
  /** present for operations an approval policy can protect */
  protection?: (ctx: Ctx) => Protection
  handle(ctx: Ctx): Result | Promise<Result>
}

export function principalOf(caller: Caller): PrincipalRef {
  return caller.kind === 'app' ? { app: caller.appId } : { user: caller.userId }
}

export function principalId(caller: Caller): string {
  return caller.kind === 'app' ? caller.appId : caller.userId
}

export function compilePattern(pattern: string): { regex: RegExp; keys: string[] } {
  const keys: string[] = []
  const src = pattern
    .split('/')
    .map((seg) => {
      if (seg.startsWith(':')) {
        keys.push(seg.slice(1))
        return '([^/]+)'
      }
      return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    })
    .join('/')
  return { regex: new RegExp(`^${src}$`), keys }
}

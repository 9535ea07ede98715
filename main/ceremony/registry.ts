/**
 * Every ceremony kind, one line each. Adding a kind is one folder under kinds/ and one line here;
 * a plan of any kind not listed is refused by name (PLAN_INVALID at `kind`).
 */
import type { CeremonyKind } from './kind'
import type { Plan } from './plan-envelope'
import { linkCluster } from './kinds/link-cluster'
import { replicateCmk } from './kinds/replicate-cmk'
import { verifyCluster } from './kinds/verify-cluster'

export const KINDS = {
  'replicate-cmk': replicateCmk,
  'link-cluster': linkCluster,
  'verify-cluster': verifyCluster,
} as const

export type KindName = keyof typeof KINDS
export const KIND_NAMES = Object.keys(KINDS) as KindName[]

/** A plan written before kinds existed is a replication. */
export const DEFAULT_KIND: KindName = 'replicate-cmk'

export function isKindName(name: unknown): name is KindName {
  return typeof name === 'string' && Object.hasOwn(KINDS, name)
}

/** The kind definition for a parsed plan. */
export function kindOf(plan: Plan): CeremonyKind<Plan> {
  if (!isKindName(plan.kind)) throw new Error(`unregistered ceremony kind ${plan.kind}`)
  return KINDS[plan.kind] as unknown as CeremonyKind<Plan>
}

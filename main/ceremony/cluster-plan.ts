/**
 * What the plans of `link-cluster` and `verify-cluster` share (guide §3.2.3, §3.3, §4.0): the
 * non-FIPS cluster (address, TLS trust, account, and the administrator who signs in there with a
 * password entered at run time), the FIPS appliances in priority order (the envelope's
 * `appliances`), the group, the recovery canary's name and the failover drill. Named options
 * (README, "Plan options of the cluster kinds") have their defaults here.
 */
import { z } from 'zod'
import { UUID_RE } from '../dsm/endpoints'
import { checkApplianceRef, checkEnvelope, hostname, label, slug, spokenText, TrustSchema, type Plan } from './plan-envelope'
import type { SignIn } from './sign-in'

export const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 digest: 64 lowercase hex characters')
/** Read aloud when the administrator signs in: the same rules as custodian users (plan-names.ts), and no space or ":". */
const dsmUser = spokenText(254).regex(/^[^\s:]+$/, 'a DSM user name, without spaces or ":"')

export const ClusterSchema = z.strictObject({
  id: slug.default('cluster'),
  label: label.default('Non-FIPS DSM cluster'),
  host: hostname,
  port: z.number().int().min(1).max(65535).default(443),
  trust: TrustSchema,
  /** The DSM account the FIPS-backed group lives in (selected after signing in). */
  accountId: z.string().regex(UUID_RE, 'a DSM account id (UUID)'),
  /** The cluster administrator's own DSM user; the password is entered when the ceremony runs. */
  admin: dsmUser,
})

/** Fields both cluster kinds have, spread into their strictObject. */
export const clusterShape = {
  cluster: ClusterSchema,
  /** The FIPS appliances (ids of `appliances`) in priority order: the first is tried first (hsm_order 0). */
  fips: z.array(slug).min(1).max(16),
  /** Read aloud and typed on the cluster: spoken text (plan-names.ts), like replicate-cmk's group and CMK names. */
  groupName: spokenText(120).default('FIPS GROUP'),
  /** The recovery canary's name: deterministic, so a resumed ceremony finds the key it made. */
  canaryName: spokenText(120).refine((s) => s.includes('{ceremony}'), 'must contain {ceremony}').default('{ceremony}-recovery-canary'),
  /** Prove failover (the first FIPS appliance taken down, the canary decrypted again); false leaves it out, recorded. */
  failoverDrill: z.boolean().default(true),
}

export interface ClusterPlan extends Plan {
  cluster: z.output<typeof ClusterSchema>
  fips: string[]
  groupName: string
  canaryName: string
  failoverDrill: boolean
  /** Final digests of the earlier records this ceremony builds on. */
  buildsOn: string[]
}

/** Cross-field checks both kinds run. */
export function checkClusterPlan(plan: ClusterPlan, ctx: z.RefinementCtx): void {
  checkEnvelope(plan, ctx)
  const seen = new Set<string>()
  plan.fips.forEach((id, i) => {
    checkApplianceRef(plan, id, ['fips', i], ctx)
    if (seen.has(id)) ctx.addIssue({ code: 'custom', path: ['fips', i], message: `"${id}" is listed twice` })
    seen.add(id)
  })
  plan.appliances.forEach((a, i) => {
    if (!seen.has(a.id)) ctx.addIssue({ code: 'custom', path: ['appliances', i, 'id'], message: `"${a.id}" is not in fips: every appliance of this plan is a FIPS appliance of the group` })
  })
  if (plan.appliances.some((a) => a.id === plan.cluster.id)) ctx.addIssue({ code: 'custom', path: ['cluster', 'id'], message: `"${plan.cluster.id}" is also an appliance id` })
  const where = `${plan.cluster.host.toLowerCase()}:${plan.cluster.port}`
  if (plan.appliances.some((a) => `${a.host.toLowerCase()}:${a.port}` === where)) {
    ctx.addIssue({ code: 'custom', path: ['cluster', 'host'], message: `${where} is given for the cluster and for a FIPS appliance` })
  }
  // The cluster and every FIPS appliance are reached from one room: the link's tests and the drill
  // need them all at once, so there is no leg to hand on (stations are for replicate-cmk).
  if ((plan.stations?.length ?? 0) > 1) ctx.addIssue({ code: 'custom', path: ['stations'], message: 'a cluster ceremony runs at one station, which reaches the cluster and every FIPS appliance' })
  const digests = new Set<string>()
  plan.buildsOn.forEach((d, i) => {
    if (digests.has(d)) ctx.addIssue({ code: 'custom', path: ['buildsOn', i], message: 'the same record is named twice' })
    digests.add(d)
  })
}

/** The cluster administrator's sign-in, as the engine opens it. */
export function clusterSignIn(plan: ClusterPlan): SignIn {
  const { id, label: name, host, port, trust, admin, accountId } = plan.cluster
  return { id, label: name, host, port, trust, user: admin, accountId }
}

export function canaryNameOf(plan: ClusterPlan): string {
  return plan.canaryName.replaceAll('{ceremony}', plan.id)
}

/** The fixed, published test message the canary encrypts (README, "verify-cluster"). Not a secret. */
export const CANARY_MESSAGE = 'DSM Key Ceremony recovery canary, version 1. This text is public.'

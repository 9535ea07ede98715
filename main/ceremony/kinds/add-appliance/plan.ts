/**
 * The plan of adding a FIPS appliance to a FIPS-backed group (guide §3.2.2 step 7), and the fields
 * `replace-appliance` shares with it (guide §5): the cluster and its administrator, the group's
 * appliances in priority order once the change is made (the new one last: it gets the next
 * hsm_order), the appliance the CMK is replicated from, the new appliance, the quorum group and CMK
 * on the FIPS appliances, and the earlier records (replication, link, earlier changes) this builds on.
 */
import { z } from 'zod'
import { ClusterSchema, hex64, type ClusterPlan } from '../../cluster-plan'
import { checkApplianceRef, checkEnvelope, envelopeShape, slug, type Plan } from '../../plan-envelope'
import type { ReplicateCmkPlan } from '../replicate-cmk/plan'
import { LoadBalancerSchema } from '../link-cluster/plan'

/** Fields both membership kinds have, spread into their strictObject. */
export const membershipShape = {
  cluster: ClusterSchema,
  /** The group's FIPS appliances in priority order after this ceremony; the new appliance is last. */
  fips: z.array(slug).min(1).max(16),
  groupName: z.string().trim().min(1).max(120).default('FIPS GROUP'),
  /** The appliance that holds the CMK now and sends it to the new one (replicate-cmk's source). */
  source: slug,
  /** The appliance this ceremony brings into the group. */
  added: slug,
  /** The quorum group holding the CMK on every FIPS appliance (replicate-cmk's groupName). */
  quorumGroupName: z.string().trim().min(1).max(120).default('Quorum Group'),
  cmkName: z.string().trim().min(1).max(120).default('cluster-master-key'),
  transferKeyName: z.string().max(120).refine((s) => s.includes('{ceremony}') && s.includes('{target}'), 'must contain {ceremony} and {target}').default('{ceremony}-transfer-{target}'),
  wrapMode: z.enum(['RSA-OAEP-SHA1', 'RSA-OAEP-SHA256']).default('RSA-OAEP-SHA256'),
  /**
   * Load-balancer mode (guide §4.0), as the link made the group: one config at the balancer's
   * address holding every appliance's API key in `credentials`. The new appliance's key and
   * certificate are added to that config (mod_hmg) instead of a config of its own.
   */
  loadBalancer: LoadBalancerSchema.optional(),
  /** The hmg config's `tls.validate_hostname`, as the link set it. */
  validateHostname: z.boolean().default(true),
  /** Rehearsal: prove the canary with every other appliance of the group down, so the new one alone served it. */
  proveAlone: z.boolean().default(true),
  /** Final digests of the records this builds on: the replication and the link at least, and any earlier change. */
  buildsOn: z.array(hex64).min(1, 'name the records this ceremony builds on (the replication and the link)').max(16),
}

export interface MembershipPlan extends Plan {
  cluster: z.output<typeof ClusterSchema>
  fips: string[]
  groupName: string
  source: string
  added: string
  quorumGroupName: string
  cmkName: string
  transferKeyName: string
  wrapMode: 'RSA-OAEP-SHA1' | 'RSA-OAEP-SHA256'
  validateHostname: boolean
  loadBalancer?: { host: string; port: number } | undefined
  proveAlone: boolean
  buildsOn: string[]
  /** replace-appliance only: the failed appliance (in `appliances`, never contacted). */
  failed?: { id: string } | undefined
}

/** Cross-field checks both kinds run; `outside` are appliances of the plan that are not in `fips` (the failed one). */
export function checkMembershipPlan(plan: MembershipPlan, ctx: z.RefinementCtx, outside: string[] = []): void {
  checkEnvelope(plan, ctx)
  const seen = new Set<string>()
  plan.fips.forEach((id, i) => {
    checkApplianceRef(plan, id, ['fips', i], ctx)
    if (seen.has(id)) ctx.addIssue({ code: 'custom', path: ['fips', i], message: `"${id}" is listed twice` })
    seen.add(id)
  })
  plan.appliances.forEach((a, i) => {
    if (!seen.has(a.id) && !outside.includes(a.id)) ctx.addIssue({ code: 'custom', path: ['appliances', i, 'id'], message: `"${a.id}" is not in fips` })
  })
  if (plan.fips.at(-1) !== plan.added) ctx.addIssue({ code: 'custom', path: ['added'], message: `"${plan.added}" must be last in fips: the new appliance gets the next priority` })
  if (plan.fips.length < 2) ctx.addIssue({ code: 'custom', path: ['fips'], message: 'the group needs an appliance that already holds the CMK besides the new one' })
  if (plan.source === plan.added) ctx.addIssue({ code: 'custom', path: ['source'], message: 'the source cannot be the new appliance' })
  else if (!plan.fips.includes(plan.source)) ctx.addIssue({ code: 'custom', path: ['source'], message: `the source "${plan.source}" must be one of the group's appliances (fips)` })
  const lb = plan.loadBalancer
  if (lb && [plan.cluster, ...plan.appliances].some((a) => `${a.host.toLowerCase()}:${a.port}` === `${lb.host.toLowerCase()}:${lb.port}`)) {
    ctx.addIssue({ code: 'custom', path: ['loadBalancer', 'host'], message: 'the load balancer must have its own address' })
  }
  if (plan.appliances.some((a) => a.id === plan.cluster.id)) ctx.addIssue({ code: 'custom', path: ['cluster', 'id'], message: `"${plan.cluster.id}" is also an appliance id` })
  if ((plan.stations?.length ?? 0) > 1) ctx.addIssue({ code: 'custom', path: ['stations'], message: 'this ceremony runs at one station, which reaches the cluster and every FIPS appliance' })
  const digests = new Set<string>()
  plan.buildsOn.forEach((d, i) => {
    if (digests.has(d)) ctx.addIssue({ code: 'custom', path: ['buildsOn', i], message: 'the same record is named twice' })
    digests.add(d)
  })
}

export const AddAppliancePlanSchema = z
  .strictObject({ ...envelopeShape, kind: z.literal('add-appliance'), ...membershipShape })
  .superRefine((plan, ctx) => checkMembershipPlan(plan as MembershipPlan, ctx))

export type AddAppliancePlan = z.output<typeof AddAppliancePlanSchema> & MembershipPlan

/** The cluster kinds' helpers (clusterSession, inGroup …) read these fields only. */
export const asClusterPlan = (plan: MembershipPlan) => ({ ...plan, canaryName: '{ceremony}-unused', failoverDrill: false }) as unknown as ClusterPlan

/**
 * The replication this ceremony runs, as replicate-cmk plans it: the source and the new appliance,
 * the quorum group, the CMK (never created here) and the transfer-key names. Its steps run unchanged
 * with this view as their plan.
 */
export function replicationView(plan: MembershipPlan): ReplicateCmkPlan {
  return {
    kind: 'replicate-cmk', format: plan.format, version: plan.version, id: plan.id, title: plan.title, mode: plan.mode,
    appliances: plan.appliances.filter((a) => a.id === plan.source || a.id === plan.added),
    participants: plan.participants, ...(plan.witnessing ? { witnessing: plan.witnessing } : {}),
    source: plan.source, targets: [plan.added], groupName: plan.quorumGroupName,
    cmk: { name: plan.cmkName, create: false }, transferKeyName: plan.transferKeyName, wrapMode: plan.wrapMode,
  } as ReplicateCmkPlan
}

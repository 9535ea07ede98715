/**
 * The plan of linking FIPS appliances to a group on the non-FIPS cluster (guide §3.2.3, §4.0): the
 * cluster and its administrator, the FIPS appliances in priority order (one hmg config each), or a
 * load balancer in front of them (one config with every API key), the group, the CMK, the
 * unconfirmed CMK-name option, and the replication records this ceremony builds on.
 */
import { z } from 'zod'
import { checkClusterPlan, clusterShape, hex64, type ClusterPlan } from '../../cluster-plan'
import { envelopeShape, hostname, spokenText } from '../../plan-envelope'

/** A TCP pass-through balancer in front of the FIPS appliances (guide §4.0): its address only. */
export const LoadBalancerSchema = z.strictObject({ host: hostname, port: z.number().int().min(1).max(65535).default(443) })

export const LinkClusterPlanSchema = z
  .strictObject({
    ...envelopeShape,
    kind: z.literal('link-cluster'),
    ...clusterShape,
    /** Guide §4.0: one config at the balancer's address, every appliance's API key in `credentials`. */
    loadBalancer: LoadBalancerSchema.optional(),
    /** The hmg configs' `tls.validate_hostname`: the appliance (or balancer) address must be in the certificates. */
    validateHostname: z.boolean().default(true),
    /** The CMK every FIPS appliance holds (checked by KCV against the replication record). */
    cmkName: spokenText(120).default('cluster-master-key'),
    /**
     * Where the group names its CMK (3.22+). Unconfirmed (dsm-api.md §11): "group-wrapping_key_name"
     * sends it as the group's `wrapping_key_name`; "none" sends nothing (the appliances' default CMK).
     */
    cmkNameLocation: z.enum(['none', 'group-wrapping_key_name']).default('none'),
    /** Final digests of the replication records (replicate-cmk) that put the CMK on these appliances. */
    buildsOn: z.array(hex64).min(1, 'name the record of the replication this link builds on').max(8),
  })
  .superRefine((plan, ctx) => {
    checkClusterPlan(plan as LinkClusterPlan, ctx)
    const lb = plan.loadBalancer
    if (lb && [plan.cluster, ...plan.appliances].some((a) => `${a.host.toLowerCase()}:${a.port}` === `${lb.host.toLowerCase()}:${lb.port}`)) {
      ctx.addIssue({ code: 'custom', path: ['loadBalancer', 'host'], message: 'the load balancer must have its own address' })
    }
  })

export type LinkClusterPlan = z.output<typeof LinkClusterPlanSchema> & ClusterPlan

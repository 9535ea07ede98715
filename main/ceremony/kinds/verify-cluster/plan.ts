/**
 * The plan of a check of a FIPS-backed group (guide §3.3), on its own at any time after the link:
 * the cluster and its administrator, the FIPS appliances of the group in priority order (the first
 * is the one the failover drill takes down), the group, the canary's name, and optionally the
 * records this check builds on (the link-cluster record).
 */
import { z } from 'zod'
import { checkClusterPlan, clusterShape, hex64, type ClusterPlan } from '../../cluster-plan'
import { envelopeShape } from '../../plan-envelope'

export const VerifyClusterPlanSchema = z
  .strictObject({
    ...envelopeShape,
    kind: z.literal('verify-cluster'),
    ...clusterShape,
    /** Final digests of earlier records (link-cluster) this check builds on; each is verified first. */
    buildsOn: z.array(hex64).max(8).default([]),
  })
  .superRefine((plan, ctx) => checkClusterPlan(plan as VerifyClusterPlan, ctx))

export type VerifyClusterPlan = z.output<typeof VerifyClusterPlanSchema> & ClusterPlan

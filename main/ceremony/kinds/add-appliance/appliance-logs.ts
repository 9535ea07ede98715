/**
 * C.0 for the membership kinds (add-appliance, replace-appliance; issue 14 part 6): the cluster's
 * audit log and every FIPS appliance's of the group, as for the cluster kinds
 * (../verify-cluster/appliance-logs.ts). This ceremony's own changes: the replication on the source
 * and the new appliance (replicate-cmk's, by the app: the transfer key, its public key, the approved
 * export and import, the cleanup — and the approval requests, read from the record for every kind),
 * the new appliance's config added to the group, the failed one's removed (replace-appliance), and
 * the canary decrypted through the group (the proof, and the check afterwards).
 */
import type { CeremonyCall } from '../../appliance-logs'
import { ENTRY } from '../../entry-kinds'
import type { StepContext } from '../../step'
import { callsOf as replicationCalls } from '../replicate-cmk/appliance-logs'
import { clusterApplianceLogs } from '../verify-cluster/appliance-logs'
import { stepRef } from '../../step'
import { AfterwardsResult, afterwardsId } from './close'
import { replicationView, type MembershipPlan } from './plan'
import { memberRefs } from './results'

type Ctx = StepContext<MembershipPlan>
const afterwardsRef = stepRef(afterwardsId, AfterwardsResult)

export interface MembershipLogsOptions {
  /** Changes to the group after the proof (replace-appliance: the failed appliance's config removed). */
  groupChanges?(ctx: Ctx): { object: string; what: string; step: string }[]
  /** Calls on the FIPS appliances besides the replication's (replace-appliance: the onboarding's on the new one). */
  more?(ctx: Ctx): CeremonyCall[]
}

export function membershipApplianceLogs(plan: MembershipPlan, opts: MembershipLogsOptions = {}) {
  const cluster = plan.cluster.id
  return clusterApplianceLogs(plan as never, {
    groupId: (ctx) => (ctx as unknown as Ctx).find(memberRefs.preflight)?.groupId ?? null,
    calls: (anyCtx, app) => {
      const ctx = anyCtx as unknown as Ctx
      const admin = app(cluster)
      const calls: CeremonyCall[] = [...replicationCalls({ ...ctx, plan: replicationView(ctx.plan) } as never, app), ...(opts.more?.(ctx) ?? [])]
      const onCluster = (object: string, action: CeremonyCall['action'], what: string, step?: string) => {
        const notBefore = step === undefined ? undefined : firstIntentAt(ctx, step)
        calls.push({ appliance: cluster, actor: admin, object, action, what, ...(notBefore === undefined ? {} : { notBefore }) })
      }
      const joined = ctx.find(memberRefs.joinGroup)
      if (joined) onCluster(joined.groupId, 'ADMINISTRATIVE', `added ${ctx.label(ctx.plan.added)}'s config ${joined.configId} to the group`, memberRefs.joinGroup.id)
      for (const c of opts.groupChanges?.(ctx) ?? []) onCluster(c.object, 'ADMINISTRATIVE', c.what, c.step)
      const canary = ctx.find(memberRefs.preflight)?.canary.kid
      if (canary && ctx.find(memberRefs.prove)) onCluster(canary, 'CRYPTOOPERATION', 'decrypted the recovery canary\'s test ciphertext (the proof)')
      if (canary && ctx.find(afterwardsRef)) onCluster(canary, 'CRYPTOOPERATION', 'decrypted the recovery canary\'s test ciphertext (the group afterwards)')
      return calls
    },
  })
}

/** When a step first recorded its intent (ms, the workstation's clock): nothing it changed can be logged before. */
function firstIntentAt(ctx: Ctx, stepId: string): number | undefined {
  const intent = ctx.recorded().find((e) => e.kind === ENTRY.stepIntent && e.step === stepId)
  return intent ? Date.parse(intent.ts) : undefined
}

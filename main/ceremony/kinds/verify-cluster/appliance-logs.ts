/**
 * C.0 for the cluster kinds (link-cluster, verify-cluster; issue 14 part 6): the audit logs of the
 * non-FIPS cluster, read with the administrator's session, and of every FIPS appliance of the
 * group, read with the app whose API key the group's connections hold, for the ceremony window —
 * each hashed into the record and corroborated (main/ceremony/appliance-logs.ts).
 *
 * On the cluster, the ceremony's own changes are its administrator's: the group created (the link),
 * the recovery canary generated, and the canary's encryptions and decryptions. Everything else in
 * the group during the window is a finding. On a FIPS appliance, this workstation changes nothing:
 * the cluster does the work there with the app, so every change the app may read is in scope, and
 * an entry of the app is the ceremony's only if it falls within something the cluster logged for
 * the group (log-windows.ts).
 */
import { applianceLogsStep, type CeremonyCall } from '../../appliance-logs'
import type { ClusterPlan } from '../../cluster-plan'
import type { ScriptedStep } from '../../kind'
import type { StepContext } from '../../step'
import { verifyRefs } from './results'

type Ctx = StepContext<ClusterPlan>

export const CLUSTER_LOGS_ID = 'appliance-logs'

export interface ClusterLogsOptions {
  /** The group the ceremony worked in, from earlier results (null if it never got one). */
  groupId(ctx: Ctx): string | null
  /**
   * The kind's own changes besides the verification's: the link's group creation; a membership
   * ceremony's replication (on the FIPS appliances, by the app) and its changes to the group.
   * `app(id)` is the session the log was read with: the administrator on the cluster.
   */
  calls?(ctx: Ctx, app: (appliance: string) => string): CeremonyCall[]
}

/** The verification's changes on the cluster (shared by both kinds): the canary and its uses. */
function canaryCalls(ctx: Ctx, admin: string): CeremonyCall[] {
  const cluster = ctx.plan.cluster.id
  const calls: CeremonyCall[] = []
  const key = ctx.find(verifyRefs.canaryKey)
  if (!key) return calls
  const use = (what: string): CeremonyCall => ({ appliance: cluster, actor: admin, object: key.kid, action: 'CRYPTOOPERATION', what })
  calls.push({ appliance: cluster, actor: admin, object: key.kid, action: 'ADMINISTRATIVE', what: `generated the recovery canary "${key.name}" (kid ${key.kid})` })
  if (ctx.find(verifyRefs.canaryCrypto)) calls.push(use('encrypted the test message with the canary'), use('decrypted the test ciphertext with the canary'))
  if (ctx.find(verifyRefs.failoverDrill)?.performed) calls.push(use('decrypted the test ciphertext again during the failover drill'))
  return calls
}

export function clusterApplianceLogs<P extends ClusterPlan>(plan: P, opts: ClusterLogsOptions) {
  const cluster = plan.cluster.id
  return applianceLogsStep<P>(plan, {
    id: CLUSTER_LOGS_ID,
    where: `${plan.cluster.label} and every FIPS appliance → media`,
    appliances: (p) => [p.cluster.id, ...p.fips],
    session: (ctx, id) => (id === cluster ? ctx.user(id) : ctx.app(id)),
    label: (ctx, id) => (id === cluster ? ctx.plan.cluster.label : ctx.label(id)),
    groups: (ctx, id) => {
      if (id !== cluster) return 'all'
      const group = opts.groupId(ctx as never)
      return group ? [group] : []
    },
    calls: (ctx, app) => [...(opts.calls?.(ctx as never, app) ?? []), ...canaryCalls(ctx as never, app(cluster))],
    through: cluster,
  })
}

/** The kind's steps with C.0 placed before the close (the last step), keeping the close's id C.1. */
export function withClusterLogs(scripted: ScriptedStep[], logs: ReturnType<typeof clusterApplianceLogs>): ScriptedStep[] {
  return [...scripted.slice(0, -1), { ...logs, scriptId: 'C.0' }, scripted.at(-1)!]
}

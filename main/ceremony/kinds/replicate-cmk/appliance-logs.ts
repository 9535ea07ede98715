/**
 * C.0 for the replication: the appliances' own audit logs, captured and corroborated before the
 * close (main/ceremony/appliance-logs.ts). What this kind did on each appliance, from its results:
 * the keys it created and deleted, and the approved export and import it had executed.
 */
import { applianceLogsStep, type CeremonyCall } from '../../appliance-logs'
import { labelOf, type Station } from '../../plan-envelope'
import { isMultiSite, stationOfAppliance } from '../../stations'
import type { StepContext } from '../../step'
import type { ReplicateCmkPlan } from './plan'
import { applianceFacts } from './preflight'
import { ids, refs, type PreflightResult } from './results'

type Ctx = StepContext<ReplicateCmkPlan>

/** What this kind did on each appliance (also a membership ceremony's replication, run with its replication view as the plan). */
export function callsOf(ctx: Ctx, app: (appliance: string) => string): CeremonyCall[] {
  const { plan } = ctx
  const source = plan.source
  const calls: CeremonyCall[] = []
  const add = (appliance: string, object: string, action: CeremonyCall['action'], what: string) => calls.push({ appliance, actor: app(appliance), object, action, what })
  const created = ctx.find(refs.createCmk)
  if (created) add(source, created.kid, 'ADMINISTRATIVE', `P.1: created the CMK "${plan.cmk.name}" (kid ${created.kid})`)
  const cmk = created ?? preflightFound(ctx, source)?.cmk ?? null
  for (const t of plan.targets) {
    const transfer = ctx.find(refs.transferKey(t))
    if (transfer) add(t, transfer.kid, 'ADMINISTRATIVE', `generated the transfer key "${transfer.name}" (kid ${transfer.kid})`)
    const imported = ctx.find(refs.importPubkey(t))
    if (imported) add(source, imported.kid, 'ADMINISTRATIVE', `imported ${ctx.label(t)}'s transfer public key (kid ${imported.kid})`)
    if (cmk && ctx.find(refs.wrapResult(t))) add(source, cmk.kid, 'CRYPTOOPERATION', `the approved export of the CMK wrapped for ${ctx.label(t)}`)
    const unwrapped = ctx.find(refs.unwrapResult(t))
    if (unwrapped) add(t, unwrapped.kid, 'CRYPTOOPERATION', `the approved import of the CMK (kid ${unwrapped.kid})`)
    // One cleanup step, or across sites one per side (sites.ts): each result lists what it deleted.
    const cleaned = ctx.find(refs.cleanup(t))
    const [onTarget, onSource] = cleaned ? cleaned.deleted : [ctx.find(refs.deleteTransferKey(t))?.deleted[0], ctx.find(refs.deletePubkey(t))?.deleted[0]]
    if (onTarget) add(t, onTarget, 'ADMINISTRATIVE', `deleted the transfer key (kid ${onTarget})`)
    if (onSource) add(source, onSource, 'ADMINISTRATIVE', `deleted the imported transfer public key (kid ${onSource})`)
  }
  return calls
}

/** The preflight that read an appliance (the one preflight, or its station's across sites), if it ran. */
function preflightFound(ctx: Ctx, id: string): PreflightResult | null {
  return isMultiSite(ctx.plan) ? ctx.find(refs.stationPreflight(stationOfAppliance(ctx.plan, id).id)) : ctx.find(refs.preflight)
}

export const applianceLogs = (plan: ReplicateCmkPlan) => applianceLogsStep(plan, {
  id: ids.applianceLogs,
  appliances: (p) => p.appliances.map((a) => a.id),
  groups: (ctx, id) => [applianceFacts(ctx, id).groupId],
  calls: callsOf,
  skewAtStart: (ctx, id) => preflightFound(ctx, id)?.appliances[id]?.skewSeconds ?? null,
})

/**
 * Across sites, each station captures its own appliances' logs once the ceremony is done with them
 * (stations.ts runs it in that station's last leg): an appliance is reached only from its station,
 * and nothing of this ceremony touches it afterwards, so the window is complete.
 */
export const stationApplianceLogs = (plan: ReplicateCmkPlan, station: Station, appliances: string[]) => applianceLogsStep(plan, {
  id: ids.stationApplianceLogs(station.id),
  where: `${station.label}: ${appliances.map((a) => labelOf(plan, a)).join(', ')} → media`,
  appliances: () => appliances,
  groups: (ctx, id) => [applianceFacts(ctx, id).groupId],
  calls: callsOf,
  skewAtStart: (ctx, id) => preflightFound(ctx, id)?.appliances[id]?.skewSeconds ?? null,
})

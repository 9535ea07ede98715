/**
 * The kind `add-appliance` (guide §3.2.2 step 7, design §3b): a new FIPS appliance is checked
 * against the earlier records (its quorum policy no weaker), receives the CMK by replicate-cmk's
 * steps, joins the FIPS-backed group at the next priority, and proves recovery by decrypting the
 * group's recovery canary (in a rehearsal with every other appliance down).
 */
import type { CeremonyKind, ScriptedStep } from '../../kind'
import { clusterSignIn } from '../../cluster-plan'
import { labelOf } from '../../plan-envelope'
import { assignScriptIds } from '../../script'
import type { AnyStep } from '../../step'
import { refs as replicationRefs } from '../replicate-cmk/results'
import { withClusterLogs } from '../verify-cluster/appliance-logs'
import { membershipApplianceLogs } from './appliance-logs'
import { afterwards, membershipClose } from './close'
import { joinConfig, joinGroup, testJoined } from './join'
import { AddAppliancePlanSchema, asClusterPlan, type AddAppliancePlan, type MembershipPlan } from './plan'
import { addressOf, appliancePreflight } from './preflight'
import { proveCanary, restoreOthers } from './prove'
import { replicationSteps } from './replication'
import { memberRefs } from './results'
import type { ResultReader } from '../../kind'

/** Board groups as read aloud: R.k the replication, J.k the join, V.k the proof, X.k the removal, D.k the disposal. */
const PREFIX: Record<string, string> = { replicate: 'R', join: 'J', prove: 'V', remove: 'X', dispose: 'D' }
export const membershipPrefix = (group: string) => {
  const p = PREFIX[group]
  if (!p) throw new Error(`No script prefix for the group "${group}"`)
  return p
}

/** The steps both membership kinds share, up to the proof. */
export function addSteps(plan: MembershipPlan): AnyStep[] {
  return [appliancePreflight(plan), ...replicationSteps(plan), joinConfig(plan), joinGroup(plan), testJoined(plan), proveCanary(plan), restoreOthers(plan)]
}

function steps(plan: AddAppliancePlan): ScriptedStep[] {
  // C.0, the appliances' own logs, just before the close (after the check of the group afterwards, C.1).
  return withClusterLogs(assignScriptIds(plan, [...addSteps(plan), afterwards(plan), membershipClose(plan, () => null)], membershipPrefix), membershipApplianceLogs(plan))
}

export function membershipDescribe(plan: MembershipPlan): { label: string; value: string }[] {
  return [
    { label: 'Cluster', value: `${plan.cluster.label} at ${plan.cluster.host}:${plan.cluster.port}` },
    { label: 'Cluster administrator (signs in)', value: plan.cluster.admin },
    { label: 'Group', value: plan.groupName },
    { label: 'New appliance', value: `${labelOf(plan, plan.added)} at ${addressOf(plan, plan.added)}` },
    { label: 'CMK from', value: `${labelOf(plan, plan.source)} ("${plan.cmkName}", quorum group "${plan.quorumGroupName}", ${plan.wrapMode})` },
    ...(plan.loadBalancer
      ? [{ label: 'The group afterwards', value: `one config at the load balancer ${plan.loadBalancer.host}:${plan.loadBalancer.port} holding the API keys of ${plan.fips.map((id) => labelOf(plan, id)).join(', ')} (mod_hmg; the balancer must route to the new appliance first)` }]
      : [{ label: 'The group afterwards, in priority order', value: plan.fips.map((id) => labelOf(plan, id)).join(', ') }]),
    { label: 'Recovery proved', value: plan.mode === 'rehearsal' && plan.proveAlone ? 'with every other appliance down (simulator)' : 'through the group, the new connection tested alone' },
  ]
}

export function membershipSummary(plan: MembershipPlan, results: ResultReader) {
  const pre = results.find(memberRefs.preflight)
  const unwrap = results.find(replicationRefs.unwrapResult(plan.added))
  const close = results.find(memberRefs.close)
  const prove = results.find(memberRefs.prove)
  return {
    kcv: pre?.kcv ?? null,
    addedKcv: unwrap?.kcvTarget?.toLowerCase() ?? pre?.added.cmkKcv ?? null,
    group: pre?.groupId ?? null,
    configId: results.find(memberRefs.joinGroup)?.configId ?? null,
    members: close?.members ?? null,
    canaryMatch: prove?.match ?? false,
    provedAlone: prove ? prove.down.length > 0 : false,
  }
}

export const addAppliance: CeremonyKind<AddAppliancePlan> = {
  kind: 'add-appliance',
  title: 'Add a FIPS appliance',
  schema: AddAppliancePlanSchema as never,
  steps,
  describe: membershipDescribe,
  roles: (plan) => Object.fromEntries(plan.appliances.map((a) => [a.id, a.id === plan.added ? 'New appliance' : a.id === plan.source ? `Source of the CMK, priority ${plan.fips.indexOf(a.id)}` : `FIPS appliance, priority ${plan.fips.indexOf(a.id)}`])),
  groups: () => [{ id: 'replicate', label: 'Replicate the CMK' }, { id: 'join', label: 'Join the group' }, { id: 'prove', label: 'Prove recovery' }],
  groupOutcome(plan, group, results) {
    if (group === 'replicate') return results.find(replicationRefs.unwrapResult(plan.added))?.kcvTarget ? `KCV ${results.find(replicationRefs.unwrapResult(plan.added))!.kcvTarget.toLowerCase()}` : null
    if (group === 'join') return results.find(memberRefs.joinGroup) ? (plan.loadBalancer ? 'its key in the load balancer\'s config' : `priority ${results.find(memberRefs.joinGroup)!.hsmOrder ?? '-'}`) : null
    const prove = results.find(memberRefs.prove)
    return prove ? (prove.down.length > 0 ? 'canary decrypts through the new appliance alone' : 'canary decrypts') : null
  },
  summary: membershipSummary,
  signIns: (plan) => [clusterSignIn(asClusterPlan(plan))],
  buildsOn: (plan) => plan.buildsOn,
  leftBehind(plan, results) {
    const left: string[] = []
    if (results.state(replicationRefs.cleanup(plan.added).id) !== 'done' && results.find(replicationRefs.transferKey(plan.added))) {
      left.push(`the transfer key on ${labelOf(plan, plan.added)} and its public key on ${labelOf(plan, plan.source)}: delete them`)
    }
    if (results.find(memberRefs.prove)?.down.length && results.state(memberRefs.restore.id) !== 'done') left.push('the appliances the proof took down: bring them back')
    return left
  },
}

/**
 * The kind `link-cluster` (guide §3.2.3, §4.0, then §3.3; design §3b): the FIPS appliances that
 * hold the replicated CMK are linked to a group on the non-FIPS cluster, the saved group is tested,
 * and the group is proved to work with the verification steps shared with `verify-cluster`
 * (recovery canary, test ciphertext, failover drill).
 */
import { sameKcv } from '../../adopt'
import { canaryNameOf, clusterSignIn } from '../../cluster-plan'
import type { CeremonyKind, ScriptedStep } from '../../kind'
import { labelOf } from '../../plan-envelope'
import { assignScriptIds } from '../../script'
import { defineStep, item } from '../../step'
import { clusterOutcome, clusterScriptPrefix, failoverOutcome } from '../verify-cluster'
import { clusterApplianceLogs, withClusterLogs } from '../verify-cluster/appliance-logs'
import { verifyRefs } from '../verify-cluster/results'
import { verifySteps } from '../verify-cluster/steps'
import { LB_REF } from './group'
import { certificates, createGroup, groupConfig, testConnection, testGroup } from './link'
import { LinkClusterPlanSchema, type LinkClusterPlan } from './plan'
import { linkedGroup, preflight } from './preflight'
import { LinkCloseResult, linkIds, linkRefs } from './results'

const close = (plan: LinkClusterPlan) => defineStep<LinkCloseResult, Record<string, never>, LinkClusterPlan>({
  id: linkIds.close, name: 'close', group: null, appliances: [], interaction: 'run', confirmation: null, result: LinkCloseResult,
  text: {
    where: 'workstation',
    title: 'Close the ceremony and seal the record',
    explain: 'Witnesses sign off first: once this step runs, the audit log is sealed. The record links back to the replication record and keeps the group, the recovery canary\'s name, key id and test ciphertext for later ceremonies.',
    witnessItems: ['The group is linked to every FIPS appliance, as planned', 'The canary decrypted to the test message', `The failover drill's result was read out${plan.failoverDrill ? '' : ' (left out by the plan)'}`],
  },
  intent: () => ({}),
  look: async () => null,
  act: async (ctx) => {
    const crypto = ctx.get(verifyRefs.canaryCrypto)
    const pre = ctx.get(linkRefs.preflight)
    return {
      groupId: linkedGroup(ctx).groupId, alreadyLinked: pre.existingGroup !== null, configs: Object.keys(linkedGroup(ctx).configIds).length, kcv: pre.kcv,
      canary: ctx.get(verifyRefs.canaryKey).name, canaryKid: crypto.kid, cipherSha256: crypto.cipherSha256, failover: failoverOutcome(ctx),
    }
  },
  verify() {},
  evidence: (r) => ({
    items: [
      ...item('Group', `${r.groupId}${r.alreadyLinked ? ' (already linked before this ceremony)' : ''}, ${r.configs} connection(s)`), ...item('CMK KCV', r.kcv, 'kcv'),
      ...item('Recovery canary', `${r.canary} (${r.canaryKid})`), ...item('Test ciphertext SHA-256', r.cipherSha256, 'digest'), ...item('Failover', r.failover),
    ],
    comparisons: [],
  }),
})

/**
 * P.0 the preflight, L.1 the certificates, L.2 … the connection tests, then the configuration, the
 * group's creation and its test; V.1 … V.4 the verification (numbered as in verify-cluster), C.0 the
 * cluster's and the FIPS appliances' own audit logs, C.1 the close.
 */
function steps(plan: LinkClusterPlan): ScriptedStep[] {
  const tests = plan.loadBalancer
    ? [testConnection(plan, LB_REF, `the load balancer ${plan.loadBalancer.host}:${plan.loadBalancer.port}`)]
    : plan.fips.map((id) => testConnection(plan, id, labelOf(plan, id)))
  const groupOf = (ctx: Parameters<typeof linkedGroup>[0]) => ({ groupId: linkedGroup(ctx).groupId, name: plan.groupName })
  const scripted = assignScriptIds(plan, [preflight(plan), certificates(plan), ...tests, groupConfig(plan), createGroup(plan), testGroup(plan), ...verifySteps(plan, groupOf), close(plan)], clusterScriptPrefix)
  return withClusterLogs(scripted, clusterApplianceLogs(plan, {
    groupId: (ctx) => ctx.find(linkRefs.createGroup)?.groupId ?? ctx.find(linkRefs.preflight)?.existingGroup?.groupId ?? null,
    calls: (ctx, app) => {
      const created = ctx.find(linkRefs.createGroup)
      return created ? [{ appliance: plan.cluster.id, actor: app(plan.cluster.id), object: created.groupId, action: 'ADMINISTRATIVE', what: `created the group "${created.name}" (${created.groupId})` }] : []
    },
  }))
}

export const linkCluster: CeremonyKind<LinkClusterPlan> = {
  kind: 'link-cluster',
  title: 'Link the FIPS appliances to the cluster',
  schema: LinkClusterPlanSchema as never,
  steps,
  describe: (plan) => [
    { label: 'Cluster', value: `${plan.cluster.label} (${plan.cluster.host}:${plan.cluster.port})` },
    { label: 'Cluster administrator (signs in)', value: plan.cluster.admin },
    { label: 'Group', value: plan.groupName },
    { label: 'FIPS appliances, in priority order', value: plan.fips.map((id) => labelOf(plan, id)).join(', ') },
    { label: 'Linked through', value: plan.loadBalancer ? `a load balancer at ${plan.loadBalancer.host}:${plan.loadBalancer.port} (every API key in one config)` : 'one connection per appliance, priority failover' },
    { label: 'Host-name validation', value: plan.validateHostname ? 'on' : 'off' },
    { label: 'CMK', value: `${plan.cmkName}${plan.cmkNameLocation === 'group-wrapping_key_name' ? ' (sent as the group\'s wrapping_key_name)' : ' (not sent: the appliances\' own)'}` },
    { label: 'Recovery canary', value: canaryNameOf(plan) },
    { label: 'Failover drill', value: plan.failoverDrill ? `${labelOf(plan, plan.fips[0]!)} taken down${plan.mode === 'rehearsal' ? ' by the simulator' : ' by the operator'}` : 'left out' },
  ],
  roles: (plan) => Object.fromEntries(plan.appliances.map((a) => [a.id, `FIPS appliance, priority ${plan.fips.indexOf(a.id)}`])),
  groups: () => [{ id: 'link', label: 'Link the FIPS appliances' }, { id: 'verify', label: 'Prove the FIPS cluster works' }],
  groupOutcome(plan, group, results) {
    if (group === 'verify') return clusterOutcome(results)
    const created = results.find(linkRefs.createGroup)
    if (created) return `group ${created.groupId.slice(0, 8)}…, ${Object.keys(created.configIds).length} connection(s)`
    return results.find(linkRefs.preflight)?.existingGroup ? 'already linked as planned' : null
  },
  summary(plan, results) {
    const pre = results.find(linkRefs.preflight)
    const created = results.find(linkRefs.createGroup)
    const key = results.find(verifyRefs.canaryKey)
    const crypto = results.find(verifyRefs.canaryCrypto)
    const drill = results.find(verifyRefs.failoverDrill)
    const kcvs = Object.values(pre?.appliances ?? {}).map((a) => a.kcv)
    return {
      kcv: pre?.kcv ?? null,
      kcvMatches: pre ? kcvs.length === plan.fips.length && kcvs.every((k) => sameKcv(k, pre.kcv)) : false,
      group: created ? { id: created.groupId, name: created.name, configs: Object.keys(created.configIds).length, alreadyLinked: false }
        : pre?.existingGroup ? { id: pre.existingGroup.groupId, name: plan.groupName, configs: Object.keys(pre.existingGroup.configIds).length, alreadyLinked: true } : null,
      tested: results.find(linkRefs.testGroup)?.passed ?? false,
      canary: key ? { name: key.name, kid: key.kid, virtual: key.hsmGroupId === key.groupId, cipherSha256: crypto?.cipherSha256 ?? null, match: crypto?.match ?? false } : null,
      failover: plan.failoverDrill ? (drill ? drill.performed : null) : 'left out',
    }
  },
  signIns: (plan) => [clusterSignIn(plan)],
  buildsOn: (plan) => plan.buildsOn,
}

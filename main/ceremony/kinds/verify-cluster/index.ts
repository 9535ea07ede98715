/**
 * The kind `verify-cluster` (guide §3.3, design §3b): proves, at any time after the link, that the
 * FIPS-backed group on the non-FIPS cluster works. The cluster is checked (reachable, not FIPS,
 * the group FIPS-backed and every connection of it tested by the cluster), then the steps shared
 * with `link-cluster`: the recovery canary, its test ciphertext, and the failover drill.
 */
import type { CeremonyKind, ScriptedStep } from '../../kind'
import { canaryNameOf, clusterSignIn } from '../../cluster-plan'
import { checkClusterNotFips, clusterSession, earlierRecord, fipsBackedGroup, hmgRefusal } from '../../cluster-steps'
import { CeremonyError } from '../../../errors'
import { factsOf } from '../add-appliance/records'
import { labelOf } from '../../plan-envelope'
import { assignScriptIds } from '../../script'
import { defineStep, item, type StepContext } from '../../step'
import { VerifyClusterPlanSchema, type VerifyClusterPlan } from './plan'
import { ClusterCheckResult, verifyIds, verifyRefs } from './results'
import { clusterApplianceLogs, withClusterLogs } from './appliance-logs'
import { verifySteps } from './steps'
import { z } from 'zod'

type Ctx = StepContext<VerifyClusterPlan>

const clusterCheck = (plan: VerifyClusterPlan) => defineStep<ClusterCheckResult, Record<string, never>, VerifyClusterPlan>({
  id: verifyIds.clusterCheck, name: 'cluster-check', group: null, appliances: plan.fips, interaction: 'run', confirmation: null, result: ClusterCheckResult,
  text: {
    where: plan.cluster.label,
    title: `Check the cluster and the group "${plan.groupName}"`,
    explain: `The cluster administrator (${plan.cluster.admin}) signs in. The cluster must answer and not be a FIPS appliance; the group "${plan.groupName}" must be linked to FIPS appliances, and the cluster tests every one of its connections.${plan.buildsOn.length > 0 ? ' The records this check builds on are verified first.' : ''}`,
    witnessItems: ['The cluster is the non-FIPS cluster', 'Every connection of the group passed the cluster\'s test'],
  },
  intent: () => ({}),
  look: async () => null, // reads only
  async act(ctx: Ctx) {
    const earlier = ctx.plan.buildsOn.map((d) => ({ record: earlierRecord(ctx, d, ['link-cluster', 'verify-cluster']), digest: d }))
    const records = earlier.map(({ record: r }) => ({ finalDigest: r.finalDigest, ceremonyId: String((r.plan as { id?: unknown }).id ?? ''), kind: String((r.plan as { kind?: unknown }).kind ?? '') }))
    const { version } = await checkClusterNotFips(ctx)
    const group = await fipsBackedGroup(ctx)
    // The group the records established, not one of its name: a group made under the linked group's
    // name (the linked one renamed) would pass the cluster's own test, and the proof would be of it.
    for (const { record, digest } of earlier) {
      const facts = factsOf(record, digest) // a record that was not closed is RECORD_MISMATCH here
      if (facts.groupId !== null && facts.groupId !== group.group_id) {
        throw new CeremonyError('RECORD_MISMATCH', `The group "${ctx.plan.groupName}" on the cluster is ${group.group_id}; the ${facts.kind} record (ceremony ${facts.ceremonyId}) it builds on names ${facts.groupId}. It is not the group that ceremony established: find out what happened to ${facts.groupId} before verifying anything.`)
      }
    }
    const admin = await clusterSession(ctx)
    await admin.groups.checkHmg(group.group_id).catch((err: unknown) => Promise.reject(hmgRefusal(err, `the test of "${ctx.plan.groupName}"`)))
    const configs = Object.entries(group.hmg ?? {}).map(([id, c]) => ({ id, url: c.url ?? '', hsmOrder: c.hsm_order ?? null }))
    return { clusterVersion: version, groupId: group.group_id, groupName: group.name, configs, redundancy: group.hmg_redundancy ?? null, records }
  },
  verify() {},
  evidence: (r) => ({
    items: [
      ...item('Cluster version (no FIPS level)', r.clusterVersion), ...item('Group', `${r.groupName} (${r.groupId})`),
      ...r.configs.map((c) => ({ label: `FIPS connection ${c.hsmOrder ?? '(no order)'}`, value: `${c.url}: tested by the cluster`, format: 'text' as const })),
      ...item('Redundancy', r.redundancy ?? 'none (one connection, or a load balancer)'),
      ...r.records.map((x) => ({ label: `Builds on the ${x.kind} record of ${x.ceremonyId}`, value: x.finalDigest, format: 'digest' as const })),
    ],
    comparisons: [],
  }),
})

export const VerifyCloseResult = z.strictObject({ groupId: z.string(), canary: z.string(), canaryKid: z.string(), cipherSha256: z.string(), failover: z.string() })

/** The drill's outcome in words, for the close step and the summary. */
export function failoverOutcome(ctx: { find: StepContext['find'] }): string {
  const drill = ctx.find(verifyRefs.failoverDrill)
  if (!drill) return 'left out by the plan'
  return drill.performed ? `proved: ${drill.appliance} down, the canary still decrypted` : `left out with the exception at entry ${drill.acceptedWithException ?? '?'}`
}

const close = (plan: VerifyClusterPlan) => defineStep<z.infer<typeof VerifyCloseResult>, Record<string, never>, VerifyClusterPlan>({
  id: verifyIds.close, name: 'close', group: null, appliances: [], interaction: 'run', confirmation: null, result: VerifyCloseResult,
  text: {
    where: 'workstation',
    title: 'Close the check and seal the record',
    explain: 'Witnesses sign off first: once this step runs, the audit log is sealed. The record keeps the canary\'s name, key id and test ciphertext for later ceremonies.',
    witnessItems: ['The canary decrypted to the test message', `The failover drill's result was read out (${plan.failoverDrill ? 'performed or left out with an exception' : 'left out by the plan'})`],
  },
  intent: () => ({}),
  look: async () => null,
  act: async (ctx) => {
    const crypto = ctx.get(verifyRefs.canaryCrypto)
    return { groupId: ctx.get(verifyRefs.clusterCheck).groupId, canary: ctx.get(verifyRefs.canaryKey).name, canaryKid: crypto.kid, cipherSha256: crypto.cipherSha256, failover: failoverOutcome(ctx) }
  },
  verify() {},
  evidence: (r) => ({ items: [...item('Recovery canary', `${r.canary} (${r.canaryKid})`), ...item('Test ciphertext SHA-256', r.cipherSha256, 'digest'), ...item('Failover', r.failover)], comparisons: [] }),
})

/** The cluster kinds' board groups as read aloud: L.k the link's k-th step, V.k the verification's (the same in both kinds). */
const SCRIPT_PREFIX: Record<string, string> = { link: 'L', verify: 'V' }

export function clusterScriptPrefix(group: string): string {
  const prefix = SCRIPT_PREFIX[group]
  if (!prefix) throw new Error(`No script prefix for the cluster kinds' group "${group}"`)
  return prefix
}

/** P.0 the cluster check, V.1 the canary … V.4 the restore, C.0 the audit logs, C.1 the close. */
function steps(plan: VerifyClusterPlan): ScriptedStep[] {
  const groupOf = (ctx: StepContext) => {
    const check = ctx.get(verifyRefs.clusterCheck)
    return { groupId: check.groupId, name: check.groupName }
  }
  const scripted = assignScriptIds(plan, [clusterCheck(plan), ...verifySteps(plan, groupOf), close(plan)], clusterScriptPrefix)
  return withClusterLogs(scripted, clusterApplianceLogs(plan, { groupId: (ctx) => ctx.find(verifyRefs.clusterCheck)?.groupId ?? null }))
}

export const verifyCluster: CeremonyKind<VerifyClusterPlan> = {
  kind: 'verify-cluster',
  title: 'FIPS cluster check',
  schema: VerifyClusterPlanSchema as never,
  steps,
  describe: (plan) => [
    { label: 'Cluster', value: `${plan.cluster.label} (${plan.cluster.host}:${plan.cluster.port})` },
    { label: 'Cluster administrator (signs in)', value: plan.cluster.admin },
    { label: 'Group', value: plan.groupName },
    { label: 'FIPS appliances, in priority order', value: plan.fips.map((id) => labelOf(plan, id)).join(', ') },
    { label: 'Recovery canary', value: canaryNameOf(plan) },
    { label: 'Failover drill', value: plan.failoverDrill ? `${labelOf(plan, plan.fips[0]!)} taken down${plan.mode === 'rehearsal' ? ' by the simulator' : ' by the operator'}` : 'left out' },
  ],
  roles: (plan) => Object.fromEntries(plan.appliances.map((a) => [a.id, `FIPS appliance, priority ${plan.fips.indexOf(a.id)}`])),
  groups: () => [{ id: 'verify', label: 'Prove the FIPS cluster works' }],
  groupOutcome: (_plan, _group, results) => clusterOutcome(results),
  summary(plan, results) {
    const key = results.find(verifyRefs.canaryKey)
    const crypto = results.find(verifyRefs.canaryCrypto)
    return {
      group: results.find(verifyRefs.clusterCheck)?.groupId ?? null,
      canary: key ? { name: key.name, kid: key.kid, virtual: key.hsmGroupId === key.groupId, cipherSha256: crypto?.cipherSha256 ?? null, match: crypto?.match ?? false } : null,
      failover: plan.failoverDrill ? (results.find(verifyRefs.failoverDrill)?.performed ?? null) : 'left out',
    }
  },
  signIns: (plan) => [clusterSignIn(plan)],
  buildsOn: (plan) => plan.buildsOn,
}

/** The board line of the "verify" group, for both cluster kinds. */
export function clusterOutcome(results: { find: StepContext['find'] }): string | null {
  const crypto = results.find(verifyRefs.canaryCrypto)
  if (!crypto) return null
  const drill = results.find(verifyRefs.failoverDrill)
  return `canary decrypts${drill?.performed ? '; failover proved' : ''}`
}

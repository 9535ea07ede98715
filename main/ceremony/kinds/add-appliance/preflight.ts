/**
 * The membership preflight (issue 12): before anything changes, the records this plan builds on are
 * verified and joined (records.ts); the cluster answers, is not FIPS, and holds the records' group
 * and canary; the group's configs are exactly the appliances the plan expects there; every FIPS
 * appliance of the group that this workstation reaches holds the CMK with the records' KCV; and the
 * new appliance answers with its API key, is in FIPS mode, has the quorum group with a policy no
 * weaker than the records show (each difference named), and no CMK yet (or the same KCV). Read-only.
 */
import { groupQuorum, NotFoundError, normaliseHost, type Group } from '../../../dsm'
import { CeremonyError } from '../../../errors'
import { sameKcv } from '../../adopt'
import { checkClusterNotFips, clusterSession, type ClusterCtx } from '../../cluster-steps'
import { readEach } from '../../each-appliance'
import { applianceOf } from '../../plan-envelope'
import { defineStep, item, type StepContext } from '../../step'
import type { MembershipPlan } from './plan'
import { baselineOf, weakerThan } from './records'
import { balancerFacts, checkMode } from './balancer'
import { AppliancePreflightResult, memberIds, type BalancerFacts, type GroupMember } from './results'

export type MembershipCtx = StepContext<MembershipPlan>
/** The cluster kinds' helpers read only the cluster, the mode and the records of the plan. */
export const onCluster = (ctx: MembershipCtx) => ctx as unknown as ClusterCtx

export const addressOf = (plan: MembershipPlan, id: string) => {
  const a = applianceOf(plan, id)
  return normaliseHost(`${a.host}:${a.port}`).authority
}

/** The group's configs, each with the plan's appliance at its address (or null: not one the plan names). */
export function membersOf(plan: MembershipPlan, group: Group): GroupMember[] {
  return Object.entries(group.hmg ?? {})
    .map(([configId, c]) => ({ configId, url: c.url ?? '', hsmOrder: c.hsm_order ?? null, appliance: plan.appliances.find((a) => addressOf(plan, a.id) === (c.url ?? ''))?.id ?? null }))
    .sort((a, b) => (a.hsmOrder ?? 0) - (b.hsmOrder ?? 0))
}

/** The appliances that must be in the group before this ceremony: the plan's group less the new one, plus the failed one. */
export const expectedBefore = (plan: MembershipPlan) => [...plan.fips.filter((id) => id !== plan.added), ...(plan.failed ? [plan.failed.id] : [])]

export const appliancePreflight = (plan: MembershipPlan) => defineStep<AppliancePreflightResult, Record<string, never>, MembershipPlan>({
  id: memberIds.preflight, name: 'appliance-preflight', group: null, appliances: plan.fips, interaction: 'run', confirmation: null, result: AppliancePreflightResult,
  text: {
    where: `${plan.cluster.label}, every FIPS appliance that answers, and ${applianceOf(plan, plan.added).label}`,
    title: `Check the earlier records, the group and ${applianceOf(plan, plan.added).label}`,
    explain: `The ${plan.buildsOn.length} record(s) this ceremony builds on are verified and must agree: one CMK KCV, one group, one recovery canary. The cluster must hold that group with exactly the appliances the records lead us to expect, and the canary. Each FIPS appliance of the group that answers must hold the CMK with that KCV. ${applianceOf(plan, plan.added).label} must answer with its API key, be in FIPS mode, have the quorum group "${plan.quorumGroupName}" with a policy no weaker than the records show, and hold no CMK yet (or the same one). Nothing is changed.`,
    witnessItems: ['Every record verified, and its final digest was read aloud', 'The new appliance\'s quorum policy is no weaker than the records show', 'The CMK KCV on the appliances is the records\' KCV'],
  },
  intent: () => ({}),
  look: async () => null, // reads only
  async act(ctx) {
    const p = ctx.plan
    const base = baselineOf(onCluster(ctx), p.buildsOn)
    const { version } = await checkClusterNotFips(onCluster(ctx))
    const admin = await clusterSession(onCluster(ctx))
    const group = await admin.groups.findByName(p.groupName)
    if (!group) throw new CeremonyError('GROUP_MISSING', `The cluster has no group named "${p.groupName}"`)
    if (group.group_id !== base.groupId) throw new CeremonyError('RECORD_MISMATCH', `The group "${p.groupName}" on the cluster is ${group.group_id}; the records name ${base.groupId}`)
    await admin.keys.get(base.canary.kid).catch((err: unknown) => Promise.reject(err instanceof NotFoundError ? new CeremonyError('RECORD_MISMATCH', `The recovery canary of the records (${base.canary.kid}) is not on the cluster`) : err))
    checkMode(p, base.balancer, group)
    const members = membersOf(p, group)
    let balancer: BalancerFacts | null = null
    if (p.loadBalancer) {
      // The cluster never shows whose keys the balancer's config holds: the records say, and its certificates must agree.
      const before = expectedBefore(p)
      if ([...before].sort().join() !== [...base.members].sort().join()) {
        throw new CeremonyError('GROUP_CONFLICT', `The records show ${base.members.join(', ') || 'no appliance'} behind the load balancer; the plan expects ${before.join(', ')}`)
      }
      balancer = await balancerFacts(p, group, before, (id) => ctx.label(id))
    } else {
      if (members.some((m) => m.appliance === p.added)) throw new CeremonyError('APPLIANCE_ALREADY_IN_GROUP', `${ctx.label(p.added)} is already in "${p.groupName}"; this ceremony did not add it`)
      const unknown = members.filter((m) => m.appliance === null)
      if (unknown.length > 0) throw new CeremonyError('GROUP_CONFLICT', `"${p.groupName}" has connections the plan does not name (${unknown.map((m) => m.url).join(', ')})`)
      const missing = expectedBefore(p).filter((id) => !members.some((m) => m.appliance === id))
      if (missing.length > 0) throw new CeremonyError('GROUP_CONFLICT', `${missing.map((id) => ctx.label(id)).join(', ')} ${missing.length > 1 ? 'are' : 'is'} not in "${p.groupName}" on the cluster`)
    }
    const holding = p.fips.filter((x) => x !== p.added)
    await readEach(holding, async (id) => (await ctx.app(id)).keys.findByName(p.cmkName), (cmk, id) => {
      if (!cmk) throw new CeremonyError('CMK_MISSING', `${ctx.label(id)} has no key named "${p.cmkName}"`)
      if (!sameKcv(cmk.kcv, base.kcv)) throw new CeremonyError('KCV_MISMATCH', `The CMK on ${ctx.label(id)} has KCV ${cmk.kcv ?? 'none'}; the records hold ${base.kcv}`)
    })
    const app = await ctx.app(p.added)
    const v = await app.connection.version()
    const fipsLevel = typeof v.fips_level === 'number' ? v.fips_level : null
    if (fipsLevel === null) throw new CeremonyError('NOT_FIPS_APPLIANCE', `${ctx.label(p.added)} reports no FIPS level: it is not a FIPS appliance`)
    const quorumGroup = await app.groups.findByName(p.quorumGroupName)
    if (!quorumGroup) throw new CeremonyError('GROUP_MISSING', `${ctx.label(p.added)} has no group named "${p.quorumGroupName}"`)
    const q = groupQuorum(quorumGroup)
    const quorum = { n: q?.n ?? 0, of: q?.members.length ?? 0, approveWithLogin: q?.require_password === true }
    const weaker = weakerThan(quorum, base.quorum)
    if (weaker.length > 0) throw new CeremonyError('QUORUM_WEAKER', `The quorum policy of "${p.quorumGroupName}" on ${ctx.label(p.added)} is weaker than the records show: ${weaker.join('; ')}`)
    const cmk = await app.keys.findByName(p.cmkName)
    if (cmk && !sameKcv(cmk.kcv, base.kcv)) throw new CeremonyError('CMK_CONFLICT', `${ctx.label(p.added)} already has a key named "${p.cmkName}" with a different KCV (${cmk.kcv ?? 'none'})`)
    return {
      records: base.records.map((r) => ({ finalDigest: r.finalDigest, kind: r.kind, ceremonyId: r.ceremonyId })),
      kcv: base.kcv, clusterVersion: version, groupId: group.group_id, members, balancer, canary: base.canary, baseline: base.quorum,
      added: { version: v.version, fipsLevel, quorum, cmkKcv: cmk?.kcv?.toLowerCase() ?? null },
    }
  },
  verify() {},
  evidence: (r, ctx) => ({
    items: [
      ...r.records.flatMap((x) => item(`The ${x.kind} record of ${x.ceremonyId} (final digest)`, x.finalDigest, 'digest')),
      ...item('Cluster version (no FIPS level)', r.clusterVersion),
      ...item('Group', r.balancer
        ? `${r.groupId}: one config at the load balancer ${r.balancer.url} (${r.balancer.configId}), the API keys of ${r.balancer.keysOf.map((id) => ctx.label(id)).join(', ')} (as the records show), ${r.balancer.pinned.length} certificate(s) pinned, each one an appliance's`
        : `${r.groupId}: ${r.members.map((m) => `${m.appliance ? ctx.label(m.appliance) : m.url} (priority ${m.hsmOrder ?? '-'})`).join(', ')}`),
      ...item(`${ctx.label(ctx.plan.added)}: version, FIPS level`, `${r.added.version}; ${r.added.fipsLevel}`),
      ...item(`${ctx.label(ctx.plan.added)}: quorum`, `${r.added.quorum.n} of ${r.added.quorum.of}${r.added.quorum.approveWithLogin ? ', password at approval' : ''} (the records: ${r.baseline.n} of ${r.baseline.of}${r.baseline.approveWithLogin ? ', password at approval' : ''})`),
      ...item(`${ctx.label(ctx.plan.added)}: CMK`, r.added.cmkKcv ? `already there with KCV ${r.added.cmkKcv}` : 'none yet'),
    ],
    comparisons: [{ label: 'CMK KCV: the records vs the appliances of the group', format: 'kcv' as const, left: { label: 'In the records', value: r.kcv }, right: { label: 'On the appliances', value: r.kcv }, match: true }],
  }),
})

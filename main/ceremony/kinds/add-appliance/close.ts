/**
 * The end of a membership ceremony: afterwards the group lists exactly the planned appliances in the
 * planned order and the canary still decrypts; the close carries forward, for later ceremonies, the
 * KCV, the group, its members, the canary and the quorum policies this ceremony read.
 */
import { CeremonyError } from '../../../errors'
import { clusterSession } from '../../cluster-steps'
import { defineStep, item } from '../../step'
import { refs as replicationRefs } from '../replicate-cmk/results'
import type { MembershipPlan } from './plan'
import { membersOf, onCluster, type MembershipCtx } from './preflight'
import { decryptsCanary } from './prove'
import { balancerState, removalOf } from './balancer'
import { testSavedGroup } from './join'
import type { Group } from '../../../dsm'
import { MembershipCloseResult, memberRefs } from './results'
import { z } from 'zod'

export const AfterwardsResult = z.strictObject({ members: z.array(z.string()), configs: z.number().int(), canaryMatch: z.literal(true) })
export type AfterwardsResult = z.infer<typeof AfterwardsResult>
export const afterwardsId = 'group-afterwards'

/**
 * Behind a balancer the group shows one config and never its keys: it must still pin exactly the
 * certificates sent, and pass the cluster's test (every key it holds signs in); whose keys those
 * are is what this ceremony sent.
 */
async function behindBalancer(ctx: MembershipCtx, group: Group): Promise<string[]> {
  const facts = ctx.get(memberRefs.preflight).balancer
  const joined = ctx.get(memberRefs.joinConfig).planned
  // After a replacement, the config as the removal left it.
  const planned = facts && ctx.plan.failed ? removalOf(ctx.plan, facts, joined) : joined
  const state = facts ? balancerState(group, facts.configId, ctx.plan.failed ? joined.certificates : facts.pinned, planned) : ['no load balancer config was found by the preflight']
  if (state !== 'planned') throw new CeremonyError('GROUP_NOT_AS_PLANNED', `The load balancer's config in "${ctx.plan.groupName}" is not as sent${Array.isArray(state) ? ` (${state.join('; ')})` : ''}`)
  await testSavedGroup(ctx, group.group_id)
  return planned.keysOf
}

export const afterwards = (plan: MembershipPlan, group: string | null = null) => defineStep<AfterwardsResult, { expected: string[] }, MembershipPlan>({
  id: afterwardsId, name: 'group-afterwards', group, appliances: plan.fips, interaction: 'run', confirmation: null, result: AfterwardsResult,
  text: {
    where: plan.cluster.label,
    title: `Check "${plan.groupName}" as it is now`,
    explain: 'The group must list exactly the planned appliances, in the planned order, and the recovery canary must still decrypt through it.',
    witnessItems: ['The group lists the planned appliances in the planned order', 'The canary decrypted (MATCH)'],
  },
  intent: (ctx) => ({ expected: ctx.plan.fips }),
  look: async () => null, // reads only
  async act(ctx, intent) {
    const admin = await clusterSession(onCluster(ctx))
    const group = await admin.groups.get(ctx.get(memberRefs.preflight).groupId)
    const members = ctx.plan.loadBalancer ? await behindBalancer(ctx, group) : membersOf(ctx.plan, group).map((m) => m.appliance ?? m.url)
    if (members.join() !== intent.expected.join()) throw new CeremonyError('GROUP_NOT_AS_PLANNED', `"${ctx.plan.groupName}" lists ${members.join(', ')}; the plan expects ${intent.expected.join(', ')}`)
    if (!(await decryptsCanary(ctx, ctx.get(memberRefs.preflight).canary))) throw new CeremonyError('CANARY_MISMATCH', 'Decrypting the recovery canary did not give back the test message')
    // What the cluster holds: one config per appliance, or one for the balancer whatever is behind it.
    return { members, configs: Object.keys(group.hmg ?? {}).length, canaryMatch: true as const }
  },
  verify() {},
  evidence: (r, ctx) => ({ items: [...item('The group, in priority order', r.members.map((id) => ctx.label(id)).join(', ')), ...item('Recovery canary', 'MATCH')], comparisons: [] }),
})

const afterwardsRef = { id: afterwardsId, schema: AfterwardsResult }

export const membershipClose = (plan: MembershipPlan, disposition: (ctx: MembershipCtx) => string | null) => defineStep<MembershipCloseResult, Record<string, never>, MembershipPlan>({
  id: memberRefs.close.id, name: 'close', group: null, appliances: [], interaction: 'run', confirmation: null, result: MembershipCloseResult,
  text: {
    where: 'workstation',
    title: 'Close the ceremony and seal the record',
    explain: 'Witnesses sign off first: once this step runs, the audit log is sealed. The record links back to the records it builds on and carries forward the KCV, the group, its members, the canary and the quorum policies for later ceremonies.',
    witnessItems: ['The group is as planned and the canary decrypts', ...(plan.failed ? ['What happened to the failed appliance is recorded'] : [])],
  },
  intent: () => ({}),
  look: async () => null,
  act: async (ctx) => {
    const pre = ctx.get(memberRefs.preflight)
    const facts = ctx.get(replicationRefs.preflight).appliances
    const quorum = Object.fromEntries(Object.entries(facts).map(([id, f]) => [id, { n: f.quorumN, of: f.quorumOf, approveWithLogin: f.approveWithLogin }]))
    return {
      kcv: pre.kcv, groupId: pre.groupId, added: ctx.plan.added, removed: ctx.plan.failed?.id ?? null, members: ctx.get(afterwardsRef).members,
      canary: pre.canary, quorum, provedAlone: ctx.get(memberRefs.prove).down.length > 0, disposition: disposition(ctx),
    }
  },
  verify() {},
  evidence: (r, ctx) => ({
    items: [
      ...item('Group', `${r.groupId}: ${r.members.map((id) => ctx.label(id)).join(', ')}`), ...item('CMK KCV', r.kcv, 'kcv'),
      ...item('Added', ctx.label(r.added)), ...item('Removed', r.removed ? ctx.label(r.removed) : null),
      ...item('Recovery proved', r.provedAlone ? `through ${ctx.label(r.added)} alone` : 'through the group'), ...item('The failed appliance', r.disposition),
    ],
    comparisons: [],
  }),
})

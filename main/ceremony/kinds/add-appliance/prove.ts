/**
 * Proving recovery through the new appliance (issue 12): the group's recovery canary, made before
 * this ceremony (its test ciphertext is in the records), is decrypted through the group and must give
 * back the published test message. In a rehearsal every other appliance of the group is taken down
 * first (and seen down from this workstation), so the new appliance alone served it; then they are
 * brought back and the whole group is tested. In production nothing is taken down: the cluster's
 * test of the new connection on its own (test-joined) and this decryption are the proof.
 */
import { CeremonyError } from '../../../errors'
import { CANARY_MESSAGE } from '../../cluster-plan'
import { clusterSession, inGroup, isDown, probe } from '../../cluster-steps'
import { testSavedGroup } from './join'
import { applianceOf } from '../../plan-envelope'
import { defineStep, item } from '../../step'
import type { MembershipPlan } from './plan'
import { onCluster, type MembershipCtx } from './preflight'
import { ProveResult, RestoreResult, memberIds, memberRefs, type CanaryRef } from './results'

const BACK_WITHIN_MS = 15_000
const othersOf = (plan: MembershipPlan) => plan.fips.filter((id) => id !== plan.added)

export async function decryptsCanary(ctx: MembershipCtx, canary: CanaryRef): Promise<boolean> {
  const admin = await clusterSession(onCluster(ctx))
  const plain = await inGroup(ctx.plan.groupName, () => admin.crypto.decrypt({
    key: { kid: canary.kid }, mode: 'GCM', cipher: Buffer.from(canary.cipher, 'base64'), iv: Buffer.from(canary.iv, 'base64'), tag: Buffer.from(canary.tag, 'base64'),
  }))
  return plain.toString('utf8') === CANARY_MESSAGE
}

export const proveCanary = (plan: MembershipPlan) => {
  const newLabel = applianceOf(plan, plan.added).label
  const alone = plan.mode === 'rehearsal' && plan.proveAlone
  return defineStep<ProveResult, { kid: string; down: string[]; how: string }, MembershipPlan>({
    id: memberIds.prove, name: 'prove-canary', group: 'prove', appliances: plan.fips, interaction: 'run', confirmation: null, result: ProveResult,
    text: {
      where: `${plan.cluster.label}, group "${plan.groupName}"`,
      title: alone ? `Take every other appliance down and decrypt the recovery canary through ${newLabel} alone` : 'Decrypt the recovery canary through the group',
      explain: alone
        ? `The simulator takes ${othersOf(plan).map((id) => applianceOf(plan, id).label).join(', ')} down; this workstation confirms none of them answers. The canary's test ciphertext from the records is then decrypted through the group: only ${newLabel} can have done it.`
        : `The canary's test ciphertext from the records is decrypted through the group and must give back the published test message. ${newLabel}'s own connection was tested alone by the cluster in the previous step.`,
      witnessItems: [...(alone ? ['Every other appliance of the group did not answer'] : []), 'The canary decrypted to the test message (MATCH)'],
    },
    intent: (ctx) => ({ kid: ctx.get(memberRefs.preflight).canary.kid, down: alone ? othersOf(ctx.plan) : [], how: alone ? (ctx.outage?.how ?? 'no way to take appliances down') : 'through the group, every appliance up' }),
    look: async () => null, // taking down is idempotent; decrypting changes nothing
    async act(ctx, intent) {
      if (intent.down.length > 0) {
        if (!ctx.outage) throw new CeremonyError('OUTAGE_UNAVAILABLE', 'This rehearsal cannot take the other appliances down (each must run in its own simulator process); plan with proveAlone: false')
        for (const id of intent.down) await ctx.outage.takeDown(id)
        for (const id of intent.down) {
          const seen = await probe(applianceOf(ctx.plan, id))
          if (!isDown(seen)) throw new CeremonyError('OUTAGE_UNAVAILABLE', `${ctx.label(id)} still answers (${seen.code ?? 'reachable'}): the proof would not be through ${newLabel} alone`)
        }
      }
      if (!(await decryptsCanary(ctx, ctx.get(memberRefs.preflight).canary))) throw new CeremonyError('CANARY_MISMATCH', 'Decrypting the recovery canary did not give back the test message')
      return { kid: intent.kid, down: intent.down, how: intent.how, match: true as const }
    },
    verify() {},
    evidence: (r, ctx) => ({
      items: [
        ...item('Recovery canary', r.kid),
        ...item('Taken down', r.down.length > 0 ? `${r.down.map((id) => ctx.label(id)).join(', ')}: ${r.how}` : 'none'),
        ...item(r.down.length > 0 ? `Decrypted through ${ctx.label(ctx.plan.added)} alone` : 'Decrypted through the group', 'MATCH: the published test message'),
      ],
      comparisons: [],
    }),
  })
}

export const restoreOthers = (plan: MembershipPlan) => defineStep<RestoreResult, { appliances: string[] }, MembershipPlan>({
  id: memberIds.restore, name: 'restore-others', group: 'prove', appliances: othersOf(plan), interaction: 'run', confirmation: null, result: RestoreResult,
  text: {
    where: `every other appliance, ${plan.cluster.label}`,
    title: 'Bring the other appliances back and test the whole group',
    explain: 'The simulator brings back the appliances it took down. This workstation waits until each answers, then the cluster tests every connection of the group.',
    witnessItems: ['Every appliance answers again', 'The cluster\'s test of the whole group passed'],
  },
  skip: (ctx) => (ctx.get(memberRefs.prove).down.length > 0 ? null : 'nothing was taken down'),
  intent: (ctx) => ({ appliances: ctx.get(memberRefs.prove).down }),
  look: async () => null, // bringing back and testing are idempotent
  async act(ctx, intent) {
    for (const id of intent.appliances) await ctx.outage?.bringBack(id)
    for (const id of intent.appliances) {
      const deadline = Date.now() + BACK_WITHIN_MS
      let seen = await probe(applianceOf(ctx.plan, id))
      while (!seen.reachable && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250))
        seen = await probe(applianceOf(ctx.plan, id))
      }
      if (!seen.reachable) throw new CeremonyError('FAILOVER_RESTORE_NOT_READY', `${ctx.label(id)} does not answer yet (${seen.code ?? 'no answer'})`)
    }
    await testSavedGroup(ctx, ctx.get(memberRefs.preflight).groupId)
    return { broughtBack: intent.appliances, groupChecked: true as const }
  },
  verify() {},
  evidence: (r, ctx) => ({ items: [...item('Answer again', r.broughtBack.map((id) => ctx.label(id)).join(', ')), ...item('The cluster\'s test of the whole group', 'passed')], comparisons: [] }),
})

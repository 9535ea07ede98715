/**
 * Removing the failed appliance behind a load balancer (issue 12, guide §4.0): only after the
 * replacement proved the canary, the balancer's config is replaced (mod_hmg) by the same config
 * without the failed appliance's API key and the certificate only it presented. The vendor replaces
 * a config whole and never shows its keys, so the key of every appliance that stays is sent again;
 * the change is shown masked and its digest typed. The config is looked at first: found as the join
 * left it, the change is sent; found already changed so (an interruption after sending), it is sent
 * again whole, since its keys cannot be read back to be adopted; found any other way, nothing is sent.
 * The cluster tests the config with the keys held now (each signs in through the balancer) before it
 * is shown and again right before it is sent: a key retyped wrongly after the idle wipe would
 * otherwise replace a working one in the group, found only afterwards.
 */
import { z } from 'zod'
import { CeremonyError } from '../../../errors'
import { hex64 } from '../../cluster-plan'
import type { FipsClusterHmgConfig, UserSession } from '../../../dsm'
import { clusterSession, testHmgConfig } from '../../cluster-steps'
import { applianceOf } from '../../plan-envelope'
import { defineStep, item, stepRef } from '../../step'
import { materialize, sentAsPlanned } from '../link-cluster/group'
import { balancerState, modDigest, removalOf, shownMod } from '../add-appliance/balancer'
import { certificatesOnMedia } from '../add-appliance/join'
import { balancerOf } from '../add-appliance/join-balancer'
import { onCluster, type MembershipCtx } from '../add-appliance/preflight'
import { memberRefs } from '../add-appliance/results'
import type { ReplaceAppliancePlan } from './plan'
import { RemoveResult, replaceRefs } from './steps'

type Intent = { groupId: string; configId: string; url: string; provedBy: string; configDigest: string }

const removal = (ctx: MembershipCtx) => removalOf(ctx.plan, balancerOf(ctx), ctx.get(memberRefs.joinConfig).planned)
const digestOf = (ctx: MembershipCtx) => modDigest(ctx.plan, balancerOf(ctx).configId, removal(ctx))
const tested = (ctx: MembershipCtx) => `the load balancer's config without ${ctx.label(ctx.plan.failed!.id)}'s key (is every key of an appliance that stays the one it holds?)`

/** The removal's config as materialized with the keys held now, tested by the cluster; only then sent (X.2). A refusal sends nothing. */
export async function sendTestedRemoval(admin: Pick<UserSession, 'groups'>, groupId: string, configId: string, config: FipsClusterHmgConfig, what: string) {
  await testHmgConfig(admin, config, what)
  return admin.groups.patch(groupId, { mod_hmg: { [configId]: config } })
}

export const RemovalConfigResult = z.strictObject({ configId: z.string(), shown: z.string(), configDigest: hex64 })
export const removalConfigRef = stepRef('removal-config', RemovalConfigResult)

/** The change shown for review before its digest is typed: nothing is sent. */
export const removalConfig = (plan: ReplaceAppliancePlan) => defineStep<z.infer<typeof RemovalConfigResult>, Record<string, never>, ReplaceAppliancePlan>({
  id: removalConfigRef.id, name: 'removal-config', group: 'remove', appliances: [], interaction: 'run', confirmation: null, result: RemovalConfigResult,
  text: {
    where: 'workstation',
    title: `Show the load balancer's config without ${applianceOf(plan, plan.failed.id).label}'s key`,
    explain: 'The change that removes the failed appliance is assembled, tested by the cluster (every key that stays must sign in through the load balancer) and shown, every API key masked and each certificate by its SHA-256. Witnesses read it; its digest is what the next step asks to be typed. Nothing is sent.',
    witnessItems: ['The change keeps the key of every appliance that stays, and only theirs', 'The change digest was read aloud'],
  },
  intent: () => ({}),
  look: async () => null, // nothing is sent
  async act(ctx) {
    // The keys that stay, as held now, are tested before the change is shown for confirmation (X.2 tests them again before sending).
    const config = materialize(removal(ctx), await certificatesOnMedia(ctx), (id) => ctx.apiKey(id))
    await testHmgConfig(await clusterSession(onCluster(ctx)), config, tested(ctx))
    return { configId: balancerOf(ctx).configId, shown: JSON.stringify(shownMod(ctx.plan, balancerOf(ctx).configId, removal(ctx)), null, 2), configDigest: digestOf(ctx) }
  },
  verify() {},
  evidence: (r) => ({ items: [...item('Change to send (API keys masked)', r.shown), ...item('Change digest', r.configDigest, 'digest')], comparisons: [] }),
})

export const removeFailedBalancer = (plan: ReplaceAppliancePlan) => {
  const failed = applianceOf(plan, plan.failed.id).label
  return defineStep<z.infer<typeof RemoveResult>, Intent, ReplaceAppliancePlan>({
    id: replaceRefs.remove.id, name: 'remove-failed', group: 'remove', appliances: [], interaction: 'run', result: RemoveResult,
    confirmation: { prompt: `Type the last 4 characters of the change digest to remove ${failed}'s key from the load balancer's config`, label: 'Change digest (previous step)', value: (ctx) => (ctx as MembershipCtx).get(removalConfigRef).configDigest },
    text: {
      where: plan.cluster.label,
      title: `Remove the failed ${failed}'s key from the load balancer's config in "${plan.groupName}"`,
      explain: `Only now, with ${applianceOf(plan, plan.added).label} proved to serve the canary, is the load balancer's config replaced (mod_hmg) by the same config without ${failed}'s API key and certificate. The cluster never shows the keys a config holds, so the key of every appliance that stays is sent again; the change is shown with every key masked and its digest typed. The config is looked at first: changed by anyone else, nothing is sent.`,
      witnessItems: [`The change drops ${failed}'s key and certificate and keeps every other appliance's (read aloud)`, 'The replacement had proved the canary before'],
    },
    intent: (ctx) => {
      const facts = balancerOf(ctx)
      return { groupId: ctx.get(memberRefs.preflight).groupId, configId: facts.configId, url: facts.url, provedBy: ctx.get(memberRefs.prove).kid, configDigest: ctx.get(removalConfigRef).configDigest }
    },
    look: async () => null, // act looks: the keys the config holds cannot be read back to be adopted
    async act(ctx, intent) {
      const admin = await clusterSession(onCluster(ctx))
      const joined = ctx.get(memberRefs.joinConfig).planned
      const planned = removal(ctx)
      const state = balancerState(await admin.groups.get(intent.groupId), intent.configId, joined.certificates, planned)
      if (Array.isArray(state)) throw new CeremonyError('REMOVAL_NOT_AS_PLANNED', `The load balancer's config is neither as the join left it nor as this removal makes it (${state.join('; ')}). Nothing was sent.`)
      if (state === 'planned') ctx.note(`the load balancer's config no longer pins ${ctx.label(ctx.plan.failed.id)}'s certificate (the change went out before the interruption); the keys it holds cannot be read back, so the whole config as shown is sent again`)
      if (digestOf(ctx) !== intent.configDigest) throw new CeremonyError('CONFIG_CHANGED', 'The change is not the one shown and confirmed')
      const config = materialize(planned, await certificatesOnMedia(ctx), (id) => ctx.apiKey(id))
      if (!sentAsPlanned(config, planned)) throw new CeremonyError('CONFIG_CHANGED', 'The config about to be sent is not the one shown and confirmed')
      const group = await sendTestedRemoval(admin, intent.groupId, intent.configId, config, tested(ctx))
      if (balancerState(group, intent.configId, joined.certificates, planned) !== 'planned') throw new CeremonyError('REMOVAL_NOT_AS_PLANNED', `The load balancer's config does not hold the change as sent`)
      return { groupId: intent.groupId, configId: intent.configId, url: intent.url, removed: true as const }
    },
    verify() {},
    evidence: (r, ctx) => ({
      items: [
        ...item('Removed from the load balancer\'s config', `${ctx.label(ctx.plan.failed!.id)}'s API key and certificate (config ${r.configId}, ${r.url})`),
        ...item('The keys it holds now', ctx.plan.fips.map((id) => ctx.label(id)).join(', ')),
        ...item('Change digest', (ctx as MembershipCtx).get(removalConfigRef).configDigest, 'digest'),
      ],
      comparisons: [],
    }),
  })
}

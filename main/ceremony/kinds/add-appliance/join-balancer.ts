/**
 * Joining the group in load-balancer mode (guide §4.0): the balancer's one config gets the new
 * appliance's API key in `credentials` and its certificate in `tls.ca.pinned`, by `mod_hmg` of that
 * config. The vendor replaces a config whole and never shows its keys, so the full intended list
 * is sent: the key of every appliance that stays (the operator entered each for this ceremony) and
 * the new one's; what the cluster holds is never copied. The whole config is tested by the cluster
 * before it is shown (each key must sign in through the balancer, which proves the balancer routes
 * to the new appliance), and sent only after its digest is typed. A resumed step looks first: a
 * config found as planned (the change went out before an interruption) is sent again whole,
 * because its keys cannot be read back to be adopted; anything else is someone else's change.
 */
import { CeremonyError } from '../../../errors'
import { clusterSession, testHmgConfig } from '../../cluster-steps'
import { applianceOf } from '../../plan-envelope'
import { materialize, sentAsPlanned } from '../link-cluster/group'
import { balancerState, certificatesOf, chainsOf, modDigest, pemOf, pinnedKeys, plannedBalancer, shownMod } from './balancer'
import { onCluster, type MembershipCtx } from './preflight'
import { memberRefs, type JoinConfigResult, type JoinGroupResult } from './results'

export const balancerOf = (ctx: MembershipCtx) => {
  const facts = ctx.get(memberRefs.preflight).balancer
  if (!facts) throw new CeremonyError('JOURNAL_INCOMPLETE', 'The preflight found no load balancer config')
  return facts
}

/** The certificates read now, the config planned and tested by the cluster, and what is shown. */
export async function balancerJoinConfig(ctx: MembershipCtx, file: string): Promise<JoinConfigResult> {
  const { plan } = ctx
  const facts = balancerOf(ctx)
  // A failed appliance's key stays until the replacement has proved the canary (replace-appliance's removal step).
  const keysOf = [...facts.keysOf, plan.added]
  const live = keysOf.filter((id) => id !== plan.failed?.id)
  // The failed appliance's key goes back into the config with the others: it must be at hand before anything is shown.
  if (plan.failed) ctx.apiKey(plan.failed.id).fill(0)
  const chains = await chainsOf(plan, live)
  const staying = certificatesOf(live.filter((id) => id !== plan.added).map((id) => chains.get(id)!))
  const changed = staying.filter((h) => !facts.pinned.includes(h))
  if (changed.length > 0) throw new CeremonyError('GROUP_CONFLICT', `An appliance behind the load balancer presents a certificate the preflight did not find pinned (SHA-256 ${changed.map((h) => `${h.slice(0, 16)}…`).join(', ')}). Nothing was changed.`)
  const admin = await clusterSession(onCluster(ctx))
  // The failed appliance cannot present its certificate: the one the preflight found pinned (by its key) is kept.
  const failedCerts = facts.failedPinned.length === 0 ? [] : pinnedKeys((await admin.groups.get(ctx.get(memberRefs.preflight).groupId)).hmg?.[facts.configId]?.tls)
    .filter((p) => facts.failedPinned.includes(p.sha256)).map((p) => ({ sha256: p.sha256, der: p.der }))
  const ders = new Map([...[...chains.values()].flat(), ...failedCerts].map((c) => [c.sha256, c.der]))
  const written = await ctx.media.write(file, Buffer.from(pemOf([...ders.values()]), 'utf8'))
  const planned = plannedBalancer(plan, facts, keysOf, chains.get(plan.added)!)
  // Nothing can accept the failed appliance's key: the cluster tests the config without it.
  const config = materialize({ ...planned, keysOf: live }, ders, (id) => ctx.apiKey(id))
  const label = applianceOf(plan, plan.added).label
  await testHmgConfig(admin, config, `the load balancer's config with ${label}'s key added (does the balancer route to ${label} yet?)`)
  return { planned, file: written.name, fileSha256: written.sha256, shown: JSON.stringify(shownMod(plan, facts.configId, planned), null, 2), configDigest: modDigest(plan, facts.configId, planned) }
}

/** The mod_hmg of the balancer's config, after looking at it; the config as sent is checked in the answer. */
export async function balancerJoinGroup(ctx: MembershipCtx, intent: { groupId: string; configDigest: string }, certificates: Map<string, Buffer>): Promise<JoinGroupResult> {
  const facts = balancerOf(ctx)
  const planned = ctx.get(memberRefs.joinConfig).planned
  const admin = await clusterSession(onCluster(ctx))
  const state = balancerState(await admin.groups.get(intent.groupId), facts.configId, facts.pinned, planned)
  if (Array.isArray(state)) throw new CeremonyError('GROUP_CONFLICT', `The load balancer's config changed after the preflight, not by this ceremony (${state.join('; ')}). Nothing was sent.`)
  if (state === 'planned') ctx.note(`the load balancer's config already pins ${ctx.label(ctx.plan.added)}'s certificate (the change went out before the interruption); the keys it holds cannot be read back, so the whole config as shown is sent again`)
  if (modDigest(ctx.plan, facts.configId, planned) !== intent.configDigest) throw new CeremonyError('CONFIG_CHANGED', 'The config is not the one shown and confirmed')
  const config = materialize(planned, certificates, (id) => ctx.apiKey(id))
  if (!sentAsPlanned(config, planned)) throw new CeremonyError('CONFIG_CHANGED', 'The config about to be sent is not the one shown and confirmed')
  const group = await admin.groups.patch(intent.groupId, { mod_hmg: { [facts.configId]: config } })
  const after = balancerState(group, facts.configId, facts.pinned, planned)
  if (after !== 'planned') throw new CeremonyError('GROUP_NOT_AS_PLANNED', `The load balancer's config does not hold the change as sent${Array.isArray(after) ? ` (${after.join('; ')})` : ''}`)
  return { groupId: intent.groupId, configId: facts.configId, url: facts.url, hsmOrder: null }
}

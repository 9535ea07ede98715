/**
 * The steps only a replacement has (guide §5): the witnessed onboarding checklist (what the app
 * cannot do through the API), the failed appliance's removal from the group (only after the
 * replacement proved the canary, so the group never loses its last working appliance; confirmed
 * by typing). The witnessed destruction record is destruction.ts.
 */
import { z } from 'zod'
import { CeremonyError } from '../../../errors'
import { clusterSession } from '../../cluster-steps'
import { applianceOf } from '../../plan-envelope'
import { defineStep, item, stepRef } from '../../step'
import { addressOf, onCluster, type MembershipCtx } from '../add-appliance/preflight'
import { memberRefs } from '../add-appliance/results'
import { DESTRUCTION_STEP_ID, DestructionResult } from './destruction'
import type { ReplaceAppliancePlan } from './plan'


export const OnboardingResult = z.strictObject({ appliance: z.string(), checklist: z.array(z.string()) })
export const RemoveResult = z.strictObject({ groupId: z.string(), configId: z.string(), url: z.string(), removed: z.literal(true) })
export const replaceRefs = {
  onboarding: stepRef('onboarding', OnboardingResult),
  remove: stepRef('remove-failed', RemoveResult),
  destruction: stepRef(DESTRUCTION_STEP_ID, DestructionResult),
}

export const onboarding = (plan: ReplaceAppliancePlan) => {
  const label = applianceOf(plan, plan.added).label
  const physical = [
    `${label} is racked, powered and on the network at ${addressOf(plan, plan.added)}, its TLS key the one the plan pins`,
    `Its account is made and its account administrators are in place (guide §5: the configuration of ${applianceOf(plan, plan.failed.id).label} was not backed up)`,
  ]
  // With API onboarding the next two steps make the group and the app; the people make only what the API cannot.
  const checklist = plan.onboarding
    ? [
      ...physical,
      `The system administrator ${plan.onboarding.sysadmin} has a user account on it and will type their own password on this workstation`,
      `The account administrators made a user account for each custodian: ${(plan.participants.custodians[plan.added] ?? []).join(', ')}`,
      `No group named "${plan.quorumGroupName}" and no app named "${plan.onboarding.appName}" was made by hand: the next steps make them`,
    ]
    : [
      ...physical,
      `The quorum group "${plan.quorumGroupName}" is made with the custodians the plan names for it and a policy no weaker than the records show`,
      'The app is made in that group and its API key was entered on this workstation, never written down',
    ]
  return defineStep<z.infer<typeof OnboardingResult>, Record<string, never>, ReplaceAppliancePlan>({
    id: replaceRefs.onboarding.id, name: 'onboarding', group: null, appliances: [], interaction: 'run', confirmation: null, result: OnboardingResult,
    text: {
      where: label, title: `Witness the onboarding of ${label}`, witnessItems: checklist,
      explain: plan.onboarding
        ? 'The physical setup and the accounts were done by hand before this step (the app cannot do them through the API); the witnesses check each item and sign. The next steps make the quorum group and the app through the API.'
        : 'What the app cannot do through the API was done by hand before this step; the witnesses check each item and sign. The next step checks the appliance against the records.',
    },
    intent: () => ({}),
    look: async () => null,
    act: async (ctx) => ({ appliance: ctx.plan.added, checklist }),
    verify() {},
    evidence: (r) => ({ items: r.checklist.map((c, i) => ({ label: `Checked ${i + 1}`, value: c, format: 'text' as const })), comparisons: [] }),
  })
}

/** The config id (a UUID) as the run screen shows every value typed back: hex in groups. Its last 4 characters are the id's own. */
const hexOfId = (id: string) => id.replace(/-/g, '')

const failedConfig = (ctx: MembershipCtx) => {
  const failed = ctx.plan.failed!.id
  const m = ctx.get(memberRefs.preflight).members.find((x) => x.appliance === failed)
  if (!m) throw new CeremonyError('JOURNAL_INCOMPLETE', 'The preflight found no config for the failed appliance')
  return m
}

export const removeFailed = (plan: ReplaceAppliancePlan) => defineStep<z.infer<typeof RemoveResult>, { groupId: string; configId: string; url: string; provedBy: string }, ReplaceAppliancePlan>({
  id: replaceRefs.remove.id, name: 'remove-failed', group: 'remove', appliances: [], interaction: 'run', result: RemoveResult,
  confirmation: { prompt: `Type the last 4 characters of the config id to remove ${applianceOf(plan, plan.failed.id).label} from the group`, label: 'Config of the failed appliance', value: (ctx) => hexOfId(failedConfig(ctx as MembershipCtx).configId) },
  text: {
    where: plan.cluster.label,
    title: `Remove the failed ${applianceOf(plan, plan.failed.id).label} from "${plan.groupName}"`,
    explain: `Only now, with ${applianceOf(plan, plan.added).label} proved to serve the canary, is the failed appliance's config deleted from the group (del_hmg). The group is looked at first: a config already gone after a crash is not removed twice.`,
    witnessItems: ['The config removed is the failed appliance\'s (its address was read aloud)', 'The replacement had proved the canary before'],
  },
  intent: (ctx) => {
    const m = failedConfig(ctx)
    return { groupId: ctx.get(memberRefs.preflight).groupId, configId: m.configId, url: m.url, provedBy: ctx.get(memberRefs.prove).kid }
  },
  async look(ctx, earlier) {
    const group = await (await clusterSession(onCluster(ctx))).groups.get(earlier.groupId)
    if (group.hmg?.[earlier.configId]) return null // not removed yet: act removes it
    ctx.note(`the config ${earlier.configId} of the failed appliance was removed before the interruption; not removed twice`)
    return { groupId: earlier.groupId, configId: earlier.configId, url: earlier.url, removed: true as const }
  },
  async act(ctx, intent) {
    const admin = await clusterSession(onCluster(ctx))
    const found = (await admin.groups.get(intent.groupId)).hmg?.[intent.configId]
    if (!found || found.url !== intent.url) throw new CeremonyError('REMOVAL_NOT_AS_PLANNED', `The group has no config ${intent.configId} for ${intent.url}${found ? ` (it is for ${found.url ?? '?'})` : ''}; nothing was removed`)
    const group = await admin.groups.patch(intent.groupId, { del_hmg: [intent.configId] })
    if (group.hmg?.[intent.configId] || Object.values(group.hmg ?? {}).some((c) => c.url === intent.url)) throw new CeremonyError('REMOVAL_NOT_AS_PLANNED', `The group still holds a config for ${intent.url}`)
    return { groupId: intent.groupId, configId: intent.configId, url: intent.url, removed: true as const }
  },
  verify() {},
  evidence: (r, ctx) => ({ items: [...item('Removed from the group', `${ctx.label(ctx.plan.failed!.id)}: config ${r.configId} (${r.url})`)], comparisons: [] }),
})

/**
 * The kind `replace-appliance` (guide §5, design §3b): the onboarding of the new appliance is
 * witnessed, then it is checked, replicated, joined and proved as in add-appliance; only then is the
 * failed appliance removed from the group; afterwards the group lists exactly the planned appliances
 * in the planned order and the canary decrypts; and what happened to the failed appliance is recorded.
 */
import { clusterSignIn } from '../../cluster-plan'
import type { CeremonyKind, ScriptedStep } from '../../kind'
import { labelOf } from '../../plan-envelope'
import { assignScriptIds } from '../../script'
import { addAppliance, addSteps, membershipDescribe, membershipPrefix, membershipSummary } from '../add-appliance'
import { afterwards, membershipClose } from '../add-appliance/close'
import { asClusterPlan } from '../add-appliance/plan'
import { addressOf } from '../add-appliance/preflight'
import { ReplaceAppliancePlanSchema, type ReplaceAppliancePlan } from './plan'
import { DISPOSITION, destructionRecord, dispositionText } from './destruction'
import { onboarding, removeFailed, replaceRefs } from './steps'

function steps(plan: ReplaceAppliancePlan): ScriptedStep[] {
  const close = membershipClose(plan, (ctx) => dispositionText(ctx.get(replaceRefs.destruction)))
  return assignScriptIds(plan, [onboarding(plan), ...addSteps(plan), removeFailed(plan), afterwards(plan, 'remove'), destructionRecord(plan), close], membershipPrefix)
}

export const replaceAppliance: CeremonyKind<ReplaceAppliancePlan> = {
  kind: 'replace-appliance',
  title: 'Replace a failed FIPS appliance',
  schema: ReplaceAppliancePlanSchema as never,
  steps,
  // One fact a line: the custodians check each against the chassis, the paperwork and the media.
  describe: (plan) => [
    { label: 'Failed appliance (removed from the group, never contacted)', value: `${labelOf(plan, plan.failed.id)} at ${addressOf(plan, plan.failed.id)}` },
    { label: 'Its serial (typed off the chassis at the destruction record)', value: plan.failed.serial },
    { label: 'What is done with it', value: `${DISPOSITION[plan.failed.disposition]}${plan.failed.rmaNumber ? ` ${plan.failed.rmaNumber}` : ''}` },
    { label: 'Evidence on the media', value: plan.failed.evidenceFile },
    ...membershipDescribe(plan),
  ],
  roles: (plan) => ({ ...addAppliance.roles(plan as never), [plan.failed.id]: 'Failed appliance (removed, not contacted)', [plan.added]: 'Replacement' }),
  groups: () => [{ id: 'replicate', label: 'Replicate the CMK' }, { id: 'join', label: 'Join the group' }, { id: 'prove', label: 'Prove recovery' }, { id: 'remove', label: 'Remove the failed appliance' }, { id: 'dispose', label: 'Record its fate' }],
  groupOutcome(plan, group, results) {
    if (group === 'remove') return results.find(replaceRefs.remove) ? `${labelOf(plan, plan.failed.id)} removed` : null
    const fate = results.find(replaceRefs.destruction)
    if (group === 'dispose') return fate ? `${DISPOSITION[fate.disposition] ?? fate.disposition}${fate.rmaNumber ? ` ${fate.rmaNumber}` : ''}, serial ${fate.serial}, evidence SHA-256 ${fate.evidenceSha256}` : null
    return addAppliance.groupOutcome(plan as never, group, results)
  },
  summary: (plan, results) => ({
    ...membershipSummary(plan, results),
    removed: results.find(replaceRefs.remove) ? plan.failed.id : null,
    disposition: results.find(replaceRefs.destruction)?.disposition ?? null,
  }),
  signIns: (plan) => [clusterSignIn(asClusterPlan(plan))],
  buildsOn: (plan) => plan.buildsOn,
  notContacted: (plan) => [plan.failed.id],
  leftBehind: (plan, results) => [
    ...(addAppliance.leftBehind?.(plan as never, results) ?? []),
    ...(results.find(replaceRefs.remove) ? [] : [`${labelOf(plan, plan.failed.id)}'s config is still in "${plan.groupName}": remove it once the replacement is proved`]),
  ],
}

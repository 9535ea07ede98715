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
import { membershipApplianceLogs } from '../add-appliance/appliance-logs'
import { asClusterPlan } from '../add-appliance/plan'
import { addressOf } from '../add-appliance/preflight'
import { withClusterLogs } from '../verify-cluster/appliance-logs'
import { DISPOSITION, destructionRecord, dispositionText } from './destruction'
import { madeApiKeysOf, onboardApp, onboardGroup, onboardRefs, onboardingCalls } from './onboard-api'
import { onboardingSignIn, ReplaceAppliancePlanSchema, type ReplaceAppliancePlan } from './plan'
import { removalConfig, removeFailedBalancer } from './remove-balancer'
import { onboarding, removeFailed, replaceRefs } from './steps'

function steps(plan: ReplaceAppliancePlan): ScriptedStep[] {
  const close = membershipClose(plan, (ctx) => dispositionText(ctx.get(replaceRefs.destruction)))
  // With `onboarding` in the plan the group and the app are made through the API after the witnessed checklist.
  const api = plan.onboarding ? [onboardGroup(plan), onboardApp(plan)] : []
  // Behind a load balancer the removal is a change of its one config, shown before it is confirmed.
  const remove = plan.loadBalancer ? [removalConfig(plan), removeFailedBalancer(plan)] : [removeFailed(plan)]
  const logs = membershipApplianceLogs(plan, {
    more: (ctx) => onboardingCalls(ctx as never),
    groupChanges: (ctx) => {
      const removed = ctx.find(replaceRefs.remove)
      return removed ? [{ object: removed.groupId, what: `removed ${labelOf(ctx.plan, ctx.plan.failed!.id)}'s config ${removed.configId} from the group`, step: replaceRefs.remove.id }] : []
    },
  })
  return withClusterLogs(assignScriptIds(plan, [onboarding(plan), ...api, ...addSteps(plan), ...remove, afterwards(plan, 'remove'), destructionRecord(plan), close], membershipPrefix), logs)
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
    ...(plan.onboarding
      ? [
        { label: 'Onboarding', value: 'through the API, by the new appliance\'s system administrator; the physical setup and the accounts witnessed' },
        { label: 'System administrator who signs in (own password, typed at the ceremony)', value: plan.onboarding.sysadmin },
        { label: 'Their account on the new appliance', value: plan.onboarding.accountId },
        { label: 'Made through the API', value: `the quorum group "${plan.quorumGroupName}" as the records show it; the app "${plan.onboarding.appName}" in it, its API key shown once to the operator, typed nowhere` },
      ]
      : [{ label: 'Onboarding', value: 'witnessed: the group and the app are made by hand' }]),
  ],
  roles: (plan) => ({ ...addAppliance.roles(plan as never), [plan.failed.id]: 'Failed appliance (removed, not contacted)', [plan.added]: 'Replacement' }),
  groups: () => [{ id: 'replicate', label: 'Replicate the CMK' }, { id: 'join', label: 'Join the group' }, { id: 'prove', label: 'Prove recovery' }, { id: 'remove', label: 'Remove the failed appliance' }, { id: 'dispose', label: 'Record its fate' }],
  groupOutcome(plan, group, results) {
    if (group === 'remove') return results.find(replaceRefs.remove) ? `${labelOf(plan, plan.failed.id)}${plan.loadBalancer ? '\'s key' : ''} removed` : null
    const fate = results.find(replaceRefs.destruction)
    if (group === 'dispose') return fate ? `${DISPOSITION[fate.disposition] ?? fate.disposition}${fate.rmaNumber ? ` ${fate.rmaNumber}` : ''}, serial ${fate.serial}, evidence SHA-256 ${fate.evidenceSha256}` : null
    return addAppliance.groupOutcome(plan as never, group, results)
  },
  summary: (plan, results) => ({
    ...membershipSummary(plan, results),
    onboardedGroup: results.find(onboardRefs.group)?.groupId ?? null,
    onboardedApp: results.find(onboardRefs.app)?.appId ?? null,
    removed: results.find(replaceRefs.remove) ? plan.failed.id : null,
    disposition: results.find(replaceRefs.destruction)?.disposition ?? null,
  }),
  signIns: (plan) => [clusterSignIn(asClusterPlan(plan)), ...(plan.onboarding ? [onboardingSignIn(plan)] : [])],
  madeApiKeys: (plan, results) => madeApiKeysOf(plan, results.find(onboardRefs.app)),
  buildsOn: (plan) => plan.buildsOn,
  notContacted: (plan) => [plan.failed.id],
  keysWithoutContact: (plan) => (plan.loadBalancer ? [plan.failed.id] : []),
  keysMadeHere: (plan) => (plan.onboarding ? [plan.added] : []),
  leftBehind: (plan, results) => [
    ...(addAppliance.leftBehind?.(plan as never, results) ?? []),
    ...(results.find(replaceRefs.remove) ? [] : [`${labelOf(plan, plan.failed.id)}'s ${plan.loadBalancer ? 'key is still in the load balancer\'s config' : 'config is still'} in "${plan.groupName}": remove it once the replacement is proved`]),
  ],
}

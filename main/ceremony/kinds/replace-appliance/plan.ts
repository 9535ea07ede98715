/**
 * The plan of replacing a failed FIPS appliance (guide §5): the membership fields (add-appliance's
 * plan.ts) with the new appliance as `added`, and the failed one: its id in the earlier records (it
 * stays in `appliances` by its address and pin, so its config in the group is found, and it is never
 * contacted), its serial, what is done with it (zeroised, destroyed, or returned under the vendor's
 * RMA) and the name of the evidence file on the media.
 */
import { z } from 'zod'
import { UUID_RE } from '../../../dsm/endpoints'
import { applianceOf, envelopeShape, spokenText } from '../../plan-envelope'
import type { SignIn } from '../../sign-in'
import { checkMembershipPlan, membershipShape, type MembershipPlan } from '../add-appliance/plan'

const line = z.string().trim().min(1).max(120).regex(/^[^\u0000-\u001f\u007f-\u009f]*$/, 'must not contain control characters')

export const FailedSchema = z.strictObject({
  id: z.string(),
  /** The chassis serial, as printed on the appliance: the witnesses read it off the label. */
  serial: line,
  disposition: z.enum(['zeroised', 'destroyed', 'returned-rma']),
  /** The vendor's RMA number, for a returned appliance. */
  rmaNumber: line.optional(),
  /** The evidence (destruction certificate, zeroisation report, RMA receipt) as a file on the media. */
  evidenceFile: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/, 'a plain file name on the media'),
})

/**
 * Onboarding through the API (onboard-api.ts): a system administrator of the new appliance signs in
 * with their own password, entered when the ceremony runs, and the ceremony makes the quorum group
 * and the app. Without it, the group and the app are made by hand and witnessed, as before.
 */
export const OnboardingSchema = z.strictObject({
  /** The system administrator's DSM user (e-mail) on the new appliance: read aloud, no space or ":". */
  sysadmin: spokenText(254).regex(/^[^\s:]+$/, 'a DSM user name, without spaces or ":"'),
  /** The new appliance's account, selected after signing in. */
  accountId: z.string().regex(UUID_RE, 'a DSM account id (UUID)'),
  /** The app the ceremony makes in the quorum group; its API key is shown once and held in memory. */
  appName: spokenText(120).default('Key Ceremony App'),
})

export const ReplaceAppliancePlanSchema = z
  .strictObject({ ...envelopeShape, kind: z.literal('replace-appliance'), ...membershipShape, failed: FailedSchema, onboarding: OnboardingSchema.optional() })
  .superRefine((plan, ctx) => {
    checkMembershipPlan(plan as MembershipPlan, ctx, [plan.failed.id])
    if (!plan.appliances.some((a) => a.id === plan.failed.id)) ctx.addIssue({ code: 'custom', path: ['failed', 'id'], message: `no appliance with id "${plan.failed.id}": keep the failed appliance in appliances, as the records name it` })
    if (plan.fips.includes(plan.failed.id)) ctx.addIssue({ code: 'custom', path: ['fips'], message: `the failed appliance "${plan.failed.id}" cannot stay in the group` })
    if (plan.failed.id === plan.added || plan.failed.id === plan.source) ctx.addIssue({ code: 'custom', path: ['failed', 'id'], message: 'the failed appliance can be neither the new one nor the source' })
    if (plan.failed.disposition === 'returned-rma' && !plan.failed.rmaNumber) ctx.addIssue({ code: 'custom', path: ['failed', 'rmaNumber'], message: 'a returned appliance needs the vendor\'s RMA number' })
    if (plan.onboarding) {
      const custodians = plan.participants.custodians[plan.added] ?? []
      if (custodians.length === 0) ctx.addIssue({ code: 'custom', path: ['participants', 'custodians', plan.added], message: `name the custodians of "${plan.added}": the onboarding makes them the members of its quorum group` })
      // Who makes the quorum group is not one of its members: no one both shapes and holds the quorum.
      if (custodians.some((c) => c.toLowerCase() === plan.onboarding!.sysadmin.toLowerCase())) ctx.addIssue({ code: 'custom', path: ['onboarding', 'sysadmin'], message: `ROLE_CONFLICT: the system administrator who makes the quorum group of "${plan.added}" cannot also be one of its custodians` })
    }
  })

export type ReplaceAppliancePlan = z.output<typeof ReplaceAppliancePlanSchema> & MembershipPlan & { failed: z.output<typeof FailedSchema>; onboarding?: z.output<typeof OnboardingSchema> | undefined }

/** The new appliance's system administrator signs in here (sign-in.ts): the appliance's own address and trust. */
export const ONBOARDING_SIGN_IN = 'onboarding-sysadmin'

export function onboardingSignIn(plan: ReplaceAppliancePlan): SignIn {
  const a = applianceOf(plan, plan.added)
  return { id: ONBOARDING_SIGN_IN, label: `${a.label}, system administrator`, host: a.host, port: a.port, trust: a.trust, user: plan.onboarding!.sysadmin, accountId: plan.onboarding!.accountId }
}

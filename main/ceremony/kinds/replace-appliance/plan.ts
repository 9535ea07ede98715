/**
 * The plan of replacing a failed FIPS appliance (guide §5): the membership fields (add-appliance's
 * plan.ts) with the new appliance as `added`, and the failed one: its id in the earlier records (it
 * stays in `appliances` by its address and pin, so its config in the group is found, and it is never
 * contacted), its serial, what is done with it (zeroised, destroyed, or returned under the vendor's
 * RMA) and the name of the evidence file on the media.
 */
import { z } from 'zod'
import { envelopeShape } from '../../plan-envelope'
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

export const ReplaceAppliancePlanSchema = z
  .strictObject({ ...envelopeShape, kind: z.literal('replace-appliance'), ...membershipShape, failed: FailedSchema })
  .superRefine((plan, ctx) => {
    checkMembershipPlan(plan as MembershipPlan, ctx, [plan.failed.id])
    if (!plan.appliances.some((a) => a.id === plan.failed.id)) ctx.addIssue({ code: 'custom', path: ['failed', 'id'], message: `no appliance with id "${plan.failed.id}": keep the failed appliance in appliances, as the records name it` })
    if (plan.fips.includes(plan.failed.id)) ctx.addIssue({ code: 'custom', path: ['fips'], message: `the failed appliance "${plan.failed.id}" cannot stay in the group` })
    if (plan.failed.id === plan.added || plan.failed.id === plan.source) ctx.addIssue({ code: 'custom', path: ['failed', 'id'], message: 'the failed appliance can be neither the new one nor the source' })
    if (plan.failed.disposition === 'returned-rma' && !plan.failed.rmaNumber) ctx.addIssue({ code: 'custom', path: ['failed', 'rmaNumber'], message: 'a returned appliance needs the vendor\'s RMA number' })
  })

export type ReplaceAppliancePlan = z.output<typeof ReplaceAppliancePlanSchema> & MembershipPlan & { failed: z.output<typeof FailedSchema> }

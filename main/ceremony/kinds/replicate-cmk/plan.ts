/**
 * The plan of a CMK replication (guide §3.2.1–3.2.2, design §3): one source appliance holding the
 * Cluster Master Key, the targets in order, the quorum group, and how the transfer keys are named.
 */
import { z } from 'zod'
import { checkApplianceRef, checkEnvelope, envelopeShape, slug, spokenText, type Plan } from '../../plan-envelope'

export const ReplicateCmkPlanSchema = z
  .strictObject({
    ...envelopeShape,
    kind: z.literal('replicate-cmk'),
    source: slug,
    targets: z.array(slug).min(1).max(15),
    /** The quorum group holding the CMK on every appliance. */
    groupName: spokenText(120),
    cmk: z.strictObject({
      name: spokenText(120),
      /** First ceremony only: create the CMK on the source (AES-256, EXPORT) before replicating it. */
      create: z.boolean().default(false),
    }),
    /** Deterministic transfer-key names, so a resumed ceremony finds what it already made. */
    transferKeyName: z
      .string()
      .max(120)
      .refine((s) => s.includes('{ceremony}') && s.includes('{target}'), 'must contain {ceremony} and {target}')
      .default('{ceremony}-transfer-{target}'),
    wrapMode: z.enum(['RSA-OAEP-SHA1', 'RSA-OAEP-SHA256']).default('RSA-OAEP-SHA256'),
  })
  .superRefine((plan, ctx) => {
    checkEnvelope(plan, ctx)
    if (plan.appliances.length < 2) ctx.addIssue({ code: 'custom', path: ['appliances'], message: 'a replication needs a source and at least one target' })
    checkApplianceRef(plan, plan.source, ['source'], ctx)
    const targets = new Set<string>()
    plan.targets.forEach((t, i) => {
      checkApplianceRef(plan, t, ['targets', i], ctx)
      if (t === plan.source) ctx.addIssue({ code: 'custom', path: ['targets', i], message: 'the source cannot also be a target' })
      if (targets.has(t)) ctx.addIssue({ code: 'custom', path: ['targets', i], message: `target "${t}" is listed twice` })
      targets.add(t)
    })
    // Across sites each station checks its own materials in its own legs (sites.ts): a station with neither the source nor a target is never visited.
    const visited = new Set((plan.stations ?? []).filter((st) => st.appliances.some((a) => a === plan.source || targets.has(a))).map((st) => st.id))
    if ((plan.stations?.length ?? 0) > 1) plan.materials?.items.forEach((item, i) => {
      if (item.station && plan.stations!.some((st) => st.id === item.station) && !visited.has(item.station)) ctx.addIssue({ code: 'custom', path: ['materials', 'items', i, 'station'], message: `station "${item.station}" reaches neither the source nor a target: the ceremony never goes there, so nothing there can be checked` })
    })
  })

export type ReplicateCmkPlan = z.output<typeof ReplicateCmkPlanSchema> & Plan

export function transferKeyName(plan: ReplicateCmkPlan, target: string): string {
  return plan.transferKeyName.replaceAll('{ceremony}', plan.id).replaceAll('{target}', target)
}

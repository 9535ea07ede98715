/**
 * D.1, the witnessed destruction record of a replaced appliance (guide §5): what happened to the
 * failed appliance is read in the room, not copied from the plan. The operator types the serial off
 * the chassis (or the RMA paperwork), chooses what was done with it, and for a return types the
 * vendor's RMA number; each is compared with the plan, and a difference is a mismatch (the
 * materials' mechanism: logged, named by a reference, standing only with an exception naming it).
 * The evidence on the media is kept by its SHA-256, computed here, and the workstation checks that
 * the appliance no longer answers at its address. Nothing is changed anywhere: running it again
 * reads and judges again.
 */
import { createHash } from 'node:crypto'
import { z } from 'zod'
import { CeremonyError } from '../../../errors'
import { isDown, probe } from '../../cluster-steps'
import { MismatchSchema, acknowledgedBy, compare, describeMismatch, openMismatches } from '../../materials/mismatch'
import { applianceOf } from '../../plan-envelope'
import { defineStep, item, type Mismatch, type StepContext } from '../../step'
import { canonical, intentOf, typedFrom, valueOf, type InputField, type Typed } from '../../step-input'
import type { ReplaceAppliancePlan } from './plan'

const EVIDENCE_MAX = 32 * 1024 * 1024
export const DESTRUCTION_STEP_ID = 'destruction-record'
const DISPOSITIONS = ['zeroised', 'destroyed', 'returned-rma'] as const
export const DISPOSITION: Record<string, string> = { zeroised: 'zeroised', destroyed: 'destroyed', 'returned-rma': 'returned to the vendor under RMA' }

export const DestructionResult = z.strictObject({
  appliance: z.string(), serial: z.string(), disposition: z.string(), rmaNumber: z.string().nullable(),
  evidenceFile: z.string(), evidenceSha256: z.string(), evidenceBytes: z.number().int(), answered: z.literal(false),
  /** What was typed that differs from the plan, each with the exception that let it stand. */
  mismatches: z.array(MismatchSchema),
  acknowledged: z.record(z.string(), z.number()),
})
export type DestructionResult = z.infer<typeof DestructionResult>

export const dispositionText = (r: DestructionResult) => `${r.appliance} (serial ${r.serial}) ${DISPOSITION[r.disposition] ?? r.disposition}${r.rmaNumber ? ` ${r.rmaNumber}` : ''}; evidence ${r.evidenceFile} (SHA-256 ${r.evidenceSha256})`

const SERIAL = 'failed:serial'
const FATE = 'failed:disposition'
const RMA = 'failed:rma-number'

/** The fields read in the room: the serial, what was done (the plan's choice first), and the RMA number when the plan returns it. */
export function destructionFields(plan: ReplaceAppliancePlan): InputField[] {
  const f = plan.failed
  const group = applianceOf(plan, f.id).label
  const fields: InputField[] = [
    { id: SERIAL, subject: f.id, group, label: 'Serial number', hint: 'as printed on the failed appliance\'s chassis label, or on its RMA paperwork', format: 'serial', rehearsal: f.serial },
    {
      id: FATE, subject: f.id, group, label: 'What was done with it', hint: 'as the witnesses saw it, or as the evidence says', format: 'choice', rehearsal: f.disposition,
      options: [f.disposition, ...DISPOSITIONS.filter((d) => d !== f.disposition)].map((d) => ({ value: d, label: DISPOSITION[d]! })),
    },
  ]
  if (f.rmaNumber) fields.push({ id: RMA, subject: f.id, group, label: 'RMA number', hint: 'as printed on the vendor\'s RMA paperwork', format: 'serial', rehearsal: f.rmaNumber })
  return fields
}

function judge(ctx: StepContext<ReplaceAppliancePlan>, typed: Typed): { serial: string; disposition: string; rmaNumber: string | null; mismatches: Mismatch[] } {
  const f = ctx.plan.failed
  const serial = valueOf(typed, SERIAL)
  const disposition = valueOf(typed, FATE)
  const rmaNumber = f.rmaNumber ? valueOf(typed, RMA) : null
  const base = { item: f.id, description: ctx.label(f.id), against: 'the plan', source: 'operator' as const }
  const mismatches = [
    compare(ctx.stepId, { ...base, code: 'APPLIANCE_SERIAL_MISMATCH', field: SERIAL, expected: canonical(f.serial), typed: serial }),
    compare(ctx.stepId, { ...base, code: 'DISPOSITION_MISMATCH', field: FATE, expected: f.disposition, typed: disposition }),
    rmaNumber === null ? null : compare(ctx.stepId, { ...base, code: 'RMA_NUMBER_MISMATCH', field: RMA, expected: canonical(f.rmaNumber!), typed: rmaNumber }),
  ].filter((m): m is Mismatch => m !== null)
  return { serial, disposition, rmaNumber, mismatches }
}

export const destructionRecord = (plan: ReplaceAppliancePlan) => {
  const f = plan.failed
  const label = applianceOf(plan, f.id).label
  const planned = `${DISPOSITION[f.disposition]}${f.rmaNumber ? ` ${f.rmaNumber}` : ''}`
  type Intent = ReturnType<typeof intentOf> & { appliance: string; evidenceFile: string }
  return defineStep<DestructionResult, Intent, ReplaceAppliancePlan>({
    id: DESTRUCTION_STEP_ID, name: 'destruction-record', group: 'dispose', appliances: [], interaction: 'run', confirmation: null, result: DestructionResult,
    input: { fields: destructionFields(plan) },
    text: {
      where: `${label}, media`,
      title: `Record what happened to ${label}: ${DISPOSITION[f.disposition]}`,
      explain: `The witnesses read the serial off the appliance (or its RMA paperwork) and see it ${planned}; the operator types what they read. Anything that differs from the plan stops the step until a witness records an exception naming it. The evidence, ${f.evidenceFile} on the media, is kept in the record by its SHA-256. This workstation confirms the appliance no longer answers at its address.`,
      witnessItems: [`The serial was read off the appliance or its paperwork (the plan says ${f.serial})`, `The appliance was ${planned}`, `The evidence file ${f.evidenceFile} is the one shown, with its SHA-256`],
    },
    intent: (_ctx, typed) => {
      if (!typed) throw new CeremonyError('STEP_INPUT_REQUIRED', `Type the serial of ${label} and what was done with it first`)
      return { ...intentOf(typed), appliance: f.id, evidenceFile: f.evidenceFile }
    },
    // Read-only: a resume (after a crash, with nothing typed anew) reads and judges again the values that attempt journaled.
    look: (ctx, earlier) => record(ctx, earlier),
    act: (ctx, intent) => record(ctx, intent),
    verify(ctx, r) {
      const refused = openMismatches(ctx, r.mismatches, r.acknowledged)
      if (refused) throw refused
    },
    evidence: (r) => ({
      items: [
        ...item('Serial (typed from the appliance or its paperwork)', r.serial),
        ...item('What happened (as witnessed)', `${DISPOSITION[r.disposition] ?? r.disposition}${r.rmaNumber ? ` ${r.rmaNumber}` : ''}`),
        ...item('Evidence', `${r.evidenceFile}, ${r.evidenceBytes} bytes`),
        ...item('Evidence SHA-256', r.evidenceSha256, 'digest'),
        ...item('Answers at its address', 'no'),
        ...r.mismatches.flatMap((x) => item(`Mismatch ${x.reference}`, `${describeMismatch(x)}; acknowledged at log entry ${r.acknowledged[x.reference] ?? '?'}`)),
      ],
      comparisons: [],
    }),
  })

  /** What the room typed (journaled in the intent), the failed appliance seen silent, and the evidence by its digest. */
  async function record(ctx: StepContext<ReplaceAppliancePlan>, intent: Intent): Promise<DestructionResult> {
    const typed = typedFrom(intent)
    if (!typed) throw new CeremonyError('JOURNAL_CORRUPT', 'The journaled intent of the destruction record holds no typed values')
    const seen = await probe(applianceOf(ctx.plan, intent.appliance))
    if (seen.reachable || !isDown(seen)) throw new CeremonyError('FAILED_STILL_ANSWERS', `${label} still answers at its address (${seen.code ?? 'reachable'}); it cannot be recorded as ${DISPOSITION[f.disposition]}`)
    if (!ctx.media.exists(intent.evidenceFile)) throw new CeremonyError('DESTRUCTION_EVIDENCE_MISSING', `The evidence ${intent.evidenceFile} is not on the media`)
    const bytes = await ctx.media.readUnverified(intent.evidenceFile, EVIDENCE_MAX)
    const { mismatches, ...read } = judge(ctx, typed)
    return { appliance: intent.appliance, ...read, evidenceFile: intent.evidenceFile, evidenceSha256: createHash('sha256').update(bytes).digest('hex'), evidenceBytes: bytes.length, answered: false as const, mismatches, acknowledged: acknowledgedBy(ctx, mismatches) }
  }
}

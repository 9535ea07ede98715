/**
 * M.1: each appliance identified. The operator types what the chassis shows (serial number, the
 * tamper-evident labels); the appliance is asked what it is (GET /sys/v1/version with
 * detailed_fips_info: version, API version, server mode, FIPS level, plugins digest — the API gives
 * no serial number or node id, so the chassis is read by a person and the TLS key pinned in the
 * plan identifies the appliance on the wire). Both go in the record side by side, and each value
 * that differs from the plan is a mismatch (mismatch.ts): logged, named, and standing only with an
 * exception that names it. Read-only on the appliances: running it again asks again.
 */
import { z } from 'zod'
import { CeremonyError } from '../../errors'
import { labelOf, type Plan, type Station } from '../plan-envelope'
import { defineStep, item, type Mismatch, type StepContext } from '../step'
import { intentOf, splitLabels, typedFrom, valueOf, type InputField, type Typed } from '../step-input'
import { MismatchSchema, acknowledgedBy, compare, describeMismatch, openMismatches, sameSet } from './mismatch'
import type { Materials } from './schema'

export const APPLIANCES_STEP_ID = 'materials-appliances'

const Reported = z.strictObject({
  version: z.string(), apiVersion: z.string(), serverMode: z.string(),
  /** Absent from the answer: the appliance is not running in FIPS mode. */
  fipsLevel: z.number().nullable(),
  pluginsDigest: z.string().nullable(),
})

export const AppliancesResult = z.strictObject({
  appliances: z.array(z.strictObject({
    id: z.string(), label: z.string(),
    serial: z.string(), tamperLabels: z.array(z.string()),
    reported: Reported,
    /** The TLS public key the plan pins for it (SHA-256 of the SPKI), if it pins one. */
    tlsSpkiSha256: z.string().nullable(),
  })),
  mismatches: z.array(MismatchSchema),
  /** Mismatch reference -> the log entry (seq) of the exception that names it. */
  acknowledged: z.record(z.string(), z.number()),
})
export type AppliancesResult = z.infer<typeof AppliancesResult>

const serialField = (id: string) => `appliance:${id}:serial`
const labelsField = (id: string) => `appliance:${id}:labels`

/** The appliances checked: every one, or across sites those of one station (each chassis is read where it stands). */
const checked = (plan: Plan, station: Station | undefined) => plan.appliances.filter((a) => !station || station.appliances.includes(a.id))

function fields(plan: Plan, m: Materials, station: Station | undefined): InputField[] {
  return checked(plan, station).flatMap((a) => {
    const expected = m.appliances?.[a.id]
    if (!expected) return []
    // Plan labels usually carry the id already ("FIPS appliance 1 (fips-1)").
    const group = a.label.includes(a.id) ? a.label : `${a.label} (${a.id})`
    return [
      { id: serialField(a.id), subject: a.id, group, label: 'Serial number', hint: 'as printed on the label on the chassis', format: 'serial' as const, rehearsal: expected.serial },
      { id: labelsField(a.id), subject: a.id, group, label: 'Tamper-evident label numbers', hint: 'every label on the chassis, separated by spaces; check each is intact', format: 'labels' as const, rehearsal: expected.tamperLabels.join(' ') },
    ]
  })
}

async function judge(ctx: StepContext, m: Materials, typed: Typed, station: Station | undefined): Promise<AppliancesResult> {
  const appliances: AppliancesResult['appliances'] = []
  const mismatches: Mismatch[] = []
  const add = (x: Mismatch | null) => void (x && mismatches.push(x))
  for (const a of checked(ctx.plan, station)) {
    const expected = m.appliances?.[a.id]
    if (!expected) continue
    const v = await (await ctx.app(a.id)).connection.version({ detailedFipsInfo: true })
    const reported = { version: v.version, apiVersion: v.api_version, serverMode: v.server_mode, fipsLevel: v.fips_level ?? null, pluginsDigest: v.plugins_digest ?? null }
    const serial = valueOf(typed, serialField(a.id))
    const labels = valueOf(typed, labelsField(a.id))
    const description = ctx.label(a.id)
    const base = { item: a.id, description, against: 'the plan' }
    add(compare(ctx.stepId, { ...base, code: 'APPLIANCE_SERIAL_MISMATCH', field: serialField(a.id), source: 'operator', expected: expected.serial, typed: serial }))
    add(compare(ctx.stepId, { ...base, code: 'TAMPER_LABEL_MISMATCH', field: labelsField(a.id), source: 'operator', expected: expected.tamperLabels.join(' '), typed: labels }, sameSet))
    const fips = reported.fipsLevel === null ? 'none (not in FIPS mode)' : String(reported.fipsLevel)
    add(compare(ctx.stepId, { ...base, code: 'FIPS_LEVEL_MISMATCH', field: 'fips_level', source: 'appliance', expected: expected.fipsLevel === undefined ? undefined : String(expected.fipsLevel), typed: fips }))
    add(compare(ctx.stepId, { ...base, code: 'APPLIANCE_VERSION_MISMATCH', field: 'version', source: 'appliance', expected: expected.version, typed: reported.version }))
    appliances.push({ id: a.id, label: labelOf(ctx.plan, a.id), serial, tamperLabels: splitLabels(labels), reported, tlsSpkiSha256: a.trust.spkiSha256 ?? null })
  }
  return { appliances, mismatches, acknowledged: acknowledgedBy(ctx, mismatches) }
}

/** `station`: across sites, the step of one station, for the appliances there (materials-appliances:<station>). */
export function appliancesStep(plan: Plan, m: Materials, station?: Station) {
  const input = { fields: fields(plan, m, station) }
  const judged = (ctx: StepContext, intent: Record<string, unknown>) => {
    const typed = typedFrom(intent as never)
    if (!typed) throw new CeremonyError('JOURNAL_CORRUPT', 'The journaled intent of the appliance check holds no typed values')
    return judge(ctx, m, typed, station)
  }
  return defineStep<AppliancesResult, ReturnType<typeof intentOf>>({
    id: station ? `${APPLIANCES_STEP_ID}:${station.id}` : APPLIANCES_STEP_ID, name: 'materials-appliances', group: null,
    appliances: checked(plan, station).map((a) => a.id), interaction: 'run', confirmation: null,
    result: AppliancesResult, input,
    text: {
      where: station ? `${station.label}: each appliance's chassis, and its API` : 'each appliance\'s chassis, and its API',
      title: `Identify each appliance${station ? ` at ${station.label}` : ''}: serial number, tamper labels, version and FIPS level`,
      explain: 'Read the serial number and every tamper-evident label from each appliance\'s chassis and type them. Each appliance is asked for its version and FIPS level. Anything that differs from the plan stops the step until a witness records an exception naming it.',
      witnessItems: ['The serial number and tamper labels were read from each chassis, and every label is intact', 'Each appliance\'s version and FIPS level were read out and are as the plan says, or each difference is named in an exception'],
    },
    intent: (_ctx, typed) => {
      if (!typed) throw new CeremonyError('STEP_INPUT_REQUIRED', 'Type what each chassis shows first')
      return intentOf(typed)
    },
    // Read-only: the appliances are asked again, and the values typed at that attempt judged again.
    look: (ctx, earlier) => judged(ctx, earlier),
    act: (ctx, intent) => judged(ctx, intent),
    verify(ctx, r) {
      const refused = openMismatches(ctx, r.mismatches, r.acknowledged)
      if (refused) throw refused
    },
    evidence: (r) => ({
      items: [
        ...r.appliances.flatMap((a) => [
          ...item(`${a.label}: serial number (typed from the chassis)`, a.serial),
          ...item(`${a.label}: tamper labels (typed from the chassis)`, a.tamperLabels.join(' ')),
          ...item(`${a.label}: version, API version, server mode (the API)`, `${a.reported.version}, ${a.reported.apiVersion}, ${a.reported.serverMode}`),
          ...item(`${a.label}: FIPS level (the API)`, a.reported.fipsLevel === null ? 'none: not in FIPS mode' : String(a.reported.fipsLevel)),
          ...item(`${a.label}: plugins digest (the API)`, a.reported.pluginsDigest),
          ...item(`${a.label}: TLS public key pinned by the plan`, a.tlsSpkiSha256, 'fingerprint'),
        ]),
        ...r.mismatches.flatMap((x) => item(`Mismatch ${x.reference}`, `${describeMismatch(x)}; acknowledged at log entry ${r.acknowledged[x.reference] ?? '?'}`)),
      ],
      comparisons: [],
    }),
  })
}

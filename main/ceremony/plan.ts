/**
 * The ceremony plan (design §4): one reviewed file, run exactly as written. Unknown fields are
 * refused, every error names the field, and the plan holds no secret: API keys and passwords are
 * entered at run time and stay in main-process memory.
 */
import { z } from 'zod'
import { planDigestOf } from '../evidence'
import { fingerprintDisplay } from '../keys'
import { CeremonyError } from '../errors'

export const PLAN_FORMAT = 'dsm-key-ceremony/plan'

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$/, 'use 3–64 lowercase letters, digits and dashes')
const hostname = z
  .string()
  .min(1)
  .max(253)
  .regex(/^(?!https?:)[A-Za-z0-9.-]+$/, 'a host name or IPv4 address without scheme, port or path (as the vendor guide writes it)')
const spki = z.string().regex(/^[0-9a-f]{64}$/, 'the SPKI SHA-256 pin: 64 lowercase hex characters')
const person = z.string().trim().min(1).max(80)

const ApplianceSchema = z
  .strictObject({
    id: slug,
    label: z.string().trim().min(1).max(80),
    host: hostname,
    port: z.number().int().min(1).max(65535).default(443),
    /** How the workstation trusts the appliance's TLS: a pinned public key and/or a CA certificate. */
    trust: z
      .strictObject({ spkiSha256: spki.optional(), caPem: z.string().includes('-----BEGIN CERTIFICATE-----').optional() })
      .refine((t) => t.spkiSha256 !== undefined || t.caPem !== undefined, 'give spkiSha256, caPem or both'),
  })

export const PlanSchema = z
  .strictObject({
    format: z.literal(PLAN_FORMAT),
    version: z.literal(1),
    id: slug,
    title: z.string().trim().min(1).max(120),
    mode: z.enum(['production', 'rehearsal']),
    appliances: z.array(ApplianceSchema).min(2).max(16),
    source: slug,
    targets: z.array(slug).min(1).max(15),
    /** The quorum group holding the CMK on every appliance. */
    groupName: z.string().trim().min(1).max(120),
    cmk: z.strictObject({
      name: z.string().trim().min(1).max(120),
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
    participants: z.strictObject({
      operator: person,
      /** Per appliance id: the DSM user names of its quorum custodians. */
      custodians: z.record(slug, z.array(z.string().trim().min(1).max(254)).min(1)),
      witnesses: z.array(person).min(1),
    }),
  })
  .superRefine((plan, ctx) => {
    const ids = plan.appliances.map((a) => a.id)
    const seen = new Set<string>()
    plan.appliances.forEach((a, i) => {
      if (seen.has(a.id)) ctx.addIssue({ code: 'custom', path: ['appliances', i, 'id'], message: `appliance id "${a.id}" is used twice` })
      seen.add(a.id)
    })
    if (!ids.includes(plan.source)) ctx.addIssue({ code: 'custom', path: ['source'], message: `no appliance with id "${plan.source}"` })
    const targets = new Set<string>()
    plan.targets.forEach((t, i) => {
      if (!ids.includes(t)) ctx.addIssue({ code: 'custom', path: ['targets', i], message: `no appliance with id "${t}"` })
      if (t === plan.source) ctx.addIssue({ code: 'custom', path: ['targets', i], message: 'the source cannot also be a target' })
      if (targets.has(t)) ctx.addIssue({ code: 'custom', path: ['targets', i], message: `target "${t}" is listed twice` })
      targets.add(t)
    })
    for (const id of Object.keys(plan.participants.custodians)) {
      if (!ids.includes(id)) ctx.addIssue({ code: 'custom', path: ['participants', 'custodians', id], message: `no appliance with id "${id}"` })
    }
  })

export type Plan = z.output<typeof PlanSchema>
export type PlanInput = z.input<typeof PlanSchema>
export type PlanAppliance = Plan['appliances'][number]

export interface PlanIssue {
  path: string
  message: string
}

export class PlanInvalidError extends CeremonyError {
  constructor(readonly issues: PlanIssue[]) {
    super('PLAN_INVALID', `The ceremony plan is not valid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`)
    this.name = 'PlanInvalidError'
  }
}

function issuesOf(error: z.ZodError): PlanIssue[] {
  return error.issues.map((issue) => {
    // For unknown keys zod reports the parent path; name the offending keys themselves.
    const keys = issue.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys : null
    const path = issue.path.map(String).join('.') || '(plan)'
    return keys ? { path: keys.map((k) => (path === '(plan)' ? k : `${path}.${k}`)).join(', '), message: 'unknown field (not part of the plan format)' } : { path, message: issue.message }
  })
}

/** Validates without throwing; for the plan editor, which shows every issue as the operator types. */
export function checkPlan(input: unknown): { ok: true; plan: Plan } | { ok: false; issues: PlanIssue[] } {
  const parsed = PlanSchema.safeParse(input)
  return parsed.success ? { ok: true, plan: parsed.data } : { ok: false, issues: issuesOf(parsed.error) }
}

export function parsePlan(input: unknown): Plan {
  const checked = checkPlan(input)
  if (!checked.ok) throw new PlanInvalidError(checked.issues)
  return checked.plan
}

/** Parses plan file text: JSON syntax errors are named like schema errors. */
export function parsePlanText(text: string): Plan {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new PlanInvalidError([{ path: '(file)', message: `not valid JSON: ${err instanceof Error ? err.message : String(err)}` }])
  }
  return parsePlan(json)
}

/** The digest bound into every log entry: SHA-256 of the plan's canonical JSON (defaults applied). */
export function planDigest(plan: Plan): string {
  return planDigestOf(plan)
}

export function planDigestDisplay(plan: Plan) {
  return fingerprintDisplay(planDigest(plan))
}

export function transferKeyName(plan: Plan, target: string): string {
  return plan.transferKeyName.replaceAll('{ceremony}', plan.id).replaceAll('{target}', target)
}

export function applianceOf(plan: Plan, id: string): PlanAppliance {
  const appliance = plan.appliances.find((a) => a.id === id)
  if (!appliance) throw new PlanInvalidError([{ path: 'appliances', message: `no appliance with id "${id}"` }])
  return appliance
}

/** The appliance's TLS trust as the DSM client takes it: the pin and/or the CA, only what the plan gives. */
export function trustOf(appliance: PlanAppliance): { spkiSha256?: string; caPem?: string } {
  return {
    ...(appliance.trust.spkiSha256 ? { spkiSha256: appliance.trust.spkiSha256 } : {}),
    ...(appliance.trust.caPem ? { caPem: appliance.trust.caPem } : {}),
  }
}

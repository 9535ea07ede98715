/**
 * Reading a ceremony plan (design §4): one reviewed file, run exactly as written. The plan is a
 * union on `kind`; a plan without `kind` is read as `replicate-cmk`, so plan files written before
 * kinds existed keep working. Unknown fields are refused, every error names the field, and the
 * digest bound into every log entry is the SHA-256 of the canonical JSON with defaults applied.
 */
import type { z } from 'zod'
import { planDigestOf } from '../evidence'
import { CeremonyError } from '../errors'
import { fingerprintDisplay } from '../keys'
import type { Plan } from './plan-envelope'
import { DEFAULT_KIND, KIND_NAMES, KINDS, isKindName } from './registry'

export type { Plan, PlanAppliance } from './plan-envelope'
export { PLAN_FORMAT, applianceOf, labelOf, trustOf } from './plan-envelope'

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
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return { ok: false, issues: [{ path: '(plan)', message: 'a plan is a JSON object' }] }
  const given = (input as { kind?: unknown }).kind
  const kind = given === undefined ? DEFAULT_KIND : given
  if (!isKindName(kind)) return { ok: false, issues: [{ path: 'kind', message: `unknown ceremony kind; use one of ${KIND_NAMES.join(', ')}` }] }
  const parsed = KINDS[kind].schema.safeParse({ ...input, kind })
  return parsed.success ? { ok: true, plan: parsed.data as Plan } : { ok: false, issues: issuesOf(parsed.error) }
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

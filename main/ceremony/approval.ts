/**
 * The one approval helper every quorum-protected operation uses (dsm-api.md §6): a request step that
 * opens the approval request, an approval step that waits for the quorum, and `fetchResult` for the
 * step that reads what the appliance did.
 *
 * Trust only what this ceremony made: after a crash the request is found again by the nonce in its
 * description, and adopted only if its requester is this ceremony's app and its method, operation
 * and body equal, field by field, what the step intended. Anything else carrying our nonce stops the
 * step with APPROVAL_REQUEST_MISMATCH and is never approved or used. The approval step checks the
 * same before every poll, so a request swapped under our nonce is never waited on.
 */
import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import {
  ApprovalExpiredError, ApprovalFailedError, BadRequestError, DsmError, NotFoundError, QuorumDeniedError, isExpired,
  type ApprovalRequest, type AppSession,
} from '../dsm'
import { canonicalJson, sha256Hex } from '../evidence'
import { CeremonyError } from '../errors'
import { WAITING, defineStep, item, stepRef, type ApprovalBinding, type AnyStep, type Confirmation, type JsonObject, type StepContext, type StepRef, type StepText } from './step'

export interface ApprovableCall {
  method: 'POST' | 'DELETE'
  operation: string
  body: JsonObject
}

export interface ApprovalSpec {
  /** The operation's short name ("wrap"): the steps are named "<name>-request" and "<name>-approval". */
  name: string
  ids: { request: string; approval: string; result: string }
  group: string | null
  appliance: string
  text: { request: StepText; approval: StepText }
  /** What each approving custodian types (checked per approval, not to start waiting). */
  confirmation: Confirmation | null
  /** In words, for the request's description ("export the CMK … wrapped for fips-2"). */
  what(ctx: StepContext): string
  /** The exact call the appliance will execute once approved. */
  build(ctx: StepContext): Promise<ApprovableCall>
  /** Body fields never journaled or logged (the wrapped key): replaced by their SHA-256 there. */
  redact?: string[]
  describe: ApprovalBinding['describe']
  quorum: ApprovalBinding['quorum']
}

export const RequestResult = z.strictObject({
  requestId: z.string(),
  nonce: z.string(),
  appliance: z.string(),
  method: z.string(),
  operation: z.string(),
  /** SHA-256 of the body's canonical JSON: what custodians approve is bound to it. */
  bodySha256: z.string(),
  requester: z.string(),
})
export type RequestResult = z.infer<typeof RequestResult>

export const DecisionResult = z.strictObject({
  requestId: z.string(),
  status: z.literal('APPROVED'),
  /** DSM user or app ids, as the appliance reports them. */
  approvers: z.array(z.string()),
})
export type DecisionResult = z.infer<typeof DecisionResult>

type RequestIntent = { nonce: string; method: string; operation: string; bodySha256: string; body: JsonObject }

export function bodyDigest(body: unknown): string {
  return sha256Hex(canonicalJson(body ?? null))
}

/** The body as the journal and the log keep it: each redacted field replaced by `<field>_sha256` of its bytes. */
function redacted(body: JsonObject, fields: string[] = []): JsonObject {
  const out: JsonObject = { ...body }
  for (const f of fields) {
    if (typeof out[f] !== 'string') continue
    out[`${f}_sha256`] = sha256Hex(Buffer.from(out[f] as string, 'base64'))
    delete out[f]
  }
  return out
}

/** Which fields of a request found on the appliance differ from what this ceremony intended. */
export function requestDifferences(found: ApprovalRequest, expected: { requester: string; method: string; operation: string; body: unknown }): string[] {
  const diffs: string[] = []
  const requester = found.requester as Record<string, unknown>
  if (requester['app'] !== expected.requester) diffs.push(`requester (${canonicalJson(found.requester)})`)
  if (found.method !== expected.method) diffs.push(`method (${found.method})`)
  if (found.operation !== expected.operation) diffs.push(`operation (${found.operation})`)
  const body = (found.body ?? {}) as Record<string, unknown>
  const want = expected.body as Record<string, unknown>
  for (const key of new Set([...Object.keys(body), ...Object.keys(want)])) {
    if (canonicalJson(body[key] ?? null) !== canonicalJson(want[key] ?? null)) diffs.push(`body.${key}`)
  }
  return diffs
}

function mismatch(requestId: string, diffs: string[]): CeremonyError {
  return new CeremonyError('APPROVAL_REQUEST_MISMATCH', `Approval request ${requestId} carries this ceremony's nonce but is not the request it opened (${diffs.join(', ')}). It was not approved or used.`)
}

/** The request step and the approval step of one quorum-protected call. */
export function approvalSteps(spec: ApprovalSpec): { request: AnyStep; approval: AnyStep; requestRef: StepRef<RequestResult>; approvalRef: StepRef<DecisionResult> } {
  const requestRef = stepRef(spec.ids.request, RequestResult)
  const approvalRef = stepRef(spec.ids.approval, DecisionResult)
  const approvalGroup = spec.ids.request
  const base = { group: spec.group, appliances: [spec.appliance], approvalGroup }

  const request = defineStep<RequestResult, RequestIntent>({
    ...base, id: spec.ids.request, name: `${spec.name}-request`, text: spec.text.request, interaction: 'run', confirmation: null, result: RequestResult,
    async intent(ctx) {
      const call = await spec.build(ctx)
      // The nonce is journaled before the request is sent, so a lost answer is found again by it.
      return { nonce: randomBytes(8).toString('hex'), method: call.method, operation: call.operation, bodySha256: bodyDigest(call.body), body: redacted(call.body, spec.redact) }
    },
    async look(ctx, earlier) {
      const app = await ctx.app(spec.appliance)
      const found = await app.approvals.findByNonce(earlier.nonce)
      if (found.length === 0) return null
      const call = await spec.build(ctx)
      if (bodyDigest(call.body) !== earlier.bodySha256) throw new CeremonyError('APPROVAL_REQUEST_MISMATCH', 'What this step would request now is not what its interrupted attempt requested; nothing was adopted.')
      for (const candidate of found) {
        const diffs = requestDifferences(candidate, { requester: app.entityId, ...call })
        if (diffs.length > 0) throw mismatch(candidate.request_id, diffs)
      }
      const adopted = found[0]!
      ctx.note(`found approval request ${adopted.request_id} opened before the interruption; its requester, operation and body are exactly as intended; adopted`)
      return { requestId: adopted.request_id, nonce: earlier.nonce, appliance: spec.appliance, method: call.method, operation: call.operation, bodySha256: earlier.bodySha256, requester: app.entityId }
    },
    async act(ctx, intent) {
      const app = await ctx.app(spec.appliance)
      const call = await spec.build(ctx)
      if (bodyDigest(call.body) !== intent.bodySha256) throw new CeremonyError('INTERNAL', 'The request changed between its intent and sending it')
      const description = `DSM Key Ceremony ${ctx.plan.id}: ${spec.what(ctx)} [nonce ${intent.nonce}]`
      const created = await app.approvals.create({ method: call.method, operation: call.operation, body: call.body, description })
      const diffs = requestDifferences(created, { requester: app.entityId, ...call })
      if (diffs.length > 0) throw mismatch(created.request_id, diffs)
      return { requestId: created.request_id, nonce: intent.nonce, appliance: spec.appliance, method: call.method, operation: call.operation, bodySha256: intent.bodySha256, requester: app.entityId }
    },
    verify() {},
    evidence: (r) => ({
      items: [...item('Approval request', r.requestId), ...item('On appliance', r.appliance), ...item('Operation', `${r.method} ${r.operation}`), ...item('Request body SHA-256', r.bodySha256, 'digest')],
      comparisons: [],
    }),
  })

  const decide = async (ctx: StepContext, requestId: string): Promise<DecisionResult | null> => {
    const opened = ctx.get(requestRef)
    const app = await ctx.app(spec.appliance)
    const snap = await app.approvals.snapshot(requestId).catch((err: unknown) => {
      // An expired request may be deleted by the appliance (retain_expired_requests off).
      if (err instanceof NotFoundError) throw new ApprovalExpiredError(requestId)
      throw err
    })
    checkStillOurs(snap.request, opened)
    return decisionOf(app, snap.request, snap.serverDate)
  }

  const approval = defineStep<DecisionResult, { requestId: string }>({
    ...base, id: spec.ids.approval, name: `${spec.name}-approval`, text: spec.text.approval, interaction: 'approval', confirmation: spec.confirmation, result: DecisionResult,
    approval: { appliance: spec.appliance, request: requestRef, resets: [spec.ids.request, spec.ids.approval, spec.ids.result], describe: spec.describe, quorum: spec.quorum },
    intent: (ctx) => ({ requestId: ctx.get(requestRef).requestId }),
    look: (ctx, earlier) => decide(ctx, earlier.requestId),
    act: async (ctx, intent) => (await decide(ctx, intent.requestId)) ?? WAITING,
    verify() {},
    evidence: (r) => ({ items: [...item('Approval request', r.requestId), ...item('Approved by (DSM ids)', r.approvers.join(', '))], comparisons: [] }),
  })
  return { request, approval, requestRef, approvalRef }
}

/** The request read back must still be the one this ceremony opened (nothing swapped in place). */
export function checkStillOurs(request: ApprovalRequest, opened: RequestResult): void {
  const diffs: string[] = []
  if ((request.requester as Record<string, unknown>)['app'] !== opened.requester) diffs.push('requester')
  if (request.method !== opened.method) diffs.push('method')
  if (request.operation !== opened.operation) diffs.push('operation')
  if (bodyDigest(request.body) !== opened.bodySha256) diffs.push('body')
  if (diffs.length > 0) throw mismatch(request.request_id, diffs)
}

/** APPROVED -> the decision; PENDING -> null; DENIED, FAILED or expired (appliance clock) -> a named error. */
async function decisionOf(app: AppSession, request: ApprovalRequest, serverDate: Date | undefined): Promise<DecisionResult | null> {
  switch (request.status) {
    case 'APPROVED':
      return { requestId: request.request_id, status: 'APPROVED', approvers: request.approvers.map((a) => String(Object.values(a)[0] ?? '')) }
    case 'DENIED':
      throw new QuorumDeniedError(request.request_id, request.denial_reason ?? undefined)
    case 'FAILED': {
      const res = await app.approvals.result(request.request_id).catch(() => undefined)
      const inner = typeof res?.body === 'string' ? res.body.slice(0, 300) : 'the operation failed after approval'
      throw new ApprovalFailedError(request.request_id, inner, res?.status)
    }
    default:
      if (isExpired(request, serverDate)) throw new ApprovalExpiredError(request.request_id, request.expiry)
      return null
  }
}

/**
 * The result of an approved request. An appliance may give a result only once: if it was already
 * read (by an attempt whose answer was lost), RESULT_LOST says a fresh request is needed.
 */
export async function fetchResult<T>(ctx: StepContext, appliance: string, requestRef: StepRef<RequestResult>, read: (app: AppSession, requestId: string) => Promise<T>): Promise<T> {
  const { requestId } = ctx.get(requestRef)
  const app = await ctx.app(appliance)
  try {
    return await read(app, requestId)
  } catch (err) {
    if ((err instanceof BadRequestError && /already been read|already viewed/i.test(err.message)) || err instanceof NotFoundError) {
      throw new CeremonyError('RESULT_LOST', `The appliance no longer gives out the result of request ${requestId}, and this workstation never recorded it`)
    }
    throw err
  }
}

export { DsmError }

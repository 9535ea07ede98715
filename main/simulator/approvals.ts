// Quorum approval requests (dsm-api.md §6). A protected operation called directly gets
// 403 "This operation requires approval"; instead the client files an approval request holding
// the exact method, operation (path) and body, the group's quorum members approve it, and the
// operation then runs exactly once as the requester. `POST …/result` returns
// `{status, body}`: the operation's JSON on success, its error message as a JSON string on failure.
import { randomUUID } from 'node:crypto'
import { UUID_RE, asObject, optString } from './body'
import type { Caller, Ctx, Protection, Result, Route } from './context'
import { principalId, principalOf } from './context'
import { badRequest, DsmError, forbidden, notFound } from './errors'
import type { ApprovalRecord } from './model'
import { quorumMet, reviewersOf, type ReviewerEntry } from './policy'

export interface OperationRunner {
  /** The route for an operation path (query string allowed), with its path parameters. */
  resolve(method: string, operation: string): { route: Route; params: Record<string, string>; path: string; query: URLSearchParams } | undefined
  /** Runs a route as `caller`, with `approved` set: no approval check, every other check applies. */
  run(ctx: Ctx): Promise<Result>
}

function caller(ctx: Ctx): Caller {
  if (!ctx.caller) throw new DsmError(401, 'Missing Authorization header')
  return ctx.caller
}

function reviewers(ctx: Ctx, r: ApprovalRecord): ReviewerEntry[] {
  const out: ReviewerEntry[] = []
  for (const gid of r.policyGroups) {
    const p = ctx.model.groups.get(gid)?.approvalPolicy
    if (p) reviewersOf(p, false, out)
  }
  return out
}

function isExpired(ctx: Ctx, r: ApprovalRecord): boolean {
  return ctx.config.now() >= r.expiry
}

/** Finds a request; with expiredApprovalRequests 'removed', an expired one is gone. */
function lookup(ctx: Ctx): ApprovalRecord {
  const id = ctx.params['req_id'] ?? ''
  const r = UUID_RE.test(id) ? ctx.model.approvals.get(id.toLowerCase()) : undefined
  if (r && isExpired(ctx, r) && ctx.config.vendor.expiredApprovalRequests === 'removed') {
    ctx.model.approvals.delete(r.requestId)
    throw notFound('approval request does not exist')
  }
  if (!r) throw notFound('approval request does not exist')
  return r
}

function refuseIfExpired(ctx: Ctx, r: ApprovalRecord): void {
  if (isExpired(ctx, r)) throw badRequest('Approval request has expired')
}

function view(ctx: Ctx, r: ApprovalRecord): Result {
  return { status: 200, body: ctx.model.approvalView(r, reviewers(ctx, r)) }
}

function operationContext(ctx: Ctx, runner: OperationRunner, r: { method: string; operation: string; body: unknown }, as: Caller, approved: boolean): Ctx {
  const target = runner.resolve(r.method, r.operation)
  if (!target) throw badRequest(`Unknown operation ${r.method} ${r.operation}`)
  return { ...ctx, method: r.method, path: target.path, query: target.query, params: target.params, body: structuredClone(r.body), caller: as, approved }
}

/** Runs the approved operation once and stores its outcome; FAILED if the operation failed. */
async function execute(ctx: Ctx, runner: OperationRunner, r: ApprovalRecord): Promise<void> {
  if (r.executions > 0) return
  r.executions += 1
  const requester: Caller = 'app' in r.requester
    ? { kind: 'app', appId: r.requester.app, acctId: ctx.model.account.acctId }
    : { kind: 'user', userId: r.requester.user, acctId: ctx.model.account.acctId, session: { token: '', principal: r.requester, acctId: ctx.model.account.acctId, createdAt: 0, lastUsed: 0 } }
  let result: { status: number; body: unknown }
  try {
    const opCtx = operationContext(ctx, runner, r, requester, true)
    const out = await runner.run(opCtx)
    result = { status: out.status, body: out.body ?? null }
  } catch (e) {
    result = e instanceof DsmError ? { status: e.status, body: e.message } : { status: 500, body: 'Internal error' }
  }
  r.result = result
  r.status = result.status < 300 ? 'APPROVED' : 'FAILED'
}

function reviewerEntry(ctx: Ctx, r: ApprovalRecord, c: Caller): ReviewerEntry {
  const id = principalId(c)
  const entry = reviewers(ctx, r).find((rv) => ('user' in rv.principal ? rv.principal.user : rv.principal.app) === id)
  if (!entry) throw forbidden('You are not a reviewer of this approval request')
  return entry
}

export function approvalRoutes(runner: OperationRunner): Route[] {
  return [
    {
      method: 'POST',
      pattern: '/sys/v1/approval_requests',
      auth: 'account',
      handle(ctx) {
        const c = caller(ctx)
        const o = asObject(ctx.body)
        const method = (optString(o, 'method') ?? 'POST').toUpperCase()
        let operation = optString(o, 'operation')
        if (!operation) throw badRequest('Missing required field operation')
        // [tf] sends the path without its leading slash, which the server accepts (dsm-api.md §6.3).
        if (!operation.startsWith('/')) operation = `/${operation}`
        const description = optString(o, 'description') ?? null
        const body = o['body'] === undefined ? null : structuredClone(o['body'])
        const target = runner.resolve(method, operation)
        if (!target) throw badRequest(`Unknown operation ${method} ${operation}`)
        if (!target.route.protection) throw badRequest(`${method} ${operation} cannot be the subject of an approval request`)
        // Resolving the protection looks up the keys and groups named in the body, so a request
        // for a missing key fails now, with the same error the operation would give.
        const protection: Protection = target.route.protection(operationContext(ctx, runner, { method, operation, body }, c, false))
        if (protection.policyGroups.length === 0) {
          // Simulator choice: no approval policy covers the operation, so there is nobody to ask.
          throw badRequest(`${method} ${operation} does not require approval: call it directly`)
        }
        const now = ctx.config.now()
        const r: ApprovalRecord = {
          requestId: randomUUID(),
          requester: principalOf(c),
          createdAt: now,
          expiry: now + ctx.config.approvalTtlSeconds * 1000,
          method,
          operation,
          body,
          description,
          status: 'PENDING',
          approvers: [],
          policyGroups: protection.policyGroups,
          subjects: protection.subjects,
          executions: 0,
          resultViews: 0,
        }
        ctx.model.approvals.set(r.requestId, r)
        // 201 Created, as the vendor CLI expects (dsm-api.md §10).
        return { status: 201, body: ctx.model.approvalView(r, reviewers(ctx, r)) }
      },
    },
    {
      method: 'GET',
      pattern: '/sys/v1/approval_requests',
      auth: 'account',
      handle(ctx) {
        const q = ctx.query
        const status = q.get('status')
        const requester = q.get('requester')
        const reviewer = q.get('reviewer')
        const subject = q.get('subject')
        const out: unknown[] = []
        for (const r of [...ctx.model.approvals.values()]) {
          if (isExpired(ctx, r) && ctx.config.vendor.expiredApprovalRequests === 'removed') {
            ctx.model.approvals.delete(r.requestId)
            continue
          }
          if (status !== null && r.status !== status) continue
          if (requester !== null && Object.values(r.requester)[0] !== requester) continue
          if (reviewer !== null && !reviewers(ctx, r).some((rv) => Object.values(rv.principal)[0] === reviewer)) continue
          if (subject !== null && !r.subjects.some((s) => Object.values(s)[0] === subject)) continue
          out.push(ctx.model.approvalView(r, reviewers(ctx, r)))
        }
        return { status: 200, body: out }
      },
    },
    { method: 'GET', pattern: '/sys/v1/approval_requests/:req_id', auth: 'account', handle: (ctx) => view(ctx, lookup(ctx)) },
    {
      method: 'DELETE',
      pattern: '/sys/v1/approval_requests/:req_id',
      auth: 'account',
      handle(ctx) {
        const r = lookup(ctx)
        if (Object.values(r.requester)[0] !== principalId(caller(ctx))) throw forbidden('Only the requester can withdraw an approval request')
        ctx.model.approvals.delete(r.requestId)
        return { status: 204 }
      },
    },
    {
      method: 'POST',
      pattern: '/sys/v1/approval_requests/:req_id/approve',
      auth: 'account',
      async handle(ctx) {
        const c = caller(ctx)
        const r = lookup(ctx)
        const entry = reviewerEntry(ctx, r, c)
        refuseIfExpired(ctx, r)
        if (r.status !== 'PENDING') throw badRequest(`Approval request is ${r.status}, not PENDING`)
        const id = principalId(c)
        if (r.approvers.includes(id)) throw badRequest('You have already approved this request')
        if (entry.requiresPassword) {
          const o = ctx.body === undefined || ctx.body === null ? {} : asObject(ctx.body)
          const password = optString(o, 'password')
          if (password === undefined) throw badRequest('The approval policy requires your password: send it in the password field')
          const user = c.kind === 'user' ? ctx.model.users.get(c.userId) : undefined
          if (!user || user.password !== password) throw forbidden('Password verification failed')
        }
        r.approvers.push(id)
        const approvers = new Set(r.approvers)
        const met = r.policyGroups.every((gid) => {
          const p = ctx.model.groups.get(gid)?.approvalPolicy
          return !p || quorumMet(p, approvers)
        })
        if (met) {
          r.status = 'APPROVED'
          // Approved by all: expiry restarts from now (ApprovalRequestSettings docs).
          r.expiry = ctx.config.now() + ctx.config.approvalTtlSeconds * 1000
          if (ctx.config.vendor.executeApprovedOperation === 'at-quorum') await execute(ctx, runner, r)
        }
        return view(ctx, r)
      },
    },
    {
      method: 'POST',
      pattern: '/sys/v1/approval_requests/:req_id/deny',
      auth: 'account',
      handle(ctx) {
        const c = caller(ctx)
        const r = lookup(ctx)
        reviewerEntry(ctx, r, c)
        refuseIfExpired(ctx, r)
        if (r.status !== 'PENDING') throw badRequest(`Approval request is ${r.status}, not PENDING`)
        const o = ctx.body === undefined || ctx.body === null ? {} : asObject(ctx.body)
        r.status = 'DENIED'
        r.denier = principalOf(c)
        r.denialReason = optString(o, 'reason') ?? null
        return view(ctx, r)
      },
    },
    {
      method: 'POST',
      pattern: '/sys/v1/approval_requests/:req_id/result',
      auth: 'account',
      async handle(ctx) {
        const c = caller(ctx)
        const r = lookup(ctx)
        if (Object.values(r.requester)[0] !== principalId(c)) throw forbidden('Only the requester can read the result of an approval request')
        refuseIfExpired(ctx, r)
        if (r.status === 'PENDING') throw badRequest('Approval request is still PENDING: it has no result yet')
        if (r.status === 'DENIED') throw badRequest('Approval request was DENIED: it has no result')
        if (!r.result) await execute(ctx, runner, r)
        if (r.resultViews > 0 && !ctx.config.vendor.approvalResultRereadable) throw badRequest('The result of this approval request has already been read')
        r.resultViews += 1
        return { status: 200, body: structuredClone(r.result) }
      },
    },
  ]
}

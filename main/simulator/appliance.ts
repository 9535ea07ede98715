// One simulated appliance's API: the route table and the request pipeline
// (authenticate -> account check -> approval check -> handler), independent of HTTP so the
// approval machinery can replay an operation exactly as a direct call would run it.
import { approvalRoutes, type OperationRunner } from './approvals'
import { audited } from './audit-log'
import { authenticate, requireAccount, sessionRoutes } from './auth'
import { accountRoutes } from './routes-accounts'
import { type ApplianceConfig, type Ctx, type Result, type Route, compilePattern } from './context'
import { approvalRequired, DsmError } from './errors'
import type { ApplianceModel } from './model'
import { cryptoRoutes } from './routes-crypto'
import { hmgRoutes } from './routes-hmg'
import { keyRoutes } from './routes-keys'
import { logRoutes } from './routes-logs'
import { sysRoutes } from './routes-sys'
import { wrapRoutes } from './routes-wrap'

interface CompiledRoute { route: Route; regex: RegExp; keys: string[] }

export interface ApiRequest {
  method: string
  /** path and query, as in the request line */
  url: string
  headers: Record<string, string | string[] | undefined>
  body: unknown
}

export interface ApiResponse {
  status: number
  /** JSON value, or a string for plain-text errors, or undefined for no body */
  body?: unknown
  contentType?: 'application/json' | 'text/plain; charset=utf-8'
  headers?: Record<string, string>
}

export class ApplianceApi implements OperationRunner {
  private readonly routes: CompiledRoute[]

  constructor(readonly model: ApplianceModel, readonly config: ApplianceConfig) {
    // Literal paths before parameterised ones (hmg/check before groups/:group_id/…).
    const all = [...sessionRoutes, ...hmgRoutes, ...accountRoutes, ...sysRoutes, ...logRoutes, ...keyRoutes, ...wrapRoutes, ...cryptoRoutes, ...approvalRoutes(this)]
    this.routes = all.map((route) => ({ route, ...compilePattern(route.pattern) }))
  }

  resolve(method: string, operation: string) {
    const u = new URL(operation, 'https://appliance.invalid')
    const m = method.toUpperCase()
    for (const r of this.routes) {
      if (r.route.method !== m) continue
      const match = r.regex.exec(u.pathname)
      if (!match) continue
      const params: Record<string, string> = {}
      r.keys.forEach((k, i) => { params[k] = decodeURIComponent(match[i + 1] ?? '') })
      return { route: r.route, params, path: u.pathname, query: u.searchParams }
    }
    return undefined
  }

  private pathKnown(path: string): boolean {
    return this.routes.some((r) => r.regex.test(path))
  }

  async run(ctx: Ctx): Promise<Result> {
    const target = this.resolve(ctx.method, ctx.path)
    if (!target) throw new DsmError(404, `No such API endpoint: ${ctx.method} ${ctx.path}`)
    const { route } = target
    if (route.auth !== 'none' && !ctx.caller) {
      const caller = authenticate(ctx)
      ctx.caller = caller
    }
    if (route.auth === 'account' && ctx.caller) requireAccount(ctx.caller)
    if (route.protection && !ctx.approved && route.protection(ctx).policyGroups.length > 0) throw approvalRequired()
    // An approved operation runs here, not through handle(): it is an entry of its own in the audit log.
    return ctx.approved ? audited(ctx, route, () => route.handle(ctx)) : route.handle(ctx)
  }

  /** The HTTP-independent entry point: never throws, errors become plain-text responses. */
  async handle(req: ApiRequest): Promise<ApiResponse> {
    const u = new URL(req.url, 'https://appliance.invalid')
    const method = req.method.toUpperCase()
    const target = this.resolve(method, u.pathname + u.search)
    try {
      if (!target) {
        if (this.pathKnown(u.pathname)) throw new DsmError(405, `Method ${method} is not allowed on ${u.pathname}`)
        throw new DsmError(404, `No such API endpoint: ${method} ${u.pathname}`)
      }
      const ctx: Ctx = {
        model: this.model,
        config: this.config,
        method,
        path: u.pathname,
        query: u.searchParams,
        body: req.body,
        params: target.params,
        headers: req.headers,
        approved: false,
      }
      const result = await audited(ctx, target.route, () => this.run(ctx))
      return {
        status: result.status,
        ...(result.body !== undefined && result.status !== 204 ? { body: result.body, contentType: 'application/json' as const } : {}),
        ...(result.headers ? { headers: result.headers } : {}),
      }
    } catch (e) {
      if (e instanceof DsmError) return { status: e.status, body: e.message, contentType: 'text/plain; charset=utf-8', headers: e.headers }
      // Never echo internals to the client (they could hold request data). DSM_SIM_DEBUG=1 prints
      // the stack for whoever runs the simulator; key material never reaches an Error message.
      if (process.env['DSM_SIM_DEBUG'] === '1') process.stderr.write(`dsm-simulator: ${(e as Error)?.stack ?? String(e)}\n`)
      return { status: 500, body: 'Internal server error', contentType: 'text/plain; charset=utf-8' }
    }
  }
}

// GET /sys/v1/logs (vendor GetAllLogs, `LogsParams` -> `EsAuditQueryResponse`): the entries of the
// appliance's audit log the caller may see, filtered as the document's query parameters say.
//
// - An app sees the entries of the groups where it holds the AUDIT permission (AppPermissions) and
//   its own; an app with AUDIT in no group is refused (403) (`vendor.auditLogAppScope`). Users see
//   what their role shows (an account administrator everything, a group administrator the groups
//   it created; the vendor's group permission for it is GET_AUDIT_LOGS).
// - `range_from`/`range_to`: epoch seconds (`vendor.auditLogRangeUnit`), both inclusive. `size`: at most 1000 (a larger value
//   returns 1000, as the vendor's Rust client documents; default 100, the simulator's choice).
//   `from`: offset; `from + size` beyond `vendor.auditLogMaxResultWindow` is a 400.
// - `action_type`, `actor_type`, `severity`: lists, comma-separated as the vendor's Rust client
//   sends them (a repeated parameter is accepted too). `actor_id`, `object_id`: exact UUIDs.
//   `previous_id`: only the entries after that one, in the order returned.
// - Order: `vendor.auditLogOrder` (newest first by default); entries of one instant keep the order
//   they were recorded in.
import { UUID_RE } from './body'
import type { Caller, Ctx, Route } from './context'
import { badRequest, DsmError, forbidden, OP_NOT_ALLOWED } from './errors'
import { auditStore, auditView, type AuditRecord } from './audit-log'
import { canSeeGroup } from './policy'

const ACTION_TYPES = ['ADMINISTRATIVE', 'AUTH', 'CRYPTOOPERATION', 'RUNPLUGIN', 'CUSTOM', 'OTHER']
const SEVERITIES = ['INFO', 'WARNING', 'ERROR', 'CRITICAL']
const ACTOR_TYPES = ['User', 'App', 'Plugin']
const MAX_U32 = 4294967295
const MAX_SIZE = 1000
const DEFAULT_SIZE = 100

function uint(q: URLSearchParams, name: string, max: number): number | undefined {
  const v = q.get(name)
  if (v === null) return undefined
  if (!/^\d+$/.test(v) || Number(v) > max) throw badRequest(`Invalid query parameter ${name}: expected an integer from 0 to ${max}`)
  return Number(v)
}

function list(q: URLSearchParams, name: string, allowed: string[]): Set<string> | undefined {
  const values = q.getAll(name).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '')
  if (values.length === 0) return undefined
  for (const v of values) if (!allowed.includes(v)) throw badRequest(`Invalid query parameter ${name}: ${JSON.stringify(v)} is not one of ${allowed.join(', ')}`)
  return new Set(values)
}

function uuid(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name)
  if (v === null) return undefined
  if (!UUID_RE.test(v)) throw badRequest(`Invalid query parameter ${name}: expected a UUID`)
  return v.toLowerCase()
}

/** Which entries this caller may read. */
function visibility(ctx: Ctx, c: Caller): (r: AuditRecord) => boolean {
  if (c.kind === 'user') return (r) => r.groupIds.length === 0 ? ctx.model.users.get(c.userId)?.role !== 'group-admin' : r.groupIds.some((g) => canSeeGroup(ctx.model, c, g))
  const app = ctx.model.apps.get(c.appId)
  const everyGroup = ctx.config.vendor.auditLogAppScope === 'member-groups'
  const audited = new Set(Object.entries(app?.groups ?? {}).filter(([, perms]) => everyGroup || perms.includes('AUDIT')).map(([g]) => g))
  if (audited.size === 0) throw forbidden(`${OP_NOT_ALLOWED}: the app lacks the AUDIT permission in every group`)
  return (r) => r.actorId === c.appId || r.groupIds.some((g) => audited.has(g))
}

export const logRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/sys/v1/logs',
    auth: 'account',
    handle(ctx) {
      if (!ctx.caller) throw new DsmError(401, 'Missing Authorization header')
      const q = ctx.query
      const size = Math.min(uint(q, 'size', MAX_U32) ?? DEFAULT_SIZE, MAX_SIZE)
      const from = uint(q, 'from', MAX_U32) ?? 0
      const window = ctx.config.vendor.auditLogMaxResultWindow
      if (from + size > window) throw badRequest(`Result window is too large, from + size must be less than or equal to: [${window}] but was [${from + size}]`)
      const rangeFrom = uint(q, 'range_from', Number.MAX_SAFE_INTEGER)
      const rangeTo = uint(q, 'range_to', Number.MAX_SAFE_INTEGER)
      const actions = list(q, 'action_type', ACTION_TYPES)
      const actorTypes = list(q, 'actor_type', ACTOR_TYPES)
      const severities = list(q, 'severity', SEVERITIES)
      const actorId = uuid(q, 'actor_id')
      const objectId = uuid(q, 'object_id')
      const previousId = uuid(q, 'previous_id')
      const visible = visibility(ctx, ctx.caller)

      const store = auditStore(ctx.model)
      store.purge(ctx.config.now(), ctx.config.vendor.auditLogRetentionDays)
      const unit = ctx.config.vendor.auditLogRangeUnit === 'milliseconds' ? 1 : 1000
      const seconds = (r: AuditRecord) => Math.floor(r.at / unit)
      let hits = store.records.filter((r) => visible(r)
        && (rangeFrom === undefined || seconds(r) >= rangeFrom) && (rangeTo === undefined || seconds(r) <= rangeTo)
        && (!actions || actions.has(r.actionType)) && (!actorTypes || actorTypes.has(r.actorType)) && (!severities || severities.has(r.severity))
        && (actorId === undefined || r.actorId === actorId) && (objectId === undefined || r.objectId === objectId))
      hits.sort((a, b) => a.at - b.at || a.seq - b.seq)
      if (ctx.config.vendor.auditLogOrder === 'newest-first') hits.reverse()
      if (previousId !== undefined) {
        const i = hits.findIndex((r) => r.id === previousId)
        if (i < 0) throw badRequest('Invalid query parameter previous_id: no such log entry')
        hits = hits.slice(i + 1)
      }
      return { status: 200, body: { hits: hits.slice(from, from + size).map((r) => auditView(ctx.model, r)) } }
    },
  },
]

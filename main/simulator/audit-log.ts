// The appliance's own audit log (vendor `EsAuditLog`, served by GET /sys/v1/logs, routes-logs.ts):
// one entry for every call the appliance serves with a known principal — who (app or user), what
// (ADMINISTRATIVE, CRYPTOOPERATION, AUTH, or OTHER for reads), on which object and groups, when,
// and the outcome (severity, and the refusal in the message). An operation run because its
// approval request was approved is an entry of its own, by the requester.
//
// Choices the vendor's documents leave open, and the simulator's answers:
// - `object_id` is the entity the call created or acted on: the new key's kid for generate,
//   import and unwrap; the subject's kid for wrap; the request's id for everything done to an
//   approval request; the actor itself for a sign-in. `group_ids` are the groups of every key,
//   request and group the call names.
// - Calls no principal can be named for (version, health, an unknown bearer token) are not entries.
// - Reads are entries only with `vendor.auditLogReads: 'recorded'` (the default).
// - Entries older than `vendor.auditLogRetentionDays` (default 90) are purged, as Fortanix does.
// Messages never carry a request or response body: no key material or credential reaches the log.
import { randomUUID } from 'node:crypto'
import { UUID_RE } from './body'
import type { Caller, Ctx, Result, Route } from './context'
import { DsmError } from './errors'
import type { ApplianceModel } from './model'

export type ActionType = 'ADMINISTRATIVE' | 'AUTH' | 'CRYPTOOPERATION' | 'RUNPLUGIN' | 'CUSTOM' | 'OTHER'
export type Severity = 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL'

export interface AuditRecord {
  id: string
  /** ms since the epoch, by the appliance's clock */
  at: number
  /** order of recording, to keep entries of the same millisecond in order */
  seq: number
  actionType: ActionType
  actorType: 'App' | 'User'
  actorId: string
  objectId: string
  groupIds: string[]
  message: string
  severity: Severity
  responseMs: number
}

const DAY_MS = 24 * 3600 * 1000

class AuditStore {
  readonly records: AuditRecord[] = []
  private seq = 0
  add(r: Omit<AuditRecord, 'id' | 'seq'>): void {
    this.records.push({ ...r, id: randomUUID(), seq: ++this.seq })
  }
  /** Drops what the appliance would have purged by `now`. */
  purge(now: number, retentionDays: number): void {
    const cutoff = now - retentionDays * DAY_MS
    let i = 0
    while (i < this.records.length && this.records[i]!.at < cutoff) i++
    if (i > 0) this.records.splice(0, i)
  }
}

const stores = new WeakMap<ApplianceModel, AuditStore>()

/** The appliance's audit log (one per simulated appliance, created on first use). */
export function auditStore(model: ApplianceModel): AuditStore {
  let s = stores.get(model)
  if (!s) stores.set(model, (s = new AuditStore()))
  return s
}

/** What each route is, for the log: its action type and the verb of its message. Reads are OTHER. */
const ACTIONS: Record<string, [ActionType, string]> = {
  'POST /sys/v1/session/auth': ['AUTH', 'Signed in'],
  'POST /sys/v1/session/terminate': ['AUTH', 'Signed out'],
  'POST /sys/v1/session/refresh': ['AUTH', 'Refreshed the session'],
  'POST /sys/v1/session/select_account': ['AUTH', 'Selected the account'],
  'POST /crypto/v1/keys': ['ADMINISTRATIVE', 'Created security object'],
  'PUT /crypto/v1/keys': ['ADMINISTRATIVE', 'Imported security object'],
  'DELETE /crypto/v1/keys/:kid': ['ADMINISTRATIVE', 'Deleted security object'],
  'POST /crypto/v1/keys/export': ['CRYPTOOPERATION', 'Exported security object'],
  'POST /crypto/v1/wrapkey': ['CRYPTOOPERATION', 'Wrapped security object'],
  'POST /crypto/v1/unwrapkey': ['CRYPTOOPERATION', 'Unwrapped security object'],
  'POST /crypto/v1/encrypt': ['CRYPTOOPERATION', 'Encrypted with security object'],
  'POST /crypto/v1/decrypt': ['CRYPTOOPERATION', 'Decrypted with security object'],
  'POST /sys/v1/approval_requests': ['ADMINISTRATIVE', 'Created approval request'],
  'POST /sys/v1/approval_requests/:req_id/approve': ['ADMINISTRATIVE', 'Approved approval request'],
  'POST /sys/v1/approval_requests/:req_id/deny': ['ADMINISTRATIVE', 'Denied approval request'],
  'DELETE /sys/v1/approval_requests/:req_id': ['ADMINISTRATIVE', 'Deleted approval request'],
  'POST /sys/v1/groups': ['ADMINISTRATIVE', 'Created group'],
  'PATCH /sys/v1/groups/:group_id': ['ADMINISTRATIVE', 'Updated group'],
  'POST /sys/v1/apps': ['ADMINISTRATIVE', 'Created app'],
  // Reading a secret is never a mere read: it is logged even when reads are not.
  'GET /sys/v1/apps/:app_id/credential': ['ADMINISTRATIVE', 'Read the credential of app'],
}

interface Target { object?: string; name?: string; groups: Set<string> }

function keyTarget(model: ApplianceModel, t: Target, kidOrName: { kid?: unknown; name?: unknown } | undefined): void {
  if (!kidOrName || typeof kidOrName !== 'object') return
  const kid = typeof kidOrName.kid === 'string' && UUID_RE.test(kidOrName.kid) ? kidOrName.kid.toLowerCase() : undefined
  const k = kid ? model.keys.get(kid) : typeof kidOrName.name === 'string' ? model.keyByName(kidOrName.name) : undefined
  if (!k) return
  t.groups.add(k.groupId)
  if (!t.object) { t.object = k.kid; t.name = k.name }
}

function requestTarget(model: ApplianceModel, t: Target, id: string | undefined): void {
  const r = id && UUID_RE.test(id) ? model.approvals.get(id.toLowerCase()) : undefined
  if (!r) return
  t.object ??= r.requestId
  for (const g of r.policyGroups) t.groups.add(g)
  for (const s of r.subjects) {
    if ('group' in s) t.groups.add(s.group)
    else { const k = model.keys.get(s.sobject); if (k) t.groups.add(k.groupId) }
  }
}

/** What the call names, read before it runs (a deleted key or request is gone afterwards). */
function before(ctx: Ctx): Target {
  const t: Target = { groups: new Set() }
  const { model, params } = ctx
  const body = ctx.body && typeof ctx.body === 'object' ? (ctx.body as Record<string, unknown>) : {}
  if (params['req_id']) requestTarget(model, t, params['req_id'])
  if (params['kid']) keyTarget(model, t, { kid: params['kid'] })
  if (params['group_id'] && model.groups.has(params['group_id'])) { t.object ??= params['group_id']; t.groups.add(params['group_id']) }
  const app = params['app_id'] && UUID_RE.test(params['app_id']) ? model.apps.get(params['app_id'].toLowerCase()) : undefined
  if (app) { t.object ??= app.appId; t.name = app.name; for (const g of Object.keys(app.groups)) t.groups.add(g) }
  keyTarget(model, t, body['subject'] as never)
  keyTarget(model, t, body['key'] as never)
  return t
}

/** What the answer adds: the object the call created (a key, a request, a group). */
function after(ctx: Ctx, t: Target, result: Result | undefined): void {
  const b = result?.body && typeof result.body === 'object' ? (result.body as Record<string, unknown>) : undefined
  if (!b) return
  if (typeof b['request_id'] === 'string') requestTarget(ctx.model, t, b['request_id'])
  if (typeof b['kid'] === 'string' && ctx.method !== 'GET') {
    const created = ['POST /crypto/v1/keys', 'PUT /crypto/v1/keys', 'POST /crypto/v1/unwrapkey']
    if (created.includes(`${ctx.method} ${ctx.path}`)) { t.object = b['kid']; t.name = typeof b['name'] === 'string' ? b['name'] : undefined }
    if (typeof b['group_id'] === 'string') t.groups.add(b['group_id'])
  }
  if (typeof b['group_id'] === 'string' && ctx.path.startsWith('/sys/v1/groups')) { t.object ??= b['group_id']; t.groups.add(b['group_id']) }
  if (typeof b['app_id'] === 'string' && ctx.method === 'POST' && ctx.path === '/sys/v1/apps') {
    t.object = b['app_id']
    t.name = typeof b['name'] === 'string' ? b['name'] : undefined
    for (const g of Object.keys((b['groups'] ?? {}) as object)) t.groups.add(g)
  }
}

/** The principal named by Basic credentials, if the appliance knows it (a refused sign-in is still an entry). */
function claimed(ctx: Ctx): Caller | undefined {
  const header = ctx.headers['authorization']
  const m = typeof header === 'string' ? /^\s*Basic\s+(\S+)/i.exec(header) : null
  if (!m) return undefined
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8')
  const id = decoded.slice(0, Math.max(0, decoded.indexOf(':')))
  if (UUID_RE.test(id) && ctx.model.apps.has(id.toLowerCase())) return { kind: 'app', appId: id.toLowerCase(), acctId: ctx.model.account.acctId }
  const user = ctx.model.userByEmail(id)
  return user ? { kind: 'user', userId: user.userId, session: { token: '', principal: { user: user.userId }, createdAt: 0, lastUsed: 0 } } : undefined
}

function actorOf(ctx: Ctx, result: Result | undefined): Caller | undefined {
  if (ctx.caller) return ctx.caller
  const b = result?.body as { entity_id?: unknown } | undefined
  if (typeof b?.entity_id === 'string') return ctx.model.apps.has(b.entity_id) ? { kind: 'app', appId: b.entity_id, acctId: ctx.model.account.acctId } : { kind: 'user', userId: b.entity_id, session: { token: '', principal: { user: b.entity_id }, createdAt: 0, lastUsed: 0 } }
  return claimed(ctx)
}

/**
 * Runs a call and records it in the appliance's log, whatever its outcome. An operation run because
 * its approval request was approved (`ctx.approved`) is recorded as the requester's, and says so.
 */
export async function audited(ctx: Ctx, route: Route, run: () => Result | Promise<Result>): Promise<Result> {
  const started = ctx.config.now()
  const target = before(ctx)
  let result: Result | undefined
  let failure: { status: number; text: string } | undefined
  try {
    result = await run()
    return result
  } catch (e) {
    failure = e instanceof DsmError ? { status: e.status, text: e.message } : { status: 500, text: 'Internal error' }
    throw e
  } finally {
    record(ctx, route, target, result, failure, started)
  }
}

function record(ctx: Ctx, route: Route, target: Target, result: Result | undefined, failure: { status: number; text: string } | undefined, started: number): void {
  const actor = actorOf(ctx, result)
  if (!actor) return
  const [actionType, verb] = ACTIONS[`${route.method} ${route.pattern}`] ?? ['OTHER', `Read ${route.method} ${route.pattern}`]
  const vendor = ctx.config.vendor
  if (actionType === 'OTHER' && vendor.auditLogReads === 'not-recorded') return
  after(ctx, target, result)
  const status = failure?.status ?? result?.status ?? 500
  const actorId = actor.kind === 'app' ? actor.appId : actor.userId
  if (actionType === 'AUTH' && actor.kind === 'app') for (const g of Object.keys(ctx.model.apps.get(actorId)?.groups ?? {})) target.groups.add(g)
  const what = target.name !== undefined ? `${verb} ${JSON.stringify(target.name)}` : verb
  const outcome = failure ? `: refused (${status}) ${failure.text.replace(/[\u0000-\u001f]+/g, ' ').slice(0, 160)}` : ''
  const now = ctx.config.now()
  const store = auditStore(ctx.model)
  store.purge(now, vendor.auditLogRetentionDays)
  store.add({
    at: started,
    actionType,
    actorType: actor.kind === 'app' ? 'App' : 'User',
    actorId,
    objectId: target.object ?? (actionType === 'AUTH' ? actorId : ctx.model.account.acctId),
    groupIds: [...target.groups],
    message: `${what}${ctx.approved ? ' (as approved by the quorum)' : ''}${outcome}`,
    severity: status >= 500 ? 'ERROR' : status >= 400 ? 'WARNING' : 'INFO',
    responseMs: Math.max(0, now - started),
  })
}

/** An entry as the API returns it (EsAuditLogOuter). */
export function auditView(model: ApplianceModel, r: AuditRecord): Record<string, unknown> {
  return {
    _id: r.id,
    _source: {
      action_type: r.actionType,
      actor_type: r.actorType,
      message: r.message,
      severity: r.severity,
      time: new Date(r.at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      acct_id: model.account.acctId,
      actor_id: r.actorId,
      group_ids: [...r.groupIds],
      object_id: r.objectId,
      response_time: { secs: Math.floor(r.responseMs / 1000), nanos: (r.responseMs % 1000) * 1_000_000 },
    },
  }
}

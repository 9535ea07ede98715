// Users and apps made and read by an account administrator (dsm-api.md §3; OpenAPI ListUsers,
// CreateApp, GetAppCredential): what replace-appliance's onboarding calls on a fresh FIPS
// appliance. An app's secret leaves the appliance only through GET …/credential, to a user
// session; every call is an entry of the appliance's audit log (audit-log.ts), never with a body.
import { randomBytes, randomUUID } from 'node:crypto'
import { UUID_RE, asObject, optString, reqString } from './body'
import type { Caller, Ctx, Route } from './context'
import { principalOf } from './context'
import { badRequest, conflict, DsmError, forbidden, notFound } from './errors'
import type { App } from './model'
import { canSeeGroup, hasQuorum } from './policy'

/** AppPermissions the simulator knows (the vendor has more; an unknown one is refused, as a typo would be). */
const PERMISSIONS = new Set([
  'SIGN', 'VERIFY', 'ENCRYPT', 'DECRYPT', 'WRAPKEY', 'UNWRAPKEY', 'DERIVEKEY', 'MACGENERATE', 'MACVERIFY', 'EXPORT', 'MANAGE', 'AGREEKEY', 'AUDIT',
  'CREATE_SOBJECTS', 'DELETE_SOBJECTS', 'ROTATE_SOBJECTS', 'ACTIVATE_SOBJECTS', 'UPDATE_SOBJECTS_PROFILE', 'UPDATE_SOBJECTS_ENABLED_STATE', 'UPDATE_KEY_OPS',
  'REVOKE_SOBJECTS', 'REVERT_SOBJECTS', 'DELETE_KEY_MATERIAL', 'DESTROY_SOBJECTS', 'MOVE_SOBJECTS', 'TRANSFORM', 'MASKDECRYPT', 'ESTIMATEQUOTA', 'ENCAPSULATE', 'DECAPSULATE',
  'GET_SOBJECTS', 'UPDATE_SOBJECT_POLICIES',
])

function userCaller(ctx: Ctx): Extract<Caller, { kind: 'user' }> {
  const c = ctx.caller
  if (!c) throw new DsmError(401, 'Missing Authorization header')
  if (c.kind !== 'user') throw forbidden('This operation is only allowed for account administrators')
  if (ctx.model.users.get(c.userId)?.role === 'group-admin') throw forbidden('This operation is only allowed for account administrators')
  return c
}

/** AppGroups: `{group: [permissions]}` or the legacy array of group ids (no permissions). */
function parseAppGroups(ctx: Ctx, v: unknown): Record<string, string[]> {
  const entries: [string, string[]][] = Array.isArray(v)
    ? v.map((id) => [typeof id === 'string' ? id : '', []])
    : Object.entries(asObject(v, 'add_groups')).map(([id, perms]) => {
      if (!Array.isArray(perms) || perms.some((p) => typeof p !== 'string' || !PERMISSIONS.has(p))) throw badRequest(`Invalid add_groups.${id}: expected an array of app permissions`)
      return [id, [...new Set(perms as string[])]]
    })
  if (entries.length === 0) throw badRequest('Invalid add_groups: an app needs at least one group')
  for (const [id] of entries) {
    if (!UUID_RE.test(id) || !ctx.model.groups.has(id.toLowerCase())) throw badRequest(`Invalid add_groups: group ${id} does not exist`)
  }
  return Object.fromEntries(entries.map(([id, p]) => [id.toLowerCase(), p]))
}

function appOf(ctx: Ctx): App {
  const id = ctx.params['app_id'] ?? ''
  const app = UUID_RE.test(id) ? ctx.model.apps.get(id.toLowerCase()) : undefined
  if (!app) throw notFound('app does not exist')
  return app
}

export const accountRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/sys/v1/users',
    auth: 'account',
    handle(ctx) {
      userCaller(ctx)
      return { status: 200, body: [...ctx.model.users.values()].map((u) => ctx.model.userView(u)) }
    },
  },
  {
    method: 'POST',
    pattern: '/sys/v1/apps',
    auth: 'account',
    handle(ctx) {
      const c = userCaller(ctx)
      const o = asObject(ctx.body)
      const name = reqString(o, 'name')
      if ([...ctx.model.apps.values()].some((a) => a.name === name)) throw conflict('app already exists')
      if (o['add_groups'] === undefined || o['add_groups'] === null) throw badRequest('Missing required field add_groups')
      const groups = parseAppGroups(ctx, o['add_groups'])
      for (const g of Object.keys(groups)) if (!canSeeGroup(ctx.model, c, g)) throw badRequest(`Invalid add_groups: group ${g} does not exist`)
      const named = optString(o, 'default_group')?.toLowerCase()
      if (named !== undefined && !groups[named]) throw badRequest('Invalid default_group: not one of the app\'s groups')
      const role = optString(o, 'role')
      if (role !== undefined && role !== 'crypto') throw badRequest('The simulator makes crypto apps only')
      const description = optString(o, 'description')
      const app: App = {
        appId: randomUUID(),
        name,
        // 64 random bytes, base64url: the 86-character secret of the vendor's sample key (dsm-api.md §3).
        secret: randomBytes(64).toString('base64url'),
        groups,
        defaultGroup: named ?? Object.keys(groups)[0]!,
        createdAt: ctx.config.now(),
        creator: principalOf(c),
        ...(description !== undefined ? { description } : {}),
      }
      ctx.model.apps.set(app.appId, app)
      return { status: 200, body: ctx.model.appView(app) }
    },
  },
  {
    method: 'GET',
    pattern: '/sys/v1/apps/:app_id/credential',
    auth: 'account',
    // Some appliances put the credential of an app in a quorum group behind that quorum (VendorChoices.appCredentialApproval).
    protection(ctx) {
      const app = appOf(ctx)
      const quorum = ctx.config.vendor.appCredentialApproval === 'quorum-group'
        ? Object.keys(app.groups).filter((g) => { const p = ctx.model.groups.get(g)?.approvalPolicy; return !!p && hasQuorum(p) })
        : []
      return { policyGroups: quorum, subjects: Object.keys(app.groups).map((group) => ({ group })) }
    },
    handle(ctx) {
      userCaller(ctx)
      const app = appOf(ctx)
      return { status: 200, body: { app_id: app.appId, credential: { secret: app.secret } } }
    },
  },
]

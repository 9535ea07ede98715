// Version, health, accounts, groups and apps (dsm-api.md §2, §3, §7).
import { createHash, randomUUID } from 'node:crypto'
import { UUID_RE, asObject, optString, reqString } from './body'
import type { Caller, Ctx, Route } from './context'
import { principalOf } from './context'
import { badRequest, conflict, DsmError, forbidden, notFound } from './errors'
import { applyHmgChanges } from './hmg-config'
import type { Group, GroupApprovalPolicy, QuorumPolicy } from './model'
import { canSeeGroup, hasQuorum, visibleGroup } from './policy'

export const SIM_VERSION = '4.34.2201'

function caller(ctx: Ctx): Caller {
  if (!ctx.caller) throw new DsmError(401, 'Missing Authorization header')
  return ctx.caller
}

function requireUser(ctx: Ctx): void {
  if (caller(ctx).kind !== 'user') throw forbidden('This operation is only allowed for account administrators')
}

/** Validates an approval_policy as the simulator understands it: quorums of users and apps. */
function parsePolicy(ctx: Ctx, v: unknown): GroupApprovalPolicy {
  const o = asObject(v, 'approval_policy')
  const policy = parseQuorumPolicy(ctx, o) as GroupApprovalPolicy
  if (o['protect_permissions'] !== undefined && o['protect_permissions'] !== null) {
    if (!Array.isArray(o['protect_permissions']) || o['protect_permissions'].some((x) => typeof x !== 'string')) {
      throw badRequest('Invalid approval_policy.protect_permissions: expected an array of strings')
    }
    policy.protect_permissions = [...(o['protect_permissions'] as string[])]
  }
  for (const f of ['protect_crypto_operations', 'protect_manage_operations'] as const) {
    if (o[f] !== undefined && o[f] !== null) {
      if (typeof o[f] !== 'boolean') throw badRequest(`Invalid approval_policy.${f}: expected true or false`)
      policy[f] = o[f] as boolean
    }
  }
  return policy
}

function parseQuorumPolicy(ctx: Ctx, o: Record<string, unknown>): QuorumPolicy {
  if (o['quorum'] !== undefined && o['quorum'] !== null) {
    const q = asObject(o['quorum'], 'quorum')
    const n = q['n']
    const members = q['members']
    if (!Array.isArray(members) || members.length === 0) throw badRequest('Invalid quorum: members must be a non-empty array')
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > members.length) throw badRequest('Invalid quorum: n must be between 1 and the number of members')
    return {
      quorum: {
        n,
        members: members.map((m) => parseQuorumPolicy(ctx, asObject(m, 'quorum member'))),
        ...(q['require_password'] === true ? { require_password: true } : {}),
        ...(q['require_2fa'] === true ? { require_2fa: true } : {}),
      },
    }
  }
  const user = o['user']
  if (typeof user === 'string') {
    if (!ctx.model.users.has(user)) throw badRequest(`Invalid quorum member: user ${user} does not exist`)
    return { user }
  }
  const app = o['app']
  if (typeof app === 'string') {
    if (!ctx.model.apps.has(app)) throw badRequest(`Invalid quorum member: app ${app} does not exist`)
    return { app }
  }
  throw badRequest('Invalid quorum policy: expected quorum, user or app')
}

const PASSTHROUGH_GROUP_FIELDS = ['wrapping_key_name', 'custom_metadata', 'hmg_segregation', 'hmg_sync']

const getGroupRoute: Route = {
  method: 'GET',
  pattern: '/sys/v1/groups/:group_id',
  auth: 'account',
  handle: (ctx) => ({ status: 200, body: ctx.model.groupView(visibleGroup(ctx.model, caller(ctx), ctx.params['group_id'] ?? '')) }),
}

export const sysRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/sys/v1/version',
    auth: 'none',
    // fips_level present ⇒ FIPS mode (dsm-api.md §2); the non-FIPS cluster (and a FIPS appliance taken
    // out of FIPS mode) has none. `plugins_digest` only on a FIPS build asked for `detailed_fips_info`
    // (VersionParams: "Only applicable to FIPS builds").
    handle: (ctx) => {
      if (ctx.config.role !== 'fips' || ctx.config.fipsMode === false) return { status: 200, body: { version: SIM_VERSION, api_version: '1.0', server_mode: 'Software' } }
      const detailed = ctx.query.get('detailed_fips_info') === 'true'
      return {
        status: 200,
        body: {
          version: SIM_VERSION, api_version: '1.0', server_mode: ctx.config.vendor.fipsServerMode, fips_level: ctx.config.vendor.fipsLevel,
          ...(detailed ? { plugins_digest: createHash('sha256').update('no plugins').digest('base64') } : {}),
        },
      }
    },
  },
  { method: 'GET', pattern: '/sys/v1/health', auth: 'none', handle: () => ({ status: 204 }) },
  {
    method: 'GET',
    pattern: '/sys/v1/accounts',
    auth: 'session',
    handle: (ctx) => ({ status: 200, body: [ctx.model.accountView()] }),
  },
  {
    method: 'GET',
    pattern: '/sys/v1/accounts/:acct_id',
    auth: 'session',
    handle(ctx) {
      if (ctx.params['acct_id'] !== ctx.model.account.acctId) throw notFound('account does not exist')
      return { status: 200, body: ctx.model.accountView() }
    },
  },
  {
    method: 'GET',
    pattern: '/sys/v1/groups',
    auth: 'account',
    handle(ctx) {
      const c = caller(ctx)
      const groups = [...ctx.model.groups.values()].filter((g) => canSeeGroup(ctx.model, c, g.groupId))
      return { status: 200, body: groups.map((g) => ctx.model.groupView(g)) }
    },
  },
  {
    method: 'POST',
    pattern: '/sys/v1/groups',
    auth: 'account',
    handle(ctx) {
      requireUser(ctx)
      const o = asObject(ctx.body)
      const name = reqString(o, 'name')
      if ([...ctx.model.groups.values()].some((g) => g.name === name)) throw conflict('group already exists')
      const description = optString(o, 'description')
      const extra: Record<string, unknown> = {}
      for (const f of PASSTHROUGH_GROUP_FIELDS) if (o[f] !== undefined) extra[f] = structuredClone(o[f])
      const group: Group = {
        groupId: randomUUID(),
        name,
        createdAt: ctx.config.now(),
        creator: principalOf(caller(ctx)),
        extra,
        ...(description !== undefined ? { description } : {}),
        ...(o['approval_policy'] ? { approvalPolicy: parsePolicy(ctx, o['approval_policy']) } : {}),
      }
      applyHmgChanges(group, o, true)
      ctx.model.groups.set(group.groupId, group)
      return { status: 200, body: ctx.model.groupView(group) }
    },
  },
  getGroupRoute,
  {
    method: 'PATCH',
    pattern: '/sys/v1/groups/:group_id',
    auth: 'account',
    // Once a group has a quorum policy, changing the group (policy included) needs approval (dsm-api.md §6.1).
    protection(ctx) {
      const g = visibleGroup(ctx.model, caller(ctx), ctx.params['group_id'] ?? '')
      const protectedByQuorum = !!g.approvalPolicy && hasQuorum(g.approvalPolicy)
      return { policyGroups: protectedByQuorum ? [g.groupId] : [], subjects: [{ group: g.groupId }] }
    },
    handle(ctx) {
      requireUser(ctx)
      const g = visibleGroup(ctx.model, caller(ctx), ctx.params['group_id'] ?? '')
      const o = asObject(ctx.body)
      // Everything is validated before the group changes: a bad hmg config changes nothing.
      const draft: Group = { ...g, ...(g.hmg ? { hmg: new Map(g.hmg) } : {}) }
      applyHmgChanges(draft, o, false)
      const name = optString(o, 'name')
      if (name !== undefined) {
        if ([...ctx.model.groups.values()].some((x) => x.name === name && x.groupId !== g.groupId)) throw conflict('group already exists')
        g.name = name
      }
      const description = optString(o, 'description')
      if (description !== undefined) g.description = description
      if (o['approval_policy'] !== undefined) {
        if (o['approval_policy'] === null || o['approval_policy'] === 'remove') delete g.approvalPolicy
        else g.approvalPolicy = parsePolicy(ctx, o['approval_policy'])
      }
      for (const f of PASSTHROUGH_GROUP_FIELDS) {
        if (o[f] === undefined) continue
        if (o[f] === null) delete g.extra[f]
        else g.extra[f] = structuredClone(o[f])
      }
      if (draft.hmg) g.hmg = draft.hmg
      if (draft.hmgRedundancy) g.hmgRedundancy = draft.hmgRedundancy
      else delete g.hmgRedundancy
      return { status: 200, body: ctx.model.groupView(g) }
    },
  },
  {
    method: 'GET',
    pattern: '/sys/v1/apps',
    auth: 'account',
    handle(ctx) {
      const c = caller(ctx)
      const apps = [...ctx.model.apps.values()].filter((a) => c.kind === 'user' || a.appId === c.appId)
      return { status: 200, body: apps.map((a) => ctx.model.appView(a)) }
    },
  },
  {
    method: 'GET',
    pattern: '/sys/v1/apps/:app_id',
    auth: 'account',
    handle(ctx) {
      const c = caller(ctx)
      const id = ctx.params['app_id'] ?? ''
      const app = UUID_RE.test(id) ? ctx.model.apps.get(id.toLowerCase()) : undefined
      if (!app || (c.kind === 'app' && c.appId !== app.appId)) throw notFound('app does not exist')
      return { status: 200, body: ctx.model.appView(app) }
    },
  },
]

// Who may do what: group membership and app permissions, key_ops, and the group quorum
// (approval_policy) semantics of dsm-api.md §6.
import type { Caller, Ctx } from './context'
import { forbidden, keyOpNotAllowed, notFound, OP_NOT_ALLOWED, sobjectMissing } from './errors'
import type { ApplianceModel, Group, KeyRecord, PrincipalRef, QuorumPolicy } from './model'
import type { ProtectedCryptoOperation } from './types'

/**
 * Apps see the groups they are members of. Users are account administrators and see all, except a
 * group administrator, who sees the groups it created.
 */
export function canSeeGroup(model: ApplianceModel, caller: Caller, groupId: string): boolean {
  if (caller.kind === 'user') {
    const g = model.groups.get(groupId)
    if (!g) return false
    if (model.users.get(caller.userId)?.role !== 'group-admin') return true
    return 'user' in g.creator && g.creator.user === caller.userId
  }
  return !!model.apps.get(caller.appId)?.groups[groupId]
}

export function visibleKey(model: ApplianceModel, caller: Caller, k: KeyRecord | undefined): KeyRecord {
  if (!k || !canSeeGroup(model, caller, k.groupId)) throw sobjectMissing()
  return k
}

export function visibleGroup(model: ApplianceModel, caller: Caller, groupId: string): Group {
  const g = model.groups.get(groupId)
  if (!g || !canSeeGroup(model, caller, groupId)) throw notFound('group does not exist')
  return g
}

/** An app needs the permission in the group (AppPermissions); users act as account administrators. */
export function requireAppPermission(model: ApplianceModel, caller: Caller, groupId: string, permission: string): void {
  if (caller.kind !== 'app') return
  const perms = model.apps.get(caller.appId)?.groups[groupId]
  if (!perms?.includes(permission)) throw forbidden(`${OP_NOT_ALLOWED}: the app lacks the ${permission} permission in group ${groupId}`)
}

export function requireKeyOp(k: KeyRecord, op: string): void {
  if (!k.keyOps.includes(op)) throw keyOpNotAllowed(k.name, op)
  if (!k.enabled) throw forbidden(`${OP_NOT_ALLOWED}: key ${JSON.stringify(k.name)} is disabled`)
}

/** Without APPMANAGEABLE a crypto app cannot delete or update the key (KeyOperations docs). */
export function requireAppManageable(caller: Caller, k: KeyRecord): void {
  if (caller.kind === 'app' && !k.keyOps.includes('APPMANAGEABLE')) throw keyOpNotAllowed(k.name, 'APPMANAGEABLE')
}

export function groupProtectsCrypto(ctx: Ctx, groupId: string, op: ProtectedCryptoOperation): boolean {
  const p = ctx.model.groups.get(groupId)?.approvalPolicy
  return !!p && hasQuorum(p) && p.protect_crypto_operations === true && ctx.config.vendor.protectedCryptoOperations.includes(op)
}

export function groupProtectsPermission(ctx: Ctx, groupId: string, permission: string): boolean {
  const p = ctx.model.groups.get(groupId)?.approvalPolicy
  return !!p && hasQuorum(p) && !!p.protect_permissions?.includes(permission)
}

export function hasQuorum(p: QuorumPolicy): boolean {
  return !!(p.quorum || p.user || p.app)
}

/** Is the policy met by this set of approver ids? Quorums nest. */
export function quorumMet(p: QuorumPolicy, approvers: ReadonlySet<string>): boolean {
  if (p.quorum) return p.quorum.members.filter((m) => quorumMet(m, approvers)).length >= p.quorum.n
  if (p.user) return approvers.has(p.user)
  if (p.app) return approvers.has(p.app)
  return false
}

export interface ReviewerEntry { principal: PrincipalRef; requiresPassword: boolean }

/** Every principal named in the policy; require_password is inherited from the enclosing quorum. */
export function reviewersOf(p: QuorumPolicy, requiresPassword = false, out: ReviewerEntry[] = []): ReviewerEntry[] {
  if (p.quorum) {
    const rp = requiresPassword || p.quorum.require_password === true
    for (const m of p.quorum.members) reviewersOf(m, rp, out)
  } else if (p.user) {
    if (!out.some((r) => 'user' in r.principal && r.principal.user === p.user)) out.push({ principal: { user: p.user }, requiresPassword })
  } else if (p.app) {
    if (!out.some((r) => 'app' in r.principal && r.principal.app === p.app)) out.push({ principal: { app: p.app }, requiresPassword: false })
  }
  return out
}

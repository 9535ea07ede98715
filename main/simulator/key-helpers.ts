// What the key routes (routes-keys, routes-wrap, routes-crypto) share: reading the request's key
// fields, finding the keys it names (by kid, name or transient_key blob), the group a new key
// goes to, storing a key, and the Sobject view.
import { randomUUID } from 'node:crypto'
import { type Obj, UUID_RE, asObject, optBool, optString, optStringArray, optStringMap, reqString } from './body'
import { type Caller, type Ctx, type Protection, type Result, principalOf } from './context'
import { badRequest, conflict, DsmError, SOBJECT_EXISTS } from './errors'
import type { Material } from './key-material'
import type { KeyRecord } from './model'
import { groupProtectsPermission, requireAppPermission, visibleGroup, visibleKey } from './policy'
import { DEFAULT_RSA_ENCRYPTION_POLICY, parseEncryptionPolicy, type RsaEncryptionPolicy } from './rsa-wrap'
import { openTransient } from './transient'

export const AES_OPS = ['ENCRYPT', 'DECRYPT', 'WRAPKEY', 'UNWRAPKEY', 'DERIVEKEY', 'MACGENERATE', 'MACVERIFY', 'EXPORT', 'APPMANAGEABLE', 'HIGHVOLUME', 'TRANSFORM']
export const RSA_OPS = ['SIGN', 'VERIFY', 'ENCRYPT', 'DECRYPT', 'WRAPKEY', 'UNWRAPKEY', 'EXPORT', 'APPMANAGEABLE', 'HIGHVOLUME']
/** ops that need the private half of an RSA key */
const RSA_PRIVATE_OPS = ['SIGN', 'DECRYPT', 'UNWRAPKEY']
/** Generated keys get every op the type supports except EXPORT (and HIGHVOLUME, which turns off audit logging). */
export const DEFAULT_OPS: Record<'AES' | 'RSA', string[]> = {
  AES: ['ENCRYPT', 'DECRYPT', 'WRAPKEY', 'UNWRAPKEY', 'DERIVEKEY', 'MACGENERATE', 'MACVERIFY', 'APPMANAGEABLE'],
  RSA: ['SIGN', 'VERIFY', 'ENCRYPT', 'DECRYPT', 'WRAPKEY', 'UNWRAPKEY', 'APPMANAGEABLE'],
}

export function caller(ctx: Ctx): Caller {
  if (!ctx.caller) throw new DsmError(401, 'Missing Authorization header')
  return ctx.caller
}

export function objType(o: Obj): 'AES' | 'RSA' {
  const t = reqString(o, 'obj_type')
  if (t !== 'AES' && t !== 'RSA') throw badRequest(`obj_type ${t} is not supported by this appliance simulator (AES and RSA only)`)
  return t
}

export function keyOps(o: Obj, type: 'AES' | 'RSA', material: Material | undefined, defaults: string[]): string[] {
  const given = optStringArray(o, 'key_ops')
  const publicOnly = material?.type === 'RSA' && !material.privateKey
  const ops = given ?? defaults.filter((op) => !(publicOnly && RSA_PRIVATE_OPS.includes(op)))
  const allowed = type === 'AES' ? AES_OPS : RSA_OPS
  for (const op of ops) {
    if (!allowed.includes(op)) throw badRequest(`Invalid key_ops: ${op} is not valid for ${type} keys`)
    if (publicOnly && RSA_PRIVATE_OPS.includes(op)) throw badRequest(`Invalid key_ops: ${op} needs a private key, and this is a public key`)
  }
  return [...new Set(ops)]
}

export function isTransientRequest(o: Obj): boolean {
  return optBool(o, 'transient') === true
}

/** The target group: the body's group_id, else the app's default group. */
export function targetGroup(ctx: Ctx, o: Obj): string {
  const c = caller(ctx)
  const gid = optString(o, 'group_id')
  if (gid !== undefined) {
    if (!UUID_RE.test(gid)) throw badRequest('Invalid field group_id: expected a UUID')
    return visibleGroup(ctx.model, c, gid.toLowerCase()).groupId
  }
  if (c.kind === 'app') {
    const app = ctx.model.apps.get(c.appId)
    if (app) return app.defaultGroup
  }
  throw badRequest('Missing required field group_id')
}

export function newKeyName(ctx: Ctx, o: Obj): string {
  const name = reqString(o, 'name')
  if (!/^[^\n]*[^\s\n][^\n]*$/.test(name) || name.length > 4096) throw badRequest('Invalid field name')
  if (ctx.model.keyByName(name)) throw conflict(SOBJECT_EXISTS)
  return name
}

/** A SobjectDescriptor: {kid}, {name} or {transient_key}. */
export function resolveKey(ctx: Ctx, desc: unknown, what: string): KeyRecord {
  const d = asObject(desc, what)
  if (d['inline'] !== undefined) throw badRequest(`${what}: inline keys are not supported by this appliance simulator`)
  if (d['transient_key'] !== undefined && d['transient_key'] !== null) {
    if (d['kid'] !== undefined || d['name'] !== undefined) throw badRequest(`Invalid ${what}: give exactly one of kid, name or transient_key`)
    return openTransient(ctx, d['transient_key'])
  }
  const kid = optString(d, 'kid')
  const name = optString(d, 'name')
  if ((kid === undefined) === (name === undefined)) throw badRequest(`Invalid ${what}: give exactly one of kid, name or transient_key`)
  const k = kid !== undefined ? (UUID_RE.test(kid) ? ctx.model.keys.get(kid.toLowerCase()) : undefined) : ctx.model.keyByName(name as string)
  return visibleKey(ctx.model, caller(ctx), k)
}

/** The app permission an operation on this key needs, in the key's group. A transient key is in none. */
export function requireKeyPermission(ctx: Ctx, k: KeyRecord, permission: string): void {
  if (!k.transientBlob) requireAppPermission(ctx.model, caller(ctx), k.groupId, permission)
}

/** The key's own AES secret; a virtual key has none here (its FIPS appliances hold it). */
export function refuseVirtual(k: KeyRecord, what: string): void {
  if (k.material.type === 'Virtual') {
    throw badRequest(`${what}: key ${JSON.stringify(k.name)} is a virtual key of a FIPS-backed group; its material is only in the FIPS appliances`)
  }
}

export function boolParam(q: URLSearchParams, name: string, dflt: boolean): boolean {
  const v = q.get(name)
  if (v === null) return dflt
  if (v === 'true') return true
  if (v === 'false') return false
  throw badRequest(`Invalid query parameter ${name}: expected true or false`)
}

export function view(ctx: Ctx, k: KeyRecord, status = 200): Result {
  return { status, body: ctx.model.sobjectView(k, { pubKey: boolParam(ctx.query, 'show_pub_key', true) }) }
}

export function createProtection(ctx: Ctx): Protection {
  const o = asObject(ctx.body)
  if (isTransientRequest(o)) return { policyGroups: [], subjects: [] }
  const gid = targetGroup(ctx, o)
  return { policyGroups: groupProtectsPermission(ctx, gid, 'CREATE_SOBJECTS') ? [gid] : [], subjects: [{ group: gid }] }
}

/** `rsa.encryption_policy` of a generate or import request; the vendor default when absent. */
function encryptionPolicyOf(o: Obj): RsaEncryptionPolicy[] {
  const rsa = o['rsa'] === undefined || o['rsa'] === null ? {} : asObject(o['rsa'], 'rsa')
  const p = rsa['encryption_policy']
  return p === undefined || p === null ? structuredClone(DEFAULT_RSA_ENCRYPTION_POLICY) : parseEncryptionPolicy(p)
}

export interface StoreOptions {
  origin: KeyRecord['origin']
  creationMethod: KeyRecord['creationMethod']
  /** virtual keys: the KCV the FIPS appliance reported, and the group holding the CMK link */
  kcv?: string
  hsmGroupId?: string
}

export function storeKey(ctx: Ctx, o: Obj, name: string, groupId: string, material: Material, ops: string[], s: StoreOptions): KeyRecord {
  // Re-check the name: key generation awaits, and another request may have taken it meanwhile.
  if (ctx.model.keyByName(name)) throw conflict(SOBJECT_EXISTS)
  const description = optString(o, 'description')
  const customMetadata = optStringMap(o, 'custom_metadata')
  const encryptionPolicy = material.type === 'RSA' ? encryptionPolicyOf(o) : undefined
  return ctx.model.addKey({
    creationMethod: s.creationMethod,
    ...(encryptionPolicy ? { encryptionPolicy } : {}),
    ...(s.kcv ? { kcv: s.kcv } : {}),
    ...(s.hsmGroupId ? { hsmGroupId: s.hsmGroupId } : {}),
    kid: randomUUID(),
    name,
    objType: material.type === 'Virtual' ? material.objType : material.type,
    keyOps: ops,
    groupId,
    createdAt: ctx.config.now(),
    creator: principalOf(caller(ctx)),
    enabled: optBool(o, 'enabled') ?? true,
    origin: s.origin,
    material,
    ...(description !== undefined ? { description } : {}),
    ...(customMetadata !== undefined ? { customMetadata } : {}),
  })
}

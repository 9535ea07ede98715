// Security objects and key wrapping (dsm-api.md §4, §5). Status codes follow the vendor:
// 201 for generate and import, 204 for delete, 409 on a duplicate name, 404 for a missing key.
import { randomUUID } from 'node:crypto'
import { type Obj, UUID_RE, asObject, optBool, optInt, optString, optStringArray, optStringMap, reqBase64, reqString } from './body'
import { type Caller, type Ctx, type Protection, type Result, type Route, principalOf } from './context'
import { badRequest, conflict, DsmError, SOBJECT_EXISTS, sobjectMissing } from './errors'
import { type Material, aesKcv, generateAes, generateRsa, importAes, importRsa, sameKcv } from './key-material'
import type { KeyRecord } from './model'
import {
  groupProtectsCrypto, groupProtectsPermission, requireAppManageable, requireAppPermission, requireKeyOp, visibleGroup, visibleKey,
} from './policy'
import { DEFAULT_RSA_ENCRYPTION_POLICY, oaepUnwrap, oaepWrap, parseEncryptionPolicy, resolveOaepHash, type RsaEncryptionPolicy } from './rsa-wrap'

const AES_OPS = ['ENCRYPT', 'DECRYPT', 'WRAPKEY', 'UNWRAPKEY', 'DERIVEKEY', 'MACGENERATE', 'MACVERIFY', 'EXPORT', 'APPMANAGEABLE', 'HIGHVOLUME', 'TRANSFORM']
const RSA_OPS = ['SIGN', 'VERIFY', 'ENCRYPT', 'DECRYPT', 'WRAPKEY', 'UNWRAPKEY', 'EXPORT', 'APPMANAGEABLE', 'HIGHVOLUME']
/** ops that need the private half of an RSA key */
const RSA_PRIVATE_OPS = ['SIGN', 'DECRYPT', 'UNWRAPKEY']
/** Generated keys get every op the type supports except EXPORT (and HIGHVOLUME, which turns off audit logging). */
const DEFAULT_OPS: Record<'AES' | 'RSA', string[]> = {
  AES: ['ENCRYPT', 'DECRYPT', 'WRAPKEY', 'UNWRAPKEY', 'DERIVEKEY', 'MACGENERATE', 'MACVERIFY', 'APPMANAGEABLE'],
  RSA: ['SIGN', 'VERIFY', 'ENCRYPT', 'DECRYPT', 'WRAPKEY', 'UNWRAPKEY', 'APPMANAGEABLE'],
}

function caller(ctx: Ctx): Caller {
  if (!ctx.caller) throw new DsmError(401, 'Missing Authorization header')
  return ctx.caller
}

function objType(o: Obj): 'AES' | 'RSA' {
  const t = reqString(o, 'obj_type')
  if (t !== 'AES' && t !== 'RSA') throw badRequest(`obj_type ${t} is not supported by this appliance simulator (AES and RSA only)`)
  return t
}

function keyOps(o: Obj, type: 'AES' | 'RSA', material: Material | undefined, defaults: string[]): string[] {
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

/** The target group: the body's group_id, else the app's default group. */
function targetGroup(ctx: Ctx, o: Obj): string {
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

function newKeyName(ctx: Ctx, o: Obj): string {
  if (optBool(o, 'transient')) throw badRequest('Transient keys are not supported by this appliance simulator')
  const name = reqString(o, 'name')
  if (!/^[^\n]*[^\s\n][^\n]*$/.test(name) || name.length > 4096) throw badRequest('Invalid field name')
  if (ctx.model.keyByName(name)) throw conflict(SOBJECT_EXISTS)
  return name
}

/** A SobjectDescriptor: {kid} or {name}. */
function resolveKey(ctx: Ctx, desc: unknown, what: string): KeyRecord {
  const d = asObject(desc, what)
  const kid = optString(d, 'kid')
  const name = optString(d, 'name')
  if (d['transient_key'] !== undefined || d['inline'] !== undefined) throw badRequest(`${what}: transient and inline keys are not supported by this appliance simulator`)
  if ((kid === undefined) === (name === undefined)) throw badRequest(`Invalid ${what}: give exactly one of kid or name`)
  const k = kid !== undefined ? (UUID_RE.test(kid) ? ctx.model.keys.get(kid.toLowerCase()) : undefined) : ctx.model.keyByName(name as string)
  return visibleKey(ctx.model, caller(ctx), k)
}

function boolParam(q: URLSearchParams, name: string, dflt: boolean): boolean {
  const v = q.get(name)
  if (v === null) return dflt
  if (v === 'true') return true
  if (v === 'false') return false
  throw badRequest(`Invalid query parameter ${name}: expected true or false`)
}

function view(ctx: Ctx, k: KeyRecord, status = 200): Result {
  return { status, body: ctx.model.sobjectView(k, { pubKey: boolParam(ctx.query, 'show_pub_key', true) }) }
}

function createProtection(ctx: Ctx): Protection {
  const gid = targetGroup(ctx, asObject(ctx.body))
  return { policyGroups: groupProtectsPermission(ctx, gid, 'CREATE_SOBJECTS') ? [gid] : [], subjects: [{ group: gid }] }
}

/** `rsa.encryption_policy` of a generate or import request; the vendor default when absent. */
function encryptionPolicyOf(o: Obj): RsaEncryptionPolicy[] {
  const rsa = o['rsa'] === undefined || o['rsa'] === null ? {} : asObject(o['rsa'], 'rsa')
  const p = rsa['encryption_policy']
  return p === undefined || p === null ? structuredClone(DEFAULT_RSA_ENCRYPTION_POLICY) : parseEncryptionPolicy(p)
}

function storeKey(ctx: Ctx, o: Obj, name: string, groupId: string, material: Material, ops: string[], origin: KeyRecord['origin'], creationMethod: KeyRecord['creationMethod']): KeyRecord {
  // Re-check the name: key generation awaits, and another request may have taken it meanwhile.
  if (ctx.model.keyByName(name)) throw conflict(SOBJECT_EXISTS)
  const description = optString(o, 'description')
  const customMetadata = optStringMap(o, 'custom_metadata')
  const encryptionPolicy = material.type === 'RSA' ? encryptionPolicyOf(o) : undefined
  return ctx.model.addKey({
    creationMethod,
    ...(encryptionPolicy ? { encryptionPolicy } : {}),
    kid: randomUUID(),
    name,
    objType: material.type,
    keyOps: ops,
    groupId,
    createdAt: ctx.config.now(),
    creator: principalOf(caller(ctx)),
    enabled: optBool(o, 'enabled') ?? true,
    origin,
    material,
    ...(description !== undefined ? { description } : {}),
    ...(customMetadata !== undefined ? { customMetadata } : {}),
  })
}

const generate: Route = {
  method: 'POST',
  pattern: '/crypto/v1/keys',
  auth: 'account',
  protection: createProtection,
  async handle(ctx) {
    const o = asObject(ctx.body)
    const type = objType(o)
    const name = newKeyName(ctx, o)
    const groupId = targetGroup(ctx, o)
    requireAppPermission(ctx.model, caller(ctx), groupId, 'CREATE_SOBJECTS')
    let material: Material
    if (type === 'AES') {
      material = generateAes(optInt(o, 'key_size') ?? 0)
    } else {
      const rsa = o['rsa'] === undefined || o['rsa'] === null ? {} : asObject(o['rsa'], 'rsa')
      const bits = optInt(rsa, 'key_size') ?? optInt(o, 'key_size')
      if (bits === undefined) throw badRequest('Missing required field key_size (or rsa.key_size)')
      material = await generateRsa(bits, optInt(rsa, 'public_exponent') ?? optInt(o, 'pub_exponent') ?? 65537)
    }
    const ops = keyOps(o, type, material, DEFAULT_OPS[type])
    return view(ctx, storeKey(ctx, o, name, groupId, material, ops, 'FortanixHSM', 'Generate'), 201)
  },
}

const importKey: Route = {
  method: 'PUT',
  pattern: '/crypto/v1/keys',
  auth: 'account',
  protection: createProtection,
  handle(ctx) {
    const o = asObject(ctx.body)
    const type = objType(o)
    const name = newKeyName(ctx, o)
    const groupId = targetGroup(ctx, o)
    requireAppPermission(ctx.model, caller(ctx), groupId, 'CREATE_SOBJECTS')
    const value = reqBase64(o, 'value')
    const material = type === 'AES' ? importAes(value) : importRsa(value)
    const expectKcv = optString(o, 'kcv')
    if (expectKcv !== undefined && material.type === 'AES' && !sameKcv(expectKcv, aesKcv(material.secret))) {
      throw badRequest('KCV mismatch: the imported key does not match the kcv in the request')
    }
    // Imported keys get every supported op by default (dsm-api.md §4.1).
    const ops = keyOps(o, type, material, type === 'AES' ? AES_OPS.filter((x) => x !== 'HIGHVOLUME' && x !== 'TRANSFORM') : RSA_OPS.filter((x) => x !== 'HIGHVOLUME'))
    return view(ctx, storeKey(ctx, o, name, groupId, material, ops, 'External', 'Import'), 201)
  },
}

const list: Route = {
  method: 'GET',
  pattern: '/crypto/v1/keys',
  auth: 'account',
  handle(ctx) {
    const c = caller(ctx)
    const q = ctx.query
    const name = q.get('name')
    const groupId = q.get('group_id')
    const type = q.get('obj_type')
    const limit = Number(q.get('limit') ?? 1000)
    const offset = Number(q.get('offset') ?? 0)
    if (!Number.isInteger(limit) || limit < 0 || !Number.isInteger(offset) || offset < 0) throw badRequest('Invalid limit or offset')
    const all = [...ctx.model.keys.values()].filter((k) => visibleKeyOrNull(ctx, c, k))
    const matched = all.filter((k) => (name === null || k.name === name) && (groupId === null || k.groupId === groupId) && (type === null || k.objType === type))
    const sort = q.get('sort') ?? 'kid:asc'
    const [field, dir] = sort.split(':')
    matched.sort((a, b) => (field === 'name' ? a.name.localeCompare(b.name) : a.kid.localeCompare(b.kid)) * (dir === 'desc' ? -1 : 1))
    const items = matched.slice(offset, offset + limit).map((k) =>
      ctx.model.sobjectView(k, { kcv: boolParam(q, 'show_kcv', false), pubKey: boolParam(q, 'show_pub_key', false) }))
    if (boolParam(q, 'with_metadata', false)) {
      return { status: 200, body: { metadata: { total_count: all.length, filtered_count: matched.length }, items } }
    }
    return { status: 200, body: items }
  },
}

function visibleKeyOrNull(ctx: Ctx, c: Caller, k: KeyRecord): boolean {
  try {
    visibleKey(ctx.model, c, k)
    return true
  } catch {
    return false
  }
}

const info: Route = {
  method: 'POST',
  pattern: '/crypto/v1/keys/info',
  auth: 'account',
  handle: (ctx) => view(ctx, resolveKey(ctx, ctx.body, 'request body')),
}

function keyFromPath(ctx: Ctx): KeyRecord {
  const kid = ctx.params['kid'] ?? ''
  if (!UUID_RE.test(kid)) throw sobjectMissing()
  return visibleKey(ctx.model, caller(ctx), ctx.model.keys.get(kid.toLowerCase()))
}

const getByKid: Route = {
  method: 'GET',
  pattern: '/crypto/v1/keys/:kid',
  auth: 'account',
  handle: (ctx) => view(ctx, keyFromPath(ctx)),
}

const remove: Route = {
  method: 'DELETE',
  pattern: '/crypto/v1/keys/:kid',
  auth: 'account',
  protection(ctx) {
    const k = keyFromPath(ctx)
    return { policyGroups: groupProtectsPermission(ctx, k.groupId, 'DELETE_SOBJECTS') ? [k.groupId] : [], subjects: [{ sobject: k.kid }] }
  },
  handle(ctx) {
    const k = keyFromPath(ctx)
    requireAppPermission(ctx.model, caller(ctx), k.groupId, 'DELETE_SOBJECTS')
    requireAppManageable(caller(ctx), k)
    ctx.model.keys.delete(k.kid)
    return { status: 204 }
  },
}

const kcv: Route = {
  method: 'POST',
  pattern: '/crypto/v1/keys/kcv',
  auth: 'account',
  handle(ctx) {
    const o = asObject(ctx.body)
    const method = optString(o, 'kcv_method') ?? 'Encrypt'
    const { kcv_method: _ignored, ...desc } = o
    const k = resolveKey(ctx, desc, 'request body')
    if (method !== 'Encrypt') throw badRequest(`kcv_method ${method} is not supported by this appliance simulator`)
    if (!k.kcv) throw badRequest(`KCV is only defined for AES, DES and DES3 keys; ${JSON.stringify(k.name)} is ${k.objType}`)
    return { status: 200, body: { kid: k.kid, kcv: ctx.model.showKcv(k.kcv) } }
  },
}

/**
 * Plaintext export, as the vendor serves it: EXPORT in key_ops, the app's EXPORT permission, and
 * quorum approval when the group protects crypto operations. The ceremony client never calls it.
 */
const exportKey: Route = {
  method: 'POST',
  pattern: '/crypto/v1/keys/export',
  auth: 'account',
  protection(ctx) {
    const k = resolveKey(ctx, ctx.body, 'request body')
    return { policyGroups: groupProtectsCrypto(ctx, k.groupId, 'export') ? [k.groupId] : [], subjects: [{ sobject: k.kid }] }
  },
  handle(ctx) {
    const k = resolveKey(ctx, ctx.body, 'request body')
    requireAppPermission(ctx.model, caller(ctx), k.groupId, 'EXPORT')
    requireKeyOp(k, 'EXPORT')
    if (k.material.type !== 'AES') throw badRequest('Export of RSA private keys is not supported by this appliance simulator')
    return { status: 200, body: ctx.model.sobjectView(k, { value: true }) }
  },
}

function wrapKeys(ctx: Ctx): { wrapping: KeyRecord; subject: KeyRecord } {
  const o = asObject(ctx.body)
  if (o['key'] === undefined) throw badRequest('Missing required field key')
  const wrapping = resolveKey(ctx, o['key'], 'key')
  let subject: KeyRecord
  if (o['subject'] !== undefined && o['subject'] !== null) {
    if (o['kid'] !== undefined && o['kid'] !== null) throw badRequest('Give either subject or the legacy kid, not both')
    subject = resolveKey(ctx, o['subject'], 'subject')
  } else if (typeof o['kid'] === 'string') {
    subject = resolveKey(ctx, { kid: o['kid'] }, 'kid')
  } else {
    throw badRequest('Missing required field subject')
  }
  return { wrapping, subject }
}

const wrap: Route = {
  method: 'POST',
  pattern: '/crypto/v1/wrapkey',
  auth: 'account',
  protection(ctx) {
    const { wrapping, subject } = wrapKeys(ctx)
    const groups = [...new Set([wrapping.groupId, subject.groupId])].filter((g) => groupProtectsCrypto(ctx, g, 'wrapkey'))
    return { policyGroups: groups, subjects: [{ sobject: subject.kid }, { sobject: wrapping.kid }] }
  },
  handle(ctx) {
    const o = asObject(ctx.body)
    const { wrapping, subject } = wrapKeys(ctx)
    const alg = reqString(o, 'alg')
    requireAppPermission(ctx.model, caller(ctx), wrapping.groupId, 'WRAPKEY')
    requireAppPermission(ctx.model, caller(ctx), subject.groupId, 'EXPORT')
    requireKeyOp(wrapping, 'WRAPKEY')
    requireKeyOp(subject, 'EXPORT')
    if (alg !== wrapping.objType) throw badRequest(`alg ${alg} does not match the wrapping key type ${wrapping.objType}`)
    if (wrapping.material.type !== 'RSA') throw badRequest('Wrapping with AES keys is not supported by this appliance simulator: use an RSA wrapping key')
    if (subject.material.type !== 'AES') throw badRequest('An asymmetric key can only be wrapped by a symmetric key')
    refuseSymmetricFields(o)
    const hash = resolveOaepHash(o['mode'], wrapping.encryptionPolicy ?? [], wrapping.name)
    const wrapped = oaepWrap(wrapping.material.publicKey, hash, subject.material.secret)
    return { status: 200, body: { wrapped_key: wrapped.toString('base64') } }
  },
}

const unwrap: Route = {
  method: 'POST',
  pattern: '/crypto/v1/unwrapkey',
  auth: 'account',
  protection(ctx) {
    const o = asObject(ctx.body)
    if (o['key'] === undefined) throw badRequest('Missing required field key')
    const k = resolveKey(ctx, o['key'], 'key')
    const target = targetGroup(ctx, o)
    const groups = new Set<string>()
    if (groupProtectsCrypto(ctx, k.groupId, 'unwrapkey')) groups.add(k.groupId)
    if (groupProtectsPermission(ctx, target, 'CREATE_SOBJECTS')) groups.add(target)
    return { policyGroups: [...groups], subjects: [{ sobject: k.kid }, { group: target }] }
  },
  handle(ctx) {
    const o = asObject(ctx.body)
    if (o['key'] === undefined) throw badRequest('Missing required field key')
    const k = resolveKey(ctx, o['key'], 'key')
    const alg = reqString(o, 'alg')
    const type = objType(o)
    const wrapped = reqBase64(o, 'wrapped_key')
    requireAppPermission(ctx.model, caller(ctx), k.groupId, 'UNWRAPKEY')
    requireKeyOp(k, 'UNWRAPKEY')
    if (alg !== k.objType) throw badRequest(`alg ${alg} does not match the unwrapping key type ${k.objType}`)
    if (k.material.type !== 'RSA') throw badRequest('Unwrapping with AES keys is not supported by this appliance simulator: use an RSA key')
    if (!k.material.privateKey) throw badRequest(`Key ${JSON.stringify(k.name)} has no private part and cannot unwrap`)
    if (type !== 'AES') throw badRequest('Only AES keys can be unwrapped with an RSA key by this appliance simulator')
    const name = newKeyName(ctx, o)
    const groupId = targetGroup(ctx, o)
    requireAppPermission(ctx.model, caller(ctx), groupId, 'CREATE_SOBJECTS')
    refuseSymmetricFields(o)
    const hash = resolveOaepHash(o['mode'], k.encryptionPolicy ?? [], k.name)
    const secret = oaepUnwrap(k.material.privateKey, hash, wrapped)
    const material = importAesUnwrapped(secret)
    const expect = optString(o, 'kcv')
    if (expect !== undefined && material.type === 'AES' && !sameKcv(expect, aesKcv(material.secret))) {
      throw badRequest('KCV mismatch: the unwrapped key does not match the kcv in the request')
    }
    const ops = keyOps(o, 'AES', material, DEFAULT_OPS.AES)
    return view(ctx, storeKey(ctx, o, name, groupId, material, ops, 'External', 'Unwrap'), 200)
  },
}

/**
 * The vendor CLI sends every field of its request type, null when unused (`iv`, `ad`, `tag`,
 * `tag_len`, `out`, `key_format`; dsm-api.md §10), so nulls are accepted. A non-null IV, AAD or
 * tag means the client thinks it is doing symmetric wrapping: refused, rather than ignored.
 */
function refuseSymmetricFields(o: Obj): void {
  for (const f of ['iv', 'ad', 'tag', 'tag_len']) {
    if (o[f] !== undefined && o[f] !== null) throw badRequest(`Invalid field ${f}: RSA key wrapping takes no ${f} (send null or leave it out)`)
  }
  const format = o['key_format']
  if (format !== undefined && format !== null && format !== 'Default' && format !== 'Pkcs8') throw badRequest('Invalid field key_format: expected Default or Pkcs8')
}

function importAesUnwrapped(secret: Buffer): Material {
  try {
    return importAes(secret)
  } catch {
    throw badRequest(`Unwrap failed: the unwrapped value is ${secret.length} bytes, not an AES key`)
  } finally {
    secret.fill(0)
  }
}

// Literal paths before parameterised ones.
export const keyRoutes: Route[] = [generate, importKey, list, info, kcv, exportKey, wrap, unwrap, getByKid, remove]

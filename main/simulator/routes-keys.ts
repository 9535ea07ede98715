// Security objects (dsm-api.md §4). Status codes follow the vendor: 201 for generate and import,
// 204 for delete, 409 on a duplicate name, 404 for a missing key. A key generated in a
// FIPS-backed group is made in a FIPS appliance and stored here wrapped (hmg-keys.ts); one
// generated with `transient: true` is never stored (transient.ts).
import { asObject, optInt, optString, reqBase64, UUID_RE } from './body'
import type { Ctx, Route } from './context'
import { badRequest, sobjectMissing } from './errors'
import { isFipsBacked } from './hmg-config'
import { generateVirtualKey } from './hmg-keys'
import {
  AES_OPS, DEFAULT_OPS, RSA_OPS, boolParam, caller, createProtection, isTransientRequest, keyOps, newKeyName, objType, refuseVirtual,
  requireKeyPermission, resolveKey, storeKey, targetGroup, view,
} from './key-helpers'
import { type Material, aesKcv, generateAes, generateRsa, importAes, importRsa, sameKcv } from './key-material'
import type { KeyRecord } from './model'
import { groupProtectsCrypto, groupProtectsPermission, requireAppManageable, requireAppPermission, requireKeyOp, visibleKey } from './policy'
import { makeTransient } from './transient'

const generate: Route = {
  method: 'POST',
  pattern: '/crypto/v1/keys',
  auth: 'account',
  protection: createProtection,
  async handle(ctx) {
    const o = asObject(ctx.body)
    const type = objType(o)
    if (isTransientRequest(o)) {
      if (type !== 'AES') throw badRequest('Transient keys are AES only in this appliance simulator')
      const material = generateAes(optInt(o, 'key_size') ?? 0)
      const k = makeTransient(ctx, material.secret, keyOps(o, 'AES', material, DEFAULT_OPS.AES), 'Generate')
      material.secret.fill(0)
      return view(ctx, k, 201)
    }
    const name = newKeyName(ctx, o)
    const groupId = targetGroup(ctx, o)
    requireAppPermission(ctx.model, caller(ctx), groupId, 'CREATE_SOBJECTS')
    const group = ctx.model.groups.get(groupId)
    if (isFipsBacked(group)) return view(ctx, await generateVirtualKey(ctx, o, name, group, type), 201)
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
    return view(ctx, storeKey(ctx, o, name, groupId, material, ops, { origin: 'FortanixHSM', creationMethod: 'Generate' }), 201)
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
    return view(ctx, storeKey(ctx, o, name, groupId, material, ops, { origin: 'External', creationMethod: 'Import' }), 201)
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

function visibleKeyOrNull(ctx: Ctx, c: ReturnType<typeof caller>, k: KeyRecord): boolean {
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
    return { status: 200, body: { ...(k.transientBlob ? {} : { kid: k.kid }), kcv: ctx.model.showKcv(k.kcv) } }
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
    requireKeyPermission(ctx, k, 'EXPORT')
    requireKeyOp(k, 'EXPORT')
    refuseVirtual(k, 'Export')
    if (k.material.type !== 'AES') throw badRequest('Export of RSA private keys is not supported by this appliance simulator')
    return { status: 200, body: ctx.model.sobjectView(k, { value: true }) }
  },
}

// Literal paths before parameterised ones.
export const keyRoutes: Route[] = [generate, importKey, list, info, kcv, exportKey, getByKid, remove]

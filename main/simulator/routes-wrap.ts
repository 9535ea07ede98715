// Key wrapping (dsm-api.md §5): an AES key wrapped under an RSA key with OAEP (the ceremony's
// transfer), or under an AES key with KW/KWP (a FIPS-backed group's keys under the CMK, guide
// §3.3). Unwrap makes a stored key, or a transient one with `transient: true`. A quorum group
// protects its key leaving (as the subject of a wrap) and blobs becoming stored keys in it; which
// roles are protected is the vendor option protectedCryptoOperations.
import { type Obj, asObject, optString, reqBase64, reqString } from './body'
import type { Ctx, Route } from './context'
import { badRequest } from './errors'
import { type AesWrapMode, aesKeyUnwrap, aesKeyWrap, parseWrapMode } from './aes-crypt'
import {
  DEFAULT_OPS, caller, isTransientRequest, keyOps, newKeyName, objType, refuseVirtual, requireKeyPermission, resolveKey, storeKey, targetGroup, view,
} from './key-helpers'
import { type AesMaterial, aesKcv, importAes, sameKcv } from './key-material'
import type { KeyRecord } from './model'
import { groupProtectsCrypto, groupProtectsPermission, requireAppPermission, requireKeyOp } from './policy'
import { oaepUnwrap, oaepWrap, resolveOaepHash } from './rsa-wrap'
import { makeTransient } from './transient'

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

/**
 * The vendor CLI sends every field of its request type, null when unused (`iv`, `ad`, `tag`,
 * `tag_len`, `out`, `key_format`; dsm-api.md §10), so nulls are accepted. A non-null IV, AAD or
 * tag means the client thinks it is doing an authenticated-encryption wrap: refused, not ignored.
 */
function refuseAeadFields(o: Obj, alg: string): void {
  for (const f of ['iv', 'ad', 'tag', 'tag_len']) {
    if (o[f] !== undefined && o[f] !== null) throw badRequest(`Invalid field ${f}: ${alg} key wrapping takes no ${f} (send null or leave it out)`)
  }
  const format = o['key_format']
  if (format !== undefined && format !== null && format !== 'Default' && format !== 'Pkcs8') throw badRequest('Invalid field key_format: expected Default or Pkcs8')
}

const wrap: Route = {
  method: 'POST',
  pattern: '/crypto/v1/wrapkey',
  auth: 'account',
  protection(ctx) {
    const { wrapping, subject } = wrapKeys(ctx)
    const groups = new Set<string>()
    if (groupProtectsCrypto(ctx, subject.groupId, 'wrapkey')) groups.add(subject.groupId)
    if (groupProtectsCrypto(ctx, wrapping.groupId, 'wrapkey-with')) groups.add(wrapping.groupId)
    return { policyGroups: [...groups], subjects: [subject, wrapping].filter((k) => k.kid).map((k) => ({ sobject: k.kid })) }
  },
  handle(ctx) {
    const o = asObject(ctx.body)
    const { wrapping, subject } = wrapKeys(ctx)
    const alg = reqString(o, 'alg')
    requireKeyPermission(ctx, wrapping, 'WRAPKEY')
    requireKeyPermission(ctx, subject, 'EXPORT')
    requireKeyOp(wrapping, 'WRAPKEY')
    requireKeyOp(subject, 'EXPORT')
    if (alg !== wrapping.objType) throw badRequest(`alg ${alg} does not match the wrapping key type ${wrapping.objType}`)
    refuseVirtual(subject, 'Wrap')
    refuseVirtual(wrapping, 'Wrap')
    if (subject.material.type !== 'AES') {
      throw badRequest(wrapping.material.type === 'RSA' ? 'An asymmetric key can only be wrapped by a symmetric key' : 'Wrapping RSA keys under an AES key is not supported by this appliance simulator')
    }
    const secret = subject.material.secret
    refuseAeadFields(o, alg)
    if (wrapping.material.type === 'AES') {
      return { status: 200, body: { wrapped_key: aesKeyWrap(wrapping.material.secret, secret, parseWrapMode(o['mode'])).toString('base64') } }
    }
    if (wrapping.material.type !== 'RSA') throw badRequest('Wrap: unsupported wrapping key')
    const hash = resolveOaepHash(o['mode'], wrapping.encryptionPolicy ?? [], wrapping.name)
    return { status: 200, body: { wrapped_key: oaepWrap(wrapping.material.publicKey, hash, secret).toString('base64') } }
  },
}

function unwrapKey(ctx: Ctx, o: Obj): KeyRecord {
  if (o['key'] === undefined) throw badRequest('Missing required field key')
  return resolveKey(ctx, o['key'], 'key')
}

/** The unwrapped bytes as an AES key; the plaintext buffer is zeroed whatever happens. */
function unwrappedAes(secret: Buffer): AesMaterial {
  try {
    return importAes(secret)
  } catch {
    throw badRequest(`Unwrap failed: the unwrapped value is ${secret.length} bytes, not an AES key`)
  } finally {
    secret.fill(0)
  }
}

function unwrapSecret(k: KeyRecord, o: Obj, alg: string, wrapped: Buffer): Buffer {
  refuseVirtual(k, 'Unwrap')
  refuseAeadFields(o, alg)
  if (k.material.type === 'AES') return aesKeyUnwrap(k.material.secret, wrapped, parseWrapMode(o['mode']) as AesWrapMode)
  if (k.material.type !== 'RSA') throw badRequest('Unwrap: unsupported unwrapping key')
  if (!k.material.privateKey) throw badRequest(`Key ${JSON.stringify(k.name)} has no private part and cannot unwrap`)
  return oaepUnwrap(k.material.privateKey, resolveOaepHash(o['mode'], k.encryptionPolicy ?? [], k.name), wrapped)
}

const unwrap: Route = {
  method: 'POST',
  pattern: '/crypto/v1/unwrapkey',
  auth: 'account',
  protection(ctx) {
    const o = asObject(ctx.body)
    const k = unwrapKey(ctx, o)
    const transient = isTransientRequest(o)
    const groups = new Set<string>()
    if (groupProtectsCrypto(ctx, k.groupId, transient ? 'unwrapkey-transient' : 'unwrapkey')) groups.add(k.groupId)
    const target = transient ? undefined : targetGroup(ctx, o)
    if (target && groupProtectsPermission(ctx, target, 'CREATE_SOBJECTS')) groups.add(target)
    return { policyGroups: [...groups], subjects: [...(k.kid ? [{ sobject: k.kid }] : []), ...(target ? [{ group: target }] : [])] }
  },
  handle(ctx) {
    const o = asObject(ctx.body)
    const k = unwrapKey(ctx, o)
    const alg = reqString(o, 'alg')
    const type = objType(o)
    const wrapped = reqBase64(o, 'wrapped_key')
    requireKeyPermission(ctx, k, 'UNWRAPKEY')
    requireKeyOp(k, 'UNWRAPKEY')
    if (alg !== k.objType) throw badRequest(`alg ${alg} does not match the unwrapping key type ${k.objType}`)
    if (type !== 'AES') throw badRequest('Only AES keys can be unwrapped by this appliance simulator')
    const transient = isTransientRequest(o)
    const name = transient ? undefined : newKeyName(ctx, o)
    const groupId = transient ? undefined : targetGroup(ctx, o)
    if (groupId) requireAppPermission(ctx.model, caller(ctx), groupId, 'CREATE_SOBJECTS')
    const material = unwrappedAes(unwrapSecret(k, o, alg, wrapped))
    const expect = optString(o, 'kcv')
    if (expect !== undefined && !sameKcv(expect, aesKcv(material.secret))) {
      throw badRequest('KCV mismatch: the unwrapped key does not match the kcv in the request')
    }
    const ops = keyOps(o, 'AES', material, DEFAULT_OPS.AES)
    if (transient || !name || !groupId) {
      const t = makeTransient(ctx, material.secret, ops, 'Unwrap')
      material.secret.fill(0)
      return view(ctx, t, 200)
    }
    return view(ctx, storeKey(ctx, o, name, groupId, material, ops, { origin: 'External', creationMethod: 'Unwrap' }), 200)
  },
}

export const wrapRoutes: Route[] = [wrap, unwrap]

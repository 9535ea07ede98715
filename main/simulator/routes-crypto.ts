// Encrypt and decrypt (POST /crypto/v1/encrypt, /crypto/v1/decrypt; [spec] EncryptRequest,
// DecryptRequest) with AES keys in GCM or CBC mode. A virtual key of a FIPS-backed group is used
// in a FIPS appliance (hmg-keys.ts): this appliance never sees its material.
import { type Obj, asObject, optBase64, optInt, optString, reqBase64 } from './body'
import type { Ctx, Route } from './context'
import { badRequest } from './errors'
import { aesDecrypt, aesEncrypt } from './aes-crypt'
import { virtualCrypto } from './hmg-keys'
import { requireKeyPermission, resolveKey } from './key-helpers'
import type { KeyRecord } from './model'
import { groupProtectsCrypto, requireKeyOp } from './policy'

type Op = 'encrypt' | 'decrypt'

function cryptKey(ctx: Ctx, o: Obj, op: Op): KeyRecord {
  if (o['key'] === undefined || o['key'] === null) throw badRequest('Missing required field key')
  const k = resolveKey(ctx, o['key'], 'key')
  const alg = optString(o, 'alg')
  // alg is required to encrypt and optional to decrypt ([spec] EncryptRequest, DecryptRequest).
  if (alg === undefined && op === 'encrypt') throw badRequest('Missing required field alg')
  if (alg !== undefined && alg !== k.objType) throw badRequest(`alg ${alg} does not match the key type ${k.objType}`)
  if (k.objType !== 'AES') throw badRequest(`${op} with ${k.objType} keys is not supported by this appliance simulator (AES only)`)
  requireKeyPermission(ctx, k, op === 'encrypt' ? 'ENCRYPT' : 'DECRYPT')
  requireKeyOp(k, op === 'encrypt' ? 'ENCRYPT' : 'DECRYPT')
  return k
}

function route(op: Op): Route {
  return {
    method: 'POST',
    pattern: `/crypto/v1/${op}`,
    auth: 'account',
    protection(ctx) {
      const k = cryptKey(ctx, asObject(ctx.body), op)
      return { policyGroups: groupProtectsCrypto(ctx, k.groupId, op) ? [k.groupId] : [], subjects: k.kid ? [{ sobject: k.kid }] : [] }
    },
    async handle(ctx) {
      const o = asObject(ctx.body)
      const k = cryptKey(ctx, o, op)
      if (k.material.type === 'Virtual') return { status: 200, body: await virtualCrypto(ctx, k, op, o) }
      if (k.material.type !== 'AES') throw badRequest(`${op}: unsupported key`)
      const kid = k.kid ? { kid: k.kid } : {}
      const iv = optBase64(o, 'iv')
      const ad = optBase64(o, 'ad')
      if (op === 'encrypt') {
        const out = aesEncrypt(k.material.secret, { mode: o['mode'], plain: reqBase64(o, 'plain'), iv, ad, tagLenBits: optInt(o, 'tag_len') })
        return { status: 200, body: { ...kid, cipher: out.cipher.toString('base64'), iv: out.iv.toString('base64'), ...(out.tag ? { tag: out.tag.toString('base64') } : {}) } }
      }
      const plain = aesDecrypt(k.material.secret, { mode: o['mode'], cipher: reqBase64(o, 'cipher'), iv, ad, tag: optBase64(o, 'tag') })
      return { status: 200, body: { ...kid, plain: plain.toString('base64') } }
    },
  }
}

export const cryptoRoutes: Route[] = [route('encrypt'), route('decrypt')]

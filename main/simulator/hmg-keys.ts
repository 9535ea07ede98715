// Keys of a FIPS-backed group on the cluster (guide §3.3, dsm-api.md §11), using only a FIPS
// appliance's public REST API with the app key from the group's config:
//   generate: a transient key in the FIPS appliance, wrapped there under the CMK (AES KW/KWP);
//             the cluster stores only the blob, as a virtual key;
//   use:      the blob goes back to a FIPS appliance, which unwraps it under its CMK as a
//             transient key and encrypts or decrypts with it.
// The cluster never holds plaintext key material; a failed appliance is skipped (hmg-failover).
import { type Obj, optInt } from './body'
import type { Ctx } from './context'
import { badRequest, DsmError } from './errors'
import { cmkNameOf, type HmgConfigRecord } from './hmg-config'
import { fipsOk, withFipsAppliance } from './hmg-failover'
import type { FipsSession } from './hmg-link'
import { storeKey } from './key-helpers'
import type { Group, KeyRecord } from './model'

/** What a virtual key can do here: the FIPS appliance does the work, so no wrap, export or MAC. */
const VIRTUAL_OPS = ['ENCRYPT', 'DECRYPT', 'APPMANAGEABLE']
const AES_BITS = [128, 192, 256]

function cmkOf(ctx: Ctx, g: Group): string {
  if (!ctx.config.hmg) throw badRequest('This appliance does not link to FIPS appliances')
  return cmkNameOf(g, ctx.config.vendor.cmkNameLocation, ctx.config.hmg.defaultCmkName)
}

function virtualOps(o: Obj): string[] {
  const given = o['key_ops']
  if (given === undefined || given === null) return [...VIRTUAL_OPS]
  if (!Array.isArray(given) || given.some((x) => typeof x !== 'string')) throw badRequest('Invalid field key_ops: expected an array of strings')
  for (const op of given as string[]) {
    if (!VIRTUAL_OPS.includes(op)) throw badRequest(`Invalid key_ops: ${op} is not available for keys of a FIPS-backed group in this simulator (${VIRTUAL_OPS.join(', ')})`)
  }
  return [...new Set(given as string[])]
}

/** POST /crypto/v1/keys in a FIPS-backed group. */
export async function generateVirtualKey(ctx: Ctx, o: Obj, name: string, g: Group, type: 'AES' | 'RSA'): Promise<KeyRecord> {
  if (type !== 'AES') throw badRequest('Keys of a FIPS-backed group are AES only in this simulator')
  const bits = optInt(o, 'key_size') ?? 0
  if (!AES_BITS.includes(bits)) throw badRequest(`Invalid AES key size ${bits}: must be one of 128, 192, 256`)
  const ops = virtualOps(o)
  const cmk = cmkOf(ctx, g)
  const wrapMode = ctx.config.vendor.virtualKeyWrapMode
  const made = await withFipsAppliance(ctx, g, async (s: FipsSession, c: HmgConfigRecord) => {
    // EXPORT on the transient key only so the FIPS appliance lets it be wrapped; it dies with the session.
    const t = fipsOk(await s.call('POST', '/crypto/v1/keys', { obj_type: 'AES', key_size: bits, transient: true, key_ops: ['ENCRYPT', 'DECRYPT', 'EXPORT'] }), c.url, 'transient key generation')
    const w = fipsOk(await s.call('POST', '/crypto/v1/wrapkey', { key: { name: cmk }, subject: { transient_key: t['transient_key'] }, alg: 'AES', mode: wrapMode }), c.url, 'the wrap under the CMK', cmk)
    if (typeof w['wrapped_key'] !== 'string') throw new DsmError(502, `FIPS appliance ${c.url} returned no wrapped_key`)
    return { blob: Buffer.from(w['wrapped_key'], 'base64'), kcv: typeof t['kcv'] === 'string' ? t['kcv'] : undefined }
  })
  return storeKey(ctx, o, name, g.groupId, { type: 'Virtual', objType: 'AES', bits, blob: made.blob, wrapMode }, ops, {
    origin: 'External',
    creationMethod: 'Generate',
    hsmGroupId: g.groupId,
    ...(made.kcv ? { kcv: made.kcv } : {}),
  })
}

const FORWARDED: Record<'encrypt' | 'decrypt', string[]> = {
  encrypt: ['alg', 'plain', 'mode', 'iv', 'ad', 'tag_len'],
  decrypt: ['alg', 'cipher', 'mode', 'iv', 'ad', 'tag'],
}

/** Encrypt or decrypt with a virtual key, in a FIPS appliance of its group. */
export async function virtualCrypto(ctx: Ctx, k: KeyRecord, op: 'encrypt' | 'decrypt', o: Obj): Promise<Obj> {
  const m = k.material
  if (m.type !== 'Virtual') throw badRequest('not a virtual key')
  const g = ctx.model.groups.get(k.groupId)
  if (!g) throw badRequest(`The group of key ${JSON.stringify(k.name)} no longer exists`)
  const cmk = cmkOf(ctx, g)
  const request: Obj = {}
  for (const f of FORWARDED[op]) if (o[f] !== undefined && o[f] !== null) request[f] = o[f]
  const out = await withFipsAppliance(ctx, g, async (s, c) => {
    const u = fipsOk(await s.call('POST', '/crypto/v1/unwrapkey', {
      key: { name: cmk }, alg: 'AES', mode: m.wrapMode, obj_type: 'AES', wrapped_key: m.blob.toString('base64'), transient: true, key_ops: ['ENCRYPT', 'DECRYPT'],
    }), c.url, 'the unwrap under the CMK', cmk)
    return fipsOk(await s.call('POST', `/crypto/v1/${op}`, { ...request, key: { transient_key: u['transient_key'] } }), c.url, op)
  })
  const { kid: _transientHasNone, ...rest } = out
  return { kid: k.kid, ...rest }
}

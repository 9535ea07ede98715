// Request bodies the ceremony sends, typed, with the small amount of validation that stops a
// malformed body from ever being signed off by custodians. Field names are DSM's wire names
// (dsm-api.md §4.2, §5), so the body in an approval request is exactly what the plan shows.
import { createPublicKey } from 'node:crypto'
import { InvalidArgumentError } from './errors'
import { UUID_RE } from './endpoints'

export type KeyOperation =
  | 'SIGN' | 'VERIFY' | 'ENCRYPT' | 'DECRYPT' | 'WRAPKEY' | 'UNWRAPKEY' | 'DERIVEKEY' | 'TRANSFORM'
  | 'MACGENERATE' | 'MACVERIFY' | 'EXPORT' | 'APPMANAGEABLE' | 'HIGHVOLUME' | 'AGREEKEY'

/** SobjectDescriptor: by kid or by name (the two forms the ceremony uses). */
export type SobjectDescriptor = { kid: string } | { name: string }

export type OaepHash = 'SHA1' | 'SHA256'

/** RSA OAEP with MGF1 (PKCS#1 v1.5 is refused by FIPS appliances, dsm-api.md §5). */
export interface RsaOaepMode {
  OAEP: { mgf: { mgf1: { hash: OaepHash } } }
}

export function rsaOaepMode(hash: OaepHash): RsaOaepMode {
  if (hash !== 'SHA1' && hash !== 'SHA256') throw new InvalidArgumentError('OAEP hash must be SHA1 or SHA256')
  return { OAEP: { mgf: { mgf1: { hash } } } }
}

export interface GenerateKeyRequest {
  name: string
  obj_type: 'AES' | 'RSA'
  key_size: number
  key_ops: KeyOperation[]
  group_id?: string
  description?: string
  /** RSA only; e.g. { key_size: 2048, public_exponent: 65537 } */
  rsa?: { key_size?: number; public_exponent?: number }
  custom_metadata?: Record<string, string>
}

export interface ImportPublicKeyRequest {
  name: string
  /** DER SubjectPublicKeyInfo of the transfer key */
  spkiDer: Buffer
  key_ops: KeyOperation[]
  group_id?: string
  description?: string
}

export interface WrapKeyRequest {
  key: SobjectDescriptor
  subject: SobjectDescriptor
  alg: 'RSA'
  mode: RsaOaepMode
}

export interface UnwrapKeyRequest {
  key: SobjectDescriptor
  alg: 'RSA'
  mode: RsaOaepMode
  obj_type: 'AES'
  /** base64 */
  wrapped_key: string
  name: string
  key_ops: KeyOperation[]
  group_id?: string
  description?: string
}

export function checkName(name: unknown, what = 'name'): string {
  // SobjectDescriptor name pattern in the document: one line with at least one visible character.
  if (typeof name !== 'string' || name.length === 0 || name.length > 4096 || /[\n\r]/.test(name) || !/\S/.test(name)) {
    throw new InvalidArgumentError(`${what} must be one non-blank line of at most 4096 characters`)
  }
  return name
}

export function checkUuid(id: unknown, what: string): string {
  if (typeof id !== 'string' || !UUID_RE.test(id)) throw new InvalidArgumentError(`${what} must be a UUID`)
  return id
}

export function checkDescriptor(d: SobjectDescriptor): SobjectDescriptor {
  if (d && typeof d === 'object' && 'kid' in d && !('name' in d)) return { kid: checkUuid(d.kid, 'kid') }
  if (d && typeof d === 'object' && 'name' in d && !('kid' in d)) return { name: checkName(d.name) }
  throw new InvalidArgumentError('a key is identified by exactly one of { kid } or { name }')
}

function checkKeyOps(ops: unknown): KeyOperation[] {
  if (!Array.isArray(ops) || ops.some((o) => typeof o !== 'string' || !/^[A-Z]+$/.test(o))) {
    throw new InvalidArgumentError('key_ops must be a list of DSM key operation names')
  }
  return [...(ops as KeyOperation[])]
}

export function buildGenerateKeyBody(req: GenerateKeyRequest): Record<string, unknown> {
  checkName(req.name)
  if (req.obj_type !== 'AES' && req.obj_type !== 'RSA') throw new InvalidArgumentError('obj_type must be AES or RSA')
  if (!Number.isInteger(req.key_size) || req.key_size <= 0) throw new InvalidArgumentError('key_size must be a positive integer (bits)')
  const body: Record<string, unknown> = { name: req.name, obj_type: req.obj_type, key_size: req.key_size, key_ops: checkKeyOps(req.key_ops) }
  if (req.group_id !== undefined) body['group_id'] = checkUuid(req.group_id, 'group_id')
  if (req.description !== undefined) body['description'] = req.description
  if (req.rsa !== undefined) body['rsa'] = { ...req.rsa }
  if (req.custom_metadata !== undefined) body['custom_metadata'] = { ...req.custom_metadata }
  return body
}

export function buildImportPublicKeyBody(req: ImportPublicKeyRequest): Record<string, unknown> {
  checkName(req.name)
  if (!Buffer.isBuffer(req.spkiDer) || req.spkiDer.length === 0) throw new InvalidArgumentError('spkiDer must be the DER public key')
  // Only a public key may be imported: node parses the DER strictly as SPKI (a PKCS#8 private
  // key or a certificate fails here). Strict policy checks (RSA-2048, e=65537) live in main/keys.
  let keyType: string | undefined
  try {
    keyType = createPublicKey({ key: req.spkiDer, format: 'der', type: 'spki' }).asymmetricKeyType
  } catch {
    throw new InvalidArgumentError('spkiDer is not a DER SubjectPublicKeyInfo public key')
  }
  if (keyType !== 'rsa') throw new InvalidArgumentError(`the transfer key must be RSA (got ${keyType ?? 'unknown'})`)
  const body: Record<string, unknown> = {
    name: req.name,
    obj_type: 'RSA',
    value: req.spkiDer.toString('base64'),
    key_ops: checkKeyOps(req.key_ops),
  }
  if (req.group_id !== undefined) body['group_id'] = checkUuid(req.group_id, 'group_id')
  if (req.description !== undefined) body['description'] = req.description
  return body
}

/** The CMK (`subject`) wrapped under the imported transfer key (`key`) with RSA-OAEP. */
export function buildWrapKeyRequest(opts: { wrappingKey: SobjectDescriptor; subject: SobjectDescriptor; oaepHash: OaepHash }): WrapKeyRequest {
  return { key: checkDescriptor(opts.wrappingKey), subject: checkDescriptor(opts.subject), alg: 'RSA', mode: rsaOaepMode(opts.oaepHash) }
}

/** The wrapped CMK unwrapped on the target under its transfer key, as an exportable AES key. */
export function buildUnwrapKeyRequest(opts: {
  unwrappingKey: SobjectDescriptor
  wrappedKey: Buffer
  name: string
  keyOps: KeyOperation[]
  oaepHash: OaepHash
  groupId?: string
  description?: string
}): UnwrapKeyRequest {
  if (!Buffer.isBuffer(opts.wrappedKey) || opts.wrappedKey.length === 0) throw new InvalidArgumentError('wrappedKey must be the non-empty wrapped blob')
  const body: UnwrapKeyRequest = {
    key: checkDescriptor(opts.unwrappingKey),
    alg: 'RSA',
    mode: rsaOaepMode(opts.oaepHash),
    obj_type: 'AES',
    wrapped_key: opts.wrappedKey.toString('base64'),
    name: checkName(opts.name),
    key_ops: checkKeyOps(opts.keyOps),
  }
  if (opts.groupId !== undefined) body.group_id = checkUuid(opts.groupId, 'group_id')
  if (opts.description !== undefined) body.description = opts.description
  return body
}

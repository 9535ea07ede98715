// RSA key wrapping as DSM does it for /crypto/v1/wrapkey and /crypto/v1/unwrapkey: OAEP only
// (PKCS#1 v1.5 encryption is disallowed in FIPS builds, dsm-api.md §5), the MGF1 hash named in
// the request also being the OAEP label hash, and the key's encryption_policy deciding what is
// allowed and what an omitted mode means (dsm-api.md §10).
import { constants, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto'
import { badRequest, forbidden, OP_NOT_ALLOWED } from './errors'

export type OaepHash = 'sha1' | 'sha256' | 'sha384' | 'sha512'

const HASHES: Record<string, OaepHash> = { SHA1: 'sha1', SHA256: 'sha256', SHA384: 'sha384', SHA512: 'sha512' }
const HASH_BYTES: Record<OaepHash, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 }

/** An RSA key's `encryption_policy` entry (RsaEncryptionPolicy): constraints, absent = anything. */
export interface RsaEncryptionPolicy {
  padding?: { OAEP: { mgf?: { mgf1: { hash?: string } } | null } } | { PKCS1_V15: Record<string, never> } | { RAW_DECRYPT: Record<string, never> } | null
}

/** The default for new RSA keys ([spec] RsaOptions.encryption_policy): OAEP with any MGF. */
export const DEFAULT_RSA_ENCRYPTION_POLICY: RsaEncryptionPolicy[] = [{ padding: { OAEP: {} } }]

type Requested = { oaep: OaepHash } | { pkcs1: true }

/** Reads `mode`: the modern object form or the legacy string form (dsm-api.md §5); null/absent = unset. */
function readMode(mode: unknown): Requested | undefined {
  if (mode === undefined || mode === null) return undefined
  if (typeof mode === 'string') {
    if (mode === 'PKCS1_V15') return { pkcs1: true }
    const m = /^OAEP_MGF1_(SHA1|SHA256|SHA384|SHA512)$/.exec(mode)
    if (m?.[1]) return { oaep: HASHES[m[1]] as OaepHash }
    throw badRequest(`Invalid mode ${JSON.stringify(mode)} for RSA: use OAEP`)
  }
  if (typeof mode === 'object' && !Array.isArray(mode)) {
    const keys = Object.keys(mode)
    if (keys.length !== 1) throw badRequest('Invalid mode for RSA: exactly one of OAEP, PKCS1_V15 or RAW_DECRYPT')
    if (keys[0] === 'PKCS1_V15') return { pkcs1: true }
    if (keys[0] === 'RAW_DECRYPT') throw badRequest('RAW_DECRYPT cannot be used for key wrapping')
    if (keys[0] === 'OAEP') {
      const oaep = (mode as Record<string, unknown>)['OAEP']
      const hash = (oaep as { mgf?: { mgf1?: { hash?: unknown } } } | null)?.mgf?.mgf1?.hash
      if (typeof hash !== 'string') throw badRequest('Invalid OAEP mode: mgf.mgf1.hash is required')
      const h = HASHES[hash]
      if (!h) throw badRequest(`Unsupported OAEP MGF1 hash ${JSON.stringify(hash)}: use SHA1, SHA256, SHA384 or SHA512`)
      return { oaep: h }
    }
  }
  throw badRequest(`Invalid mode ${JSON.stringify(mode)} for RSA`)
}

/**
 * The OAEP hash a wrap or unwrap uses. A given `mode` must match one of the key's policy entries
 * ("if none match, the operation is disallowed", [spec] RsaOptions). Without a mode the key's
 * policy decides: the first entry that allows OAEP, and for an OAEP wildcard SHA-256, because a
 * FIPS appliance avoids PKCS#1 v1.5 and OAEP-SHA1 when anything else is allowed (dsm-api.md §10).
 */
export function resolveOaepHash(mode: unknown, policy: readonly RsaEncryptionPolicy[], keyName: string | null): OaepHash {
  const requested = readMode(mode)
  if (requested && 'pkcs1' in requested) throw pkcs1Refused()
  const defaults: OaepHash[] = []
  for (const entry of policy) {
    const padding = entry.padding
    if (padding && !('OAEP' in padding)) continue // PKCS1_V15 or RAW_DECRYPT only: unusable for FIPS wrapping
    const fixed = padding?.OAEP.mgf?.mgf1.hash
    const fixedHash = fixed === undefined ? undefined : HASHES[fixed]
    if (requested) {
      if (fixedHash === undefined || fixedHash === requested.oaep) return requested.oaep
      continue
    }
    defaults.push(fixedHash ?? 'sha256')
  }
  if (requested) {
    throw forbidden(`${OP_NOT_ALLOWED}: the encryption_policy of key ${JSON.stringify(keyName)} does not allow OAEP with MGF1-${requested.oaep.toUpperCase()}`)
  }
  const pick = defaults.find((h) => h !== 'sha1') ?? defaults[0]
  if (!pick) throw forbidden(`${OP_NOT_ALLOWED}: the encryption_policy of key ${JSON.stringify(keyName)} allows no OAEP padding, and FIPS mode refuses PKCS#1 v1.5`)
  return pick
}

/** Validates an `rsa.encryption_policy` from a request (generate or import). */
export function parseEncryptionPolicy(v: unknown): RsaEncryptionPolicy[] {
  if (!Array.isArray(v)) throw badRequest('Invalid rsa.encryption_policy: expected an array')
  return v.map((entry, i) => {
    const where = `rsa.encryption_policy[${i}]`
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) throw badRequest(`Invalid ${where}: expected an object`)
    const padding = (entry as Record<string, unknown>)['padding']
    if (padding === undefined || padding === null) return {}
    if (typeof padding !== 'object' || Array.isArray(padding) || Object.keys(padding).length !== 1) {
      throw badRequest(`Invalid ${where}.padding: exactly one of OAEP, PKCS1_V15 or RAW_DECRYPT`)
    }
    const [name, inner] = Object.entries(padding)[0] as [string, unknown]
    if (name === 'PKCS1_V15' || name === 'RAW_DECRYPT') return { padding: { [name]: {} } } as RsaEncryptionPolicy
    if (name !== 'OAEP') throw badRequest(`Invalid ${where}.padding: unknown padding ${JSON.stringify(name)}`)
    const hash = (inner as { mgf?: { mgf1?: { hash?: unknown } } | null } | null)?.mgf?.mgf1?.hash
    if (hash === undefined || hash === null) return { padding: { OAEP: {} } }
    if (typeof hash !== 'string' || !HASHES[hash]) throw badRequest(`Invalid ${where}.padding.OAEP.mgf.mgf1.hash: use SHA1, SHA256, SHA384 or SHA512`)
    return { padding: { OAEP: { mgf: { mgf1: { hash } } } } }
  })
}

function pkcs1Refused() {
  return badRequest('PKCS#1 v1.5 encryption padding is not allowed in FIPS mode: use OAEP')
}

export function oaepWrap(publicKey: KeyObject, hash: OaepHash, plaintext: Buffer): Buffer {
  const modulusBytes = (publicKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8
  const capacity = modulusBytes - 2 * HASH_BYTES[hash] - 2
  if (plaintext.length > capacity) {
    throw badRequest(`Key too large to wrap: ${plaintext.length} bytes, RSA-OAEP with this key and hash holds at most ${capacity}`)
  }
  return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, plaintext)
}

export function oaepUnwrap(privateKey: KeyObject, hash: OaepHash, wrapped: Buffer): Buffer {
  const modulusBytes = (privateKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8
  if (wrapped.length !== modulusBytes) {
    throw badRequest(`Unwrap failed: wrapped_key is ${wrapped.length} bytes, an RSA-${modulusBytes * 8} OAEP blob is ${modulusBytes}`)
  }
  try {
    return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, wrapped)
  } catch {
    // OAEP decoding errors are deliberately indistinguishable (Manger's attack); so is this message.
    throw badRequest('Unwrap failed: the wrapped key could not be decrypted with this key and mode')
  }
}

// RSA key wrapping as DSM does it for /crypto/v1/wrapkey and /crypto/v1/unwrapkey: OAEP only
// (PKCS#1 v1.5 encryption is disallowed in FIPS builds, dsm-api.md §5), the MGF1 hash named in
// the request also being the OAEP label hash.
import { constants, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto'
import { badRequest } from './errors'

export type OaepHash = 'sha1' | 'sha256' | 'sha384' | 'sha512'

const HASHES: Record<string, OaepHash> = { SHA1: 'sha1', SHA256: 'sha256', SHA384: 'sha384', SHA512: 'sha512' }
const HASH_BYTES: Record<OaepHash, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 }

/**
 * Reads `mode`: the modern object form ({"OAEP":{"mgf":{"mgf1":{"hash":"SHA1"}}}}) or the legacy
 * string form ("OAEP_MGF1_SHA1"); the simulator accepts both (dsm-api.md §5).
 */
export function parseRsaMode(mode: unknown, fallback: 'OAEP_MGF1_SHA1' | 'OAEP_MGF1_SHA256'): OaepHash {
  if (mode === undefined || mode === null) return parseRsaMode(fallback, fallback)
  if (typeof mode === 'string') {
    if (mode === 'PKCS1_V15') throw pkcs1Refused()
    const m = /^OAEP_MGF1_(SHA1|SHA256|SHA384|SHA512)$/.exec(mode)
    if (m?.[1]) return HASHES[m[1]] as OaepHash
    throw badRequest(`Invalid mode ${JSON.stringify(mode)} for RSA: use OAEP`)
  }
  if (typeof mode === 'object' && !Array.isArray(mode)) {
    const keys = Object.keys(mode)
    if (keys.length !== 1) throw badRequest('Invalid mode for RSA: exactly one of OAEP, PKCS1_V15 or RAW_DECRYPT')
    if (keys[0] === 'PKCS1_V15') throw pkcs1Refused()
    if (keys[0] === 'RAW_DECRYPT') throw badRequest('RAW_DECRYPT cannot be used for key wrapping')
    if (keys[0] === 'OAEP') {
      const oaep = (mode as Record<string, unknown>)['OAEP']
      const hash = (oaep as { mgf?: { mgf1?: { hash?: unknown } } } | null)?.mgf?.mgf1?.hash
      if (typeof hash !== 'string') throw badRequest('Invalid OAEP mode: mgf.mgf1.hash is required')
      const h = HASHES[hash]
      if (!h) throw badRequest(`Unsupported OAEP MGF1 hash ${JSON.stringify(hash)}: use SHA1, SHA256, SHA384 or SHA512`)
      return h
    }
  }
  throw badRequest(`Invalid mode ${JSON.stringify(mode)} for RSA`)
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

// Real key material for simulated security objects: generated, parsed and checked with
// node:crypto, held only in memory (Buffers and KeyObjects), never logged or returned except
// through the vendor's own export semantics.
import { createCipheriv, createHash, createPrivateKey, createPublicKey, generateKeyPair, type KeyObject, randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { badRequest } from './errors'

const generateKeyPairAsync = promisify(generateKeyPair)

export const AES_SIZES = [128, 192, 256]
/** FIPS mode allows RSA moduli of at least 2048 bits (NIST SP 800-131A); these are the sizes offered. */
export const RSA_SIZES = [2048, 3072, 4096]

export type Material =
  | { type: 'AES'; secret: Buffer }
  | { type: 'RSA'; publicKey: KeyObject; privateKey?: KeyObject }
  /**
   * A virtual key of a FIPS-backed group (guide §3.3): only the blob a FIPS appliance made by
   * wrapping the key under its CMK. The cluster never holds the key itself.
   */
  | { type: 'Virtual'; objType: 'AES'; bits: number; blob: Buffer; wrapMode: 'KW' | 'KWP' }

export type AesMaterial = Extract<Material, { type: 'AES' }>

export function generateAes(bits: number): AesMaterial {
  if (!AES_SIZES.includes(bits)) throw badRequest(`Invalid AES key size ${bits}: must be one of 128, 192, 256`)
  return { type: 'AES', secret: randomBytes(bits / 8) }
}

export async function generateRsa(bits: number, publicExponent: number): Promise<Material> {
  checkRsaSize(bits)
  if (publicExponent !== 65537) throw badRequest(`Invalid RSA public exponent ${publicExponent}: FIPS mode requires 65537`)
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', { modulusLength: bits, publicExponent })
  return { type: 'RSA', publicKey, privateKey }
}

function checkRsaSize(bits: number): void {
  if (bits < 2048) throw badRequest(`RSA key size ${bits} is not allowed in FIPS mode: the minimum is 2048 bits`)
  if (!RSA_SIZES.includes(bits)) throw badRequest(`Invalid RSA key size ${bits}: must be one of ${RSA_SIZES.join(', ')}`)
}

export function importAes(value: Buffer): AesMaterial {
  if (![16, 24, 32].includes(value.length)) throw badRequest(`Invalid AES key: ${value.length} bytes, expected 16, 24 or 32`)
  return { type: 'AES', secret: Buffer.from(value) }
}

/**
 * RSA import takes base64 DER (dsm-api.md §4.2): a SubjectPublicKeyInfo or PKCS#1 public key, or
 * a PKCS#8 or PKCS#1 private key. Anything else (a certificate, an EC key, damaged DER) is refused.
 */
export function importRsa(der: Buffer): Material {
  let material: Material | undefined
  // Private encodings first: createPublicKey also accepts private-key DER and silently derives
  // the public half (security.md §6), which would lose the private key.
  for (const type of ['pkcs8', 'pkcs1'] as const) {
    try {
      const privateKey = createPrivateKey({ key: der, format: 'der', type })
      material = { type: 'RSA', privateKey, publicKey: createPublicKey(privateKey) }
      break
    } catch { /* try the next encoding */ }
  }
  if (!material) {
    for (const type of ['spki', 'pkcs1'] as const) {
      try {
        material = { type: 'RSA', publicKey: createPublicKey({ key: der, format: 'der', type }) }
        break
      } catch { /* try the next encoding */ }
    }
  }
  if (!material || material.type !== 'RSA') {
    throw badRequest('Invalid RSA key: value must be base64 DER of a SubjectPublicKeyInfo, PKCS#1 or PKCS#8 RSA key')
  }
  const kt = material.publicKey.asymmetricKeyType
  if (kt !== 'rsa') throw badRequest(`Invalid RSA key: value is an ${String(kt).toUpperCase()} key, not RSA`)
  const details = material.publicKey.asymmetricKeyDetails
  checkRsaSize(details?.modulusLength ?? 0)
  const e = Number(details?.publicExponent ?? 0n)
  if (e !== 65537) throw badRequest(`Invalid RSA public exponent ${e}: FIPS mode requires 65537`)
  return material
}

export function keySizeBits(m: Material): number {
  if (m.type === 'Virtual') return m.bits
  return m.type === 'AES' ? m.secret.length * 8 : m.publicKey.asymmetricKeyDetails?.modulusLength ?? 0
}

export function spkiDer(m: Material): Buffer | undefined {
  return m.type === 'RSA' ? m.publicKey.export({ type: 'spki', format: 'der' }) : undefined
}

/** Encrypt-method KCV: AES-ECB of one zero block, first 3 bytes, lowercase hex (vectors/README.md). */
export function aesKcv(secret: Buffer): string {
  const cipher = createCipheriv(`aes-${secret.length * 8}-ecb`, secret, null)
  cipher.setAutoPadding(false)
  return Buffer.concat([cipher.update(Buffer.alloc(16)), cipher.final()]).subarray(0, 3).toString('hex')
}

export function sha256Hex(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex')
}

/** KCVs are case-insensitive hex ([spec] KeyCheckValueResponse). */
export function sameKcv(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase()
}

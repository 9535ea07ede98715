// Symmetric operations on AES keys as DSM names them: key wrapping with KW (RFC 3394) and KWP
// (RFC 5649), and encrypt/decrypt with GCM and CBC (PKCS#7 padding), via node:crypto. Failures
// are 400s whose text says what failed and never echoes key material or plaintext.
import { type CipherGCMTypes, createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { badRequest } from './errors'

export type AesWrapMode = 'KW' | 'KWP'

const WRAP_IV: Record<AesWrapMode, Buffer> = { KW: Buffer.from('A6A6A6A6A6A6A6A6', 'hex'), KWP: Buffer.from('A65959A6', 'hex') }

function wrapCipher(kek: Buffer, mode: AesWrapMode): string {
  return `id-aes${kek.length * 8}-wrap${mode === 'KWP' ? '-pad' : ''}`
}

export function parseWrapMode(v: unknown): AesWrapMode {
  if (v === 'KW' || v === 'KWP') return v
  throw badRequest(`Invalid mode ${JSON.stringify(v ?? null)} for AES key wrapping: use KW or KWP`)
}

export function aesKeyWrap(kek: Buffer, plaintext: Buffer, mode: AesWrapMode): Buffer {
  if (mode === 'KW' && (plaintext.length < 16 || plaintext.length % 8 !== 0)) throw badRequest('AES KW wraps keys of a multiple of 8 bytes, at least 16: use KWP')
  const c = createCipheriv(wrapCipher(kek, mode), kek, WRAP_IV[mode])
  return Buffer.concat([c.update(plaintext), c.final()])
}

export function aesKeyUnwrap(kek: Buffer, blob: Buffer, mode: AesWrapMode): Buffer {
  try {
    const d = createDecipheriv(wrapCipher(kek, mode), kek, WRAP_IV[mode])
    return Buffer.concat([d.update(blob), d.final()])
  } catch {
    // The integrity check of RFC 3394/5649 failed: wrong key, wrong mode or a damaged blob.
    throw badRequest(`Unwrap failed: the wrapped key does not unwrap under this key with ${mode}`)
  }
}

export type AesMode = 'GCM' | 'CBC'

function parseCryptMode(v: unknown): AesMode {
  if (v === 'GCM' || v === 'CBC') return v
  if (v === undefined || v === null) throw badRequest('Missing required field mode (GCM or CBC for AES)')
  throw badRequest(`mode ${JSON.stringify(v)} is not supported for AES by this appliance simulator: use GCM or CBC`)
}

function cipherName(key: Buffer, mode: AesMode): string {
  return `aes-${key.length * 8}-${mode.toLowerCase()}`
}

export interface EncryptParams { mode: unknown; plain: Buffer; iv?: Buffer | undefined; ad?: Buffer | undefined; tagLenBits?: number | undefined }
export interface DecryptParams { mode: unknown; cipher: Buffer; iv?: Buffer | undefined; ad?: Buffer | undefined; tag?: Buffer | undefined }

export function aesEncrypt(key: Buffer, p: EncryptParams): { cipher: Buffer; iv: Buffer; tag?: Buffer } {
  const mode = parseCryptMode(p.mode)
  if (mode === 'GCM') {
    const iv = p.iv ?? randomBytes(12)
    if (iv.length < 12) throw badRequest('Invalid iv: GCM needs at least 12 bytes')
    const tagBits = p.tagLenBits ?? 128
    if (![96, 104, 112, 120, 128].includes(tagBits)) throw badRequest(`Invalid tag_len ${tagBits}: GCM tags are 96 to 128 bits in steps of 8`)
    const c = createCipheriv(cipherName(key, mode) as CipherGCMTypes, key, iv, { authTagLength: tagBits / 8 })
    if (p.ad) c.setAAD(p.ad)
    const cipher = Buffer.concat([c.update(p.plain), c.final()])
    return { cipher, iv, tag: c.getAuthTag() }
  }
  if (p.ad) throw badRequest('Invalid field ad: CBC takes no authenticated data')
  const iv = p.iv ?? randomBytes(16)
  if (iv.length !== 16) throw badRequest('Invalid iv: CBC needs 16 bytes')
  const c = createCipheriv(cipherName(key, mode), key, iv)
  return { cipher: Buffer.concat([c.update(p.plain), c.final()]), iv }
}

export function aesDecrypt(key: Buffer, p: DecryptParams): Buffer {
  const mode = parseCryptMode(p.mode)
  if (!p.iv) throw badRequest(`Missing required field iv for ${mode} decryption`)
  try {
    if (mode === 'GCM') {
      if (!p.tag) throw badRequest('Missing required field tag for GCM decryption')
      const d = createDecipheriv(cipherName(key, mode) as CipherGCMTypes, key, p.iv, { authTagLength: p.tag.length })
      if (p.ad) d.setAAD(p.ad)
      d.setAuthTag(p.tag)
      return Buffer.concat([d.update(p.cipher), d.final()])
    }
    const d = createDecipheriv(cipherName(key, mode), key, p.iv)
    return Buffer.concat([d.update(p.cipher), d.final()])
  } catch (e) {
    if (e instanceof Error && e.name === 'DsmError') throw e
    throw badRequest(`Decryption failed: the ciphertext, iv${mode === 'GCM' ? ', tag or ad' : ''} do not match this key`)
  }
}

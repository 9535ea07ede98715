// Encrypt and decrypt (POST /crypto/v1/encrypt, /crypto/v1/decrypt; [spec] EncryptRequest,
// DecryptRequest) with an AES key, e.g. one of a FIPS-backed group, to show the group works end
// to end. Data is passed as Buffers and sent base64; nothing here is logged.
import { InvalidArgumentError } from './errors'
import { checkDescriptor, type SobjectDescriptor } from './requests'
import { DecryptResponseSchema, EncryptResponseSchema } from './schemas'
import type { AuthedCaller } from './session-core'

export type AesCryptMode = 'GCM' | 'CBC'

export interface EncryptRequest {
  key: SobjectDescriptor
  mode: AesCryptMode
  plain: Buffer
  iv?: Buffer
  /** GCM only */
  ad?: Buffer
  /** GCM tag length in bits (default 128) */
  tagLenBits?: number
}

export interface DecryptRequest {
  key: SobjectDescriptor
  mode: AesCryptMode
  cipher: Buffer
  iv: Buffer
  ad?: Buffer
  tag?: Buffer
}

export interface Encrypted { kid: string | undefined; cipher: Buffer; iv: Buffer | undefined; tag: Buffer | undefined }

function mode(m: unknown): AesCryptMode {
  if (m !== 'GCM' && m !== 'CBC') throw new InvalidArgumentError('mode must be GCM or CBC')
  return m
}

function bytes(b: unknown, what: string): string {
  if (!Buffer.isBuffer(b)) throw new InvalidArgumentError(`${what} must be a Buffer`)
  return b.toString('base64')
}

export function buildEncryptBody(r: EncryptRequest): Record<string, unknown> {
  const body: Record<string, unknown> = { key: checkDescriptor(r.key), alg: 'AES', mode: mode(r.mode), plain: bytes(r.plain, 'plain') }
  if (r.iv !== undefined) body['iv'] = bytes(r.iv, 'iv')
  if (r.ad !== undefined) {
    if (r.mode !== 'GCM') throw new InvalidArgumentError('ad (authenticated data) is for GCM only')
    body['ad'] = bytes(r.ad, 'ad')
  }
  if (r.tagLenBits !== undefined) {
    if (r.mode !== 'GCM' || ![96, 104, 112, 120, 128].includes(r.tagLenBits)) throw new InvalidArgumentError('tagLenBits is for GCM: 96 to 128 in steps of 8')
    body['tag_len'] = r.tagLenBits
  }
  return body
}

export function buildDecryptBody(r: DecryptRequest): Record<string, unknown> {
  const body: Record<string, unknown> = { key: checkDescriptor(r.key), alg: 'AES', mode: mode(r.mode), cipher: bytes(r.cipher, 'cipher'), iv: bytes(r.iv, 'iv') }
  if (r.mode === 'GCM' && r.tag === undefined) throw new InvalidArgumentError('GCM decryption needs the tag')
  if (r.tag !== undefined) body['tag'] = bytes(r.tag, 'tag')
  if (r.ad !== undefined) body['ad'] = bytes(r.ad, 'ad')
  return body
}

export class CryptoApi {
  readonly #s: AuthedCaller
  constructor(session: AuthedCaller) {
    this.#s = session
  }

  async encrypt(req: EncryptRequest): Promise<Encrypted> {
    const r = await this.#s.call({ method: 'POST', path: '/crypto/v1/encrypt', body: buildEncryptBody(req), expect: [200], schema: EncryptResponseSchema })
    const v = r.value
    return {
      kid: v.kid ?? undefined,
      cipher: Buffer.from(v.cipher, 'base64'),
      iv: v.iv ? Buffer.from(v.iv, 'base64') : undefined,
      tag: v.tag ? Buffer.from(v.tag, 'base64') : undefined,
    }
  }

  /** The plaintext, as a Buffer the caller should zero when done with it. */
  async decrypt(req: DecryptRequest): Promise<Buffer> {
    const r = await this.#s.call({ method: 'POST', path: '/crypto/v1/decrypt', body: buildDecryptBody(req), expect: [200], schema: DecryptResponseSchema })
    return Buffer.from(r.value.plain, 'base64')
  }
}

// Key check value: AES-ECB encryption of one all-zero block under the key, first 3 bytes,
// upper-case hex — the value DSM shows and witnesses compare between source and target.
// The app never holds a plaintext CMK; this exists for tests against the vectors and the simulator.

import { createCipheriv } from 'node:crypto'
import { InvalidAesKeyError } from './errors'

const CIPHER_BY_LENGTH: Record<number, string> = { 16: 'aes-128-ecb', 24: 'aes-192-ecb', 32: 'aes-256-ecb' }

export function kcv(aesKey: Buffer | Uint8Array): string {
  const cipherName = CIPHER_BY_LENGTH[aesKey.length]
  if (!cipherName) throw new InvalidAesKeyError(`An AES key is 16, 24 or 32 bytes long; got ${aesKey.length}.`)
  const cipher = createCipheriv(cipherName, aesKey, null).setAutoPadding(false)
  const block = Buffer.concat([cipher.update(Buffer.alloc(16)), cipher.final()])
  return block.subarray(0, 3).toString('hex').toUpperCase()
}

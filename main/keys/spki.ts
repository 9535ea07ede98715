// Strict RSA SubjectPublicKeyInfo parsing and the transfer-key policy (RSA-2048, e = 65537).
// Two independent checks agree before a key is accepted: node-forge parses the DER strictly and
// re-encodes it byte for byte (so the fingerprint is of canonical DER), and node:crypto must
// import it and export the identical bytes.

import { createHash, createPublicKey } from 'node:crypto'
import forge from 'node-forge'
import { KeyFormatError } from './errors'
import { pemPublicKeyToDer, strictBase64Decode } from './pem'

export const TRANSFER_KEY_BITS = 2048
export const TRANSFER_KEY_EXPONENT = 65537

export interface TransferPublicKey {
  /** The SubjectPublicKeyInfo DER, exactly as given (and verified canonical). */
  spkiDer: Buffer
  modulusBits: 2048
  exponent: 65537
  /** SHA-256 of spkiDer, lowercase hex: the fingerprint witnesses compare. */
  fingerprint: string
}

const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1'
const KNOWN_NON_RSA: Record<string, string> = {
  '1.2.840.113549.1.1.10': 'an RSA-PSS key (restricted to signatures)',
  '1.2.840.10045.2.1': 'an elliptic-curve (EC) key',
  '1.3.101.110': 'an X25519 key',
  '1.3.101.111': 'an X448 key',
  '1.3.101.112': 'an Ed25519 key',
  '1.3.101.113': 'an Ed448 key',
  '1.2.840.10040.4.1': 'a DSA key',
  '1.2.840.10046.2.1': 'a Diffie-Hellman key',
}

const { asn1 } = forge

/** Parse and check a transfer public key given as PEM text. */
export function parseTransferPublicKeyPem(pem: string): TransferPublicKey {
  return parseTransferPublicKeyDer(pemPublicKeyToDer(pem))
}

/** Same checks for DER bytes (e.g. DSM's `pub_key`, after publicKeyDerFromBase64). */
export function parseTransferPublicKeyDer(der: Buffer): TransferPublicKey {
  const { modulus, exponent } = parseRsaSpki(der)
  const bits = modulus.bitLength()
  if (bits !== TRANSFER_KEY_BITS) {
    throw new KeyFormatError('WRONG_KEY_SIZE', `This is an RSA-${bits} key; the ceremony requires an RSA-2048 transfer key. Generate the transfer key again with size 2048.`)
  }
  if (!exponent.equals(new forge.jsbn.BigInteger(String(TRANSFER_KEY_EXPONENT)))) {
    throw new KeyFormatError('WRONG_EXPONENT', `The key's public exponent is ${exponent.toString(10)}; the ceremony requires 65537.`)
  }
  if (!modulus.testBit(0)) {
    throw new KeyFormatError('MALFORMED_DER', 'The RSA modulus is even, which no real RSA key has: the key is damaged.')
  }
  crossCheckWithNodeCrypto(der)
  return { spkiDer: Buffer.from(der), modulusBits: 2048, exponent: 65537, fingerprint: sha256Hex(der) }
}

/** DSM returns `pub_key` as base64 DER. Strict base64; the DER must be one complete structure. */
export function publicKeyDerFromBase64(b64: string): Buffer {
  const der = strictBase64Decode(b64.trim(), 'the public key (base64)')
  checkOuterTlv(der)
  return der
}

/** SHA-256 of a public key's SPKI DER, lowercase hex. PEM text is decoded strictly first. */
export function spkiSha256(derOrPem: Buffer | Uint8Array | string): string {
  const der = typeof derOrPem === 'string' ? pemPublicKeyToDer(derOrPem) : Buffer.from(derOrPem)
  return sha256Hex(der)
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/**
 * The outer SEQUENCE's declared length against the bytes we have: fewer is a truncated file,
 * more is something appended. Done by hand so the custodian gets the right one of the two.
 */
function checkOuterTlv(der: Buffer): void {
  if (der.length < 2) throw new KeyFormatError('TRUNCATED', 'The public key data is cut off (only a few bytes).')
  if (der[0] !== 0x30) throw new KeyFormatError('MALFORMED_DER', 'The data is not a public key structure (it does not start with an ASN.1 SEQUENCE).')
  const first = der[1]!
  let len: number
  let headerLen: number
  if (first < 0x80) {
    len = first
    headerLen = 2
  } else {
    const n = first & 0x7f
    if (n === 0 || n > 4) throw new KeyFormatError('MALFORMED_DER', 'The public key structure has an invalid length field.')
    if (der.length < 2 + n) throw new KeyFormatError('TRUNCATED', 'The public key data is cut off.')
    len = 0
    for (let i = 0; i < n; i++) len = len * 256 + der[2 + i]!
    headerLen = 2 + n
  }
  const total = headerLen + len
  if (der.length < total) {
    throw new KeyFormatError('TRUNCATED', `The public key data is cut off: ${der.length} of ${total} bytes present. Copy the file again.`)
  }
  if (der.length > total) {
    throw new KeyFormatError('TRAILING_DATA', `There are ${der.length - total} extra bytes after the public key structure.`)
  }
}

function fromDerStrict(bytes: string): forge.asn1.Asn1 {
  return asn1.fromDer(bytes, { strict: true, parseAllBytes: true, decodeBitStrings: false } as never)
}

function malformed(why: string): KeyFormatError {
  return new KeyFormatError('MALFORMED_DER', `The file decodes, but is not a valid public key (${why}). It is damaged or not a public key.`)
}

function isUniversal(node: forge.asn1.Asn1 | undefined, type: number, constructed: boolean): node is forge.asn1.Asn1 {
  return !!node && node.tagClass === asn1.Class.UNIVERSAL && node.type === type && node.constructed === constructed
}

function parseRsaSpki(der: Buffer): { modulus: forge.jsbn.BigInteger; exponent: forge.jsbn.BigInteger } {
  checkOuterTlv(der)
  const bin = der.toString('binary')
  let spki: forge.asn1.Asn1
  try {
    spki = fromDerStrict(bin)
  } catch (e) {
    throw malformed(e instanceof Error ? e.message : 'unreadable ASN.1')
  }
  // Canonical DER only: BER variants (long-form short lengths, etc.) would give the same key a
  // different fingerprint, so they are refused rather than normalised.
  if (asn1.toDer(spki).getBytes() !== bin) throw malformed('not in canonical DER encoding')

  const top = spki.value
  if (!isUniversal(spki, asn1.Type.SEQUENCE, true) || !Array.isArray(top) || top.length !== 2) throw malformed('wrong outer structure')
  const [algId, bitString] = top
  if (!isUniversal(algId, asn1.Type.SEQUENCE, true) || !Array.isArray(algId.value) || algId.value.length < 1) throw malformed('no algorithm identifier')
  const oidNode = algId.value[0]
  if (!isUniversal(oidNode, asn1.Type.OID, false) || typeof oidNode.value !== 'string') throw malformed('no algorithm OID')
  const oid = asn1.derToOid(forge.util.createBuffer(oidNode.value))
  if (oid !== OID_RSA_ENCRYPTION) {
    const what = KNOWN_NON_RSA[oid] ?? `a key of type ${oid}`
    throw new KeyFormatError('NOT_RSA', `This is ${what}, not an RSA key. The ceremony needs the target appliance's RSA-2048 transfer key.`)
  }
  // rsaEncryption parameters must be NULL (RFC 3279 §2.3.1).
  const params = algId.value[1]
  if (algId.value.length !== 2 || !isUniversal(params, asn1.Type.NULL, false) || params.value !== '') throw malformed('RSA algorithm parameters are not NULL')

  if (!isUniversal(bitString, asn1.Type.BITSTRING, false) || typeof bitString.value !== 'string') throw malformed('no key bit string')
  if (bitString.value.charCodeAt(0) !== 0) throw malformed('key bit string has unused bits')
  let rsaKey: forge.asn1.Asn1
  try {
    rsaKey = fromDerStrict(bitString.value.slice(1))
  } catch (e) {
    throw malformed(`RSA key: ${e instanceof Error ? e.message : 'unreadable'}`)
  }
  const ints = rsaKey.value
  if (!isUniversal(rsaKey, asn1.Type.SEQUENCE, true) || !Array.isArray(ints) || ints.length !== 2) throw malformed('RSA key is not (modulus, exponent)')
  const [n, e] = ints
  return { modulus: positiveInteger(n, 'modulus'), exponent: positiveInteger(e, 'exponent') }
}

function positiveInteger(node: forge.asn1.Asn1 | undefined, what: string): forge.jsbn.BigInteger {
  if (!isUniversal(node, asn1.Type.INTEGER, false) || typeof node.value !== 'string' || node.value.length === 0) throw malformed(`RSA ${what} is not an INTEGER`)
  const v = node.value
  if (v.charCodeAt(0) & 0x80) throw malformed(`RSA ${what} is negative`)
  if (v.length > 1 && v.charCodeAt(0) === 0 && !(v.charCodeAt(1) & 0x80)) throw malformed(`RSA ${what} is not minimally encoded`)
  const hex = forge.util.bytesToHex(v)
  const big = new forge.jsbn.BigInteger(hex, 16)
  if (big.signum() <= 0) throw malformed(`RSA ${what} is zero`)
  return big
}

/** node:crypto must accept the same bytes as an RSA SPKI and give back the identical DER. */
function crossCheckWithNodeCrypto(der: Buffer): void {
  let exported: Buffer
  try {
    const key = createPublicKey({ key: der, format: 'der', type: 'spki' })
    if (key.asymmetricKeyType !== 'rsa') throw new Error(`type ${key.asymmetricKeyType}`)
    exported = key.export({ format: 'der', type: 'spki' })
  } catch (e) {
    throw malformed(`rejected by the second parser: ${e instanceof Error ? e.message : String(e)}`)
  }
  if (!exported.equals(der)) throw malformed('the two parsers disagree about its encoding')
}

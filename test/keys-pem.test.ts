// Strict transfer-public-key parsing against the OpenSSL-made vectors (security.md §6 bad inputs).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateKeyPairSync, createPublicKey } from 'node:crypto'
import {
  KeyFormatError, parseTransferPublicKeyPem, parseTransferPublicKeyDer, publicKeyDerFromBase64,
  spkiSha256, spkiDerToPem, spkiPemToDer,
} from '../main/keys'

const VECTORS = join(__dirname, '..', '..', 'shared', 'reference', 'vectors')
const vector = (name: string) => readFileSync(join(VECTORS, name), 'utf8')
const GOOD = vector('transfer-rsa2048.pub.pem')
const GOOD_FP = vector('transfer-rsa2048.spki-sha256.hex').trim()

function refuses(input: string, code: string, extra?: (e: KeyFormatError) => void) {
  assert.throws(() => parseTransferPublicKeyPem(input), (e: unknown) => {
    assert.ok(e instanceof KeyFormatError, `expected KeyFormatError, got ${String(e)}`)
    assert.equal(e.code, code, e.message)
    assert.ok(e.message.length > 20)
    extra?.(e)
    return true
  })
}

test('the good vector parses; its fingerprint equals the OpenSSL-computed SPKI SHA-256', () => {
  const k = parseTransferPublicKeyPem(GOOD)
  assert.equal(k.modulusBits, 2048)
  assert.equal(k.exponent, 65537)
  assert.equal(k.fingerprint, GOOD_FP)
  assert.equal(spkiSha256(k.spkiDer), GOOD_FP)
  assert.equal(spkiSha256(GOOD), GOOD_FP)
  // Matches node:crypto's own view of the same key.
  assert.deepEqual(createPublicKey(GOOD).export({ type: 'spki', format: 'der' }), k.spkiDer)
})

test('DER ⇄ PEM round-trips byte for byte, to the same text OpenSSL wrote', () => {
  const der = spkiPemToDer(GOOD)
  assert.equal(spkiDerToPem(der), GOOD)
  assert.deepEqual(spkiPemToDer(spkiDerToPem(der)), der)
})

test('DSM pub_key (base64 DER) gives the same key and fingerprint', () => {
  const b64 = spkiPemToDer(GOOD).toString('base64')
  const der = publicKeyDerFromBase64(b64)
  assert.equal(parseTransferPublicKeyDer(der).fingerprint, GOOD_FP)
  assert.throws(() => publicKeyDerFromBase64(b64.slice(0, -8)), { name: 'KeyFormatError' })
  assert.throws(() => publicKeyDerFromBase64(b64 + 'AAAA'), { code: 'TRAILING_DATA' })
  assert.throws(() => publicKeyDerFromBase64('not base64!'), { code: 'BAD_BASE64' })
})

test('whitespace around the block and CRLF line endings are accepted (same DER, same fingerprint)', () => {
  assert.equal(parseTransferPublicKeyPem(`\n\n  ${GOOD}\n\n`).fingerprint, GOOD_FP)
  assert.equal(parseTransferPublicKeyPem(GOOD.replace(/\n/g, '\r\n')).fingerprint, GOOD_FP)
})

test('bad.* key vectors are each refused with a named error', () => {
  refuses(vector('bad.rsa1024.pub.pem'), 'WRONG_KEY_SIZE', (e) => assert.match(e.message, /RSA-1024/))
  refuses(vector('bad.rsa4096.pub.pem'), 'WRONG_KEY_SIZE', (e) => assert.match(e.message, /RSA-4096/))
  refuses(vector('bad.ec-p256.pub.pem'), 'NOT_RSA', (e) => assert.match(e.message, /elliptic-curve/))
  refuses(vector('bad.truncated.pub.pem'), 'TRUNCATED')
  refuses(vector('bad.certificate.pem'), 'CERTIFICATE_REFUSED')
  refuses(vector('bad.private-key-not-public.pem'), 'PRIVATE_KEY_REFUSED', (e) => assert.equal(e.securityEvent, true))
  refuses(vector('transfer-rsa2048.key.pem'), 'PRIVATE_KEY_REFUSED')
})

test('the wrapped-blob vectors are not mistaken for a key', () => {
  refuses(vector('bad.cmk.wrapped.bitflip.b64'), 'NOT_PEM')
  refuses(vector('bad.cmk.wrapped.truncated.b64'), 'NOT_PEM')
})

test('a private key anywhere in the file wins over every other finding', () => {
  refuses(GOOD + vector('bad.private-key-not-public.pem'), 'PRIVATE_KEY_REFUSED')
  refuses(vector('bad.private-key-not-public.pem').replace(/PRIVATE KEY/g, 'RSA PRIVATE KEY'), 'PRIVATE_KEY_REFUSED')
  refuses(vector('bad.private-key-not-public.pem').replace(/PRIVATE KEY/g, 'ENCRYPTED PRIVATE KEY'), 'PRIVATE_KEY_REFUSED')
})

test('structure of the text: empty, binary, BOM, two blocks, leading/trailing text, other labels', () => {
  refuses('', 'EMPTY')
  refuses('  \n\t\n', 'EMPTY')
  refuses('\u0000\u0001\u00ffbinary', 'NOT_TEXT')
  refuses('\ufeff' + GOOD, 'NOT_TEXT')
  refuses(Buffer.from(GOOD, 'utf16le').toString('latin1'), 'NOT_TEXT')
  refuses('hello world', 'NOT_PEM')
  refuses(GOOD + GOOD, 'MULTIPLE_BLOCKS')
  refuses(GOOD + vector('bad.rsa1024.pub.pem'), 'MULTIPLE_BLOCKS')
  refuses('Here is the key:\n' + GOOD, 'LEADING_DATA')
  refuses(GOOD + 'garbage', 'TRAILING_DATA')
  refuses(GOOD.replace(/PUBLIC KEY/g, 'RSA PUBLIC KEY'), 'NOT_PUBLIC_KEY')
  refuses(GOOD.replace(/PUBLIC KEY/g, 'X509 CRL'), 'NOT_PUBLIC_KEY')
  refuses(GOOD.replace('-----END PUBLIC KEY-----', '-----END CERTIFICATE-----'), 'NOT_PEM')
  refuses('x'.repeat(70 * 1024), 'TOO_LARGE')
  refuses(GOOD.replace('-----BEGIN PUBLIC KEY-----\n', '-----BEGIN PUBLIC KEY-----\nProc-Type: 4,ENCRYPTED\n\n'), 'BAD_BASE64')
})

test('base64 and DER damage: bad characters, padding, truncated DER, trailing DER bytes', () => {
  const lines = GOOD.split('\n')
  refuses(GOOD.replace('MIIBIjAN', 'MIIB*jAN'), 'BAD_BASE64')
  refuses([lines[0], ...lines.slice(1, 3), 'AAAA==', ...lines.slice(3)].join('\n'), 'BAD_BASE64')
  // Drop a body line: base64 stays valid but the DER is shorter than its header says.
  refuses([lines[0], ...lines.slice(1, 3), ...lines.slice(4)].join('\n'), 'TRUNCATED')
  const der = spkiPemToDer(GOOD)
  refuses(spkiDerToPem(Buffer.concat([der, Buffer.from([0, 0, 0])])), 'TRAILING_DATA')
  refuses(spkiDerToPem(Buffer.from([0x04, 0x02, 0x00, 0x00])), 'MALFORMED_DER')
})

test('non-canonical DER (long-form length where short form fits) is refused, not normalised', () => {
  const der = spkiPemToDer(GOOD)
  // Outer header is 30 82 01 22; inner AlgorithmIdentifier 30 0d → re-encode as 30 81 0d.
  assert.equal(der[4], 0x30); assert.equal(der[5], 0x0d)
  const inner = Buffer.concat([der.subarray(4, 5), Buffer.from([0x81]), der.subarray(5)])
  const total = inner.length
  const bad = Buffer.concat([Buffer.from([0x30, 0x82, total >> 8, total & 0xff]), inner])
  refuses(spkiDerToPem(bad), 'MALFORMED_DER')
})

test('a bit flip inside the modulus still parses — only the fingerprint comparison catches it', () => {
  const der = Buffer.from(spkiPemToDer(GOOD))
  der[100] = der[100]! ^ 0x01
  const k = parseTransferPublicKeyPem(spkiDerToPem(der))
  assert.notEqual(k.fingerprint, GOOD_FP)
})

test('exponent other than 65537 and RSA-PSS keys are refused', () => {
  const e3 = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 }).publicKey.export({ type: 'spki', format: 'pem' }) as string
  refuses(e3, 'WRONG_EXPONENT', (e) => assert.match(e.message, /exponent is 3\b/))
  const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string
  refuses(pss, 'NOT_RSA', (e) => assert.match(e.message, /RSA-PSS/))
  const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string
  refuses(ed, 'NOT_RSA', (e) => assert.match(e.message, /Ed25519/))
})

test('a freshly generated RSA-2048 key is accepted and fingerprinted like node:crypto does', () => {
  const pub = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey
  const der = pub.export({ type: 'spki', format: 'der' })
  const k = parseTransferPublicKeyPem(pub.export({ type: 'spki', format: 'pem' }) as string)
  assert.equal(k.fingerprint, spkiSha256(der))
})

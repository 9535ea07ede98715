// Strict PEM handling for the transfer public key. Node's createPublicKey is lenient on purpose
// (it derives a public key from a private key, takes the first of two blocks, skips leading
// garbage — security.md §6), so this parser sits in front of it and accepts exactly one
// `-----BEGIN PUBLIC KEY-----` block, optionally surrounded by whitespace, and nothing else.
// Line endings: LF and CRLF are both accepted (normalised) — the DER, not the text, is what is
// fingerprinted, and Windows editors write CRLF. A byte-order mark is refused (NOT_TEXT), always.

import { KeyFormatError } from './errors'

/** No SPKI public key we accept comes close; checked before any parsing work. */
export const MAX_PEM_CHARS = 64 * 1024

const BEGIN_RE = /-----BEGIN ([^-\r\n]*)-----/g
const END_RE = /-----END ([^-\r\n]*)-----/g
const BASE64_LINE_RE = /^[A-Za-z0-9+/]*={0,2}$/

/** Decode the single PUBLIC KEY block in `pem` to its DER bytes. Does not look inside the DER. */
export function pemPublicKeyToDer(pem: string): Buffer {
  if (typeof pem !== 'string') throw new KeyFormatError('NOT_TEXT', 'The public key must be given as text.')
  if (pem.length > MAX_PEM_CHARS) {
    throw new KeyFormatError('TOO_LARGE', `This file is ${pem.length} characters long; a public key is under 1 KB. It is not a transfer public key.`)
  }
  if (pem.trim() === '') throw new KeyFormatError('EMPTY', 'The public key file is empty.')
  if (pem.charCodeAt(0) === 0xfeff) {
    throw new KeyFormatError('NOT_TEXT', 'The file starts with a byte-order mark (BOM); it was re-saved by an editor. Use the file exported by the appliance.')
  }
  // Printable ASCII plus TAB/CR/LF only: catches binary files, UTF-16 and look-alike characters.
  // eslint-disable-next-line no-control-regex
  if (/[^\x09\x0a\x0d\x20-\x7e]/.test(pem)) {
    throw new KeyFormatError('NOT_TEXT', 'The file contains bytes that are not plain text (binary data, UTF-16 or unusual characters). It is not a PEM public key.')
  }
  const text = pem.replace(/\r\n/g, '\n')

  const begins = [...text.matchAll(BEGIN_RE)]
  const ends = [...text.matchAll(END_RE)]
  // Look at every label first: a private key anywhere in the file is the most important finding.
  for (const m of [...begins, ...ends]) {
    const label = m[1] ?? ''
    if (/PRIVATE KEY/.test(label)) {
      throw new KeyFormatError('PRIVATE_KEY_REFUSED',
        `This file contains a PRIVATE key ("${label}"), not a public key. A private key must never be on the ceremony media: stop and report this to the witnesses.`,
        { securityEvent: true })
    }
  }
  if (begins.length === 0) {
    throw new KeyFormatError('NOT_PEM', 'No "-----BEGIN PUBLIC KEY-----" line found: this file is not a PEM public key.')
  }
  if (begins.length > 1 || ends.length > 1) {
    throw new KeyFormatError('MULTIPLE_BLOCKS', `The file holds ${Math.max(begins.length, ends.length)} PEM blocks; exactly one public key is expected. Use the file exported by the appliance, unmodified.`)
  }
  const begin = begins[0]!
  const label = begin[1] ?? ''
  if (/CERTIFICATE/.test(label)) {
    throw new KeyFormatError('CERTIFICATE_REFUSED', `This file is a certificate ("${label}"), not the transfer public key. Export the public key itself from the target appliance.`)
  }
  if (label === 'RSA PUBLIC KEY') {
    throw new KeyFormatError('NOT_PUBLIC_KEY', 'This is a PKCS#1 "RSA PUBLIC KEY" file; the ceremony needs the SubjectPublicKeyInfo "PUBLIC KEY" format the appliance exports.')
  }
  if (label !== 'PUBLIC KEY') {
    throw new KeyFormatError('NOT_PUBLIC_KEY', `This PEM block is a "${label}", not a "PUBLIC KEY".`)
  }
  const end = ends[0]
  if (!end || end.index! < begin.index!) {
    throw new KeyFormatError('TRUNCATED', 'The public key file is cut off: it has no "-----END PUBLIC KEY-----" line. Copy the file again from the appliance export.')
  }
  if (end[1] !== 'PUBLIC KEY') {
    throw new KeyFormatError('NOT_PEM', `The block starts as "PUBLIC KEY" but ends as "${end[1]}": the file is damaged or edited.`)
  }
  if (text.slice(0, begin.index).trim() !== '') {
    throw new KeyFormatError('LEADING_DATA', 'There is text before the "-----BEGIN PUBLIC KEY-----" line. The file must hold only the public key.')
  }
  const afterEnd = end.index! + end[0].length
  if (text.slice(afterEnd).trim() !== '') {
    throw new KeyFormatError('TRAILING_DATA', 'There is text after the "-----END PUBLIC KEY-----" line. The file must hold only the public key.')
  }
  const body = text.slice(begin.index! + begin[0].length, end.index)
  if (!body.startsWith('\n') || !/\n[ \t]*$/.test(body)) {
    throw new KeyFormatError('BAD_BASE64', 'The BEGIN and END lines must each be on a line of their own.')
  }
  const lines = body.split('\n').map((l) => l.trim()).filter((l) => l !== '')
  if (lines.some((l) => l.includes(':'))) {
    throw new KeyFormatError('BAD_BASE64', 'The key block carries headers (e.g. "Proc-Type"); an encrypted or annotated PEM is not accepted.')
  }
  for (const [i, l] of lines.entries()) {
    if (!BASE64_LINE_RE.test(l)) {
      throw new KeyFormatError('BAD_BASE64', `Line ${i + 2} of the key block is not valid base64: the file is damaged.`)
    }
    if (l.includes('=') && i !== lines.length - 1) {
      throw new KeyFormatError('BAD_BASE64', 'Base64 padding ("=") appears before the last line: the file is damaged or two keys were pasted together.')
    }
  }
  return strictBase64Decode(lines.join(''), 'the key block')
}

/** Base64 → bytes, refusing anything Buffer.from would silently skip or repair. */
export function strictBase64Decode(b64: string, what: string): Buffer {
  if (b64 === '') throw new KeyFormatError('EMPTY', `${capitalise(what)} is empty.`)
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) {
    throw new KeyFormatError('BAD_BASE64', `${capitalise(what)} is not valid base64 (wrong characters or length): it is damaged or incomplete.`)
  }
  const bytes = Buffer.from(b64, 'base64')
  // Round-trip catches non-zero padding bits, i.e. a non-canonical (tampered or damaged) encoding.
  if (bytes.toString('base64') !== b64) {
    throw new KeyFormatError('BAD_BASE64', `${capitalise(what)} is not canonical base64: it is damaged.`)
  }
  return bytes
}

/** DER SubjectPublicKeyInfo → PEM text (64-character lines, LF, trailing newline), as OpenSSL writes it. */
export function spkiDerToPem(der: Buffer): string {
  const b64 = der.toString('base64')
  const lines = b64.match(/.{1,64}/g) ?? []
  return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----\n`
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}

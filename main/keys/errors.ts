// Named refusals for key material. Every refusal carries a stable `code` (for the engine, the audit
// log and tests) and a message written for a custodian at the workstation, not for a developer.

export type KeyFormatErrorCode =
  | 'EMPTY'                // nothing in the file
  | 'TOO_LARGE'            // bigger than any public key could be; refused before parsing
  | 'NOT_TEXT'             // binary, UTF-16, a byte-order mark or other non-ASCII bytes
  | 'NOT_PEM'              // text, but no PEM block at all
  | 'LEADING_DATA'         // text before the BEGIN line
  | 'TRAILING_DATA'        // text after the END line, or bytes after the key structure
  | 'MULTIPLE_BLOCKS'      // more than one PEM block
  | 'PRIVATE_KEY_REFUSED'  // a private key: refused and a security event
  | 'CERTIFICATE_REFUSED'  // an X.509 certificate instead of the key itself
  | 'NOT_PUBLIC_KEY'       // any other PEM label (incl. PKCS#1 "RSA PUBLIC KEY")
  | 'TRUNCATED'            // BEGIN without END, or DER shorter than it says
  | 'BAD_BASE64'           // the body is not clean base64
  | 'MALFORMED_DER'        // decodes, but is not a well-formed SubjectPublicKeyInfo
  | 'NOT_RSA'              // an EC, RSA-PSS, Ed25519 … key
  | 'WRONG_KEY_SIZE'       // RSA, but not 2048 bits
  | 'WRONG_EXPONENT'       // RSA-2048, but e ≠ 65537

export class KeyFormatError extends Error {
  override readonly name = 'KeyFormatError'
  readonly code: KeyFormatErrorCode
  /** True when the input itself is a security incident (a private key on the media). */
  readonly securityEvent: boolean
  constructor(code: KeyFormatErrorCode, message: string, opts: { securityEvent?: boolean } = {}) {
    super(message)
    this.code = code
    this.securityEvent = opts.securityEvent ?? false
  }
}

/** kcv() was given something that is not an AES key. */
export class InvalidAesKeyError extends Error {
  override readonly name = 'InvalidAesKeyError'
  readonly code = 'INVALID_AES_KEY' as const
}

/** Bad input to the read-aloud renderers (not hex, unknown word, word in the wrong position). */
export class FingerprintFormatError extends Error {
  override readonly name = 'FingerprintFormatError'
  readonly code: 'NOT_HEX' | 'UNKNOWN_WORD' | 'WRONG_WORD_POSITION' | 'EMPTY'
  /** 1-based position of the offending word, when the input was a word list. */
  readonly position: number | undefined
  constructor(code: FingerprintFormatError['code'], message: string, position?: number) {
    super(message)
    this.code = code
    this.position = position
  }
}

// Key material checks for the ceremony: strict transfer-public-key parsing, fingerprints, KCV,
// and read-aloud renderings. No function here ever receives a private key or plaintext CMK from
// the app (kcv() is for tests and vectors).

export { KeyFormatError, InvalidAesKeyError, FingerprintFormatError } from './errors'
export type { KeyFormatErrorCode } from './errors'
export { MAX_PEM_CHARS, pemPublicKeyToDer, spkiDerToPem, strictBase64Decode } from './pem'
export {
  TRANSFER_KEY_BITS, TRANSFER_KEY_EXPONENT,
  parseTransferPublicKeyPem, parseTransferPublicKeyDer, publicKeyDerFromBase64, spkiSha256,
} from './spki'
export type { TransferPublicKey } from './spki'
export { kcv } from './kcv'
export { normaliseHex, hexGroups, pgpWords, wordsToHex, fingerprintDisplay } from './display'
export type { FingerprintDisplay } from './display'
export { PGP_EVEN_WORDS, PGP_ODD_WORDS, PGP_WORD_LIST_SHA256 } from './pgp-word-list'

/** PEM text → SPKI DER (strict, one PUBLIC KEY block). Alias named for symmetry with spkiDerToPem. */
export { pemPublicKeyToDer as spkiPemToDer } from './pem'

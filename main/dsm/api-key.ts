// The shape of an app API key (base64 of "<app uuid>:<secret>", dsm-api.md §3), checked before it
// is sent anywhere: an app session's own key, or a FIPS appliance's key inside an hmg config.
import { InvalidCredentialError } from './errors'

const MAX_API_KEY_BYTES = 4096

/** Refuses API keys that cannot be right (empty, whitespace from copy-paste, non-base64, not uuid:secret) before sending anything. */
export function checkApiKeyShape(apiKey: Buffer): void {
  if (!Buffer.isBuffer(apiKey)) throw new InvalidCredentialError('the API key must be given as a Buffer')
  if (apiKey.length === 0) throw new InvalidCredentialError('the API key is empty')
  if (apiKey.length > MAX_API_KEY_BYTES) throw new InvalidCredentialError(`the API key is longer than ${MAX_API_KEY_BYTES} bytes`)
  for (const b of apiKey) {
    const ok =
      (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) ||
      b === 0x2b || b === 0x2f || b === 0x3d || b === 0x2d || b === 0x5f
    if (!ok) {
      throw new InvalidCredentialError(
        b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09
          ? 'the API key contains spaces or line breaks (copy it again without them)'
          : 'the API key contains characters that are not base64',
      )
    }
  }
  // A DSM app API key is base64("<app uuid>:<secret>") (security.md §4.4, case 40). Checked on the
  // decoded bytes, which are never put in a message and are zeroed here.
  const decoded = Buffer.from(apiKey.toString('latin1'), 'base64')
  const ok = isUuidColonSecret(decoded)
  decoded.fill(0)
  if (!ok) throw new InvalidCredentialError('the API key does not decode to "<app uuid>:<secret>"; copy the whole key from the app\'s page in DSM')
}

/** `8-4-4-4-12` hex digits, ':', then one or more printable ASCII bytes; read byte by byte, no string copy. */
function isUuidColonSecret(b: Buffer): boolean {
  if (b.length < 38 || b[36] !== 0x3a) return false
  for (let i = 0; i < 36; i++) {
    const c = b[i]!
    const hex = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    if ([8, 13, 18, 23].includes(i) ? c !== 0x2d : !hex) return false
  }
  for (let i = 37; i < b.length; i++) if (b[i]! < 0x21 || b[i]! > 0x7e) return false
  return true
}

// The shape of an app API key (base64 of "<app uuid>:<secret>", dsm-api.md §3), checked before it
// is sent anywhere: an app session's own key, or a FIPS appliance's key inside an hmg config.
import { InvalidCredentialError } from './errors'

const MAX_API_KEY_BYTES = 4096

/** Refuses API keys that cannot be right (empty, whitespace from copy-paste, non-base64) before sending anything. */
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
}

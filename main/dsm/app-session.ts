// The operator's session on one appliance, from the app's API key (vendor guide §3.2.1 step 4).
// The API key is sent verbatim as the Basic credential (dsm-api.md §2). It lives in a Buffer the
// session owns, so it can be zeroed on logout (security.md §4.2); the one unavoidable copy is the
// header string Node's HTTP stack needs, which is dropped right after each auth call.
import { InvalidCredentialError } from './errors'
import { AuthResponseSchema, type AuthResponse } from './schemas'
import { DsmSession } from './session-core'
import type { DsmConnection } from './transport'

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

async function authenticate(connection: DsmConnection, apiKey: Buffer): Promise<AuthResponse> {
  const r = await connection.call({
    method: 'POST',
    path: '/sys/v1/session/auth',
    authorization: `Basic ${apiKey.toString('latin1')}`,
    expect: [200],
    schema: AuthResponseSchema,
  })
  return r.value
}

export class AppSession extends DsmSession {
  readonly #apiKey: Buffer

  private constructor(connection: DsmConnection, auth: AuthResponse, apiKey: Buffer) {
    super(connection, auth)
    this.#apiKey = apiKey
  }

  /**
   * Logs the app in. The session takes ownership of `apiKey`: it is kept only for transparent
   * re-authentication and zeroed on logout, or right away if login fails.
   */
  static async open(connection: DsmConnection, apiKey: Buffer): Promise<AppSession> {
    try {
      checkApiKeyShape(apiKey)
      const auth = await authenticate(connection, apiKey)
      return new AppSession(connection, auth, apiKey)
    } catch (err) {
      if (Buffer.isBuffer(apiKey)) apiKey.fill(0)
      throw err
    }
  }

  protected override reauthenticate(): Promise<AuthResponse> {
    return authenticate(this.connection, this.#apiKey)
  }

  protected override wipeSecrets(): void {
    this.#apiKey.fill(0)
  }
}

// The operator's session on one appliance, from the app's API key (vendor guide §3.2.1 step 4).
// The API key is sent verbatim as the Basic credential (dsm-api.md §2). It lives in a Buffer the
// session owns, so it can be zeroed on logout (security.md §4.2); the one unavoidable copy is the
// header string Node's HTTP stack needs, which is dropped right after each auth call.
import { checkApiKeyShape } from './api-key'
import { AuthResponseSchema, type AuthResponse } from './schemas'
import { DsmSession, type SessionOptions } from './session-core'
import type { DsmConnection } from './transport'

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

export { checkApiKeyShape }

export class AppSession extends DsmSession {
  readonly #apiKey: Buffer

  private constructor(connection: DsmConnection, auth: AuthResponse, apiKey: Buffer, options: SessionOptions) {
    super(connection, auth, options)
    this.#apiKey = apiKey
  }

  /**
   * Logs the app in. The session takes ownership of `apiKey`: it is kept only for transparent
   * re-authentication and zeroed on logout, or right away if login fails. With `ownsConnection` it
   * takes the connection too: closed at logout, or right away if login fails.
   */
  static async open(connection: DsmConnection, apiKey: Buffer, options: SessionOptions = {}): Promise<AppSession> {
    try {
      checkApiKeyShape(apiKey)
      const auth = await authenticate(connection, apiKey)
      return new AppSession(connection, auth, apiKey, options)
    } catch (err) {
      if (Buffer.isBuffer(apiKey)) apiKey.fill(0)
      if (options.ownsConnection) connection.close()
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

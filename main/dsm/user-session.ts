// A custodian's own DSM user session, used to review and approve quorum requests in the app
// (design.md §2). Auth is Basic base64(user:password), then select_account, which DSM requires for
// user sessions even with one account (dsm-api.md §2). The password Buffer is zeroed as soon as
// the login call is made; so unlike an app session, an expired custodian session cannot be
// renewed silently: the custodian logs in again (UnauthorizedError).
import { InvalidArgumentError, InvalidCredentialError, UnauthorizedError } from './errors'
import { UUID_RE } from './endpoints'
import { AuthResponseSchema, SelectAccountResponseSchema, type AuthResponse } from './schemas'
import { DsmSession, type SessionOptions } from './session-core'
import type { DsmConnection } from './transport'

export interface CustodianCredentials {
  /** the custodian's DSM user name (e-mail) */
  username: string
  /** zeroed by login, whatever happens */
  password: Buffer
  /** the account to select: the `acct_id` of the ceremony group */
  accountId: string
}

export class UserSession extends DsmSession {
  readonly username: string
  readonly accountId: string

  private constructor(connection: DsmConnection, auth: AuthResponse, username: string, accountId: string, options: SessionOptions) {
    super(connection, auth, options)
    this.username = username
    this.accountId = accountId
  }

  /** With `ownsConnection` the session takes the connection: closed at logout, or right away if login fails. */
  static async login(connection: DsmConnection, creds: CustodianCredentials, options: SessionOptions = {}): Promise<UserSession> {
    let credential: Buffer | undefined
    let auth: AuthResponse
    try {
      if (!Buffer.isBuffer(creds.password)) throw new InvalidCredentialError('the password must be given as a Buffer')
      if (typeof creds.username !== 'string' || creds.username.length === 0 || /[:\s]/.test(creds.username)) {
        throw new InvalidCredentialError('the DSM user name must be non-empty and contain no spaces or ":"')
      }
      if (creds.password.length === 0) throw new InvalidCredentialError('the password is empty')
      if (!UUID_RE.test(creds.accountId)) throw new InvalidArgumentError('accountId must be a UUID')
      credential = Buffer.concat([Buffer.from(`${creds.username}:`, 'utf8'), creds.password])
      const r = await connection.call({
        method: 'POST',
        path: '/sys/v1/session/auth',
        authorization: `Basic ${credential.toString('base64')}`,
        expect: [200],
        schema: AuthResponseSchema,
      })
      auth = r.value
    } catch (err) {
      if (options.ownsConnection) connection.close()
      throw err
    } finally {
      credential?.fill(0)
      if (Buffer.isBuffer(creds.password)) creds.password.fill(0)
    }
    const session = new UserSession(connection, auth, creds.username, creds.accountId, options)
    try {
      await session.call({
        method: 'POST',
        path: '/sys/v1/session/select_account',
        body: { acct_id: creds.accountId },
        expect: [200],
        schema: SelectAccountResponseSchema,
      })
    } catch (err) {
      await session.logout().catch(() => undefined)
      throw err
    }
    return session
  }

  protected override reauthenticate(): Promise<AuthResponse> {
    return Promise.reject(new UnauthorizedError(`the DSM session of ${this.username} has expired; the custodian must log in again`))
  }
}

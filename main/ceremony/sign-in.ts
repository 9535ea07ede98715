/**
 * DSM users who sign in with their own name and password during a ceremony, at an endpoint that is
 * not one of the plan's appliances: the non-FIPS cluster's administrator (guide §3.2.3). A kind
 * declares these sign-ins (CeremonyKind.signIns); the screen or the terminal collects the password
 * at run time and keeps it in main-process memory only. Each login gets a fresh copy, which the
 * DSM client zeroes; a session that has idled out is opened again the same way, never silently
 * kept alive by a stored credential.
 */
import { UserSession, type DsmConnection } from '../dsm'
import { CeremonyError } from '../errors'
import type { PlanAppliance } from './plan-envelope'

/** Where a named DSM user signs in: the endpoint (host, port, trust) plus the user and the account. */
export interface SignIn extends PlanAppliance {
  /** The DSM user name (e-mail) the plan names. */
  user: string
  /** The account to select after signing in. */
  accountId: string
}

export interface UserSessionsDeps {
  signIns: SignIn[]
  /** A new connection on every call: the session it is made for owns it and closes it when it ends. */
  connect(endpoint: PlanAppliance): DsmConnection
  /** A fresh copy of the user's password (zeroed by the login), or undefined if none was entered. */
  password?(signInId: string): Buffer | undefined
  now(): number
}

/** Re-open a session this long before DSM would idle it out, so a step never starts on a dying one. */
const IDLE_MARGIN_MS = 60_000

export class UserSessions {
  private readonly open = new Map<string, Promise<UserSession>>()
  private readonly asking = new Map<string, Promise<UserSession>>()

  constructor(private readonly deps: UserSessionsDeps) {}

  signIn(id: string): SignIn {
    const found = this.deps.signIns.find((s) => s.id === id)
    if (!found) throw new CeremonyError('SIGN_IN_UNKNOWN', `This ceremony has no sign-in "${id}"`)
    return found
  }

  /** Asked for at once (two steps, or one while an idle session is being ended), one login serves both. */
  session(id: string): Promise<UserSession> {
    const asked = this.asking.get(id)
    if (asked) return asked
    const answer = this.fresh(id).finally(() => this.asking.delete(id))
    this.asking.set(id, answer)
    return answer
  }

  private async fresh(id: string): Promise<UserSession> {
    const existing = this.open.get(id)
    if (existing) {
      const s = await existing.catch(() => null)
      if (s && !s.closed && s.idleExpiresAt - IDLE_MARGIN_MS > this.deps.now()) return s
      this.open.delete(id)
      await s?.logout().catch(() => undefined)
    }
    const where = this.signIn(id)
    const password = this.deps.password?.(id)
    if (!password || password.length === 0) {
      throw new CeremonyError('PASSWORD_MISSING', `No password has been entered for ${where.user} on ${where.label}`)
    }
    let connection: DsmConnection
    try {
      connection = this.deps.connect(where)
    } catch (err) {
      password.fill(0) // the login that would have zeroed it never begins
      throw err
    }
    const opening = UserSession.login(connection, { username: where.user, password, accountId: where.accountId }, { ownsConnection: true })
    this.open.set(id, opening)
    opening.catch(() => this.open.delete(id))
    return opening
  }

  async closeAll(): Promise<void> {
    const sessions = [...this.open.values()]
    this.open.clear()
    // At once, as the appliances' sessions are (ceremony-sessions.ts); a failed logout still closes its connection.
    await Promise.all(sessions.map((s) => s.then((x) => x.logout()).catch(() => undefined)))
  }
}

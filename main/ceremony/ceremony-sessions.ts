/**
 * The DSM sessions one ceremony holds: an app session per appliance, opened on first use with a
 * fresh copy of its API key and shared by every step on that appliance, and the named users'
 * sessions (the cluster administrator, sign-in.ts). The engine signs out of all of them together:
 * at the close, at a hand-off, at an abort and at shutdown.
 */
import { AppSession, type DsmConnection, type UserSession } from '../dsm'
import { CeremonyError } from '../errors'
import { applianceOf, type Plan, type PlanAppliance } from './plan-envelope'
import { UserSessions, type SignIn } from './sign-in'

export interface CeremonySessionsDeps {
  plan: Plan
  /** A new connection on every call: the session it is made for owns it and closes it when it ends. */
  connect(appliance: PlanAppliance): DsmConnection
  /** A fresh copy of the appliance's API key (the session zeroes its copy on logout), or undefined. */
  apiKey(applianceId: string): Buffer | undefined
  signIns: SignIn[]
  /** A fresh copy of a sign-in's password (zeroed by the login), or undefined. */
  password?(signInId: string): Buffer | undefined
  now(): number
}

export class CeremonySessions {
  private readonly apps = new Map<string, Promise<AppSession>>()
  private readonly users: UserSessions

  constructor(private readonly deps: CeremonySessionsDeps) {
    this.users = new UserSessions({ signIns: deps.signIns, connect: deps.connect, now: deps.now, ...(deps.password ? { password: deps.password } : {}) })
  }

  /** A fresh copy of the appliance's API key, for the session and for a request that carries it on (an hmg config). */
  apiKeyCopy(applianceId: string): Buffer {
    const key = this.deps.apiKey(applianceId)
    // An empty key is none (a fresh appliance's credentials file has no key until the onboarding makes one).
    if (!key || key.length === 0) throw new CeremonyError('API_KEY_MISSING', `No API key has been entered for ${applianceOf(this.deps.plan, applianceId).label}`)
    return key
  }

  app(applianceId: string): Promise<AppSession> {
    const open = this.apps.get(applianceId)
    if (open) return open
    const session = (async () => {
      // The key first: a refusal (API_KEY_MISSING) must not leave a connection behind.
      const key = this.apiKeyCopy(applianceId)
      let connection: DsmConnection
      try {
        connection = this.deps.connect(applianceOf(this.deps.plan, applianceId))
      } catch (err) {
        key.fill(0)
        throw err
      }
      // A connection of its own, which the session closes when it ends (the appliance's socket is shared underneath).
      return AppSession.open(connection, key, { ownsConnection: true })
    })()
    this.apps.set(applianceId, session)
    // A failed login is not kept: the next step tries again (with a key entered meanwhile, say).
    session.catch(() => this.apps.delete(applianceId))
    return session
  }

  user(signInId: string): Promise<UserSession> {
    return this.users.session(signInId)
  }

  /**
   * Ends every session, each closing its connection. The appliances' sessions end at once (each
   * logout is a round trip: one after another, eleven appliances keep the operator waiting half a
   * second); each is still awaited, and one that fails (an appliance gone) does not stop the others.
   */
  async signOut(): Promise<void> {
    const sessions = [...this.apps.values()]
    this.apps.clear()
    await Promise.all(sessions.map((session) => session.then((s) => s.logout()).catch(() => undefined)))
    await this.users.closeAll()
  }
}

// Sessions and credentials (dsm-api.md §2, §3).
// - App API key = base64("<app uuid>:<secret>"), sent as `Authorization: Basic <api key>`, either
//   to /sys/v1/session/auth or straight on any crypto call.
// - User: `Basic base64(email:password)` on /sys/v1/session/auth, then select_account.
// - Then `Authorization: Bearer <access_token>`.
// 401 wording for bad or expired credentials is not recorded in public sources; the texts here
// are the simulator's own.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { asObject, reqString } from './body'
import type { Caller, Ctx, Route } from './context'
import { ACCOUNT_NOT_SELECTED, badRequest, forbidden, unauthorized } from './errors'
import type { ApplianceModel, Session } from './model'
import { UUID_RE } from './body'

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

function decodeBasic(credential: string): { id: string; secret: string } {
  const decoded = Buffer.from(credential.trim(), 'base64').toString('utf8')
  const i = decoded.indexOf(':')
  if (i <= 0) throw unauthorized('Invalid credentials: Basic credential must be base64 of "<id>:<secret>"')
  return { id: decoded.slice(0, i), secret: decoded.slice(i + 1) }
}

/** Verifies Basic credentials: an app (by uuid) or a user (by email). */
function verifyBasic(model: ApplianceModel, credential: string): { app: string } | { user: string } {
  const { id, secret } = decodeBasic(credential)
  if (UUID_RE.test(id)) {
    const app = model.apps.get(id.toLowerCase())
    if (app && safeEqual(app.secret, secret)) return { app: app.appId }
  } else {
    const user = model.userByEmail(id)
    if (user && safeEqual(user.password, secret)) return { user: user.userId }
  }
  throw unauthorized('Invalid credentials')
}

function sessionExpired(ctx: Ctx, s: Session): boolean {
  const from = ctx.config.vendor.sessionExpiry === 'idle' ? s.lastUsed : s.createdAt
  return ctx.config.now() >= from + ctx.config.sessionTtlSeconds * 1000
}

/** Resolves the caller from the Authorization header, or throws 401. */
export function authenticate(ctx: Ctx): Caller {
  const header = ctx.headers['authorization']
  if (typeof header !== 'string' || header.trim() === '') throw unauthorized('Missing Authorization header')
  const [scheme, value = ''] = header.trim().split(/\s+/, 2)
  if (/^bearer$/i.test(scheme ?? '')) {
    const s = ctx.model.sessions.get(value)
    if (!s) throw unauthorized('Invalid access token')
    if (sessionExpired(ctx, s)) {
      ctx.model.sessions.delete(value)
      throw unauthorized('Access token has expired')
    }
    s.lastUsed = ctx.config.now()
    if ('app' in s.principal) {
      touchApp(ctx, s.principal.app)
      return { kind: 'app', appId: s.principal.app, acctId: ctx.model.account.acctId, session: s }
    }
    return { kind: 'user', userId: s.principal.user, session: s, ...(s.acctId ? { acctId: s.acctId } : {}) }
  }
  if (/^basic$/i.test(scheme ?? '')) {
    // An API key works on any call without a session ([rust] SdkmsClient docs); user
    // credentials only open sessions.
    const p = verifyBasic(ctx.model, value)
    if ('user' in p) throw unauthorized('User credentials can only be used with /sys/v1/session/auth')
    touchApp(ctx, p.app)
    return { kind: 'app', appId: p.app, acctId: ctx.model.account.acctId }
  }
  throw unauthorized('Unsupported Authorization scheme: use Basic or Bearer')
}

function touchApp(ctx: Ctx, appId: string): void {
  const app = ctx.model.apps.get(appId)
  if (app) app.lastUsed = ctx.config.now()
}

export function requireAccount(caller: Caller): string {
  if (!caller.acctId) throw unauthorized(ACCOUNT_NOT_SELECTED)
  return caller.acctId
}

function bearerSession(ctx: Ctx): Session {
  const s = ctx.caller?.session
  if (!s) throw unauthorized('This operation requires a session: authenticate with /sys/v1/session/auth first')
  return s
}

export const sessionRoutes: Route[] = [
  {
    method: 'POST',
    pattern: '/sys/v1/session/auth',
    auth: 'none',
    handle(ctx) {
      const header = ctx.headers['authorization']
      if (typeof header !== 'string') throw unauthorized('Missing Authorization header')
      const [scheme, value = ''] = header.trim().split(/\s+/, 2)
      if (!/^basic$/i.test(scheme ?? '')) throw unauthorized('Session auth needs Basic credentials')
      const principal = verifyBasic(ctx.model, value)
      const now = ctx.config.now()
      // 64 random bytes, base64url without padding: 86 characters, like the vendor's tokens.
      const token = randomBytes(64).toString('base64url')
      const session: Session = { token, principal, createdAt: now, lastUsed: now }
      if ('app' in principal) {
        session.acctId = ctx.model.account.acctId
        touchApp(ctx, principal.app)
      }
      ctx.model.sessions.set(token, session)
      return {
        status: 200,
        body: {
          token_type: 'Bearer',
          expires_in: ctx.config.sessionTtlSeconds,
          access_token: token,
          entity_id: 'app' in principal ? principal.app : principal.user,
          allowed_mfa_methods: [],
        },
      }
    },
  },
  {
    method: 'POST',
    pattern: '/sys/v1/session/terminate',
    auth: 'session',
    handle(ctx) {
      ctx.model.sessions.delete(bearerSession(ctx).token)
      return { status: 204 }
    },
  },
  {
    method: 'POST',
    pattern: '/sys/v1/session/refresh',
    auth: 'session',
    handle(ctx) {
      bearerSession(ctx).lastUsed = ctx.config.now()
      return { status: 204 }
    },
  },
  {
    method: 'POST',
    pattern: '/sys/v1/session/select_account',
    auth: 'session',
    handle(ctx) {
      const s = bearerSession(ctx)
      const acctId = reqString(asObject(ctx.body), 'acct_id')
      if (!UUID_RE.test(acctId)) throw badRequest('Invalid field acct_id: expected a UUID')
      if (acctId.toLowerCase() !== ctx.model.account.acctId) throw forbidden('You are not a member of this account')
      s.acctId = ctx.model.account.acctId
      return { status: 200, body: { cookie: null } }
    },
  },
]

// Users and apps of an appliance's account, as a system administrator signed in with their own
// password reads and makes them (dsm-api.md §3; OpenAPI ListUsers, CreateApp, GetAppCredential):
// replace-appliance's onboarding finds the custodians' user accounts by e-mail, and makes the
// ceremony's app in the quorum group and reads its API key once. The credential response is
// parsed here and nowhere else, and never reaches a log: the transport observes request bodies
// (redacted) only, never response bodies.
import { z } from 'zod'
import { BadResponseError, ConflictError } from './errors'
import { checkName, checkUuid } from './requests'
import type { AuthedCaller } from './session-core'

const uuid = z.string().regex(/^[0-9a-fA-F-]{36}$/).transform((s) => s.toLowerCase())

/** The fields of `User` the ceremony reads (OpenAPI: user_id and user_email are required). */
export const DsmUserSchema = z.object({ user_id: uuid, user_email: z.string() })
export type DsmUser = z.infer<typeof DsmUserSchema>

/** The fields of `App` the ceremony reads: groups in the modern (map) or legacy (array) form. */
export const DsmAppSchema = z.object({
  app_id: uuid,
  name: z.string(),
  description: z.string().nullish(),
  default_group: uuid.nullish(),
  groups: z.union([z.record(z.string(), z.array(z.string())), z.array(z.string()).transform((ids) => Object.fromEntries(ids.map((id) => [id, [] as string[]])))]),
  creator: z.record(z.string(), z.unknown()).nullish(),
})
export type DsmApp = z.infer<typeof DsmAppSchema>

/** GET /sys/v1/apps/{id}/credential: only the secret form is accepted (an app made with a secret). */
const CredentialSchema = z.object({ app_id: uuid, credential: z.object({ secret: z.string().min(1) }) })

export interface CreateAppRequest {
  name: string
  description: string
  /** the app's one group and its permissions (AppPermissions) */
  groupId: string
  permissions: string[]
}

export class AccountsApi {
  readonly #s: AuthedCaller
  constructor(session: AuthedCaller) {
    this.#s = session
  }

  /** GET /sys/v1/users: the account's users (a system administrator sees them all). */
  async users(): Promise<DsmUser[]> {
    const r = await this.#s.call({ method: 'GET', path: '/sys/v1/users', expect: [200], schema: z.array(DsmUserSchema) })
    return r.value
  }

  /** The user with this e-mail (DSM compares e-mails without case), or null. */
  async userByEmail(email: string): Promise<DsmUser | null> {
    const hits = (await this.users()).filter((u) => u.user_email.toLowerCase() === email.toLowerCase())
    if (hits.length > 1) throw new ConflictError(`${hits.length} users have the e-mail ${email}`)
    return hits[0] ?? null
  }

  /** GET /sys/v1/apps (a user session sees every app of the account). */
  async apps(): Promise<DsmApp[]> {
    const r = await this.#s.call({ method: 'GET', path: '/sys/v1/apps', expect: [200], schema: z.array(DsmAppSchema) })
    return r.value
  }

  /** The one app with this exact name (unique within an account, AppRequest.name), or null. */
  async appByName(name: string): Promise<DsmApp | null> {
    checkName(name, 'app name')
    const hits = (await this.apps()).filter((a) => a.name === name)
    if (hits.length > 1) throw new ConflictError(`${hits.length} apps are named "${name}"; the ceremony needs exactly one`)
    return hits[0] ?? null
  }

  /** POST /sys/v1/apps: a crypto app with a secret, in one group (its default). Never retried. */
  async create(req: CreateAppRequest): Promise<DsmApp> {
    const groupId = checkUuid(req.groupId, 'group_id')
    const body = {
      name: checkName(req.name, 'app name'), description: req.description, app_type: 'default', role: 'crypto',
      add_groups: { [groupId]: [...req.permissions] }, default_group: groupId,
    }
    const r = await this.#s.call({ method: 'POST', path: '/sys/v1/apps', body, expect: [200, 201], schema: DsmAppSchema })
    return r.value
  }

  /**
   * The app's API key: GET /sys/v1/apps/{id}/credential, then base64("<app_id>:<secret>") (dsm-api.md
   * §3). A fresh Buffer the caller owns and zeroes; the secret is never part of an error.
   */
  async apiKey(appId: string): Promise<Buffer> {
    const id = checkUuid(appId, 'app_id')
    const r = await this.#s.call({ method: 'GET', path: `/sys/v1/apps/${id}/credential`, expect: [200], schema: z.unknown() })
    const parsed = CredentialSchema.safeParse(r.value)
    // The issues would quote the secret: name the problem without them.
    if (!parsed.success) throw new BadResponseError(`The credential of app ${id} is not a secret credential`)
    if (parsed.data.app_id !== id.toLowerCase()) throw new BadResponseError(`The credential answered is for app ${parsed.data.app_id}, not ${id}`)
    const pair = Buffer.from(`${id.toLowerCase()}:${parsed.data.credential.secret}`, 'utf8')
    try {
      return Buffer.from(pair.toString('base64'), 'utf8')
    } finally {
      pair.fill(0)
    }
  }
}

/**
 * Onboarding of the replacement through the API (guide §5: "its account, group and quorum policy
 * are made again"), signed in as the new appliance's system administrator with their own password
 * (sign-in.ts; never persisted). What the account administrators and the people in the room do is
 * the witnessed checklist before these steps (steps.ts).
 *
 * - `onboard-group` makes the quorum group with exactly the policy and members the earlier records
 *   show: the strongest quorum of the records (n, require_password), the custodians' user accounts
 *   on the new appliance (found by e-mail: the plan's custodians for it, the same people the
 *   records name for the failed appliance, as many as the records' group had), and the group's
 *   crypto operations protected by the quorum. A group of that name already there is used only if
 *   it is exactly the one this ceremony's journaled intent describes (its nonce included); anything
 *   else is refused by name (QUORUM_WEAKER when it is weaker, GROUP_CONFLICT otherwise).
 * - `onboard-app` makes the ceremony's app in that group, reads its API key once through the
 *   credential endpoint, shows it once to the operator and hands it to the secrets vault. The key is
 *   never in the journal, the log, the record or on the media: the record holds the app id and
 *   whether the key was shown or offered (the reveal itself is a log entry). An app of that name is used only if this ceremony's intent made it.
 */
import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import { AccountsApi, ApprovalRequiredError, ConflictError, groupQuorum, type DsmApp, type Group, type UserSession } from '../../../dsm'
import { CeremonyError } from '../../../errors'
import { earlierRecord } from '../../cluster-steps'
import { applianceOf } from '../../plan-envelope'
import { defineStep, item, stepRef, type StepContext } from '../../step'
import { onCluster } from '../add-appliance/preflight'
import { BUILDS_ON_KINDS, baselineOf, weakerThan } from '../add-appliance/records'
import { QuorumFacts } from '../add-appliance/results'
import type { CeremonyCall } from '../../appliance-logs'
import { ENTRY } from '../../entry-kinds'
import { KEY_READ_AGAIN } from '../../made-keys'
import { ONBOARDING_SIGN_IN, type ReplaceAppliancePlan } from './plan'

type Ctx = StepContext<ReplaceAppliancePlan>

/** What the ceremony does with the app on a FIPS appliance: replicate the CMK, serve the group, read the log. */
export const ONBOARDING_APP_PERMISSIONS = ['ENCRYPT', 'DECRYPT', 'WRAPKEY', 'UNWRAPKEY', 'DERIVEKEY', 'MACGENERATE', 'MACVERIFY', 'EXPORT', 'MANAGE', 'AUDIT', 'CREATE_SOBJECTS', 'DELETE_SOBJECTS']

const Member = z.strictObject({ email: z.string(), userId: z.string() })
export const OnboardGroupResult = z.strictObject({
  appliance: z.string(), groupId: z.string(), name: z.string(), n: z.number().int(), members: z.array(Member),
  approveWithLogin: z.boolean(), protectCryptoOperations: z.literal(true), baseline: QuorumFacts,
  /** The system administrator's DSM user id: whose entries in the appliance's own log are this step's (C.0). */
  by: z.string(),
  /** The failed appliance's custodians as the records name them (null: no record names them). */
  recorded: z.array(z.string()).nullable(),
})
export type OnboardGroupResult = z.infer<typeof OnboardGroupResult>
export const OnboardAppResult = z.strictObject({
  appliance: z.string(), appId: z.string(), name: z.string(), groupId: z.string(), permissions: z.array(z.string()),
  /** The system administrator's DSM user id (C.0). */
  by: z.string(),
  /** The key was put before the operator's eyes at once, on a terminal (`ceremony run`). */
  keyShown: z.boolean(),
  /**
   * The app offered the key for one reveal on the run screen. Whether the operator revealed it is
   * not this step's fact (it happens after the step, when the operator asks): it is the log's own
   * `api-key-shown` entry, and the witnesses' sign-off of this step attests it was not copied.
   * Absent in results journaled before the app could show it: false.
   */
  keyOffered: z.boolean().default(false),
})
export type OnboardAppResult = z.infer<typeof OnboardAppResult>

export const onboardRefs = {
  group: stepRef('onboard-group', OnboardGroupResult),
  app: stepRef('onboard-app', OnboardAppResult),
}

const accounts = async (ctx: Ctx): Promise<{ session: UserSession; api: AccountsApi }> => {
  const session = await ctx.user(ONBOARDING_SIGN_IN)
  return { session, api: new AccountsApi(session) }
}
const nonce = () => randomBytes(8).toString('hex')
const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.some((y) => y.toLowerCase() === x.toLowerCase()))

/** The failed appliance's custodians, as the latest record that names them does (its plan's participants). */
export function recordedCustodians(ctx: Ctx): string[] | null {
  let found: string[] | null = null
  for (const digest of ctx.plan.buildsOn) {
    const plan = earlierRecord(onCluster(ctx), digest, BUILDS_ON_KINDS).plan as { participants?: { custodians?: Record<string, unknown> } } | null
    const named = plan?.participants?.custodians?.[ctx.plan.failed.id]
    if (Array.isArray(named) && named.every((u) => typeof u === 'string')) found = named as string[]
  }
  return found
}

type GroupIntent = {
  name: string; description: string; n: number; members: { email: string; userId: string }[]; approveWithLogin: boolean
  baseline: { n: number; of: number; approveWithLogin: boolean }; recorded: string[] | null
}

async function plannedGroup(ctx: Ctx): Promise<GroupIntent> {
  const p = ctx.plan
  const label = ctx.label(p.added)
  const base = baselineOf(onCluster(ctx), p.buildsOn).quorum
  const custodians = p.participants.custodians[p.added] ?? []
  const recorded = recordedCustodians(ctx)
  if (recorded && !sameSet(recorded, custodians)) {
    throw new CeremonyError('QUORUM_MEMBERS_DIFFER', `The plan names ${custodians.join(', ')} as the custodians of ${label}; the records name ${recorded.join(', ')} for ${ctx.label(p.failed.id)}. The quorum group is made again with the same people: correct the plan`)
  }
  if (custodians.length < base.of) throw new CeremonyError('QUORUM_WEAKER', `The plan names ${custodians.length} custodian(s) for ${label}; the records show a quorum group of ${base.of} members`)
  if (custodians.length > base.of) throw new CeremonyError('QUORUM_MEMBERS_DIFFER', `The plan names ${custodians.length} custodians for ${label}; the records show a quorum group of ${base.of} members, and the group is made exactly as recorded`)
  const users = await (await accounts(ctx)).api.users()
  const members = custodians.map((email) => ({ email, userId: users.find((u) => u.user_email.toLowerCase() === email.toLowerCase())?.user_id ?? '' }))
  const missing = members.filter((m) => !m.userId).map((m) => m.email)
  if (missing.length > 0) throw new CeremonyError('CUSTODIAN_ACCOUNT_MISSING', `${missing.join(', ')} ${missing.length > 1 ? 'have' : 'has'} no user account on ${label}: the account administrators make the custodians' accounts first (the onboarding checklist)`)
  return {
    name: p.quorumGroupName, description: `Quorum group for the Cluster Master Key, made by ceremony ${p.id} (${nonce()})`,
    n: base.n, members, approveWithLogin: base.approveWithLogin, baseline: base, recorded,
  }
}

/** How a group found on the appliance differs from the intended one: what makes it weaker, and anything else. */
export function groupDifferences(group: Group, intent: GroupIntent): { weaker: string[]; other: string[] } {
  const q = groupQuorum(group)
  const userIds = (q?.members ?? []).map((m) => m.user?.toLowerCase() ?? (m.app ? `app ${m.app}` : 'a nested quorum'))
  const found = { n: q?.n ?? 0, of: q?.members.length ?? 0, approveWithLogin: q?.require_password === true }
  const weaker = weakerThan(found, { n: intent.n, of: intent.members.length, approveWithLogin: intent.approveWithLogin })
  if (group.approval_policy?.protect_crypto_operations !== true) weaker.push('its crypto operations (wrap, unwrap, export) do not need the quorum')
  // One person listed twice counts twice toward the quorum: fewer people than members.
  if (new Set(userIds).size < userIds.length) weaker.push(`${userIds.length - new Set(userIds).size} member(s) listed twice`)
  const other: string[] = []
  if (found.n > intent.n) other.push(`quorum ${found.n} where the records show ${intent.n}`)
  if (found.of > intent.members.length) other.push(`${found.of} members where the records show ${intent.members.length}`)
  const strangers = userIds.filter((id) => !intent.members.some((m) => m.userId === id))
  if (strangers.length > 0) other.push(`members the plan does not name (${strangers.join(', ')})`)
  if (!intent.approveWithLogin && found.approveWithLogin) other.push('a password asked at approval where the records show none')
  if (q?.require_2fa === true) other.push('two-factor approval, which the records do not show')
  if ((group.description ?? '') !== intent.description) other.push('it was not made by this ceremony (its description is not the one this ceremony gave)')
  return { weaker, other }
}

function refuseGroup(ctx: Ctx, intent: GroupIntent, d: { weaker: string[]; other: string[] }): never {
  const where = `"${intent.name}" on ${ctx.label(ctx.plan.added)}`
  if (d.weaker.length > 0) throw new CeremonyError('QUORUM_WEAKER', `A group ${where} is already there and is weaker than the records show: ${[...d.weaker, ...d.other].join('; ')}. Nothing was changed; the account administrators delete it before the ceremony goes on`)
  throw new CeremonyError('GROUP_CONFLICT', `A group ${where} is already there and is not the one this ceremony makes: ${d.other.join('; ')}. Nothing was changed`)
}

const signedInAs = async (ctx: Ctx) => (await ctx.user(ONBOARDING_SIGN_IN)).entityId
const groupResult = async (ctx: Ctx, group: Group, intent: GroupIntent): Promise<OnboardGroupResult> => ({
  by: await signedInAs(ctx), appliance: ctx.plan.added, groupId: group.group_id, name: group.name, n: intent.n, members: intent.members,
  approveWithLogin: intent.approveWithLogin, protectCryptoOperations: true, baseline: intent.baseline, recorded: intent.recorded,
})

/** The group there now, adopted only if it is exactly the intended one; null when there is none. */
async function existingGroup(ctx: Ctx, intent: GroupIntent): Promise<OnboardGroupResult | null> {
  const group = await (await accounts(ctx)).session.groups.findByName(intent.name).catch((err: unknown) => Promise.reject(err instanceof ConflictError ? new CeremonyError('GROUP_CONFLICT', err.message) : err))
  if (!group) return null
  const d = groupDifferences(group, intent)
  if (d.weaker.length > 0 || d.other.length > 0) refuseGroup(ctx, intent, d)
  ctx.note(`the quorum group "${intent.name}" this ceremony made before the interruption is there exactly as intended (${group.group_id}); not made twice`)
  return groupResult(ctx, group, intent)
}

export const onboardGroup = (plan: ReplaceAppliancePlan) => {
  const label = applianceOf(plan, plan.added).label
  return defineStep<OnboardGroupResult, GroupIntent, ReplaceAppliancePlan>({
    id: onboardRefs.group.id, name: 'onboard-group', group: null, appliances: [plan.added], interaction: 'run', confirmation: null, result: OnboardGroupResult,
    text: {
      where: `${label}, signed in as ${plan.onboarding?.sysadmin ?? 'its system administrator'}`,
      title: `Make the quorum group "${plan.quorumGroupName}" on ${label}`,
      explain: `The system administrator of ${label} signs in with their own password. The group is made with the quorum policy the earlier records show (the strongest they hold), its members the custodians' user accounts found by e-mail, and wrap, unwrap and export under the quorum. A group of that name already there is refused unless this ceremony made it exactly so.`,
      witnessItems: ['The quorum and members shown are the ones the records show', 'The members are the custodians named for the failed appliance'],
    },
    intent: (ctx) => plannedGroup(ctx),
    look: (ctx, earlier) => existingGroup(ctx, earlier),
    async act(ctx, intent) {
      const found = await existingGroup(ctx, intent)
      if (found) return found
      const { session } = await accounts(ctx)
      try {
        const group = await session.groups.create({
          name: intent.name, description: intent.description,
          approval_policy: { quorum: { n: intent.n, members: intent.members.map((m) => ({ user: m.userId })), require_password: intent.approveWithLogin, require_2fa: false }, protect_crypto_operations: true },
        })
        return groupResult(ctx, group, intent)
      } catch (err) {
        if (err instanceof ConflictError) throw new CeremonyError('GROUP_CONFLICT', `${label} already has a group named "${intent.name}" (it appeared while this step ran); nothing was changed`)
        throw err
      }
    },
    async verify(ctx, r) {
      // Read back by id: the group is exactly what was asked (its description is checked by look and act).
      const group = await (await accounts(ctx)).session.groups.get(r.groupId)
      const asMade: GroupIntent = { name: r.name, description: group.description ?? '', n: r.n, members: r.members, approveWithLogin: r.approveWithLogin, baseline: r.baseline, recorded: r.recorded }
      const d = groupDifferences(group, asMade)
      if (d.weaker.length > 0 || d.other.length > 0) refuseGroup(ctx, asMade, d)
    },
    evidence: (r, ctx) => ({
      items: [
        ...item('Group', `"${r.name}" (${r.groupId}) on ${ctx.label(r.appliance)}`),
        ...item('Quorum', `${r.n} of ${r.members.length}${r.approveWithLogin ? ', password at approval' : ''}; wrap, unwrap and export need it`),
        ...item('Members', r.members.map((m) => m.email).join(', ')),
        ...item('The records show', `${r.baseline.n} of ${r.baseline.of}${r.baseline.approveWithLogin ? ', password at approval' : ''}${r.recorded ? `; custodians ${r.recorded.join(', ')}` : ''}`),
      ],
      comparisons: [],
    }),
  })
}

type AppIntent = { name: string; description: string; groupId: string; permissions: string[] }

function appDifferences(app: DsmApp, intent: AppIntent): string[] {
  const d: string[] = []
  if ((app.description ?? '') !== intent.description) d.push('it was not made by this ceremony (its description is not the one this ceremony gave)')
  const groups = Object.keys(app.groups)
  if (groups.length !== 1 || groups[0] !== intent.groupId.toLowerCase()) d.push(`it is in the groups ${groups.join(', ') || 'none'}, not only ${intent.groupId}`)
  else if (!sameSet(app.groups[groups[0]!] ?? [], intent.permissions)) d.push(`its permissions are ${(app.groups[groups[0]!] ?? []).join(', ')}`)
  return d
}

/** Is the key held for the new appliance (one the operator entered) this app's? Only its app id part is decoded. */
function heldKeyIsFor(ctx: Ctx, appId: string): boolean {
  let key: Buffer
  try {
    key = ctx.apiKey(ctx.plan.added)
  } catch {
    return false
  }
  try {
    // base64("<36-character app id>:<secret>"): the first 48 characters are the app id alone.
    return Buffer.from(key.subarray(0, 48).toString('utf8'), 'base64').toString('utf8').toLowerCase() === appId.toLowerCase()
  } finally {
    key.fill(0)
  }
}

/**
 * Reads the app's API key as the system administrator, shows it (once per attempt) and hands it to
 * the vault. An appliance that keeps an app's credential behind its group's quorum (the vendor's
 * client has RequestApprovalToGetAppCredential) answers "requires approval": then a key the operator
 * entered for this very app is used (not shown, it was typed), and without one the step stops by name.
 */
type KeyFate = { keyShown: boolean; keyOffered: boolean }
const HELD: KeyFate = { keyShown: false, keyOffered: false }

async function takeKey(ctx: Ctx, api: AccountsApi, appId: string): Promise<KeyFate> {
  let key: Buffer
  try {
    key = await api.apiKey(appId)
  } catch (err) {
    if (!(err instanceof ApprovalRequiredError)) throw err
    if (heldKeyIsFor(ctx, appId)) {
      ctx.note(`${ctx.label(ctx.plan.added)} keeps the credential of the app ${appId} behind the quorum; the API key entered for it is this app's and is used`)
      return HELD
    }
    throw new CeremonyError('APP_KEY_NEEDS_APPROVAL', `${ctx.label(ctx.plan.added)} asks the quorum's approval to read the API key of the app ${appId} this ceremony made. The custodians approve reading it (a credential request in the DSM UI), the operator enters that key for ${ctx.label(ctx.plan.added)}, and the step is run again: it adopts the app and uses the key`)
  }
  try {
    const fate = ctx.madeApiKey(ctx.plan.added, key, true)
    return { keyShown: fate === 'shown', keyOffered: fate === 'offered' }
  } finally {
    key.fill(0)
  }
}

async function existingApp(ctx: Ctx, api: AccountsApi, intent: AppIntent): Promise<DsmApp | null> {
  const app = await api.appByName(intent.name).catch((err: unknown) => Promise.reject(err instanceof ConflictError ? new CeremonyError('APP_CONFLICT', err.message) : err))
  if (!app) return null
  const d = appDifferences(app, intent)
  if (d.length > 0) throw new CeremonyError('APP_CONFLICT', `An app named "${intent.name}" is already on ${ctx.label(ctx.plan.added)} and is not the one this ceremony makes: ${d.join('; ')}. Nothing was changed`)
  return app
}

const appResult = async (ctx: Ctx, app: DsmApp, intent: AppIntent, fate: KeyFate): Promise<OnboardAppResult> => ({
  by: await signedInAs(ctx), appliance: ctx.plan.added, appId: app.app_id, name: app.name, groupId: intent.groupId, permissions: intent.permissions, ...fate,
})

export const onboardApp = (plan: ReplaceAppliancePlan) => {
  const label = applianceOf(plan, plan.added).label
  const name = plan.onboarding?.appName ?? 'Key Ceremony App'
  return defineStep<OnboardAppResult, AppIntent, ReplaceAppliancePlan>({
    id: onboardRefs.app.id, name: 'onboard-app', group: null, appliances: [plan.added], interaction: 'run', confirmation: null, result: OnboardAppResult,
    text: {
      where: `${label}, signed in as ${plan.onboarding?.sysadmin ?? 'its system administrator'}`,
      title: `Make the app "${name}" in "${plan.quorumGroupName}" and show its API key once`,
      explain: 'The app the ceremony uses on the new appliance is made in the quorum group. Its API key is read once and shown once to the operator, so that they and the witnesses see it was made (on the terminal at once; in the app when the operator asks, on this step\'s screen); it is typed nowhere, and kept in this workstation\'s memory for the rest of the ceremony (wiped at the seal, after the idle time-out and on quit). It is never written to the journal, the log, the record or the media: the record keeps the app id, that the key was offered, and when it was shown.',
      witnessItems: ['The app id was read aloud', 'The API key was shown at most once, and not written down, photographed or typed anywhere'],
    },
    intent: (ctx) => ({ name, description: `Key ceremony app, made by ceremony ${ctx.plan.id} (${nonce()})`, groupId: ctx.get(onboardRefs.group).groupId, permissions: [...ONBOARDING_APP_PERMISSIONS] }),
    async look(ctx, earlier) {
      const { api } = await accounts(ctx)
      const app = await existingApp(ctx, api, earlier)
      if (!app) return null
      // The vault never outlives the process: the key is read again through the credential endpoint.
      const fate = await takeKey(ctx, api, app.app_id)
      ctx.note(`the app "${app.name}" (${app.app_id}) this ceremony made before the interruption was adopted; its API key ${KEY_READ_AGAIN} by ${ctx.plan.onboarding?.sysadmin ?? 'the system administrator'}${fate.keyShown ? ' and shown again' : fate.keyOffered ? ' and offered again for one reveal' : ''}`)
      return appResult(ctx, app, earlier, fate)
    },
    async act(ctx, intent) {
      const { api } = await accounts(ctx)
      let app = await existingApp(ctx, api, intent)
      if (!app) {
        try {
          app = await api.create(intent)
        } catch (err) {
          if (err instanceof ApprovalRequiredError) throw new CeremonyError('APP_NEEDS_APPROVAL', `${label} asks the quorum's approval to add an app to "${plan.quorumGroupName}": make the app with the account administrators (witnessed), enter its API key, and run the ceremony without API onboarding`)
          if (err instanceof ConflictError) throw new CeremonyError('APP_CONFLICT', `${label} already has an app named "${intent.name}" (it appeared while this step ran); nothing was changed`)
          throw err
        }
      }
      return appResult(ctx, app, intent, await takeKey(ctx, api, app.app_id))
    },
    async verify(ctx, r) {
      // The key in the vault opens an app session that sees the quorum group: it is this app's key.
      const session = await ctx.app(r.appliance)
      const group = await session.groups.get(r.groupId)
      if (group.group_id !== r.groupId) throw new CeremonyError('APP_CONFLICT', `The API key held for ${ctx.label(r.appliance)} does not reach the quorum group`)
    },
    evidence: (r, ctx) => ({
      items: [
        ...item('App', `"${r.name}" (${r.appId}) on ${ctx.label(r.appliance)}`),
        ...item('In the group', r.groupId),
        ...item('Permissions', r.permissions.join(', ')),
        ...item('API key', r.keyShown ? 'shown once to the operator; held in this workstation\'s memory only'
          : r.keyOffered ? 'offered once to the operator on the run screen (the reveal, if asked for, is its own log entry); held in this workstation\'s memory only'
            : 'held in this workstation\'s memory only (no screen to show it on)'),
      ],
      comparisons: [],
    }),
  })
}

/** The key this ceremony made, for the engine to read again after a restart (made-keys.ts). */
export function madeApiKeysOf(plan: ReplaceAppliancePlan, app: OnboardAppResult | null) {
  return plan.onboarding && app ? [{ applianceId: app.appliance, signInId: ONBOARDING_SIGN_IN, appId: app.appId }] : []
}

/**
 * The onboarding's own entries in the new appliance's log (C.0): the group and the app made, and the
 * app's credential read by the system administrator: once by the step, and once more for each note
 * that says it was read again (an adoption after a kill, a recall after a restart). A read killed
 * before its result is followed by such an adoption, so the count bounds them; one more entry on
 * the app by the system administrator (a secret reset, say) is a finding, as is anyone else's.
 */
export function onboardingCalls(ctx: Ctx): CeremonyCall[] {
  const group = ctx.find(onboardRefs.group)
  const app = ctx.find(onboardRefs.app)
  const on = ctx.plan.added
  const readAgain = ctx.recorded().filter((e) => e.kind === ENTRY.reconcile && String((e.facts as { finding?: unknown } | null)?.finding ?? '').includes(KEY_READ_AGAIN)).length
  return [
    ...(group ? [{ appliance: on, actor: group.by, object: group.groupId, action: 'ADMINISTRATIVE' as const, what: `made the quorum group "${group.name}"` }] : []),
    ...(app ? [
      { appliance: on, actor: app.by, object: app.appId, action: 'ADMINISTRATIVE' as const, what: `made the app "${app.name}"` },
      { appliance: on, actor: app.by, object: app.appId, action: 'ADMINISTRATIVE' as const, what: `read the API key of the app "${app.name}"`, repeats: readAgain },
    ] : []),
  ]
}

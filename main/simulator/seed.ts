// What every simulated FIPS appliance starts with (vendor guide §3.2.1): an account, a group with
// a quorum approval policy over the custodians, an app in that group, and on the source
// appliance the Cluster Master Key (§3.2.2: AES-256, exportable, in the quorum group).
import { randomBytes, randomUUID } from 'node:crypto'
import { generateAes } from './key-material'
import type { ApplianceModel, Group, User } from './model'

/** Everything the ceremony needs an app to do (AppPermissions). */
export const APP_PERMISSIONS = [
  'SIGN', 'VERIFY', 'ENCRYPT', 'DECRYPT', 'WRAPKEY', 'UNWRAPKEY', 'DERIVEKEY', 'MACGENERATE', 'MACVERIFY', 'EXPORT', 'MANAGE', 'AGREEKEY', 'AUDIT',
  'CREATE_SOBJECTS', 'DELETE_SOBJECTS', 'ROTATE_SOBJECTS', 'ACTIVATE_SOBJECTS', 'UPDATE_SOBJECTS_PROFILE', 'UPDATE_SOBJECTS_ENABLED_STATE', 'UPDATE_KEY_OPS',
]

export const CMK_KEY_OPS = ['ENCRYPT', 'DECRYPT', 'WRAPKEY', 'UNWRAPKEY', 'DERIVEKEY', 'MACGENERATE', 'MACVERIFY', 'EXPORT', 'APPMANAGEABLE']

export interface SeedOptions {
  groupName: string
  quorum: number
  custodians: number
  requirePassword: boolean
  protectPermissions: string[]
  cmkName?: string
}

export interface Seeded {
  appId: string
  apiKey: string
  groupId: string
  custodians: { user: string; password: string; userId: string }[]
}

export function seedAppliance(model: ApplianceModel, opts: SeedOptions): Seeded {
  const now = model.now()
  const users: User[] = []
  for (let i = 1; i <= opts.custodians; i++) {
    const user: User = {
      userId: randomUUID(),
      email: `custodian${i}@${model.id}.dsm-sim.test`,
      password: randomBytes(18).toString('base64url'),
      createdAt: now,
    }
    model.users.set(user.userId, user)
    users.push(user)
  }
  const admin = users[0]
  const group: Group = {
    groupId: randomUUID(),
    name: opts.groupName,
    description: 'Quorum-protected group for the Cluster Master Key',
    createdAt: now,
    creator: admin ? { user: admin.userId } : { user: randomUUID() },
    extra: {},
    approvalPolicy: {
      quorum: {
        n: opts.quorum,
        members: users.map((u) => ({ user: u.userId })),
        ...(opts.requirePassword ? { require_password: true } : {}),
      },
      protect_crypto_operations: true,
      protect_permissions: [...opts.protectPermissions],
    },
  }
  model.groups.set(group.groupId, group)

  const appId = randomUUID()
  // 64 random bytes, base64url: the 86-character secret of the vendor's sample key (dsm-api.md §3).
  const secret = randomBytes(64).toString('base64url')
  model.apps.set(appId, {
    appId,
    name: 'Key Ceremony App',
    secret,
    groups: { [group.groupId]: [...APP_PERMISSIONS] },
    defaultGroup: group.groupId,
    createdAt: now,
    creator: group.creator,
  })

  if (opts.cmkName) {
    model.addKey({
      kid: randomUUID(),
      name: opts.cmkName,
      objType: 'AES',
      keyOps: [...CMK_KEY_OPS],
      groupId: group.groupId,
      createdAt: now,
      creator: group.creator,
      enabled: true,
      origin: 'FortanixHSM',
      creationMethod: 'Generate',
      description: 'Cluster Master Key',
      material: generateAes(256),
    })
  }

  return {
    appId,
    // API key = base64("<app uuid>:<secret>") ([tf] dsm/resource_app.go).
    apiKey: Buffer.from(`${appId}:${secret}`).toString('base64'),
    groupId: group.groupId,
    custodians: users.map((u) => ({ user: u.email, password: u.password, userId: u.userId })),
  }
}

/**
 * A replacement appliance as its account administrators leave it (guide §5): the account, its
 * system administrator, and a user account for each custodian (by the e-mails given, or
 * custodian<i>@<id>.dsm-sim.test), and nothing else: no group, no app, no key. The onboarding
 * makes the quorum group and the app through the API.
 */
export function seedFresh(model: ApplianceModel, opts: { custodians: number; custodianEmails?: string[] }): { sysadmin: { user: string; password: string; userId: string }; custodians: Seeded['custodians'] } {
  const now = model.now()
  const make = (email: string): User => {
    const user: User = { userId: randomUUID(), email, password: randomBytes(18).toString('base64url'), createdAt: now, role: 'account-admin' }
    model.users.set(user.userId, user)
    return user
  }
  const admin = make(`sysadmin@${model.id}.dsm-sim.test`)
  const emails = opts.custodianEmails ?? Array.from({ length: opts.custodians }, (_, i) => `custodian${i + 1}@${model.id}.dsm-sim.test`)
  const users = emails.map(make)
  return { sysadmin: { user: admin.email, password: admin.password, userId: admin.userId }, custodians: users.map((u) => ({ user: u.email, password: u.password, userId: u.userId })) }
}

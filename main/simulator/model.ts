// The state of one simulated appliance (one account, as a FIPS appliance in the ceremony has)
// and the JSON views the API returns. Key material lives only in `KeyRecord.material`.
import { randomBytes, randomUUID } from 'node:crypto'
import { type Material, aesKcv, keySizeBits, sha256Hex, spkiDer } from './key-material'
import { type HmgConfigRecord, hmgConfigView } from './hmg-config'
import type { RsaEncryptionPolicy } from './rsa-wrap'
import { dsmTime } from './time'
import type { ApprovalStatus, ApprovalSummary, SobjectSummary, VendorChoices } from './types'

export type PrincipalRef = { app: string } | { user: string }

export interface Account { acctId: string; name: string; createdAt: number }

export interface User {
  userId: string
  email: string
  password: string
  createdAt: number
  /** 'group-admin': sees and manages only the groups it created; default: account administrator */
  role?: 'account-admin' | 'group-admin'
}

export type QuorumPolicy = { quorum?: { n: number; members: QuorumPolicy[]; require_password?: boolean; require_2fa?: boolean }; user?: string; app?: string }

export interface GroupApprovalPolicy extends QuorumPolicy {
  protect_permissions?: string[] | null
  protect_crypto_operations?: boolean | null
  protect_manage_operations?: boolean | null
}

export interface Group {
  groupId: string
  name: string
  description?: string
  approvalPolicy?: GroupApprovalPolicy
  createdAt: number
  creator: PrincipalRef
  /** fields the simulator stores but does not interpret (wrapping_key_name, …), echoed back */
  extra: Record<string, unknown>
  /** external HSM/KMS configs by uuid (dsm-api.md §7): a FIPS-backed group when non-empty */
  hmg?: Map<string, HmgConfigRecord>
  hmgRedundancy?: 'PriorityFailover'
}

export interface App {
  appId: string
  name: string
  description?: string
  secret: string
  /** group uuid -> permissions (AppPermissions) */
  groups: Record<string, string[]>
  defaultGroup: string
  createdAt: number
  creator: PrincipalRef
  lastUsed?: number
}

export interface KeyRecord {
  kid: string
  name: string
  objType: 'AES' | 'RSA'
  keyOps: string[]
  originalKeyOps: string[]
  groupId: string
  createdAt: number
  creator: PrincipalRef
  enabled: boolean
  origin: 'FortanixHSM' | 'External' | 'Transient'
  /** a transient key (never stored in `keys`): the blob that names it, as the client holds it */
  transientBlob?: string
  /** a virtual key of a FIPS-backed group: the group whose FIPS appliances hold the CMK */
  hsmGroupId?: string
  description?: string
  customMetadata?: Record<string, string>
  /** true once EXPORT has been among the key's ops */
  everExportable: boolean
  material: Material
  /** how the key came to be (Sobject.key_creation_method) */
  creationMethod: 'Generate' | 'Import' | 'Unwrap'
  /** RSA keys: which paddings wrap/unwrap may use, and the default when a request names none */
  encryptionPolicy?: RsaEncryptionPolicy[]
  /** lowercase hex; shown in the appliance's configured case */
  kcv?: string
}

export interface ApprovalRecord {
  requestId: string
  requester: PrincipalRef
  createdAt: number
  expiry: number
  method: string
  operation: string
  body: unknown
  description: string | null
  status: ApprovalStatus
  approvers: string[]
  denier?: PrincipalRef
  denialReason?: string | null
  /** groups whose approval_policy must be satisfied */
  policyGroups: string[]
  subjects: ({ sobject: string } | { group: string })[]
  result?: { status: number; body: unknown }
  executions: number
  resultViews: number
}

export interface Session {
  token: string
  principal: PrincipalRef
  /** user sessions start without an account (select_account is required) */
  acctId?: string
  createdAt: number
  lastUsed: number
}

export class ApplianceModel {
  readonly account: Account
  readonly users = new Map<string, User>()
  readonly groups = new Map<string, Group>()
  readonly apps = new Map<string, App>()
  readonly keys = new Map<string, KeyRecord>()
  readonly approvals = new Map<string, ApprovalRecord>()
  readonly sessions = new Map<string, Session>()

  /** seals transient keys (transient.ts); it never leaves this appliance */
  readonly transientKek: Buffer = randomBytes(32)

  constructor(readonly id: string, readonly now: () => number, readonly vendor: Pick<Required<VendorChoices>, 'kcvCase' | 'hmgSecretsEchoed'>, accountName = `FIPS appliance ${id}`) {
    this.account = { acctId: randomUUID(), name: accountName, createdAt: now() }
  }

  keyByName(name: string): KeyRecord | undefined {
    for (const k of this.keys.values()) if (k.name === name) return k
    return undefined
  }

  userByEmail(email: string): User | undefined {
    for (const u of this.users.values()) if (u.email === email) return u
    return undefined
  }

  /** A key record; stored unless it is transient. A virtual key brings the KCV its FIPS appliance reported. */
  addKey(k: Omit<KeyRecord, 'kcv' | 'everExportable' | 'originalKeyOps'> & { kcv?: string }): KeyRecord {
    const record: KeyRecord = {
      ...k,
      originalKeyOps: [...k.keyOps],
      everExportable: k.keyOps.includes('EXPORT'),
      ...(k.material.type === 'AES' ? { kcv: aesKcv(k.material.secret) } : k.kcv ? { kcv: k.kcv.toLowerCase() } : {}),
    }
    if (!record.transientBlob) this.keys.set(record.kid, record)
    return record
  }

  sobjectView(k: KeyRecord, opts: { kcv?: boolean; pubKey?: boolean; value?: boolean } = {}): Record<string, unknown> {
    const m = k.material
    const view: Record<string, unknown> = {
      acct_id: this.account.acctId,
      activation_date: dsmTime(k.createdAt),
      compliant_with_policies: true,
      created_at: dsmTime(k.createdAt),
      creator: k.creator,
      enabled: k.enabled,
      group_id: k.groupId,
      key_ops: [...k.keyOps],
      key_size: keySizeBits(m),
      kid: k.kid,
      lastused_at: '19700101T000000Z',
      name: k.name,
      never_exportable: !k.everExportable,
      obj_type: k.objType,
      origin: k.origin,
      original_key_ops: [...k.originalKeyOps],
      public_only: m.type === 'RSA' && !m.privateKey,
      state: 'Active',
    }
    if (k.transientBlob) {
      // A transient key has no kid, name or group: the blob is how the client names it.
      delete view['kid']
      delete view['name']
      delete view['group_id']
      view['transient_key'] = k.transientBlob
    }
    if (k.hsmGroupId) {
      // A wrapped key stored locally in an HSM-backed group: `id` is {} (dsm-api.md §10, inferred).
      view['external'] = { id: {}, hsm_group_id: k.hsmGroupId }
      view['virtual_key_info'] = { cached_key_material: true }
    }
    if (k.description !== undefined) view['description'] = k.description
    if (k.customMetadata !== undefined) view['custom_metadata'] = { ...k.customMetadata }
    if (m.type === 'RSA') {
      view['rsa'] = {
        key_size: keySizeBits(m),
        public_exponent: Number(m.publicKey.asymmetricKeyDetails?.publicExponent ?? 0n),
        encryption_policy: structuredClone(k.encryptionPolicy ?? []),
        signature_policy: [{}],
      }
      if (opts.pubKey !== false) view['pub_key'] = spkiDer(m)?.toString('base64')
    }
    if (k.kcv && opts.kcv !== false) view['kcv'] = this.showKcv(k.kcv)
    view['key_creation_method'] = { method: k.creationMethod }
    if (opts.value && m.type === 'AES') view['value'] = m.secret.toString('base64')
    return view
  }

  summary(k: KeyRecord): SobjectSummary {
    const der = spkiDer(k.material)
    return {
      kid: k.kid,
      name: k.name,
      obj_type: k.objType,
      key_size: keySizeBits(k.material),
      key_ops: [...k.keyOps],
      group_id: k.groupId,
      public_only: k.material.type === 'RSA' && !k.material.privateKey,
      origin: k.origin,
      ...(k.kcv ? { kcv: this.showKcv(k.kcv) } : {}),
      ...(der ? { spkiSha256: sha256Hex(der) } : {}),
      created_at: k.createdAt,
    }
  }

  /** The KCV as this appliance prints it (real appliances: lowercase, dsm-api.md §10). */
  showKcv(kcv: string): string {
    return this.vendor.kcvCase === 'upper' ? kcv.toUpperCase() : kcv.toLowerCase()
  }

  groupView(g: Group): Record<string, unknown> {
    return {
      ...g.extra,
      acct_id: this.account.acctId,
      client_configurations: {},
      created_at: dsmTime(g.createdAt),
      creator: g.creator,
      group_id: g.groupId,
      name: g.name,
      ...(g.description !== undefined ? { description: g.description } : {}),
      ...(g.approvalPolicy ? { approval_policy: structuredClone(g.approvalPolicy) } : {}),
      ...(g.hmg && g.hmg.size > 0
        ? { hmg: Object.fromEntries([...g.hmg].map(([id, c]) => [id, hmgConfigView(c, this.vendor.hmgSecretsEchoed)])) }
        : {}),
      ...(g.hmgRedundancy ? { hmg_redundancy: g.hmgRedundancy } : {}),
    }
  }

  appView(a: App): Record<string, unknown> {
    return {
      acct_id: this.account.acctId,
      app_id: a.appId,
      app_type: 'default',
      auth_type: 'Secret',
      client_configurations: {},
      created_at: dsmTime(a.createdAt),
      creator: a.creator,
      default_group: a.defaultGroup,
      ...(a.description !== undefined ? { description: a.description } : {}),
      enabled: true,
      groups: structuredClone(a.groups),
      interface: 'ceremony',
      ip_address_policy: 'allow_all',
      last_operations: {},
      lastused_at: dsmTime(a.lastUsed ?? a.createdAt),
      legacy_access: false,
      name: a.name,
      role: 'crypto',
    }
  }

  /** A user as GET /sys/v1/users returns it (User: the required fields and the e-mail state). */
  userView(u: User): Record<string, unknown> {
    return {
      user_id: u.userId,
      user_email: u.email,
      account_role: [u.role === 'group-admin' ? 'ACCOUNTMEMBER' : 'ACCOUNTADMINISTRATOR', 'STATEENABLED'],
      created_at: dsmTime(u.createdAt),
      email_verified: true,
      has_account: true,
      has_password: true,
      mfa_devices: [],
      u2f_devices: [],
    }
  }

  accountView(): Record<string, unknown> {
    return {
      acct_id: this.account.acctId,
      approval_request_expiry: null,
      created_at: dsmTime(this.account.createdAt),
      enabled: true,
      logging_configs: {},
      mark_key_disable_when_deactivated: false,
      name: this.account.name,
      original_purpose: { $type: 'Standard' },
      purpose: { $type: 'Standard' },
      subscription: { memo: null, on_prem: {} },
    }
  }

  approvalView(r: ApprovalRecord, reviewers: { principal: PrincipalRef; requiresPassword: boolean }[]): Record<string, unknown> {
    return {
      acct_id: this.account.acctId,
      approvers: r.approvers.map((id) => this.principalOf(id)),
      body: r.body ?? null,
      created_at: dsmTime(r.createdAt),
      description: r.description,
      expiry: dsmTime(r.expiry),
      method: r.method,
      operation: r.operation,
      request_id: r.requestId,
      requester: r.requester,
      result_viewed: r.resultViews > 0,
      reviewers: reviewers.map((rv) => ({ ...rv.principal, requires_password: rv.requiresPassword, requires_2fa: false })),
      status: r.status,
      subjects: r.subjects,
      ...(r.denier ? { denier: r.denier, denial_reason: r.denialReason ?? null } : {}),
    }
  }

  approvalSummary(r: ApprovalRecord): ApprovalSummary {
    return {
      request_id: r.requestId,
      status: r.status,
      method: r.method,
      operation: r.operation,
      body: structuredClone(r.body),
      description: r.description,
      approvers: [...r.approvers],
      ...(r.denier ? { denier: 'user' in r.denier ? r.denier.user : r.denier.app } : {}),
      expiry: r.expiry,
      expired: r.expiry <= this.now(),
      executions: r.executions,
      resultViews: r.resultViews,
    }
  }

  principalOf(id: string): PrincipalRef {
    return this.apps.has(id) ? { app: id } : { user: id }
  }
}

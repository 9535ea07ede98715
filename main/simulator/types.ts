// Public types of the DSM appliance simulator. Other code (the ceremony engine's tests, the
// rehearsal mode, the CLI) depends on these shapes: extend them, don't break them.

/** Where in the handling of a request a fault strikes. */
export type FaultPhase =
  /** before the operation runs: nothing changed on the appliance */
  | 'before-apply'
  /** after the operation ran: the change is made, but the client gets the fault instead of the answer */
  | 'after-apply'
  /** after the operation ran, the status line and headers are sent, then the fault (stall or reset only) */
  | 'after-headers'
  /** after the operation ran, the headers and half the body are sent, then the fault (stall or reset only) */
  | 'mid-body'

export type FaultKind =
  | 'latency' // delay by `ms`, then answer normally
  | 'reset' // TCP reset, no HTTP response
  | 'stall' // never answer (the connection stays open until the simulator closes)
  | '500'
  | '502'
  | '503'
  | '429' // with Retry-After
  | 'expire-session' // the caller's session expires just before the request is handled (-> 401)

export interface FaultRule {
  method?: string
  /** exact pathname (no query), a pathname ending in '*' (prefix), or a RegExp tested on the pathname */
  path?: string | RegExp
  kind: FaultKind
  /** latency in ms (kind 'latency'); default 1000 */
  ms?: number
  /** default 'before-apply' */
  after?: FaultPhase
  /** let this many matching requests through before the rule fires (default 0) */
  skip?: number
  /** how many times the rule fires (default 1 for once(), Infinity for add()) */
  times?: number
  /** chance that a matching request triggers the rule (default 1) */
  probability?: number
}

export interface FiredFault {
  kind: FaultKind
  phase: FaultPhase
  method: string
  path: string
  at: number
}

export interface FaultHandle {
  /** how many times this rule has fired */
  readonly fired: number
  /** resolves with the first firing */
  readonly hit: Promise<FiredFault>
  cancel(): void
}

export interface FaultController {
  /** a one-shot rule: fires on the next matching request (after `skip`), then is gone */
  once(rule: Omit<FaultRule, 'times'>): FaultHandle
  /** a persistent rule (times defaults to Infinity) */
  add(rule: FaultRule): FaultHandle
  /** drop every targeted rule (the probabilistic options stay) */
  clear(): void
  /** every live session expires now (clients get 401 and must log in again) */
  expireSessions(): void
  /** end every stalled request by destroying its connection */
  releaseStalled(): void
  /** faults that fired, oldest first */
  readonly history: readonly FiredFault[]
}

/** Probabilistic faults applied to every request; all off by default. Rates are 0..1 (1 = always). */
export interface FaultOptions {
  latencyMs?: number
  /** chance of a 503 */
  errorRate?: number
  /** chance of a 429 */
  rateLimitRate?: number
  /** chance of a connection reset (before or after the operation, 50/50) */
  resetRate?: number
  /** chance of a stalled response (before or after the operation, 50/50) */
  stallRate?: number
  /** seed for the PRNG, so a run can be repeated */
  seed?: number
}

/**
 * Choices for behaviour the public sources leave open (dsm-api.md §9, security.md §5.6).
 * Each default is the most plausible reading; tests can flip them to make the client cope.
 */
export interface VendorChoices {
  /**
   * When an approved request's operation runs. 'at-quorum' (default): when the last needed
   * approval arrives, so the request shows APPROVED or FAILED and `…/result` returns the stored
   * outcome (the spec calls result "the result for an approved or failed request").
   * 'at-first-result': on the first `POST …/result`. Either way it runs exactly once.
   */
  executeApprovedOperation?: 'at-quorum' | 'at-first-result'
  /** `…/result` can be read again (default true); false: the second read is a 400. */
  approvalResultRereadable?: boolean
  /**
   * What an expired approval request looks like. 'retained' (default): it stays visible with its
   * last status (the enum has no EXPIRED) and an `expiry` in the past; approve, deny and result
   * answer 400 "Approval request has expired". 'removed': the appliance deleted it
   * (`retain_expired_requests` off, dsm-api.md §10), so every call on it answers 404.
   */
  expiredApprovalRequests?: 'retained' | 'removed'
  /**
   * Which crypto operations `protect_crypto_operations` covers (dsm-api.md §9 q4, §10 "Quorum
   * coverage"). Default: wrapkey, unwrapkey and export: a quorum group's key leaves the appliance
   * (export, or wrapped as the subject) or is made from a blob only with approval, while the CMK
   * may still wrap and unwrap a FIPS-backed group's keys (transiently) without one, as the
   * replication guide's §3.3 needs. See ProtectedCryptoOperation for what each name covers.
   */
  protectedCryptoOperations?: ProtectedCryptoOperation[]
  /** 'idle' (default): a session lives `expires_in` seconds past its last use ([rust] client). 'absolute': from login. */
  sessionExpiry?: 'idle' | 'absolute'
  /**
   * Case of the hex `kcv` in responses. 'lower' (default): what real appliances print
   * (`"kcv": "a90519"`, dsm-api.md §10); 'upper' lets a test show a client compares without case.
   */
  kcvCase?: 'lower' | 'upper'
  /**
   * Whether GET/POST/PATCH of a group echo the `pin` and `credentials` of its hmg configs
   * (dsm-api.md §7, §11: unknown). Default false: they are never sent back.
   */
  hmgSecretsEchoed?: boolean
  /**
   * Where a FIPS-backed group names the CMK its FIPS appliances wrap keys with (dsm-api.md §11:
   * unconfirmed). 'group-wrapping_key_name' (default, the only candidate field): the group's
   * `wrapping_key_name`, else the cluster's default CMK name. 'none': always the default name.
   */
  cmkNameLocation?: 'group-wrapping_key_name' | 'none'
  /** AES key wrap mode the cluster asks a FIPS appliance for when it wraps a new key under the CMK (default KWP; unconfirmed). */
  virtualKeyWrapMode?: 'KWP' | 'KW'
  /**
   * Whether the appliance's audit log (`GET /sys/v1/logs`) holds reads (GETs, key lookups, approval
   * polling) as well as changes. 'recorded' (default): every call served with a known principal is
   * an entry, reads with action_type OTHER. 'not-recorded': only sign-ins, changes and crypto
   * operations. Which calls DSM logs is not public; the ceremony's corroboration ignores reads either way.
   */
  auditLogReads?: 'recorded' | 'not-recorded'
  /** Order of `hits` in a log query (unconfirmed; default newest first, as the DSM UI lists them). */
  auditLogOrder?: 'newest-first' | 'oldest-first'
  /**
   * The deepest page a log query reaches: `from + size` above it is a 400 (default 10000, the
   * Elasticsearch default `max_result_window` the `Es…` schema names suggest; unconfirmed).
   */
  auditLogMaxResultWindow?: number
  /** Days an audit-log entry is kept before the appliance purges it (default 90: Fortanix's default of 3 months). */
  auditLogRetentionDays?: number
  /**
   * Which entries an app reads from `GET /sys/v1/logs` (the document: "logs visible to the
   * requester"). 'audit-permission' (default): those of the groups where it holds the AUDIT app
   * permission, and its own; none at all (403) without AUDIT anywhere. 'member-groups': those of
   * every group it belongs to.
   */
  auditLogAppScope?: 'audit-permission' | 'member-groups'
  /** The unit of `range_from`/`range_to` ("EPOCH time"; default seconds, as `AuditLogTime` counts; unconfirmed). */
  auditLogRangeUnit?: 'seconds' | 'milliseconds'
  /**
   * The `fips_level` a FIPS appliance reports in GET /sys/v1/version (default 3: the FX2200's FIPS
   * 140-2 validation is at Level 3; whether the field carries that number is not public).
   */
  fipsLevel?: number
  /** The `server_mode` a FIPS appliance reports (`Software` | `Sgx`; default 'Sgx', unconfirmed for the FX2200). */
  fipsServerMode?: 'Sgx' | 'Software'
  /**
   * Whether reading an app's credential (GET /sys/v1/apps/{id}/credential) needs the quorum of the
   * app's groups. The vendor's Go client has RequestApprovalToGetAppCredential, so some appliances
   * ask; when is not public. 'none' (default): an account administrator reads it directly.
   * 'quorum-group': an app in a group with a quorum policy answers 403 "This operation requires
   * approval", and the credential is read through an approval request.
   */
  appCredentialApproval?: 'none' | 'quorum-group'
}

/**
 * What a group quorum (`protect_crypto_operations: true`) can protect on the group's keys:
 * - 'export': plaintext export (`POST /crypto/v1/keys/export`);
 * - 'wrapkey': wrapping the group's key as the subject (it leaves the appliance, wrapped);
 * - 'wrapkey-with': using the group's key to wrap another key;
 * - 'unwrapkey': unwrapping a blob with the group's key into a new persisted key;
 * - 'unwrapkey-transient': unwrapping a blob with the group's key into a transient key;
 * - 'encrypt', 'decrypt': data encryption with the group's key.
 */
export type ProtectedCryptoOperation = 'export' | 'wrapkey' | 'wrapkey-with' | 'unwrapkey' | 'unwrapkey-transient' | 'encrypt' | 'decrypt'

export interface SimulatorOptions {
  appliances: number
  /** default true: a CMK on the first appliance */
  createCmk?: boolean
  /** default 'cluster-master-key' (the name the vendor guide's sdkms-cli commands use) */
  cmkName?: string
  faults?: FaultOptions
  /** approval request lifetime (default 30 days, the vendor's cluster default) */
  approvalTtlSeconds?: number
  /** session `expires_in` (default 600) */
  sessionTtlSeconds?: number
  /** appliance ids (default fips-1, fips-2, …) */
  ids?: string[]
  /** fixed ports (default 0 = random) */
  ports?: number[]
  /** quorum size (default 2) and custodian count (default 3) */
  quorum?: number
  custodians?: number
  /** approval_policy.quorum.require_password (default true) */
  requirePassword?: boolean
  /** approval_policy.protect_permissions of the seeded group (default none) */
  protectPermissions?: string[]
  /** clock in ms since the epoch (default Date.now); tests pass a movable clock */
  now?: () => number
  vendor?: VendorChoices
  /** default true; false: the appliances report no fips_level (a non-FIPS DSM appliance named as a FIPS one) */
  fipsMode?: boolean
  /**
   * A replacement appliance before its onboarding (seed.ts seedFresh): a system administrator and
   * the custodians' user accounts, no group, no app (so no API key), no key.
   */
  fresh?: boolean
  /** fresh only: the custodians' e-mails (default custodian<i>@<id>.dsm-sim.test, --custodians of them) */
  custodianUsers?: string[]
}

export type ApprovalStatus = 'PENDING' | 'APPROVED' | 'DENIED' | 'FAILED'

export interface SobjectSummary {
  kid: string
  name: string
  obj_type: string
  key_size: number
  key_ops: string[]
  group_id: string
  public_only: boolean
  origin: string
  kcv?: string
  /** lowercase hex SHA-256 of the SPKI DER, for RSA keys */
  spkiSha256?: string
  created_at: number
}

export interface ApprovalSummary {
  request_id: string
  status: ApprovalStatus
  method: string
  operation: string
  body: unknown
  description: string | null
  approvers: string[]
  denier?: string
  expiry: number
  expired: boolean
  /** how many times the approved operation ran (must never exceed 1) */
  executions: number
  resultViews: number
}

export interface RequestLogEntry {
  method: string
  path: string
  status: number | 'reset' | 'stall'
  at: number
  fault?: FaultKind
  /** How long the appliance worked on it (key generation, wrapping …), in ms; for the bench's accounting. */
  handledMs?: number
}

/** Read-only inspection for tests: metadata only, never key material. */
export interface ApplianceState {
  accountId: string
  appId: string
  sobjects(): SobjectSummary[]
  approvalRequests(): ApprovalSummary[]
  requestLog(): RequestLogEntry[]
  liveSessions(): number
  /** TLS connections the appliance has open now (a client that let go of its sockets leaves none) */
  openSockets(): number
}

export interface Custodian {
  user: string
  password: string
  /** the user's uuid on the appliance */
  userId: string
}

export interface SimulatedAppliance {
  id: string
  url: string
  host: string
  port: number
  spkiSha256: string
  /** the server certificate, PEM (for clients that pin a CA instead of the SPKI) */
  certPem: string
  /** the same certificate, base64 DER: what an hmg config's `tls.ca.pinned` holds */
  certDer: string
  /** empty on a fresh appliance (no app until the onboarding makes one), like appId, groupId and groupName */
  apiKey: string
  appId: string
  accountId: string
  groupId: string
  groupName: string
  custodians: Custodian[]
  /** a fresh appliance's system administrator, who signs in to onboard it */
  sysadmin?: Custodian
  quorum: number
  cmkName?: string
  faults: FaultController
  state: ApplianceState
  /** Rehearsal failover drill: stop accepting connections (state kept), as if the cable were pulled. */
  down(): Promise<void>
  /** … and accept them again on the same port. */
  up(): Promise<void>
  readonly isUp: boolean
}

export interface RunningSimulator {
  appliances: SimulatedAppliance[]
  close(): Promise<void>
  /** the one JSON line `ceremony simulate` prints: endpoints, pins and credentials */
  readyLine(): string
}

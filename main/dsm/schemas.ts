// Response shapes, limited to the fields the ceremony uses. zod strips every other field (DSM asks
// clients to ignore unknown fields), which also means a `value` (key material) that an appliance
// might include is never kept. A response missing a field we rely on becomes a BadResponseError.
// Field names stay as DSM spells them on the wire, so audit entries match the vendor docs.
import { z } from 'zod'

const uuid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'expected a UUID')
/** DSM's compact UTC timestamp, e.g. 20170509T070912Z */
export const dsmTime = z.string().regex(/^\d{8}T\d{6}Z$/, 'expected a DSM timestamp (YYYYMMDDTHHMMSSZ)')
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64')

export const AuthResponseSchema = z.object({
  token_type: z.string(),
  expires_in: z.number().int().nonnegative(),
  // Optional in the document; a session without one is unusable, so required here.
  access_token: z.string().min(1),
  entity_id: uuid,
})
export type AuthResponse = z.infer<typeof AuthResponseSchema>

export const SelectAccountResponseSchema = z.object({ cookie: z.string().nullish() })

export const VersionResponseSchema = z.object({
  version: z.string(),
  api_version: z.string(),
  server_mode: z.string(),
  fips_level: z.number().int().nullish(),
  /** base64, FIPS builds only, with `detailed_fips_info=true`: an opaque digest of every plugin. */
  plugins_digest: z.string().max(1024).nullish(),
})
export type VersionResponse = z.infer<typeof VersionResponseSchema>

/** QuorumPolicy: `{quorum}` | `{user}` | `{app}` (quorums nest). */
export interface QuorumPolicy {
  quorum?: Quorum | undefined
  user?: string | null | undefined
  app?: string | null | undefined
}
export interface Quorum {
  n: number
  members: QuorumPolicy[]
  require_password?: boolean | null | undefined
  require_2fa?: boolean | null | undefined
}
export const QuorumPolicySchema: z.ZodType<QuorumPolicy> = z.lazy(() =>
  z.object({
    quorum: QuorumSchema.optional(),
    user: uuid.nullish(),
    app: uuid.nullish(),
  }),
)
export const QuorumSchema: z.ZodType<Quorum> = z.lazy(() =>
  z.object({
    n: z.number().int().nonnegative(),
    members: z.array(QuorumPolicySchema),
    require_password: z.boolean().nullish(),
    require_2fa: z.boolean().nullish(),
  }),
)

export const GroupApprovalPolicySchema = z.object({
  quorum: QuorumSchema.optional(),
  user: uuid.nullish(),
  app: uuid.nullish(),
  protect_permissions: z.array(z.string()).nullish(),
  protect_crypto_operations: z.boolean().nullish(),
})
export type GroupApprovalPolicy = z.infer<typeof GroupApprovalPolicySchema>

/**
 * An hmg config as a group returns it. `pin` and `credentials` are deliberately not read: whether
 * the server echoes them is unknown (dsm-api.md §11), and a secret not parsed is a secret not kept.
 */
export const HmgConfigViewSchema = z.object({
  kind: z.string(),
  url: z.string().nullish(),
  tls: z.record(z.string(), z.unknown()).nullish(),
  hsm_order: z.number().int().nullish(),
})
export type HmgConfigView = z.infer<typeof HmgConfigViewSchema>

export const GroupSchema = z.object({
  group_id: uuid,
  acct_id: uuid,
  name: z.string(),
  description: z.string().nullish(),
  created_at: dsmTime,
  approval_policy: GroupApprovalPolicySchema.nullish(),
  /** config uuid → config (FIPS-backed groups) */
  hmg: z.record(uuid, HmgConfigViewSchema).nullish(),
  hmg_redundancy: z.string().nullish(),
  wrapping_key_name: z.string().nullish(),
})
export type Group = z.infer<typeof GroupSchema>

/** `Group[]` or `{items, metadata}`. */
export const ListGroupsResponseSchema = z.union([
  z.array(GroupSchema),
  z.object({ items: z.array(GroupSchema) }).transform((r) => r.items),
])

/**
 * KCVs are case-insensitive hex ([spec] KeyCheckValueResponse); real appliances print lowercase
 * (dsm-api.md §10). Kept lowercase here, so `===` between two appliances' KCVs is case-proof.
 */
export const kcvHex = z.string().regex(/^[0-9a-fA-F]+$/, 'expected a hex KCV').transform((s) => s.toLowerCase())

/** Case-insensitive KCV comparison, for values that did not come through the schema. */
export function sameKcv(a: string | null | undefined, b: string | null | undefined): boolean {
  return typeof a === 'string' && typeof b === 'string' && a.length > 0 && a.toLowerCase() === b.toLowerCase()
}

/** `{"method":"Generate"|"Import"|"Unwrap"|…}` ([spec] KeyCreationMethod); a bare string is read the same way. */
const KeyCreationMethodSchema = z.union([
  z.object({ method: z.string() }),
  z.string().transform((method) => ({ method })),
])

/** Virtual keys of an HSM-backed group: `id` is `{}` for a wrapped, locally stored key (dsm-api.md §10). */
const ExternalSobjectInfoSchema = z.object({
  id: z.record(z.string(), z.unknown()),
  hsm_group_id: uuid,
  external_kms_info: z.unknown().optional(),
})

export const SobjectSchema = z.object({
  kid: uuid,
  // nullable in the document (transient keys); every key the ceremony touches has one
  name: z.string().nullish(),
  obj_type: z.string(),
  key_size: z.number().int().nullish(),
  key_ops: z.array(z.string()),
  group_id: uuid.nullish(),
  acct_id: uuid,
  created_at: dsmTime,
  creator: z.record(z.string(), z.string()).or(z.string()),
  enabled: z.boolean(),
  origin: z.string(),
  public_only: z.boolean(),
  /** base64 DER SubjectPublicKeyInfo (RSA/EC) */
  pub_key: base64.nullish(),
  kcv: kcvHex.nullish(),
  state: z.string().nullish(),
  description: z.string().nullish(),
  rsa: z.object({ key_size: z.number().int().nullish(), public_exponent: z.number().int().nullish() }).nullish(),
  key_creation_method: KeyCreationMethodSchema.nullish(),
  external: ExternalSobjectInfoSchema.nullish(),
  virtual_key_info: z.object({ cached_key_material: z.boolean() }).nullish(),
})
export type Sobject = z.infer<typeof SobjectSchema>

/** `Sobject[]` or `{items, metadata}`. */
export const ListSobjectsResponseSchema = z.union([
  z.array(SobjectSchema),
  z.object({ items: z.array(SobjectSchema) }).transform((r) => r.items),
])

export const WrapKeyResponseSchema = z.object({
  wrapped_key: base64.min(1),
  iv: base64.nullish(),
  tag: base64.nullish(),
})
export type WrapKeyResponse = z.infer<typeof WrapKeyResponseSchema>

export const EncryptResponseSchema = z.object({
  kid: uuid.nullish(),
  cipher: base64.min(1),
  iv: base64.nullish(),
  tag: base64.nullish(),
})
export type EncryptResponse = z.infer<typeof EncryptResponseSchema>

export const DecryptResponseSchema = z.object({
  kid: uuid.nullish(),
  plain: base64,
})
export type DecryptResponse = z.infer<typeof DecryptResponseSchema>

export const ApprovalStatusSchema = z.enum(['PENDING', 'APPROVED', 'DENIED', 'FAILED'])
export type ApprovalStatus = z.infer<typeof ApprovalStatusSchema>

const principal = z.union([z.record(z.string(), z.unknown()), z.string()])

export const ApprovalRequestSchema = z.object({
  request_id: uuid,
  acct_id: uuid,
  requester: principal,
  created_at: dsmTime,
  expiry: dsmTime,
  method: z.string(),
  operation: z.string(),
  body: z.unknown().optional(),
  description: z.string().nullish(),
  status: ApprovalStatusSchema,
  approvers: z.array(z.record(z.string(), z.unknown())),
  reviewers: z
    .array(
      z.object({
        user: uuid.optional(),
        app: uuid.optional(),
        requires_password: z.boolean().nullish(),
        requires_2fa: z.boolean().nullish(),
      }),
    )
    .nullish(),
  denier: z.record(z.string(), z.unknown()).nullish(),
  denial_reason: z.string().nullish(),
  subjects: z.array(z.unknown()).nullish(),
  result_viewed: z.boolean(),
})
export type ApprovalRequest = z.infer<typeof ApprovalRequestSchema>

export const ApprovalRequestListSchema = z.array(ApprovalRequestSchema)

/** `{status, body}`: the inner HTTP status and body of the approved operation. */
export const ApprovableResultSchema = z.object({
  status: z.number().int(),
  body: z.unknown(),
})
export type ApprovableResult = z.infer<typeof ApprovableResultSchema>

/** DSM timestamp -> Date (UTC). */
export function parseDsmTime(t: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(t)
  if (!m) throw new TypeError(`not a DSM timestamp: ${t}`)
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!))
}

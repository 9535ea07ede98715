// FIPS-backed groups on the non-FIPS cluster (dsm-api.md §7, §11; guide §3.2.3, §4.0): the
// `FortanixFipsCluster` hmg config and the group requests that carry it. A config holds FIPS
// appliance API keys (`pin`, or `credentials` behind a load balancer): they exist only inside the
// config object that is sent, util.inspect shows them masked, and maskHmgConfig renders a config
// for display. Nothing here logs.
import { X509Certificate } from 'node:crypto'
import { inspect } from 'node:util'
import { checkApiKeyShape } from './api-key'
import { InvalidArgumentError } from './errors'
import { normaliseHost } from './host'
import { checkName, checkUuid } from './requests'

export interface TlsPinnedConfig {
  mode: 'required'
  validate_hostname: boolean
  /** the FIPS appliance certificates, base64 DER (not SPKI hashes) */
  ca: { pinned: string[] }
}

export interface FipsClusterHmgConfig {
  kind: 'FortanixFipsCluster'
  /** host[:port], no scheme */
  url: string
  tls: TlsPinnedConfig
  /** one appliance's app API key */
  pin?: string
  /** behind a load balancer: every appliance's API key */
  credentials?: string[]
  hsm_order?: number
}

export interface FipsClusterConfigOptions {
  /** the appliance's (or the load balancer's) address as the operator typed it: host[:port] */
  address: string
  /** DER certificates to pin: the appliance's own (plus its issuers if a CA issued it) */
  certificates: Buffer[]
  /** one appliance: its API key. Zeroed after use by the caller, not here: the config keeps a copy. */
  apiKey?: Buffer
  /** a load balancer: every appliance's API key */
  apiKeys?: Buffer[]
  /** priority with PriorityFailover; smaller first */
  hsmOrder?: number
  /** default true */
  validateHostname?: boolean
}

const MASK = '••••••••'

/** `pin`/`credentials` replaced by a mask: what a screen, a log line or the audit log may show. */
export function maskHmgConfig(c: FipsClusterHmgConfig): Record<string, unknown> {
  const { pin, credentials, ...rest } = c
  return {
    ...structuredClone(rest),
    ...(pin !== undefined ? { pin: MASK } : {}),
    ...(credentials !== undefined ? { credentials: credentials.map(() => MASK) } : {}),
  }
}

function withMaskedInspect(c: FipsClusterHmgConfig): FipsClusterHmgConfig {
  // A debugger or a careless console.log sees the mask; JSON (the request body) sees the key.
  Object.defineProperty(c, inspect.custom, { value: () => maskHmgConfig(c), enumerable: false })
  return c
}

function apiKeyText(key: Buffer, what: string): string {
  try {
    checkApiKeyShape(key)
  } catch (e) {
    throw new InvalidArgumentError(`${what}: ${(e as Error).message}`)
  }
  return key.toString('latin1')
}

/** A `FortanixFipsCluster` config, checked: a bare address, real certificates, well-formed API keys. */
export function buildFipsClusterConfig(o: FipsClusterConfigOptions): FipsClusterHmgConfig {
  const url = normaliseHost(o.address).authority
  if (!Array.isArray(o.certificates) || o.certificates.length === 0) throw new InvalidArgumentError('at least one certificate must be pinned')
  const pinned = o.certificates.map((der, i) => {
    try {
      if (!Buffer.isBuffer(der)) throw new Error('not a Buffer')
      return new X509Certificate(der).raw.toString('base64')
    } catch {
      throw new InvalidArgumentError(`certificate ${i + 1} is not a DER X.509 certificate`)
    }
  })
  if ((o.apiKey === undefined) === (o.apiKeys === undefined)) throw new InvalidArgumentError('give apiKey (one appliance) or apiKeys (a load balancer), not both or neither')
  if (o.apiKeys !== undefined && o.apiKeys.length === 0) throw new InvalidArgumentError('apiKeys must list at least one API key')
  if (o.hsmOrder !== undefined && !(Number.isInteger(o.hsmOrder) && o.hsmOrder >= -(2 ** 31) && o.hsmOrder < 2 ** 31)) {
    throw new InvalidArgumentError('hsmOrder must be a 32-bit integer')
  }
  const config: FipsClusterHmgConfig = {
    kind: 'FortanixFipsCluster',
    url,
    tls: { mode: 'required', validate_hostname: o.validateHostname ?? true, ca: { pinned } },
    ...(o.apiKey !== undefined ? { pin: apiKeyText(o.apiKey, 'apiKey') } : {}),
    ...(o.apiKeys !== undefined ? { credentials: o.apiKeys.map((k, i) => apiKeyText(k, `apiKeys[${i}]`)) } : {}),
    ...(o.hsmOrder !== undefined ? { hsm_order: o.hsmOrder } : {}),
  }
  return withMaskedInspect(config)
}

export interface CreateGroupRequest {
  name: string
  description?: string
  /** one config per FIPS appliance (or one for a load balancer) */
  add_hmg?: FipsClusterHmgConfig[]
  hmg_redundancy?: 'PriorityFailover'
  /** the CMK name the FIPS appliances use, if the cluster reads it from here (unconfirmed) */
  wrapping_key_name?: string
  /** a FIPS appliance's quorum group (replace-appliance's onboarding): GroupApprovalPolicy, sent as given */
  approval_policy?: { quorum: { n: number; members: { user: string }[]; require_password: boolean; require_2fa: boolean }; protect_crypto_operations?: boolean }
}

export interface PatchGroupRequest {
  name?: string
  description?: string
  add_hmg?: FipsClusterHmgConfig[]
  /** config uuid → replacement config (replaced whole) */
  mod_hmg?: Record<string, FipsClusterHmgConfig>
  del_hmg?: string[]
  hmg_redundancy?: 'PriorityFailover' | 'remove'
  /** null clears it */
  wrapping_key_name?: string | null
}

/** `{}` checks every saved config, `{id}` one, `{config}` a draft against the group. */
export type CheckHmgRequest = Record<string, never> | { id: string } | { config: FipsClusterHmgConfig }

function checkConfigs(list: unknown, what: string): void {
  if (!Array.isArray(list)) throw new InvalidArgumentError(`${what} must be an array of hmg configs`)
  for (const c of list) {
    if (!c || typeof c !== 'object' || (c as { kind?: unknown }).kind !== 'FortanixFipsCluster') throw new InvalidArgumentError(`${what}: build each config with buildFipsClusterConfig`)
  }
}

export function buildCreateGroupBody(r: CreateGroupRequest): Record<string, unknown> {
  const body: Record<string, unknown> = { name: checkName(r.name, 'group name') }
  if (r.description !== undefined) body['description'] = r.description
  if (r.add_hmg !== undefined) { checkConfigs(r.add_hmg, 'add_hmg'); body['add_hmg'] = r.add_hmg }
  if (r.hmg_redundancy !== undefined) {
    if (r.hmg_redundancy !== 'PriorityFailover') throw new InvalidArgumentError('hmg_redundancy must be PriorityFailover')
    body['hmg_redundancy'] = r.hmg_redundancy
  }
  if (r.wrapping_key_name !== undefined) body['wrapping_key_name'] = checkName(r.wrapping_key_name, 'wrapping_key_name')
  if (r.approval_policy !== undefined) {
    const q = r.approval_policy.quorum
    if (!Number.isInteger(q.n) || q.n < 1 || q.n > q.members.length) throw new InvalidArgumentError('approval_policy.quorum.n must be between 1 and the number of members')
    body['approval_policy'] = {
      quorum: { n: q.n, members: q.members.map((m) => ({ user: checkUuid(m.user, 'quorum member') })), require_password: q.require_password, require_2fa: q.require_2fa },
      ...(r.approval_policy.protect_crypto_operations !== undefined ? { protect_crypto_operations: r.approval_policy.protect_crypto_operations } : {}),
    }
  }
  return body
}

export function buildPatchGroupBody(r: PatchGroupRequest): Record<string, unknown> {
  const body: Record<string, unknown> = {}
  if (r.name !== undefined) body['name'] = checkName(r.name, 'group name')
  if (r.description !== undefined) body['description'] = r.description
  if (r.add_hmg !== undefined) { checkConfigs(r.add_hmg, 'add_hmg'); body['add_hmg'] = r.add_hmg }
  if (r.mod_hmg !== undefined) {
    for (const id of Object.keys(r.mod_hmg)) checkUuid(id, 'mod_hmg id')
    checkConfigs(Object.values(r.mod_hmg), 'mod_hmg')
    body['mod_hmg'] = r.mod_hmg
  }
  if (r.del_hmg !== undefined) body['del_hmg'] = r.del_hmg.map((id) => checkUuid(id, 'del_hmg id'))
  if (r.hmg_redundancy !== undefined) {
    if (r.hmg_redundancy !== 'PriorityFailover' && r.hmg_redundancy !== 'remove') throw new InvalidArgumentError('hmg_redundancy must be PriorityFailover or remove')
    body['hmg_redundancy'] = r.hmg_redundancy
  }
  if (r.wrapping_key_name !== undefined) body['wrapping_key_name'] = r.wrapping_key_name === null ? null : checkName(r.wrapping_key_name, 'wrapping_key_name')
  if (Object.keys(body).length === 0) throw new InvalidArgumentError('a group update must change something')
  return body
}

export function buildCheckHmgBody(r: CheckHmgRequest): Record<string, unknown> {
  if ('id' in r) return { id: checkUuid(r.id, 'hmg config id') }
  if ('config' in r) { checkConfigs([r.config], 'config'); return { config: r.config } }
  if (Object.keys(r).length !== 0) throw new InvalidArgumentError('check {} (every config), {id} or {config}')
  return {}
}

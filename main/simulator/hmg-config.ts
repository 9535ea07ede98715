// External HSM/KMS ("hmg") configs of a group, as a DSM cluster stores them (dsm-api.md §7, §11).
// Only `FortanixFipsCluster` is simulated: `url` is host[:port] with no scheme, `tls` must be
// `required` with `ca.pinned` DER certificates (a FIPS appliance is reached over verified TLS or
// not at all), and `pin` (one appliance's app API key) or `credentials` (several, behind a load
// balancer) authenticate. `kind` is accepted in any case and sent back in PascalCase.
import { randomUUID, X509Certificate } from 'node:crypto'
import { isIP } from 'node:net'
import { type Obj, UUID_RE, asObject, optInt, optString } from './body'
import { badRequest, notFound } from './errors'
import type { Group } from './model'

export const FIPS_CLUSTER_KIND = 'FortanixFipsCluster'

export interface HmgConfigRecord {
  kind: typeof FIPS_CLUSTER_KIND
  /** as given: host[:port] */
  url: string
  host: string
  port: number
  validateHostname: boolean
  /** the pinned certificates, DER; the presented leaf must be one of them exactly */
  pinned: Buffer[]
  /** API keys to try, in order: `credentials`, else `[pin]` */
  apiKeys: string[]
  hasPin: boolean
  hasCredentials: boolean
  hsmOrder: number | null
  /** the request's `tls` object, echoed back */
  tlsView: Obj
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

function parseUrl(url: string): { host: string; port: number } {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) throw badRequest(`Invalid hmg url ${JSON.stringify(url)}: give the host name without a scheme (do not add https://)`)
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(url)
  if (!m?.[1]) throw badRequest(`Invalid hmg url ${JSON.stringify(url)}: expected host or host:port`)
  const host = m[1].startsWith('[') ? m[1].slice(1, -1) : m[1]
  if (m[1].startsWith('[') && isIP(host) !== 6) throw badRequest(`Invalid hmg url ${JSON.stringify(url)}: bad IPv6 address`)
  const port = m[2] === undefined ? 443 : Number(m[2])
  if (port < 1 || port > 65535) throw badRequest(`Invalid hmg url ${JSON.stringify(url)}: port out of range`)
  return { host, port }
}

function parseTls(v: unknown): { validateHostname: boolean; pinned: Buffer[]; view: Obj } {
  const tls = asObject(v, 'hmg tls')
  const mode = optString(tls, 'mode')
  if (mode !== 'required') throw badRequest(`Invalid hmg tls.mode ${JSON.stringify(mode ?? null)}: a FIPS appliance is only reached with TLS mode "required"`)
  const validate = tls['validate_hostname']
  if (typeof validate !== 'boolean') throw badRequest('Invalid hmg tls.validate_hostname: expected true or false')
  const ca = asObject(tls['ca'], 'hmg tls.ca')
  if (ca['ca_set'] !== undefined) throw badRequest('hmg tls.ca.ca_set is not supported by this simulator: pin the FIPS appliance certificates with tls.ca.pinned')
  const list = ca['pinned']
  if (!Array.isArray(list) || list.length === 0) throw badRequest('Invalid hmg tls.ca.pinned: expected a non-empty array of base64 DER certificates')
  const pinned = list.map((c, i) => {
    if (typeof c !== 'string' || !BASE64.test(c)) throw badRequest(`Invalid hmg tls.ca.pinned[${i}]: not base64`)
    const der = Buffer.from(c, 'base64')
    try {
      new X509Certificate(der) // eslint-disable-line no-new
    } catch {
      throw badRequest(`Invalid hmg tls.ca.pinned[${i}]: not a DER X.509 certificate`)
    }
    return der
  })
  for (const f of ['client_key', 'client_cert']) {
    if (tls[f] !== undefined && tls[f] !== null) throw badRequest(`hmg tls.${f} is not supported by this simulator`)
  }
  return { validateHostname: validate, pinned, view: structuredClone(tls) }
}

/** A bare HmgConfig from a request (hmg/check, add_hmg, mod_hmg). Every refusal names the field. */
export function parseHmgConfig(v: unknown): HmgConfigRecord {
  const o = asObject(v, 'hmg config')
  const kind = optString(o, 'kind')
  if (kind === undefined) throw badRequest('Missing required field kind in hmg config')
  if (kind.toLowerCase() !== FIPS_CLUSTER_KIND.toLowerCase()) throw badRequest(`hmg kind ${JSON.stringify(kind)} is not supported by this simulator (only ${FIPS_CLUSTER_KIND})`)
  const url = optString(o, 'url')
  if (!url) throw badRequest('Missing required field url in hmg config')
  const { host, port } = parseUrl(url)
  const tls = parseTls(o['tls'])
  const pin = optString(o, 'pin')
  const credentials = o['credentials']
  if (credentials !== undefined && credentials !== null && (!Array.isArray(credentials) || credentials.some((c) => typeof c !== 'string' || c === ''))) {
    throw badRequest('Invalid hmg credentials: expected an array of API keys')
  }
  const creds = (credentials as string[] | null | undefined) ?? []
  const apiKeys = creds.length > 0 ? [...creds] : pin ? [pin] : []
  if (apiKeys.length === 0) throw badRequest('An hmg config of kind FortanixFipsCluster needs pin (the appliance API key) or credentials')
  const hsmOrder = optInt(o, 'hsm_order') ?? null
  if (hsmOrder !== null && (hsmOrder < -(2 ** 31) || hsmOrder >= 2 ** 31)) throw badRequest('Invalid hsm_order: expected a 32-bit integer')
  return {
    kind: FIPS_CLUSTER_KIND, url, host, port, validateHostname: tls.validateHostname, pinned: tls.pinned, apiKeys,
    hasPin: pin !== undefined && pin !== '', hasCredentials: creds.length > 0, hsmOrder, tlsView: tls.view,
  }
}

/** How a group shows a config. `pin` and `credentials` only when the vendor option echoes them. */
export function hmgConfigView(c: HmgConfigRecord, echoSecrets: boolean): Obj {
  const view: Obj = { kind: c.kind, url: c.url, tls: structuredClone(c.tlsView), hsm_order: c.hsmOrder }
  if (echoSecrets) {
    if (c.hasCredentials) view['credentials'] = [...c.apiKeys]
    else if (c.hasPin) view['pin'] = c.apiKeys[0]
  }
  return view
}

/** The host:port a message names (never a credential). */
export function hmgTarget(c: HmgConfigRecord): string {
  return c.url
}

/**
 * `add_hmg` (array), `mod_hmg` (uuid → config, replaced whole), `del_hmg` (uuids) and
 * `hmg_redundancy` ("PriorityFailover", or "remove" on update), applied to a group. Validates
 * everything before changing anything.
 */
export function applyHmgChanges(g: Group, o: Obj, creating: boolean): void {
  const next = new Map(g.hmg ?? [])
  if (o['del_hmg'] !== undefined && o['del_hmg'] !== null) {
    if (creating) throw badRequest('del_hmg is only valid when updating a group')
    const del = o['del_hmg']
    if (!Array.isArray(del) || del.some((x) => typeof x !== 'string')) throw badRequest('Invalid del_hmg: expected an array of uuids')
    for (const id of del as string[]) {
      if (!next.delete(id.toLowerCase())) throw notFound(`hmg config ${id} does not exist in group ${g.groupId}`)
    }
  }
  if (o['mod_hmg'] !== undefined && o['mod_hmg'] !== null) {
    if (creating) throw badRequest('mod_hmg is only valid when updating a group')
    const mod = asObject(o['mod_hmg'], 'mod_hmg')
    for (const [id, config] of Object.entries(mod)) {
      if (!UUID_RE.test(id) || !next.has(id.toLowerCase())) throw notFound(`hmg config ${id} does not exist in group ${g.groupId}`)
      next.set(id.toLowerCase(), parseHmgConfig(config))
    }
  }
  if (o['add_hmg'] !== undefined && o['add_hmg'] !== null) {
    const add = o['add_hmg']
    if (!Array.isArray(add)) throw badRequest('Invalid add_hmg: expected an array of hmg configs')
    for (const config of add) next.set(randomUUID(), parseHmgConfig(config))
  }
  const redundancy = o['hmg_redundancy']
  let nextRedundancy = g.hmgRedundancy
  if (redundancy !== undefined && redundancy !== null) {
    if (redundancy === 'PriorityFailover') nextRedundancy = 'PriorityFailover'
    else if (redundancy === 'remove' && !creating) nextRedundancy = undefined
    else throw badRequest(`Invalid hmg_redundancy ${JSON.stringify(redundancy)}: expected "PriorityFailover"${creating ? '' : ' or "remove"'}`)
  }
  g.hmg = next
  if (nextRedundancy) g.hmgRedundancy = nextRedundancy
  else delete g.hmgRedundancy
}

/** The CMK a group's FIPS appliances wrap its keys with (vendor option cmkNameLocation). */
export function cmkNameOf(g: Group | undefined, location: 'group-wrapping_key_name' | 'none', defaultName: string): string {
  const named = g?.extra['wrapping_key_name']
  return location === 'group-wrapping_key_name' && typeof named === 'string' && named !== '' ? named : defaultName
}

export function isFipsBacked(g: Group | undefined): g is Group & { hmg: Map<string, HmgConfigRecord> } {
  return !!g?.hmg && g.hmg.size > 0
}

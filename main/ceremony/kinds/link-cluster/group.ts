/**
 * The FIPS-backed group as this ceremony plans it (dsm-api.md §11): one `FortanixFipsCluster`
 * config per FIPS appliance in priority order with PriorityFailover, or one config at a load
 * balancer holding every appliance's API key. The plan of it holds no secret and no certificate
 * bytes (those are files on the media, by digest), so it can be journaled and logged; the config
 * that is sent is built from it with the API keys only at the moment of sending, and must match it
 * field for field. What witnesses review is the same config with every API key masked.
 */
import { createHash, X509Certificate } from 'node:crypto'
import { z } from 'zod'
import { buildFipsClusterConfig, maskHmgConfig, normaliseHost, type FipsClusterHmgConfig, type Group } from '../../../dsm'
import { canonicalJson } from '../../../evidence'
import { hex64 } from '../../cluster-plan'
import { labelOf } from '../../plan-envelope'
import type { LinkClusterPlan } from './plan'

export const LB_REF = 'load-balancer'

export const PlannedConfig = z.strictObject({
  /** The appliance id, or "load-balancer". */
  ref: z.string(),
  /** host:port, no scheme (as the cluster is given it). */
  url: z.string(),
  hsmOrder: z.number().int().nullable(),
  validateHostname: z.boolean(),
  /** SHA-256 of each certificate pinned in `tls.ca.pinned`, in order. */
  certificates: z.array(hex64).min(1),
  /** Whose API keys sign in: one appliance (`pin`), or every appliance behind a balancer (`credentials`). */
  keysOf: z.array(z.string()).min(1),
  balanced: z.boolean(),
})
export type PlannedConfig = z.infer<typeof PlannedConfig>

export const PlannedGroup = z.strictObject({
  name: z.string(),
  description: z.string().nullable(),
  configs: z.array(PlannedConfig).min(1),
  redundancy: z.literal('PriorityFailover').nullable(),
  wrappingKeyName: z.string().nullable(),
})
export type PlannedGroup = z.infer<typeof PlannedGroup>

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')
const address = (host: string, port: number) => normaliseHost(`${host}:${port}`).authority

/** The group this plan asks for, given each appliance's certificate chain (SHA-256s, leaf first). */
export function plannedGroup(plan: LinkClusterPlan, chains: Record<string, string[]>, description: string | null): PlannedGroup {
  const chainOf = (id: string) => chains[id] ?? []
  const configs: PlannedConfig[] = plan.loadBalancer
    ? [{
        ref: LB_REF, url: address(plan.loadBalancer.host, plan.loadBalancer.port), hsmOrder: null, validateHostname: plan.validateHostname,
        // Behind a pass-through balancer any appliance may answer: every appliance's certificate is pinned.
        certificates: [...new Set(plan.fips.flatMap(chainOf))], keysOf: [...plan.fips], balanced: true,
      }]
    : plan.fips.map((id, i) => {
        const a = plan.appliances.find((x) => x.id === id)!
        return { ref: id, url: address(a.host, a.port), hsmOrder: i, validateHostname: plan.validateHostname, certificates: chainOf(id), keysOf: [id], balanced: false }
      })
  return {
    name: plan.groupName, description, configs,
    redundancy: plan.loadBalancer ? null : 'PriorityFailover',
    wrappingKeyName: plan.cmkNameLocation === 'group-wrapping_key_name' ? plan.cmkName : null,
  }
}

const masked = (plan: LinkClusterPlan, id: string) => `•••••••• (the API key of ${labelOf(plan, id)})`

/** One config as witnesses see it: the vendor's fields, API keys masked, certificates by SHA-256. */
export function shownConfig(plan: LinkClusterPlan, c: PlannedConfig): Record<string, unknown> {
  return {
    kind: 'FortanixFipsCluster', url: c.url,
    tls: { mode: 'required', validate_hostname: c.validateHostname, ca: { pinned: c.certificates.map((h) => `<certificate, SHA-256 ${h}>`) } },
    ...(c.balanced ? { credentials: c.keysOf.map((id) => masked(plan, id)) } : { pin: masked(plan, c.keysOf[0]!) }),
    ...(c.hsmOrder === null ? {} : { hsm_order: c.hsmOrder }),
  }
}

/** The whole `POST /sys/v1/groups` body as witnesses see it. */
export function shownGroup(plan: LinkClusterPlan, g: PlannedGroup): Record<string, unknown> {
  return {
    name: g.name,
    ...(g.description === null ? {} : { description: g.description }),
    add_hmg: g.configs.map((c) => shownConfig(plan, c)),
    ...(g.redundancy === null ? {} : { hmg_redundancy: g.redundancy }),
    ...(g.wrappingKeyName === null ? {} : { wrapping_key_name: g.wrappingKeyName }),
  }
}

/** What the operator confirms by typing: SHA-256 of the shown body's canonical JSON. */
export function groupDigest(plan: LinkClusterPlan, g: PlannedGroup): string {
  return sha256(canonicalJson(shownGroup(plan, g)))
}

/** The config that is sent: certificates from the media (by digest), API keys copied in and zeroed here. */
export function materialize(c: PlannedConfig, certificates: Map<string, Buffer>, apiKey: (id: string) => Buffer): FipsClusterHmgConfig {
  const ders = c.certificates.map((h) => {
    const der = certificates.get(h)
    if (!der) throw new Error(`certificate ${h} is not among the certificates read in this ceremony`)
    return der
  })
  const keys = c.keysOf.map((id) => apiKey(id))
  try {
    return buildFipsClusterConfig({
      address: c.url, certificates: ders, validateHostname: c.validateHostname,
      ...(c.balanced ? { apiKeys: keys } : { apiKey: keys[0]! }),
      ...(c.hsmOrder === null ? {} : { hsmOrder: c.hsmOrder }),
    })
  } finally {
    for (const k of keys) k.fill(0)
  }
}

/** Does the config about to be sent say exactly what was planned (and shown)? */
export function sentAsPlanned(real: FipsClusterHmgConfig, c: PlannedConfig): boolean {
  const shown = maskHmgConfig(real) as { pin?: unknown; credentials?: unknown[] }
  return real.url === c.url && (real.hsm_order ?? null) === c.hsmOrder && real.tls.validate_hostname === c.validateHostname && real.tls.mode === 'required'
    && canonicalJson(real.tls.ca.pinned.map((b) => sha256(Buffer.from(b, 'base64')))) === canonicalJson(c.certificates)
    && (c.balanced ? shown.pin === undefined && shown.credentials?.length === c.keysOf.length : shown.pin !== undefined && shown.credentials === undefined)
}

function pinnedDigests(tls: Record<string, unknown> | null | undefined): string[] | null {
  const pinned = ((tls?.['ca'] as Record<string, unknown> | undefined)?.['pinned'])
  if (!Array.isArray(pinned) || pinned.some((p) => typeof p !== 'string')) return null
  try {
    return (pinned as string[]).map((b) => sha256(new X509Certificate(Buffer.from(b, 'base64')).raw))
  } catch {
    return null
  }
}

const slot = (url: string | null | undefined, order: number | null | undefined) => `${url ?? ''}|${order ?? ''}`

/**
 * What differs between a group found on the cluster and the planned one. API keys cannot be
 * compared (a group may not echo them, dsm-api.md §11): the saved group's own test proves them.
 */
export function groupDifferences(found: Group, g: PlannedGroup, withDescription: boolean): string[] {
  const diffs: string[] = []
  if (withDescription && (found.description ?? null) !== g.description) diffs.push('description (not made by this ceremony)')
  const configs = Object.values(found.hmg ?? {})
  if (configs.length !== g.configs.length) diffs.push(`${configs.length} hmg configs, not ${g.configs.length}`)
  for (const c of g.configs) {
    const f = configs.find((x) => slot(x.url, x.hsm_order) === slot(c.url, c.hsmOrder))
    if (!f) {
      diffs.push(`no config for ${c.url}${c.hsmOrder === null ? '' : ` at priority ${c.hsmOrder}`}`)
      continue
    }
    if (f.kind.toLowerCase() !== 'fortanixfipscluster') diffs.push(`${c.url}: kind ${f.kind}`)
    if (f.tls?.['mode'] !== 'required' || f.tls?.['validate_hostname'] !== c.validateHostname) diffs.push(`${c.url}: TLS mode or host-name validation`)
    const pins = pinnedDigests(f.tls)
    if (!pins || [...pins].sort().join() !== [...c.certificates].sort().join()) diffs.push(`${c.url}: pinned certificates`)
  }
  if ((found.hmg_redundancy ?? null) !== g.redundancy) diffs.push(`redundancy ${found.hmg_redundancy ?? 'none'}`)
  if ((found.wrapping_key_name ?? null) !== g.wrappingKeyName) diffs.push(`wrapping_key_name ${found.wrapping_key_name ?? 'none'}`)
  return diffs
}

/** The cluster's uuid for each planned config (by address and priority). */
export function configIdsOf(found: Group, g: PlannedGroup): Record<string, string> {
  const ids: Record<string, string> = {}
  for (const [id, f] of Object.entries(found.hmg ?? {})) {
    const c = g.configs.find((x) => slot(x.url, x.hsmOrder) === slot(f.url, f.hsm_order))
    if (c) ids[c.ref] = id
  }
  return ids
}

/**
 * Load-balancer mode of the membership kinds (guide §4.0, dsm-api.md §11): the group holds one
 * `FortanixFipsCluster` config at the balancer's address, with every appliance's API key in
 * `credentials` and every appliance's certificate pinned. The vendor changes a saved config only
 * by `mod_hmg: {"<uuid>": HmgConfig}`, a whole HmgConfig (`url` and `tls` required, OpenAPI
 * `GroupRequest`), and never shows the keys it holds: so a change sends the full intended list
 * (the keys of every appliance that stays, typed again by the operator, plus the new one) and
 * never copies what the cluster holds. Before anything changes, the preflight checks that the
 * config is the one the records describe: at the balancer's address, pinning exactly the
 * certificates the planned appliances present now (an extra certificate is someone else's).
 */
import { X509Certificate } from 'node:crypto'
import { normaliseHost, type Group } from '../../../dsm'
import { readPeerCertificates, type PeerCertificate } from '../../../dsm/peer-certificate'
import { canonicalJson } from '../../../evidence'
import { CeremonyError } from '../../../errors'
import { applianceOf, trustOf } from '../../plan-envelope'
import { LB_REF, sha256, shownConfig, type PlannedConfig } from '../link-cluster/group'
import type { LinkClusterPlan } from '../link-cluster/plan'
import type { MembershipPlan } from './plan'
import type { BalancerFacts } from './results'

export const balancerAddress = (plan: MembershipPlan): string | null =>
  plan.loadBalancer ? normaliseHost(`${plan.loadBalancer.host}:${plan.loadBalancer.port}`).authority : null

/** SHA-256 of each certificate a config pins, in its order ([] when unreadable). */
export function pinnedOf(tls: Record<string, unknown> | null | undefined): string[] {
  const list = (tls?.['ca'] as Record<string, unknown> | undefined)?.['pinned']
  if (!Array.isArray(list)) return []
  try {
    return list.map((b) => sha256(new X509Certificate(Buffer.from(String(b), 'base64')).raw))
  } catch {
    return []
  }
}

const sameSet = (a: string[], b: string[]) => [...new Set(a)].sort().join() === [...new Set(b)].sort().join() && a.length === new Set(a).size

/**
 * The plan's mode against the records' and the group's: a plan through a balancer for a group
 * linked one config per appliance (or the other way round) is named, before anything changes.
 */
export function checkMode(plan: MembershipPlan, recorded: string | null | undefined, group: Group): void {
  const lb = balancerAddress(plan)
  const planned = lb ? `through the load balancer at ${lb}` : 'one config per appliance'
  if (recorded !== undefined && recorded !== lb) {
    throw new CeremonyError('GROUP_MODE_MISMATCH', `The plan links ${planned}; the records link ${recorded ? `through the load balancer at ${recorded}` : 'one config per appliance'}`)
  }
  const configs = Object.values(group.hmg ?? {})
  const atBalancer = lb !== null && configs.length === 1 && configs[0]!.url === lb
  const perAppliance = configs.length > 0 && configs.every((c) => c.hsm_order !== null && c.hsm_order !== undefined)
  if (lb && !atBalancer) {
    throw new CeremonyError('GROUP_MODE_MISMATCH', `The plan links through the load balancer at ${lb}, but "${plan.groupName}" holds ${configs.length} config(s) at ${configs.map((c) => c.url ?? '?').join(', ') || 'no address'}${perAppliance ? ' (one per appliance, with priorities)' : ''}`)
  }
  if (!lb && configs.length === 1 && (configs[0]!.hsm_order ?? null) === null && !plan.appliances.some((a) => normaliseHost(`${a.host}:${a.port}`).authority === configs[0]!.url)) {
    throw new CeremonyError('GROUP_MODE_MISMATCH', `The plan adds one config per appliance, but "${plan.groupName}" holds one config at ${configs[0]!.url ?? '?'} with no priority: a load balancer's. Plan with the load balancer.`)
  }
}

/** Each appliance's chain, read over its pinned connection (the plan's trust), leaf first. */
export async function chainsOf(plan: MembershipPlan, ids: string[]): Promise<Map<string, PeerCertificate[]>> {
  const out = new Map<string, PeerCertificate[]>()
  for (const id of ids) {
    const a = applianceOf(plan, id)
    const chain = await readPeerCertificates({ host: a.host, port: a.port, trust: trustOf(a) })
    if (a.trust.spkiSha256 && chain[0]!.spkiSha256 !== a.trust.spkiSha256) throw new CeremonyError('CERTIFICATE_PIN_MISMATCH', `${a.label} presents a certificate whose key is not the pinned one`)
    out.set(id, chain)
  }
  return out
}

/** The certificates of these chains, once each, in order. */
export const certificatesOf = (chains: PeerCertificate[][]) => [...new Set(chains.flat().map((c) => c.sha256))]

/**
 * The balancer's config as the preflight must find it: the only config, at the balancer's address,
 * no priority, TLS required, pinning exactly the certificates `members` present now. Whose keys it
 * holds cannot be read; the records say, and the saved group's test proves they still sign in.
 */
export async function balancerFacts(plan: MembershipPlan, group: Group, members: string[], label: (id: string) => string): Promise<BalancerFacts> {
  const lb = balancerAddress(plan)!
  const [configId, config] = Object.entries(group.hmg ?? {})[0]!
  const diffs: string[] = []
  if (config.kind.toLowerCase() !== 'fortanixfipscluster') diffs.push(`kind ${config.kind}`)
  if (config.tls?.['mode'] !== 'required' || config.tls?.['validate_hostname'] !== plan.validateHostname) diffs.push('TLS mode or host-name validation')
  const pinned = pinnedOf(config.tls)
  // A failed appliance cannot be asked for its certificate: its pinned one is known by the key the plan pins for it.
  const failedPin = plan.failed ? applianceOf(plan, plan.failed.id).trust.spkiSha256 : undefined
  const failedPinned = failedPin ? pinnedKeys(config.tls).filter((p) => p.spkiSha256 === failedPin).map((p) => p.sha256) : []
  const live = members.filter((id) => id !== plan.failed?.id)
  const chains = await chainsOf(plan, live)
  const expected = [...certificatesOf([...chains.values()]), ...failedPinned]
  const foreign = pinned.filter((h) => !expected.includes(h))
  if (foreign.length > 0) diffs.push(`it pins ${foreign.length} certificate(s) none of ${members.map(label).join(', ')} presents (SHA-256 ${foreign.map((h) => `${h.slice(0, 16)}…`).join(', ')}): someone else's`)
  const missing = [...chains].filter(([, chain]) => !pinned.includes(chain[0]!.sha256)).map(([id]) => label(id))
  if (plan.failed && failedPinned.length === 0) missing.push(`${label(plan.failed.id)} (by the key the plan pins for it)`)
  if (missing.length > 0) diffs.push(`it does not pin the certificate of ${missing.join(', ')}`)
  if (diffs.length > 0) throw new CeremonyError('GROUP_CONFLICT', `The load balancer's config in "${plan.groupName}" (${configId}) is not the one the records describe: ${diffs.join('; ')}. It was not changed.`)
  return { configId, url: lb, pinned, keysOf: members, failedPinned }
}

/** Each pinned certificate of a config: its SHA-256, the SHA-256 of its key (SPKI), and its DER. */
export function pinnedKeys(tls: Record<string, unknown> | null | undefined): { sha256: string; spkiSha256: string; der: Buffer }[] {
  const list = (tls?.['ca'] as Record<string, unknown> | undefined)?.['pinned']
  if (!Array.isArray(list)) return []
  try {
    return list.map((b) => {
      const x = new X509Certificate(Buffer.from(String(b), 'base64'))
      return { sha256: sha256(x.raw), spkiSha256: sha256(x.publicKey.export({ type: 'spki', format: 'der' })), der: Buffer.from(x.raw) }
    })
  } catch {
    return []
  }
}

/** The balancer's config after this change: the keys of `keysOf`, and the certificates found plus the new appliance's. */
export function plannedBalancer(plan: MembershipPlan, facts: BalancerFacts, keysOf: string[], added: PeerCertificate[]): PlannedConfig {
  return {
    ref: LB_REF, url: facts.url, hsmOrder: null, validateHostname: plan.validateHostname,
    certificates: [...new Set([...facts.pinned, ...added.map((c) => c.sha256)])], keysOf, balanced: true,
  }
}

/** What witnesses see and the operator confirms: the PATCH body, every API key masked. */
export const shownMod = (plan: MembershipPlan, configId: string, c: PlannedConfig) => ({ mod_hmg: { [configId]: shownConfig(plan as unknown as LinkClusterPlan, c) } })
export const modDigest = (plan: MembershipPlan, configId: string, c: PlannedConfig) => sha256(canonicalJson(shownMod(plan, configId, c)))

/**
 * The balancer's config now, against the state before the change and the planned one: 'before',
 * 'planned' (the change was sent before an interruption: its keys cannot be read back), or what
 * differs from both (someone else changed it).
 */
export function balancerState(group: Group, configId: string, before: string[], planned: PlannedConfig): 'before' | 'planned' | string[] {
  const c = group.hmg?.[configId]
  if (!c) return [`the config ${configId} is gone`]
  const diffs: string[] = []
  if (c.url !== planned.url) diffs.push(`its address is ${c.url ?? 'none'}`)
  if ((c.hsm_order ?? null) !== null) diffs.push(`it has priority ${c.hsm_order}`)
  if (c.tls?.['mode'] !== 'required' || c.tls?.['validate_hostname'] !== planned.validateHostname) diffs.push('TLS mode or host-name validation')
  if (Object.keys(group.hmg ?? {}).length !== 1) diffs.push(`the group holds ${Object.keys(group.hmg ?? {}).length} configs`)
  const pinned = pinnedOf(c.tls)
  if (diffs.length === 0 && sameSet(pinned, before)) return 'before'
  if (diffs.length === 0 && sameSet(pinned, planned.certificates)) return 'planned'
  return [...diffs, ...(sameSet(pinned, before) || sameSet(pinned, planned.certificates) ? [] : ['its pinned certificates are neither those found by the preflight nor those planned'])]
}

/** The PEM text of these chains (what the media keeps). */
export { pemOf } from '../link-cluster/link'

/**
 * replace-appliance, after the proof: the balancer's config without the failed appliance's key and
 * the certificates only it presented; the key of every appliance of the group after the change.
 */
export function removalOf(plan: MembershipPlan, facts: BalancerFacts, joined: PlannedConfig): PlannedConfig {
  return { ...joined, keysOf: [...plan.fips], certificates: joined.certificates.filter((h) => !facts.failedPinned.includes(h)) }
}

/**
 * What the earlier records say (design §3b, issue 12 part 3): each record this plan builds on is
 * verified (its chain, its plan digest, its kind and mode), then read for what a later ceremony
 * relies on: the CMK's KCV, the FIPS-backed group's id and members, the recovery canary's test
 * ciphertext, and the quorum policy the FIPS appliances had. They must agree with each other;
 * the preflight then compares them with what the appliances and the cluster say now.
 */
import { CeremonyError } from '../../../errors'
import { sameKcv } from '../../adopt'
import { earlierRecord, resultIn, type ClusterCtx } from '../../cluster-steps'
import type { CeremonyRecord } from '../../../evidence'
import { normaliseHost } from '../../../dsm'
import type { CanaryRef, QuorumFacts, RecordFacts } from './results'

export const BUILDS_ON_KINDS = ['replicate-cmk', 'link-cluster', 'verify-cluster', 'add-appliance', 'replace-appliance']

type Obj = Record<string, unknown>
const str = (v: unknown) => (typeof v === 'string' ? v : '')

/** The quorum facts a record's preflight(s) show per appliance (replicate-cmk, one station or several). */
function quorumIn(record: CeremonyRecord): Record<string, QuorumFacts> {
  const out: Record<string, QuorumFacts> = {}
  const steps = record.entries.filter((e) => e.kind === 'step-done' && (e.step === 'preflight' || e.step.startsWith('station-preflight:'))).map((e) => e.step)
  for (const step of new Set(steps)) {
    const appliances = (resultIn(record, step)?.['appliances'] ?? {}) as Record<string, Obj>
    for (const [id, a] of Object.entries(appliances)) {
      if (typeof a['quorumN'] === 'number' && typeof a['quorumOf'] === 'number') out[id] = { n: a['quorumN'], of: a['quorumOf'], approveWithLogin: a['approveWithLogin'] === true }
    }
  }
  return out
}

function canaryIn(result: Obj | undefined): CanaryRef | null {
  if (!result || !str(result['kid']) || !str(result['cipher']) || !str(result['iv']) || !str(result['tag'])) return null
  return { kid: str(result['kid']), cipher: str(result['cipher']), iv: str(result['iv']), tag: str(result['tag']) }
}

/** The load balancer a link or membership record's plan went through ("host:port"), or null: one config per appliance. */
function balancerIn(record: CeremonyRecord): string | null {
  const lb = (record.plan as Obj)['loadBalancer'] as Obj | undefined
  return lb && typeof lb['host'] === 'string' && typeof lb['port'] === 'number' ? normaliseHost(`${lb['host']}:${lb['port']}`).authority : null
}

/**
 * One record, read for what this ceremony relies on (also what `ceremony verify` compares across
 * a chain of records, record-agreement.ts). RECORD_MISMATCH when it was not closed.
 */
export function factsOf(record: CeremonyRecord, digest: string): RecordFacts {
  const kind = str((record.plan as Obj)['kind']) || 'replicate-cmk'
  const ceremonyId = str((record.plan as Obj)['id'])
  const close = resultIn(record, 'close')
  if (!close) throw new CeremonyError('RECORD_MISMATCH', `The ${kind} record ${digest.slice(0, 16)}… was not closed`)
  const facts: RecordFacts = { finalDigest: digest, kind, ceremonyId, kcv: null, groupId: null, canary: null, quorum: {}, members: null }
  if (kind !== 'replicate-cmk' && kind !== 'verify-cluster') facts.balancer = balancerIn(record)
  if (kind === 'replicate-cmk') {
    facts.kcv = str(close['sourceKcv']).toLowerCase() || null
    facts.quorum = quorumIn(record)
  } else if (kind === 'link-cluster' || kind === 'verify-cluster') {
    facts.kcv = str(close['kcv']).toLowerCase() || null
    facts.groupId = str(close['groupId']) || null
    facts.canary = canaryIn(resultIn(record, 'canary-crypto'))
    const fips = (record.plan as Obj)['fips']
    facts.members = Array.isArray(fips) ? fips.map(String) : null
  } else {
    // add-appliance, replace-appliance: the close carries everything forward.
    facts.kcv = str(close['kcv']).toLowerCase() || null
    facts.groupId = str(close['groupId']) || null
    facts.canary = canaryIn(close['canary'] as Obj | undefined)
    facts.quorum = (close['quorum'] ?? {}) as Record<string, QuorumFacts>
    facts.members = Array.isArray(close['members']) ? (close['members'] as unknown[]).map(String) : null
  }
  return facts
}

export interface Baseline {
  records: RecordFacts[]
  kcv: string
  groupId: string
  canary: CanaryRef
  /** The strongest quorum policy the records show for any FIPS appliance. */
  quorum: QuorumFacts
  /** The group's members as the latest record that lists them shows (ids). */
  members: string[]
  /**
   * How the latest link or membership record reached the appliances: through the load balancer at
   * "host:port", or null (one config per appliance); undefined when no record says.
   */
  balancer: string | null | undefined
}

/** Verifies every record the plan names and joins what they say; RECORD_* and KCV_MISMATCH name a disagreement. */
export function baselineOf(ctx: ClusterCtx, digests: string[]): Baseline {
  const records = digests.map((d) => factsOf(earlierRecord(ctx, d, BUILDS_ON_KINDS), d))
  const kcvs = [...new Set(records.map((r) => r.kcv).filter((k): k is string => !!k))]
  if (kcvs.length === 0) throw new CeremonyError('RECORD_MISMATCH', 'None of the records names the CMK\'s KCV: name the replication record')
  if (kcvs.length > 1) throw new CeremonyError('KCV_MISMATCH', `The records hold different CMK KCVs (${kcvs.join(', ')})`)
  const groups = [...new Set(records.map((r) => r.groupId).filter((g): g is string => !!g))]
  if (groups.length === 0) throw new CeremonyError('RECORD_MISMATCH', 'None of the records names the FIPS-backed group: name the link record')
  if (groups.length > 1) throw new CeremonyError('RECORD_MISMATCH', `The records name different groups (${groups.join(', ')})`)
  const canary = records.map((r) => r.canary).find((c): c is CanaryRef => c !== null)
  if (!canary) throw new CeremonyError('RECORD_MISMATCH', 'None of the records holds the recovery canary\'s test ciphertext: name the link record')
  const policies = records.flatMap((r) => Object.values(r.quorum))
  if (policies.length === 0) throw new CeremonyError('RECORD_MISMATCH', 'None of the records shows the FIPS appliances\' quorum policy: name the replication record')
  const quorum = { n: Math.max(...policies.map((p) => p.n)), of: Math.max(...policies.map((p) => p.of)), approveWithLogin: policies.some((p) => p.approveWithLogin) }
  const members = [...records].reverse().find((r) => r.members !== null)?.members ?? []
  const balancer = [...records].reverse().find((r) => r.balancer !== undefined)?.balancer
  return { records, kcv: kcvs[0]!, groupId: groups[0]!, canary, quorum, members, balancer }
}

/** What makes a quorum policy weaker than the records' (fewer members, a lower quorum, no password); [] when it is not. */
export function weakerThan(found: QuorumFacts, base: QuorumFacts): string[] {
  const diffs: string[] = []
  if (found.n < base.n) diffs.push(`quorum ${found.n} where the records show ${base.n}`)
  if (found.of < base.of) diffs.push(`${found.of} member(s) where the records show ${base.of}`)
  if (base.approveWithLogin && !found.approveWithLogin) diffs.push('no password asked at approval where the records require one')
  return diffs
}

export const kcvAgrees = (a: string | null | undefined, b: string | null | undefined) => sameKcv(a, b)

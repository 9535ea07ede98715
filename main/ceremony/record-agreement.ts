/**
 * Does a chain of records tell one story? (WebTrust key-ceremony criteria: an auditor verifying
 * offline has only the records.) followRecordChain proves each record is intact and named by the
 * next; this proves they agree on what they are about: one CMK KCV from the replication through
 * every later ceremony; the group the link made is the one every later cluster ceremony names; and
 * every FIPS appliance a ceremony relies on was established by a record it builds on (or is the
 * one it adds), and was not removed by a replacement it builds on without being established again.
 *
 * The facts are read as the ceremonies' own preflights read them (factsOf, replicationIn,
 * expectedBefore), so the auditor's check and the run-time check cannot drift apart. A fact a
 * kind's record does not hold (a verification names no KCV; a replication no group) is not
 * compared, never invented. A record forged and sealed again verifies on its own; this is what
 * exposes it: RECORD_CHAIN_DISAGREES names the two records and the fact.
 */
import { sameKcv } from './adopt'
import { resultIn } from './cluster-steps'
import { factsOf } from './kinds/add-appliance/records'
import { expectedBefore } from './kinds/add-appliance/preflight'
import type { MembershipPlan } from './kinds/add-appliance/plan'
import { replicationIn } from './kinds/link-cluster/preflight'
import { buildsOnOf, type ChainLink } from './record-chain'

export type AgreementVerdict =
  | {
      ok: true
      kcv: { value: string; records: number } | null
      group: { value: string; records: number } | null
      /** How many records' FIPS appliances were checked against what the records they build on established. */
      appliancesChecked: number
    }
  | { ok: false; code: 'RECORD_CHAIN_DISAGREES'; record: string; reason: string }

/** What one record says. null: the record does not hold that fact. */
interface Told {
  link: ChainLink
  /** Its close step is in it (the facts below come from its close; a stopped ceremony's record has none). */
  closed: boolean
  kcv: string | null
  groupId: string | null
  /** The FIPS appliances it leaves holding the CMK, or in the group. */
  established: string[] | null
  /** The FIPS appliances it needed to be there already (not the one it adds). */
  reliesOn: string[]
  /** replace-appliance: the appliance it removed for good. */
  removed: string | null
}

const NOUN: Record<string, string> = {
  'replicate-cmk': 'replication', 'link-cluster': 'link', 'verify-cluster': 'verification', 'add-appliance': 'addition', 'replace-appliance': 'replacement',
}
/** "the link record (ceremony X, file.json)"; the newest record is the one verified, named by its ceremony alone. */
const who = (l: ChainLink) => `the ${NOUN[l.kind] ?? l.kind} record (ceremony ${l.ceremonyId}${l.name === 'the record' ? '' : `, ${l.name}`})`
const fipsOf = (plan: unknown): string[] => {
  const fips = (plan as { fips?: unknown }).fips
  return Array.isArray(fips) ? fips.map(String) : []
}
/**
 * A reader that refuses a record (not closed, no replication in it) means: the record does not hold
 * the fact. A record is hostile input, so anything a reader cannot read counts as absent, never as
 * a crash; whether it was closed is read apart (its close step), so a closed record's facts made
 * unreadable are still named as missing (ALWAYS).
 */
function held<T>(read: () => T): T | null {
  try {
    return read()
  } catch {
    return null
  }
}

function tell(link: ChainLink): Told {
  const { record, kind, finalDigest } = link
  const facts = held(() => factsOf(record, finalDigest))
  const told: Told = { link, closed: resultIn(record, 'close') !== undefined, kcv: facts?.kcv ?? null, groupId: facts?.groupId ?? null, established: facts?.members ?? null, reliesOn: [], removed: null }
  if (kind === 'replicate-cmk') {
    const replicated = held(() => replicationIn(record, finalDigest))
    told.established = replicated ? [...replicated.appliances.keys()] : null
  } else if (kind === 'link-cluster' || kind === 'verify-cluster') {
    told.reliesOn = fipsOf(record.plan)
  } else if (kind === 'add-appliance' || kind === 'replace-appliance') {
    const plan = record.plan as MembershipPlan
    told.reliesOn = expectedBefore({ ...plan, fips: fipsOf(plan) })
    told.removed = typeof plan.failed?.id === 'string' ? plan.failed.id : null
  }
  return told
}

/** The records `told` builds on, directly or through others, nearest first (its own plan's order first). */
function ancestorsOf(told: Told, byDigest: Map<string, Told>): Told[] {
  const out: Told[] = []
  const queue = buildsOnOf(told.link.record)
  const seen = new Set<string>()
  while (queue.length > 0) {
    const digest = queue.shift()!
    const earlier = byDigest.get(digest)
    if (seen.has(digest) || !earlier) continue
    seen.add(digest)
    out.push(earlier)
    queue.push(...buildsOnOf(earlier.link.record))
  }
  return out
}

/**
 * The kinds whose close always holds the fact (their close results' schemas require it): a closed
 * record of one of them without it has had it taken out, which hides it from the comparison.
 */
const ALWAYS = {
  kcv: { kinds: ['replicate-cmk', 'link-cluster', 'add-appliance', 'replace-appliance'], what: 'CMK KCV', none: 'no CMK KCV', verb: 'holds' },
  groupId: { kinds: ['link-cluster', 'verify-cluster', 'add-appliance', 'replace-appliance'], what: 'the FIPS-backed group', none: 'no FIPS-backed group', verb: 'names' },
} as const

/** The two records disagree on the fact: different values, or one holds it and the other, closed and of a kind that always records it, does not. */
function disagreeOn(fact: keyof typeof ALWAYS, l: Told, e: Told): string | undefined {
  const { kinds, what, none, verb } = ALWAYS[fact]
  const [a, b] = [l[fact], e[fact]]
  const taken = (t: Told) => t.closed && t[fact] === null && (kinds as readonly string[]).includes(t.link.kind)
  const differ = a !== null && b !== null && (fact === 'kcv' ? !sameKcv(a, b) : a !== b)
  if (!differ && !(a !== null && taken(e)) && !(b !== null && taken(l))) return undefined
  const says = (t: Told) => (t[fact] !== null ? `${verb} ${what} ${t[fact]}` : `${verb} ${none}, though every closed ${NOUN[t.link.kind]} record does`)
  // "… holds CMK KCV abc123; … it builds on holds def456": the fact named once when both hold it.
  return `${who(l.link)} ${says(l)}; ${who(e.link)} it builds on ${differ ? `${verb} ${b}` : says(e)}`
}

/** The first disagreement between `l` and the records it builds on, or undefined. */
function disagreement(l: Told, ancestors: Told[], ancestorsByDigest: Map<string, Told[]>): string | undefined {
  for (const fact of ['kcv', 'groupId'] as const) {
    for (const e of ancestors) {
      const reason = disagreeOn(fact, l, e)
      if (reason) return reason
    }
  }
  const establishing = ancestors.filter((e) => e.established !== null)
  if (establishing.length === 0) return undefined // no record it builds on says which appliances hold the CMK
  for (const id of l.reliesOn) {
    if (!establishing.some((e) => e.established!.includes(id))) {
      return `${who(l.link)} relies on FIPS appliance ${id}; no record it builds on established it (${establishing.map((e) => `${who(e.link)} established ${e.established!.join(', ') || 'none'}`).join('; ')})`
    }
    // Removed for good by a replacement it builds on, and not established again by a record after that replacement.
    const remover = ancestors.find((r) => r.removed === id)
    if (remover && !ancestors.some((b) => ancestorsByDigest.get(b.link.finalDigest)!.includes(remover) && b.established?.includes(id))) {
      return `${who(l.link)} relies on FIPS appliance ${id}; ${who(remover.link)} it builds on removed it`
    }
  }
  return undefined
}

/**
 * The links of a chain (followRecordChain, every record verified), compared record by record with
 * the records each builds on: oldest first, so the first disagreement in the story is the one named
 * (a forged link is named before the later records that merely repeat the truth against it).
 */
export function checkRecordsAgree(links: readonly ChainLink[]): AgreementVerdict {
  const told = links.map(tell)
  const byDigest = new Map(told.map((t) => [t.link.finalDigest, t]))
  const ancestorsByDigest = new Map(told.map((t) => [t.link.finalDigest, ancestorsOf(t, byDigest)]))
  // A record builds on strictly fewer records than any record built on it: fewest first is oldest first.
  const oldestFirst = [...told].sort((x, y) => ancestorsByDigest.get(x.link.finalDigest)!.length - ancestorsByDigest.get(y.link.finalDigest)!.length)
  for (const l of oldestFirst) {
    const reason = disagreement(l, ancestorsByDigest.get(l.link.finalDigest)!, ancestorsByDigest)
    if (reason) return { ok: false, code: 'RECORD_CHAIN_DISAGREES', record: l.link.name, reason }
  }
  // Records of one chain that neither builds on the other (two a later one builds on) must agree too.
  const kcvs = told.filter((t) => t.kcv !== null)
  const otherKcv = kcvs.find((t) => !sameKcv(t.kcv, kcvs[0]!.kcv))
  if (otherKcv) return { ok: false, code: 'RECORD_CHAIN_DISAGREES', record: otherKcv.link.name, reason: `${who(otherKcv.link)} holds CMK KCV ${otherKcv.kcv}; ${who(kcvs[0]!.link)}, of the same chain, holds ${kcvs[0]!.kcv}` }
  const groups = told.filter((t) => t.groupId !== null)
  const otherGroup = groups.find((t) => t.groupId !== groups[0]!.groupId)
  if (otherGroup) return { ok: false, code: 'RECORD_CHAIN_DISAGREES', record: otherGroup.link.name, reason: `${who(otherGroup.link)} names the FIPS-backed group ${otherGroup.groupId}; ${who(groups[0]!.link)}, of the same chain, names ${groups[0]!.groupId}` }
  return {
    ok: true,
    kcv: kcvs.length === 0 ? null : { value: kcvs[0]!.kcv!, records: kcvs.length },
    group: groups.length === 0 ? null : { value: groups[0]!.groupId!, records: groups.length },
    appliancesChecked: told.filter((t) => t.reliesOn.length > 0 && ancestorsByDigest.get(t.link.finalDigest)!.some((e) => e.established !== null)).length,
  }
}

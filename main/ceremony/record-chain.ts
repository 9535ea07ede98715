/**
 * Evidence across ceremonies (issue 12 part 3): a plan names the records it builds on by final
 * digest, and those records name theirs. One check serves both readers: a step that builds on an
 * earlier record (cluster-steps.ts `earlierRecord`, the membership preflight) and `ceremony verify
 * RECORD --record EARLIER …`, which follows the whole chain back from the newest record and names
 * the first record that is missing, does not verify, or is of the wrong mode.
 */
import { verifyRecord, type CeremonyRecord } from '../evidence'
import { CeremonyError, errorCode } from '../errors'

const digestOf = (record: unknown) => (record as { finalDigest?: unknown } | null)?.finalDigest
const short = (digest: string) => `${digest.slice(0, 16)}…`

/**
 * The record with this final digest among those given, verified (hash chain, plan digest,
 * summaries), of one of `kinds` (any kind when not given) and of `mode` (when given).
 * RECORD_MISSING, RECORD_INVALID and RECORD_MISMATCH name what is wrong.
 */
export function findEarlierRecord(records: readonly unknown[], finalDigest: string, opts: { kinds?: readonly string[]; mode?: string } = {}): CeremonyRecord {
  const record = records.find((r) => digestOf(r) === finalDigest)
  if (record === undefined) throw new CeremonyError('RECORD_MISSING', `The record with final digest ${short(finalDigest)} has not been provided`)
  const verified = verifyRecord(record)
  if (!verified.ok) throw new CeremonyError('RECORD_INVALID', `The record ${short(finalDigest)} does not verify: entry ${verified.firstBadEntry}: ${verified.reason}`)
  const r = record as CeremonyRecord
  const kind = (r.plan as { kind?: unknown } | null)?.kind ?? 'replicate-cmk'
  if (opts.kinds && (typeof kind !== 'string' || !opts.kinds.includes(kind))) throw new CeremonyError('RECORD_MISMATCH', `The record ${short(finalDigest)} is of a ${String(kind)} ceremony, not ${opts.kinds.join(' or ')}`)
  if (opts.mode !== undefined && r.mode !== opts.mode) throw new CeremonyError('RECORD_MISMATCH', `The record ${short(finalDigest)} is a ${r.mode} record; this is a ${opts.mode} ceremony`)
  return r
}

/** The final digests a record's plan names as the records it builds on (its plan is bound by the plan digest). */
export function buildsOnOf(record: CeremonyRecord): string[] {
  const named = (record.plan as { buildsOn?: unknown } | null)?.buildsOn
  return Array.isArray(named) ? named.filter((d): d is string => typeof d === 'string') : []
}

/**
 * The verified records among `records` that `named` reaches, directly or through the records they
 * build on (a verification builds on the link, which builds on the replication). Only a record
 * that verifies is followed; one that does not is left out, as if not provided.
 */
export function recordsReached(records: readonly unknown[], named: readonly string[]): CeremonyRecord[] {
  const reached = new Map<string, CeremonyRecord>()
  const queue = [...named]
  while (queue.length > 0) {
    const digest = queue.shift()!
    if (reached.has(digest)) continue
    const record = records.find((r) => digestOf(r) === digest)
    if (record === undefined || !verifyRecord(record).ok) continue
    reached.set(digest, record as CeremonyRecord)
    queue.push(...buildsOnOf(record as CeremonyRecord))
  }
  return [...reached.values()]
}

export interface ChainLink {
  /** The given file (or "the record" for the newest). */
  name: string
  kind: string
  ceremonyId: string
  finalDigest: string
  /** Whose plan named it (the newest record has none). */
  namedBy: string | null
  /** The record itself, verified (read again for what it says: record-agreement.ts). */
  record: CeremonyRecord
}

export type ChainVerdict =
  | { ok: true; links: ChainLink[] }
  | { ok: false; code: 'RECORD_CHAIN_BROKEN' | 'RECORD_NOT_IN_CHAIN'; record: string; reason: string }

/**
 * Follows `buildsOn` from the newest record (already verified by the caller) back through the
 * given records, breadth first in the order each plan names them: every named digest must be one
 * of the given records, verify, and be of the newest record's mode. The first that is not is
 * named (RECORD_CHAIN_BROKEN, with why: RECORD_MISSING, RECORD_INVALID, RECORD_MISMATCH). A given
 * record the chain never reaches is RECORD_NOT_IN_CHAIN: an auditor who offered it believed it was.
 */
export function followRecordChain(newest: CeremonyRecord, given: readonly { name: string; record: unknown }[]): ChainVerdict {
  const nameOf = new Map(given.map((g) => [digestOf(g.record), g.name]))
  const describe = (r: CeremonyRecord, name: string, digest: string, namedBy: string | null): ChainLink => ({
    name, kind: String((r.plan as { kind?: unknown }).kind ?? 'replicate-cmk'), ceremonyId: String((r.plan as { id?: unknown }).id ?? '?'), finalDigest: digest, namedBy, record: r,
  })
  const links: ChainLink[] = [describe(newest, 'the record', newest.finalDigest, null)]
  const seen = new Set<string>([newest.finalDigest])
  const queue: { record: CeremonyRecord; name: string }[] = [{ record: newest, name: 'the record' }]
  while (queue.length > 0) {
    const { record, name } = queue.shift()!
    for (const digest of buildsOnOf(record)) {
      if (seen.has(digest)) continue
      seen.add(digest)
      const file = nameOf.get(digest) ?? `final digest ${short(digest)} (not given)`
      let earlier: CeremonyRecord
      try {
        earlier = findEarlierRecord(given.map((g) => g.record), digest, { mode: newest.mode })
      } catch (err) {
        const by = links.find((l) => l.name === name)!
        return { ok: false, code: 'RECORD_CHAIN_BROKEN', record: file, reason: `${errorCode(err, 'RECORD_INVALID')}: ${by.kind} ${by.ceremonyId} (${name}) builds on it: ${err instanceof Error ? err.message : String(err)}` }
      }
      links.push(describe(earlier, file, digest, name))
      queue.push({ record: earlier, name: file })
    }
  }
  const outside = given.find((g) => !seen.has(String(digestOf(g.record))))
  if (outside) {
    const d = digestOf(outside.record)
    return { ok: false, code: 'RECORD_NOT_IN_CHAIN', record: outside.name, reason: `no record of the chain names it as one it builds on (its final digest ${typeof d === 'string' ? short(d) : 'is missing'})` }
  }
  return { ok: true, links }
}

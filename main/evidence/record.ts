// The ceremony record (design §7): plan, the full audit log, and summaries of artifacts,
// approvals, witness sign-offs and exceptions, sealed by the last log entry's hash.
// The summaries are not trusted on their own: each item points at the log entry (seq) that
// recorded it, and verifyRecord checks every list is exactly what the log says — nothing added,
// nothing left out (an exception cannot be dropped from the summary without verification failing).

import { join } from 'node:path'
import { pgpWords } from '../keys'
import { readFileCappedSync } from '../media'
import { canonicalJson, planDigestOf, sha256Hex } from './canonical-json'
import { ENTRY_KINDS, verifyChain, type LogEntry } from './entry'
import { RecordBuildError } from './errors'
import { deviationsOf } from './deviations'
import { checkSegments, segmentsOf } from './segments'

export const RECORD_FORMAT = 'dsm-key-ceremony-record'
export const RECORD_VERSION = 1

export type CeremonyMode = 'production' | 'rehearsal'

/** The sealed record's file name: `<plan-id>[-REHEARSAL]-record.json` (a rehearsal's is marked). */
export function recordFileName(ceremonyId: string, mode: CeremonyMode): string {
  return `${ceremonyId}${mode === 'rehearsal' ? '-REHEARSAL' : ''}-record.json`
}

// The record's shape is part of the one IPC contract (the renderer prints it); built and verified here.
export type { CeremonyRecord, RecordItem } from '../../preload/contract'
import type { CeremonyRecord, RecordItem } from '../../preload/contract'
export type RecordArtifact = CeremonyRecord['artifacts'][number]

export interface BuildRecordInput {
  plan: unknown
  planDigest: string
  entries: readonly LogEntry[]
  /** Files the ceremony wrote; each must have been logged as an "artifact" entry. */
  artifacts?: ReadonlyArray<{ name: string; sha256: string; bytes: number }>
  /** Optional cross-check: each given item (a RecordItem, or a facts object) must be in the log. */
  approvals?: readonly unknown[]
  signoffs?: readonly unknown[]
  exceptions?: readonly unknown[]
  mode: CeremonyMode
}

export type VerifyResult =
  | {
      ok: true
      entries: number
      finalDigest: string
      finalWords: string[]
      planDigest: string
      mode: CeremonyMode
      artifactsChecked: string[]
      artifactsMissing: string[]
    }
  | {
      ok: false
      /** 1-based entry number where verification failed; 0 = the record as a whole. */
      firstBadEntry: number
      reason: string
    }

function itemsOfKind(entries: readonly LogEntry[], kind: string): RecordItem[] {
  return entries
    .filter((e) => e.kind === kind)
    .map((e) => ({ seq: e.seq, ts: e.ts, step: e.step, actor: e.actor, facts: structuredClone(e.facts) }))
}

function artifactsOf(entries: readonly LogEntry[]): RecordArtifact[] {
  return entries
    .filter((e) => e.kind === ENTRY_KINDS.artifact)
    .map((e) => ({ name: e.facts.name as string, sha256: e.facts.sha256 as string, bytes: e.facts.bytes as number, seq: e.seq }))
}

/** Deep equality by canonical form; anything not plain JSON (e.g. a missing item) is unequal. */
function same(a: unknown, b: unknown): boolean {
  try {
    return canonicalJson(a) === canonicalJson(b)
  } catch {
    return false
  }
}

/** Each caller-supplied item must correspond to a logged entry of the kind (by seq, or by facts). */
function checkGiven(given: readonly unknown[] | undefined, derived: RecordItem[], what: string): void {
  for (const g of given ?? []) {
    const asItem = g as Partial<RecordItem>
    const found = typeof asItem.seq === 'number'
      ? derived.find((d) => d.seq === asItem.seq && same(d, g))
      : derived.find((d) => same(d.facts, g))
    if (!found) throw new RecordBuildError(`A ${what} given for the record is not in the audit log: ${canonicalJson(g)}`)
  }
}

export function buildRecord(input: BuildRecordInput): CeremonyRecord {
  const computed = planDigestOf(input.plan)
  if (input.planDigest !== computed) throw new RecordBuildError(`planDigest ${input.planDigest} is not the digest of the plan (${computed})`)
  if (input.mode !== 'production' && input.mode !== 'rehearsal') throw new RecordBuildError(`mode must be production or rehearsal, not ${String(input.mode)}`)
  const planMode = (input.plan as { mode?: unknown } | null)?.mode
  if (planMode !== undefined && planMode !== input.mode) throw new RecordBuildError(`the plan says mode ${String(planMode)}, the record says ${input.mode}`)
  if (input.entries.length === 0) throw new RecordBuildError('the audit log is empty')
  const failure = verifyChain(input.entries, computed)
  if (failure) throw new RecordBuildError(`the audit log does not verify at entry ${failure.seq}: ${failure.reason}`)

  const entries = input.entries.map((e) => structuredClone(e))
  const artifacts = artifactsOf(entries)
  for (const a of input.artifacts ?? []) {
    if (!artifacts.some((d) => d.name === a.name && d.sha256 === a.sha256 && d.bytes === a.bytes)) {
      throw new RecordBuildError(`artifact ${a.name} (${a.sha256}) was not logged as an "artifact" entry`)
    }
  }
  const approvals = itemsOfKind(entries, ENTRY_KINDS.approval)
  const signoffs = itemsOfKind(entries, ENTRY_KINDS.witnessSignoff)
  const exceptions = itemsOfKind(entries, ENTRY_KINDS.exception)
  checkGiven(input.approvals, approvals, 'approval')
  checkGiven(input.signoffs, signoffs, 'witness sign-off')
  checkGiven(input.exceptions, exceptions, 'exception')

  const finalDigest = entries.at(-1)!.hash
  const segments = segmentsOf(entries)
  return {
    format: RECORD_FORMAT,
    version: RECORD_VERSION,
    mode: input.mode,
    ...(input.mode === 'rehearsal' ? { watermark: 'REHEARSAL' as const } : {}),
    plan: structuredClone(input.plan),
    planDigest: computed,
    entries,
    artifacts,
    approvals,
    signoffs,
    exceptions,
    deviations: deviationsOf(entries),
    finalDigest,
    finalWords: pgpWords(finalDigest),
    ...(segments.length > 0 ? { segments } : {}),
  }
}

const fail = (firstBadEntry: number, reason: string): VerifyResult => ({ ok: false, firstBadEntry, reason })

/** Verify a record offline: plan digest, every chain link and hash, summaries, final digest, artifact files. */
export function verifyRecord(record: unknown, opts: { artifactsDir?: string } = {}): VerifyResult {
  // A record is hostile input: whatever shape it has, the answer is a result, never a crash.
  try {
    return verifyRecordUnchecked(record, opts)
  } catch (err) {
    return fail(0, `the record could not be read as a ceremony record: ${(err as Error).message}`)
  }
}

function verifyRecordUnchecked(record: unknown, opts: { artifactsDir?: string }): VerifyResult {
  if (record === null || typeof record !== 'object') return fail(0, 'the record is not a JSON object')
  const r = record as Partial<CeremonyRecord>
  if (r.format !== RECORD_FORMAT || r.version !== RECORD_VERSION) return fail(0, `not a ceremony record (format ${String(r.format)}, version ${String(r.version)})`)
  if (r.mode !== 'production' && r.mode !== 'rehearsal') return fail(0, `unknown mode ${String(r.mode)}`)
  if (r.mode === 'rehearsal' && r.watermark !== 'REHEARSAL') return fail(0, 'a rehearsal record must carry the REHEARSAL watermark')
  if (r.mode === 'production' && r.watermark !== undefined) return fail(0, 'a production record must not carry a watermark')
  for (const k of ['entries', 'artifacts', 'approvals', 'signoffs', 'exceptions', 'finalWords'] as const) {
    if (!Array.isArray(r[k])) return fail(0, `${k} is missing or not a list`)
  }
  let computed: string
  try {
    computed = planDigestOf(r.plan)
  } catch (err) {
    return fail(0, `the plan is not plain JSON: ${(err as Error).message}`)
  }
  if (r.planDigest !== computed) return fail(0, `planDigest ${String(r.planDigest)} is not the digest of the enclosed plan (${computed}): the plan was changed`)
  const planMode = (r.plan as { mode?: unknown } | null)?.mode
  if (planMode !== undefined && planMode !== r.mode) return fail(0, `the plan says mode ${String(planMode)}, the record says ${r.mode}`)

  const entries = r.entries!
  if (entries.length === 0) return fail(0, 'the record holds no log entries')
  const failure = verifyChain(entries, computed)
  if (failure) return fail(failure.seq, failure.reason)

  const last = entries.at(-1)!
  if (r.finalDigest !== last.hash) return fail(entries.length, `finalDigest ${String(r.finalDigest)} is not the last entry's hash ${last.hash} (entries were added or removed at the end)`)
  if (!same(r.finalWords, pgpWords(last.hash))) return fail(0, 'finalWords do not spell the final digest')

  const summaries: Array<[string, unknown[], unknown[]]> = [
    ['artifacts', r.artifacts!, artifactsOf(entries)],
    ['approvals', r.approvals!, itemsOfKind(entries, ENTRY_KINDS.approval)],
    ['signoffs', r.signoffs!, itemsOfKind(entries, ENTRY_KINDS.witnessSignoff)],
    ['exceptions', r.exceptions!, itemsOfKind(entries, ENTRY_KINDS.exception)],
  ]
  for (const [name, claimed, derived] of summaries) {
    if (!same(claimed, derived)) {
      const n = Math.max(claimed.length, derived.length)
      let i = 0
      while (i < n && same(claimed[i], derived[i])) i++
      const seq = (derived[i] as { seq?: number } | undefined)?.seq ?? (claimed[i] as { seq?: number } | undefined)?.seq ?? 0
      return fail(typeof seq === 'number' ? seq : 0, `the record's ${name} list does not match the log (item ${i + 1} differs, or items were added or left out)`)
    }
  }

  // The deviation register is the log's, line for line: nothing dropped, nothing marked resolved that was not.
  if (!same(r.deviations, deviationsOf(entries))) return fail(0, "the record's deviation register does not match the log (a deviation was left out or changed, or a resolution was added)")

  // Across sites: the segments listed are exactly the log's, and the hand-offs pair up station to station.
  const segments = segmentsOf(entries)
  if (!same(r.segments ?? [], segments)) return fail(0, "the record's segments list does not match the hand-offs in the log")
  const stations = checkSegments(entries)
  if (stations) return fail(stations.seq, stations.reason)

  const checked: string[] = []
  const missing: string[] = []
  if (opts.artifactsDir !== undefined) {
    for (const a of r.artifacts as RecordArtifact[]) {
      // Names come from the record, which may be hostile: plain file names only.
      if (a.name === '.' || a.name === '..' || /[/\\\0]/.test(a.name)) return fail(a.seq, `artifact name ${JSON.stringify(a.name)} is not a plain file name`)
      const p = join(opts.artifactsDir, a.name)
      let data: Buffer
      try {
        // Never a link, never more than the log recorded (plus one byte, to see that it is longer).
        data = readFileCappedSync(p, a.bytes + 1)
      } catch (err) {
        const code = (err as { code?: string }).code
        if (code === 'ENOENT') {
          missing.push(a.name)
          continue
        }
        if (code === 'SYMLINK_REFUSED' || code === 'NOT_A_FILE') return fail(a.seq, `artifact ${a.name} is not a regular file`)
        if (code === 'FILE_TOO_LARGE') return fail(a.seq, `artifact ${a.name} is larger than the ${a.bytes} bytes the log recorded`)
        throw err
      }
      const digest = sha256Hex(data)
      if (digest !== a.sha256 || data.length !== a.bytes) {
        return fail(a.seq, `artifact ${a.name} has SHA-256 ${digest} (${data.length} bytes); the log recorded ${a.sha256} (${a.bytes} bytes)`)
      }
      checked.push(a.name)
    }
  }
  return {
    ok: true, entries: entries.length, finalDigest: last.hash, finalWords: pgpWords(last.hash), planDigest: computed, mode: r.mode,
    artifactsChecked: checked, artifactsMissing: missing,
  }
}

// The audit-log entry format and the hash chain, shared by the writer (AuditLog), the record
// verifier and the benchmark so they cannot drift apart.
//
// One line per entry: the canonical JSON of
//   { seq, ts, prev, planDigest, actor, step, kind, facts, hash }
// where
//   seq        1, 2, 3 … (position in the log)
//   ts         workstation time, ISO 8601 UTC (Date#toISOString)
//   prev       SHA-256 (hex) of the previous line's exact UTF-8 bytes, without its "\n";
//              64 zeros for the first entry
//   planDigest SHA-256 (hex) of the canonical JSON of the ceremony plan
//   hash       SHA-256 (hex) of the canonical JSON of the entry without `hash`
// Lines end with "\n". Because lines are canonical, a parsed entry re-serialises to its exact line.

import { canonicalJson, sha256Hex } from './canonical-json'

export const GENESIS_PREV = '0'.repeat(64)

export interface LogEntry {
  seq: number
  ts: string
  prev: string
  planDigest: string
  actor: string
  step: string
  kind: string
  facts: Record<string, unknown>
  hash: string
}

/** What a caller supplies; the log fills in seq, ts, prev, planDigest and hash. */
export interface EntryInput {
  actor: string
  step: string
  kind: string
  facts: Record<string, unknown>
}

/** Entry kinds with a fixed meaning in the ceremony record. Other kinds are free-form. */
export const ENTRY_KINDS = {
  /** facts: { witness: string, items: string[] } (or item: string) */
  witnessSignoff: 'witness-signoff',
  /** facts: { by: string, note: string } */
  exception: 'exception',
  /** facts: { name: string, sha256: string, bytes: number, … } — every file the ceremony wrote */
  artifact: 'artifact',
  /** facts: { requestId: string, … } — a quorum approval observed on an appliance */
  approval: 'approval',
} as const

const HEX64 = /^[0-9a-f]{64}$/
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
const ENTRY_FIELDS = ['actor', 'facts', 'hash', 'kind', 'planDigest', 'prev', 'seq', 'step', 'ts']

export function sealEntry(fields: Omit<LogEntry, 'hash'>): { entry: LogEntry; line: string } {
  const hash = sha256Hex(canonicalJson(fields))
  const entry: LogEntry = { ...fields, hash }
  return { entry, line: canonicalJson(entry) }
}

/** Why `input` is not an acceptable entry, or undefined. Checked before writing and when verifying. */
export function entryInputProblem(input: EntryInput): string | undefined {
  for (const f of ['actor', 'step', 'kind'] as const) {
    const v = input[f]
    if (typeof v !== 'string' || v.trim() === '') return `${f} must be a non-empty string`
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(v)) return `${f} contains control characters`
  }
  const facts = input.facts
  if (facts === null || typeof facts !== 'object' || Array.isArray(facts)) return 'facts must be an object'
  const nonEmpty = (v: unknown) => typeof v === 'string' && v.trim() !== ''
  if (input.kind === ENTRY_KINDS.witnessSignoff) {
    if (!nonEmpty(facts.witness)) return 'a witness sign-off needs facts.witness'
    const items = facts.items
    const okItems = Array.isArray(items) && items.length > 0 && items.every(nonEmpty)
    if (!okItems && !nonEmpty(facts.item)) return 'a witness sign-off needs facts.item or a non-empty facts.items list'
  }
  if (input.kind === ENTRY_KINDS.exception) {
    if (!nonEmpty(facts.by) || !nonEmpty(facts.note)) return 'an exception needs facts.by and facts.note'
  }
  if (input.kind === ENTRY_KINDS.artifact) {
    if (!nonEmpty(facts.name) || typeof facts.sha256 !== 'string' || !HEX64.test(facts.sha256) || !Number.isSafeInteger(facts.bytes)) {
      return 'an artifact entry needs facts.name, facts.sha256 (lowercase hex) and facts.bytes'
    }
  }
  return undefined
}

export interface ChainFailure { seq: number; reason: string }

/**
 * Check one entry against its position and predecessor. `line` is its canonical serialisation
 * (passed in so callers that already have it do not pay twice). Returns the problem or undefined.
 */
export function entryProblem(entry: unknown, line: string, expectedSeq: number, expectedPrev: string, planDigest: string): string | undefined {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return 'not a JSON object'
  const e = entry as Record<string, unknown>
  const keys = Object.keys(e).sort()
  if (keys.length !== ENTRY_FIELDS.length || keys.some((k, i) => k !== ENTRY_FIELDS[i])) {
    return `fields are [${keys.join(', ')}], expected [${ENTRY_FIELDS.join(', ')}]`
  }
  if (e.seq !== expectedSeq) return `seq is ${String(e.seq)}, expected ${expectedSeq} (an entry was removed, inserted or reordered)`
  if (e.prev !== expectedPrev) return 'prev does not match the previous entry (the log was altered before this point, or entries were removed or reordered)'
  if (e.planDigest !== planDigest) return `planDigest ${String(e.planDigest)} is not the plan's digest ${planDigest}`
  if (typeof e.ts !== 'string' || !ISO_UTC.test(e.ts) || Number.isNaN(Date.parse(e.ts))) return 'ts is not an ISO 8601 UTC time'
  if (typeof e.hash !== 'string' || !HEX64.test(e.hash)) return 'hash is not a SHA-256 hex digest'
  const inputProblem = entryInputProblem(e as unknown as EntryInput)
  if (inputProblem) return inputProblem
  // The entry without `hash` is the line with its top-level `,"hash":"…"` cut out: keys are
  // sorted, so it is the last such member (facts precede it; later members are plain strings and
  // numbers). This avoids serialising every entry twice, which matters at 100k entries.
  const marker = `,"hash":"${e.hash}"`
  const at = line.lastIndexOf(marker)
  if (at < 0) return 'entry is not in canonical form'
  const withoutHash = line.slice(0, at) + line.slice(at + marker.length)
  if (sha256Hex(withoutHash) !== e.hash) return 'hash does not match the entry contents (the entry was altered)'
  return undefined
}

/** Verify a sequence of entries as a chain. Returns the first failure (1-based seq) or undefined. */
export function verifyChain(entries: readonly unknown[], planDigest: string, lines?: readonly string[]): ChainFailure | undefined {
  let prev = GENESIS_PREV
  for (let i = 0; i < entries.length; i++) {
    let line: string
    try {
      line = canonicalJson(entries[i])
    } catch (err) {
      return { seq: i + 1, reason: `not plain JSON: ${(err as Error).message}` }
    }
    if (lines && lines[i] !== line) return { seq: i + 1, reason: 'line is not in canonical JSON form (it was re-formatted or edited)' }
    const problem = entryProblem(entries[i], line, i + 1, prev, planDigest)
    if (problem) return { seq: i + 1, reason: problem }
    prev = sha256Hex(line)
  }
  return undefined
}

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

const ENTRY_FIELD_SET = new Set(ENTRY_FIELDS)

/** Field presence and types; checked before serialising so the fast serialiser below is exact. */
function shapeProblem(entry: unknown): string | undefined {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return 'not a JSON object'
  let count = 0
  for (const k in entry) {
    if (!ENTRY_FIELD_SET.has(k)) return `unexpected field "${k}"`
    count++
  }
  if (count !== ENTRY_FIELDS.length) return `missing fields (expected ${ENTRY_FIELDS.join(', ')})`
  const e = entry as Record<string, unknown>
  if (!Number.isSafeInteger(e.seq)) return 'seq is not an integer'
  if (typeof e.ts !== 'string' || !ISO_UTC.test(e.ts) || Number.isNaN(Date.parse(e.ts))) return 'ts is not an ISO 8601 UTC time'
  if (typeof e.prev !== 'string' || !HEX64.test(e.prev)) return 'prev is not a SHA-256 hex digest'
  if (typeof e.planDigest !== 'string' || !HEX64.test(e.planDigest)) return 'planDigest is not a SHA-256 hex digest'
  if (typeof e.hash !== 'string' || !HEX64.test(e.hash)) return 'hash is not a SHA-256 hex digest'
  return entryInputProblem(e as unknown as EntryInput)
}

/**
 * The entry's canonical line, and the canonical JSON of the entry without `hash`, in one pass.
 * Keys in sorted order: actor, facts, hash, kind, planDigest, prev, seq, step, ts. Only valid
 * after shapeProblem() passed (all top-level values are then strings, an integer, and an object).
 */
function serialise(e: LogEntry): { line: string; withoutHash: string } {
  const head = '{"actor":' + JSON.stringify(e.actor) + ',"facts":' + canonicalJson(e.facts)
  const tail = ',"kind":' + JSON.stringify(e.kind) + ',"planDigest":"' + e.planDigest + '","prev":"' + e.prev +
    '","seq":' + e.seq + ',"step":' + JSON.stringify(e.step) + ',"ts":"' + e.ts + '"}'
  return { line: head + ',"hash":"' + e.hash + '"' + tail, withoutHash: head + tail }
}

/**
 * Verify a sequence of entries as a chain: for each, its shape, seq, prev (SHA-256 of the previous
 * line), planDigest and own hash; with `lines`, also that each line is exactly the canonical form.
 * Returns the first failure (1-based seq) or undefined.
 */
export function verifyChain(entries: readonly unknown[], planDigest: string, lines?: readonly string[]): ChainFailure | undefined {
  let prev = GENESIS_PREV
  for (let i = 0; i < entries.length; i++) {
    const seq = i + 1
    const fail = (reason: string): ChainFailure => ({ seq, reason })
    const shape = shapeProblem(entries[i])
    if (shape) return fail(shape)
    const e = entries[i] as LogEntry
    let ser: { line: string; withoutHash: string }
    try {
      ser = serialise(e)
    } catch (err) {
      return fail(`facts are not plain JSON: ${(err as Error).message}`)
    }
    if (lines && lines[i] !== ser.line) return fail('line is not in canonical JSON form (it was re-formatted or edited)')
    if (e.seq !== seq) return fail(`seq is ${e.seq}, expected ${seq} (an entry was removed, inserted or reordered)`)
    if (e.prev !== prev) return fail('prev does not match the previous entry (the log was altered before this point, or entries were removed or reordered)')
    if (e.planDigest !== planDigest) return fail(`planDigest ${e.planDigest} is not the plan's digest ${planDigest}`)
    if (sha256Hex(ser.withoutHash) !== e.hash) return fail('hash does not match the entry contents (the entry was altered)')
    prev = sha256Hex(ser.line)
  }
  return undefined
}

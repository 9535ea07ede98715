// Segments of the audit log across stations (design §3b, §7). A ceremony that moves between sites
// keeps one hash chain: a station ends its leg with a "handoff" entry, whose hash (the segment's
// final digest) is read to the next station out of band; the next station checks the segment and
// the words, copies it, and continues the chain with a "handoff-received" entry. Segment k is the
// log from the start of the station's leg up to hand-off k; the last segment ends with the close.
//
// This module parses a carried segment (a hostile input: the chain, the canonical form and the plan
// digest are checked line by line) and checks the station structure of a whole record, naming the
// station and entry of the first thing wrong.

import { sha256Hex } from './canonical-json'
import { verifyChain, type LogEntry } from './entry'
import { pgpWords } from '../keys'

export const HANDOFF_KIND = 'handoff'
export const HANDOFF_RECEIVED_KIND = 'handoff-received'

export interface Segment {
  n: number
  station: string
  firstSeq: number
  lastSeq: number
  /** The hash of the segment's last entry: what was read aloud at the hand-off (or the record's final digest). */
  finalDigest: string
  finalWords: string[]
}

export interface SegmentFailure {
  seq: number
  station: string | null
  reason: string
}

export type ParsedSegment =
  | { ok: true; entries: LogEntry[]; lines: string[]; sha256: string }
  | { ok: false; seq: number; reason: string }

/** A segment's text as carried: JSON lines, each canonical, chained from the genesis, all for `planDigest`. */
export function parseSegment(text: string, planDigest: string): ParsedSegment {
  if (text === '') return { ok: false, seq: 0, reason: 'the segment is empty' }
  const lines = text.split('\n')
  if (lines.pop() !== '') return { ok: false, seq: lines.length + 1, reason: 'the last line is incomplete (the file was cut short)' }
  const entries: unknown[] = []
  for (let i = 0; i < lines.length; i++) {
    try {
      entries.push(JSON.parse(lines[i]!))
    } catch {
      return { ok: false, seq: i + 1, reason: 'the line is not valid JSON' }
    }
  }
  const failure = verifyChain(entries, planDigest, lines)
  if (failure) return { ok: false, seq: failure.seq, reason: failure.reason }
  return { ok: true, entries: entries as LogEntry[], lines, sha256: sha256Hex(text) }
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null)

/** The station that opened the ceremony (its "ceremony-open" entry), or null for a single-station log. */
function firstStation(entries: readonly LogEntry[]): string | null {
  return str(entries[0]?.facts['station'])
}

/** Which station held the ceremony when entry `seq` was written (from the hand-offs before it). */
export function stationAt(entries: readonly LogEntry[], seq: number): string | null {
  let station = firstStation(entries)
  for (const e of entries) {
    if (e.seq >= seq) break
    if (e.kind === HANDOFF_RECEIVED_KIND) station = str(e.facts['station'])
  }
  return station
}

/** The segments of a log: one per hand-off, and the last one to the end. Empty for a single-station log. */
export function segmentsOf(entries: readonly LogEntry[]): Segment[] {
  if (!entries.some((e) => e.kind === HANDOFF_KIND)) return []
  const segments: Segment[] = []
  let first = 1
  let station = firstStation(entries) ?? ''
  for (const e of entries) {
    if (e.kind !== HANDOFF_KIND) continue
    segments.push({ n: segments.length + 1, station, firstSeq: first, lastSeq: e.seq, finalDigest: e.hash, finalWords: pgpWords(e.hash) })
    first = e.seq + 1
    station = str(e.facts['to']) ?? ''
  }
  const last = entries.at(-1)!
  if (first <= last.seq) segments.push({ n: segments.length + 1, station, firstSeq: first, lastSeq: last.seq, finalDigest: last.hash, finalWords: pgpWords(last.hash) })
  return segments
}

/**
 * The station structure of a whole (chain-verified) log: every hand-off is numbered in order, comes
 * from the station holding the ceremony, and is followed at once by its receipt at the station it
 * names, which quotes its hash; with `stationOfStep`, every step entry was written at the station
 * that runs that step. Returns the first failure, naming its station and entry.
 */
export function checkSegments(entries: readonly LogEntry[], opts: { stationOfStep?(stepId: string): string | undefined } = {}): SegmentFailure | undefined {
  let station = firstStation(entries)
  let n = 0
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!
    const fail = (reason: string): SegmentFailure => ({ seq: e.seq, station, reason })
    if (e.kind === HANDOFF_KIND) {
      n++
      if (e.facts['n'] !== n) return fail(`hand-off ${String(e.facts['n'])} is out of order (expected hand-off ${n})`)
      if (e.facts['from'] !== station) return fail(`hand-off ${n} claims to come from ${String(e.facts['from'])}, but ${station ?? 'no station'} held the ceremony`)
      const next = entries[i + 1]
      if (!next) return fail(`hand-off ${n} was never received: the log ends with it`)
      if (next.kind !== HANDOFF_RECEIVED_KIND) return { seq: next.seq, station: str(e.facts['to']), reason: `hand-off ${n} is not followed by its receipt` }
      if (next.facts['station'] !== e.facts['to'] || next.facts['n'] !== n || next.facts['finalDigest'] !== e.hash) {
        return { seq: next.seq, station: str(next.facts['station']), reason: `the receipt does not match hand-off ${n} (station, number or digest)` }
      }
      continue
    }
    if (e.kind === HANDOFF_RECEIVED_KIND) {
      station = str(e.facts['station'])
      continue
    }
    if (opts.stationOfStep && station !== null && e.step !== 'ceremony') {
      const home = opts.stationOfStep(e.step)
      if (home !== undefined && home !== station && /^step-|^approval|^artifact$|^denial$/.test(e.kind)) {
        return fail(`a "${e.kind}" entry for "${e.step}", a step of ${home}, was written while ${station} held the ceremony`)
      }
    }
  }
  return undefined
}

// `ceremony verify RECORD [--artifacts DIR] [--videos DIR] [--addendum FILE …] [--record EARLIER …]`:
// check a ceremony record offline, for an auditor, with its addenda (verify-addenda.ts; by default
// every addendum beside the record) and the earlier records it builds on (verify-chain.ts). Exit 0: valid. Exit 1: the record fails verification ("FAILED at entry N: reason"; N = 0 means
// the record as a whole, not one log entry; "FAILED at addendum N: CODE: reason" for an
// addendum; "FAILED at record FILE: CODE: reason" for the chain of records). Exit 2: usage error or unreadable file.

import { statSync } from 'node:fs'
import { readFileCappedSync } from '../media'
import { checkSegments, segmentsOf, stationAt, verifyRecord, type LogEntry, type SegmentFailure } from '../evidence'
import { parsePlan } from '../ceremony/plan'
import { kindOf } from '../ceremony/registry'
import { legOfStep, orderForStations, tripsOf } from '../ceremony/stations'
import { hexGroups } from '../keys'
import type { CeremonyRecord } from '../evidence'
import { verifyRecordAddenda } from './verify-addenda'
import { verifyChainOf } from './verify-chain'

const USAGE = 'usage: ceremony verify RECORD [--artifacts DIR] [--videos DIR] [--addendum FILE …] [--record EARLIER-RECORD …]\n'
/** A record of 100k entries is ~40 MB; refuse absurd files before reading them. */
const MAX_RECORD_BYTES = 512 * 1024 * 1024

export async function run(argv: string[]): Promise<number> {
  let recordPath: string | undefined
  let artifactsDir: string | undefined
  let videosDir: string | undefined
  const addenda: string[] = []
  const earlier: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--artifacts') {
      artifactsDir = argv[++i]
      if (!artifactsDir) return usage('--artifacts needs a directory')
    } else if (a.startsWith('--artifacts=')) {
      artifactsDir = a.slice('--artifacts='.length)
    } else if (a === '--videos') {
      videosDir = argv[++i]
      if (!videosDir) return usage('--videos needs a directory')
    } else if (a === '--addendum') {
      const file = argv[++i]
      if (!file) return usage('--addendum needs a file')
      addenda.push(file)
    } else if (a === '--record') {
      const file = argv[++i]
      if (!file) return usage('--record needs a file (an earlier record this one builds on)')
      earlier.push(file)
    } else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE)
      return 0
    } else if (a.startsWith('-')) {
      return usage(`unknown option ${a}`)
    } else if (recordPath === undefined) {
      recordPath = a
    } else {
      return usage('only one RECORD may be given')
    }
  }
  if (!recordPath) return usage('RECORD is required')

  let record: unknown
  try {
    // Capped before reading, never through a link (FILE_TOO_LARGE, SYMLINK_REFUSED, NOT_A_FILE).
    record = JSON.parse(readFileCappedSync(recordPath, MAX_RECORD_BYTES).toString('utf8'))
  } catch (err) {
    return unreadable(recordPath, (err as NodeJS.ErrnoException).code ?? (err as Error).message)
  }
  const given: { name: string; record: unknown }[] = []
  for (const file of earlier) {
    try {
      given.push({ name: file, record: JSON.parse(readFileCappedSync(file, MAX_RECORD_BYTES).toString('utf8')) })
    } catch (err) {
      return unreadable(file, (err as NodeJS.ErrnoException).code ?? (err as Error).message)
    }
  }
  for (const dir of [artifactsDir, videosDir]) {
    if (dir === undefined) continue
    try {
      if (!statSync(dir).isDirectory()) return unreadable(dir, 'not a directory')
    } catch (err) {
      return unreadable(dir, (err as NodeJS.ErrnoException).code ?? (err as Error).message)
    }
  }

  const result = verifyRecord(record, artifactsDir === undefined ? {} : { artifactsDir })
  if (!result.ok) {
    process.stdout.write(`FAILED at ${whereIn(record, result.firstBadEntry)}entry ${result.firstBadEntry}: ${result.reason}\n`)
    return 1
  }
  const acrossSites = checkStationsOfRecord(record)
  if (acrossSites) {
    process.stdout.write(`FAILED at ${acrossSites.station ? `station ${acrossSites.station}, ` : ''}entry ${acrossSites.seq}: ${acrossSites.reason}\n`)
    return 1
  }
  // The records it builds on, followed back by the final digests each plan names.
  const chain = verifyChainOf(record as CeremonyRecord, given)
  if (!chain.ok) {
    process.stdout.write(`${chain.failure}\n`)
    return 1
  }
  // The record verified: its addenda extend it, so they are checked against it.
  const withAddenda = await verifyRecordAddenda(recordPath, record as CeremonyRecord, { addenda, ...(videosDir === undefined ? {} : { videosDir }) })
  if (!withAddenda.ok) {
    process.stdout.write(`${withAddenda.failure}\n`)
    return 1
  }
  const r = record as { plan?: { id?: unknown; title?: unknown }; signoffs: unknown[]; exceptions: unknown[]; approvals: unknown[]; artifacts: unknown[]; deviations?: { resolution: unknown }[] }
  const deviations = r.deviations ?? []
  const unresolved = deviations.filter((d) => d.resolution === null).length
  const lines = [
    result.mode === 'rehearsal' ? '*** REHEARSAL — not a production ceremony ***' : undefined,
    `Ceremony record OK: ${String(r.plan?.id ?? '?')}${r.plan?.title ? ` — ${String(r.plan.title)}` : ''}`,
    `  mode:          ${result.mode}`,
    `  plan digest:   ${hexGroups(result.planDigest)}`,
    `  log entries:   ${result.entries} (chain verified)`,
    `  approvals:     ${r.approvals.length}`,
    `  sign-offs:     ${r.signoffs.length}`,
    `  exceptions:    ${r.exceptions.length}`,
    `  deviations:    ${deviations.length}${deviations.length === 0 ? '' : unresolved === 0 ? ', every one resolved' : `, ${unresolved} NOT resolved (the record was stopped before its seal)`}`,
    `  artifacts:     ${r.artifacts.length}` + (artifactsDir === undefined
      ? ' (files not checked; pass --artifacts DIR)'
      : `, ${result.artifactsChecked.length} re-hashed OK` + (result.artifactsMissing.length ? `, not found: ${result.artifactsMissing.join(', ')}` : '')),
    ...segmentLines(record),
    `  final digest:  ${hexGroups(result.finalDigest)}`,
    `  in words:      ${result.finalWords.join(' ')}`,
    ...chain.lines,
    ...withAddenda.lines,
  ]
  process.stdout.write(lines.filter((l) => l !== undefined).join('\n') + '\n')
  return 0
}

function usage(why: string): number {
  process.stderr.write(`ceremony verify: ${why}\n${USAGE}`)
  return 2
}

function unreadable(path: string, why: string): number {
  process.stderr.write(`ceremony verify: cannot read ${path}: ${why}\n`)
  return 2
}

/** Across sites: which station held the ceremony at the bad entry ("station site-a, "), from the hand-offs before it. */
function whereIn(record: unknown, seq: number): string {
  const entries = (record as { entries?: unknown }).entries
  if (seq < 1 || !Array.isArray(entries)) return ''
  try {
    const station = stationAt(entries as LogEntry[], seq)
    return station ? `station ${station}, ` : ''
  } catch {
    return ''
  }
}

/** A record of a plan with stations: every step entry was written at the station that runs the step. */
function checkStationsOfRecord(record: unknown): SegmentFailure | undefined {
  const r = record as { plan?: unknown; entries: LogEntry[] }
  let legs: ReturnType<typeof legOfStep>
  try {
    const plan = parsePlan(r.plan)
    if (!plan.stations || plan.stations.length < 2) return undefined
    legs = legOfStep(tripsOf(plan, orderForStations(plan, kindOf(plan).steps(plan))))
  } catch {
    return undefined // a plan this version cannot expand is checked by its chain and digests alone
  }
  return checkSegments(r.entries, { stationOfStep: (id) => legs.get(id)?.station })
}

function segmentLines(record: unknown): string[] {
  const segments = segmentsOf((record as { entries: LogEntry[] }).entries)
  if (segments.length === 0) return []
  return [
    `  stations:      ${segments.length} legs, ${segments.length - 1} hand-offs (each digest read out and typed at the next station)`,
    ...segments.map((s) => `    leg ${s.n} at ${s.station}: entries ${s.firstSeq}–${s.lastSeq}, ends ${hexGroups(s.finalDigest).slice(0, 19)}…`),
  ]
}

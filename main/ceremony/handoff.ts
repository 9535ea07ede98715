/**
 * Handing the ceremony to the next station (design §3b). When the next step runs elsewhere, the
 * station appends one "handoff" entry — what the media carries (artifact digests), the media's label
 * and tamper-evident bag number, every finished step's result (what the next station needs to
 * continue; never a secret), and what stays on the media and why it is harmless — and stops writing
 * its log: that entry's hash is the segment's final digest, read to the next site out of band.
 * Then the bundle is written to the media from the log alone, so a crash anywhere in between is
 * repaired by writing it again (every file is adopted only if it is byte for byte the same).
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseSegment, type LogEntry } from '../evidence'
import { CeremonyError } from '../errors'
import { hexGroups, pgpWords } from '../keys'
import { removeStaleTempFiles } from '../media'
import { HandoffFactsSchema, bundleNames, describeMediaFile, writeBundle, type HandoffFacts } from '../media/handoff-bundle'
import { syncVolume } from '../media/volumes'
import type { CeremonyEngine } from './engine'
import { ENTRY } from './entry-kinds'
import { planDigest } from './plan'
import type { Plan } from './plan-envelope'
import { manifestBags } from './materials/bags'
import { canonical } from './step-input'
import { kindOf } from './registry'
import { AUDIT_LOG_FILE } from './state-files'
import { orderForStations, stationById, tripsOf, type Trip } from './stations'
import type { JsonObject } from './step'

export interface MediaTag {
  /** The drive's label or serial, as written on it. */
  label: string
  /** The tamper-evident bag's number. */
  bag: string
}

export interface HandoffOutcome {
  n: number
  to: string
  toLabel: string
  finalDigest: string
  hexGroups: string
  words: string[]
  /** The bundle's files on the media (names only). */
  files: string[]
  /** 'volume' when the whole volume was flushed, 'files' when only each file and its folder were. */
  synced: 'volume' | 'files'
  /** Temp files an interrupted write had left on the media, removed before writing (names only). */
  swept: string[]
}

export type HandoffBoundary = (point: string) => void

/** The legs of a plan, in running order. */
export function tripsOfPlan(plan: Plan): Trip[] {
  return tripsOf(plan, orderForStations(plan, kindOf(plan).steps(plan)))
}

/** Where a station stands, read from its own audit log (before any engine is opened on it). */
export type StationState =
  | { state: 'start' }
  | { state: 'open' }
  | { state: 'handed-off'; n: number; to: string }
  | { state: 'must-receive'; n: number; from: string }
  | { state: 'received-unacknowledged'; n: number; from: string }
  | { state: 'complete' }

export function readLocalLog(plan: Plan, stateDir: string): { text: string; entries: LogEntry[] } {
  const path = join(stateDir, AUDIT_LOG_FILE)
  if (!existsSync(path)) return { text: '', entries: [] }
  const text = readFileSync(path, 'utf8')
  if (text === '') return { text, entries: [] }
  const parsed = parseSegment(text, planDigest(plan))
  // A damaged log is refused by name when the engine opens it (AUDIT_LOG_TORN, …); nothing is decided from it here.
  if (!parsed.ok) throw new CeremonyError(parsed.reason.includes('incomplete') ? 'AUDIT_LOG_TORN' : 'AUDIT_LOG_CORRUPT', `This station's audit log does not verify at entry ${parsed.seq}: ${parsed.reason}`)
  return { text, entries: parsed.entries }
}

/** The next hand-off this station receives after leg `after` (0 = before anything ran), or null if it has no later leg. */
function nextReceipt(trips: Trip[], station: string, after: number): { n: number; from: string } | null {
  const leg = trips.find((t) => t.n > after && t.station === station)
  if (!leg || leg.n === 1) return null
  return { n: leg.n - 1, from: trips[leg.n - 2]!.station }
}

export function stationState(plan: Plan, station: string, entries: LogEntry[]): StationState {
  stationById(plan, station)
  const trips = tripsOfPlan(plan)
  const last = entries.at(-1)
  if (!last) {
    if (trips[0]?.station === station) return { state: 'start' }
    const receipt = nextReceipt(trips, station, 0)
    if (!receipt) throw new CeremonyError('STATION_HAS_NO_STEPS', `${stationById(plan, station).label} runs no step of this ceremony`)
    return { state: 'must-receive', ...receipt }
  }
  if (last.kind === ENTRY.handoff) {
    const n = Number(last.facts['n'])
    if (last.facts['to'] === station) return { state: 'received-unacknowledged', n, from: String(last.facts['from']) }
    return { state: 'handed-off', n, to: String(last.facts['to']) }
  }
  if (last.kind === ENTRY.stepDone && last.step === trips.at(-1)?.steps.at(-1)) return { state: 'complete' }
  return { state: 'open' }
}

/** The hand-off due now: the current step runs at another station. Null while this station has steps to run. */
export function dueHandoff(engine: CeremonyEngine, station: string): { n: number; from: string; to: string } | null {
  const current = engine.currentStep()
  if (!current) return null
  const trips = tripsOf(engine.plan, engine.steps)
  const leg = trips.find((t) => t.steps.includes(current.id))!
  if (leg.station === station) return null
  const before = trips[leg.n - 2]
  if (!before || before.station !== station) throw new CeremonyError('STEP_AT_OTHER_STATION', `The next step runs at ${leg.stationLabel}, and this station did not run the leg before it`)
  return { n: leg.n - 1, from: station, to: leg.station }
}

function factsFor(engine: CeremonyEngine, due: { n: number; from: string; to: string }, media: MediaTag): HandoffFacts {
  const plan = engine.plan
  const entries = engine.logEntries()
  const artifacts = new Map<string, HandoffFacts['artifacts'][number]>()
  for (const e of entries.filter((x) => x.kind === ENTRY.artifact)) {
    const name = String(e.facts['name'])
    artifacts.set(name, { name, sha256: String(e.facts['sha256']), bytes: Number(e.facts['bytes']), what: describeMediaFile(name).what })
  }
  const carries: HandoffFacts['carries'] = {}
  for (const step of engine.steps) {
    const r = engine.record(step.id)
    if (r.state === 'done' && r.result) carries[step.id] = { state: 'done', result: r.result }
    else if (r.state === 'skipped') carries[step.id] = { state: 'skipped', reason: r.skipped ?? '' }
  }
  const bundles = entries.filter((x) => x.kind === ENTRY.handoff).map((x) => bundleNames(plan.id, Number(x.facts['n']), String(x.facts['from']), String(x.facts['to'])))
  bundles.push(bundleNames(plan.id, due.n, due.from, due.to))
  const left = [...artifacts.keys(), ...bundles.flatMap((b) => [b.segment, b.manifest, b.readme])]
  return HandoffFactsSchema.parse({
    n: due.n, from: due.from, fromLabel: stationById(plan, due.from).label, to: due.to, toLabel: stationById(plan, due.to).label,
    media: { label: media.label.trim(), bag: media.bag.trim() },
    artifacts: [...artifacts.values()],
    carries,
    leftOnMedia: left.map((name) => ({ name, ...describeMediaFile(name) })),
  })
}

/** Appends the hand-off entry (the engine then refuses everything until the media comes back). */
export async function handOff(engine: CeremonyEngine, station: string, media: MediaTag): Promise<LogEntry> {
  const due = dueHandoff(engine, station)
  if (!due) throw new CeremonyError('HANDOFF_NOT_DUE', 'This station still has steps to run; the ceremony is handed on when its next step runs elsewhere')
  if (!media.label.trim() || !media.bag.trim()) throw new CeremonyError('MEDIA_TAG_REQUIRED', "Enter the media's label or serial and the tamper-evident bag number before handing off")
  // The media's bag is a new one: not one an item of the materials manifest came out of or went into (materials/bags.ts).
  const item = manifestBags(engine.plan, engine.logEntries()).get(canonical(media.bag))
  if (item) throw new CeremonyError('BAG_REUSED', `Bag ${media.bag.trim()} is the one "${item}" came out of or was sealed in, in this ceremony. A tamper-evident bag is used once: seal the media in a new bag and type that one. Nothing was logged.`)
  return engine.handOff(factsFor(engine, due, media) as unknown as JsonObject)
}

/**
 * Writes the bundle for the hand-off this station's log ends with, from the log alone, then flushes
 * the volume. Idempotent: after a crash it writes what is missing and adopts what is already there.
 */
export async function writeHandoffBundle(input: { plan: Plan; station: string; stateDir: string; mediaDir: string; boundary?: HandoffBoundary }): Promise<HandoffOutcome> {
  const { plan } = input
  const { text, entries } = readLocalLog(plan, input.stateDir)
  const last = entries.at(-1)
  if (!last || last.kind !== ENTRY.handoff || last.facts['from'] !== input.station) throw new CeremonyError('HANDOFF_NOT_DUE', 'This station has not handed the ceremony on')
  const facts = HandoffFactsSchema.parse(last.facts)
  // The caller holds the state lock: a temp file on the media is one a killed write of this bundle left.
  const swept = await removeStaleTempFiles(input.mediaDir)
  const written = await writeBundle(input.mediaDir, {
    mode: plan.mode, ceremonyId: plan.id, planDigest: planDigest(plan), facts, segmentText: text, entries: entries.length, finalDigest: last.hash,
  }, (phase) => input.boundary?.(`handoff-${facts.n}@${phase}`))
  const synced = await syncVolume(input.mediaDir)
  return {
    n: facts.n, to: facts.to, toLabel: facts.toLabel, finalDigest: last.hash, hexGroups: hexGroups(last.hash), words: pgpWords(last.hash),
    files: written.files.map((f) => f.name), synced, swept,
  }
}

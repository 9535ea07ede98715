/**
 * Receiving the ceremony from another station (design §3b). The media is hostile input: before
 * anything acts on it, the bundle this station expects next (by the plan's legs) is checked —
 *
 *   the segment's chain, canonical form and plan digest, entry by entry;
 *   that it ends in the hand-off addressed to this station, numbered as expected, and continues
 *   this station's own log byte for byte (an older segment replayed, or a forked one, is refused);
 *   the manifest and README, rendered again from the hand-off entry and compared byte for byte;
 *   every artifact on the media against the digest the log recorded;
 *   the carried results against the step entries of the segment and this station's own journal;
 *   the media label and bag number, as the operator reads them;
 *   the words read out of band, against the segment's final digest.
 *
 * Every refusal is named and logged (in this station's refusal log: its audit log must stay a
 * prefix of the segment), and the receipt entry then lists them. Only after all of it: the journal
 * takes the carried results, the log becomes the segment (one atomic replace), and the receipt
 * entry continues the chain from the segment's final hash. Each part is redone safely after a crash.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { AuditLog, canonicalJson, parseSegment, type LogEntry } from '../evidence'
import { CeremonyError, errorCode } from '../errors'
import { FingerprintFormatError, wordsToHex } from '../keys'
import { removeStaleTempFiles, writeFileAtomic } from '../media'
import {
  BUNDLE_LIMITS, HandoffFactsSchema, HandoffMediaError, bundleNames, checkArtifact, readBundleFile, renderManifest, renderReadme, type HandoffFacts,
} from '../media/handoff-bundle'
import { ENTRY } from './entry-kinds'
import { readLocalLog, stationState, tripsOfPlan, type HandoffBoundary, type MediaTag } from './handoff'
import { Journal, type JournalStore } from './journal'
import { planDigest } from './plan'
import type { Plan } from './plan-envelope'
import { kindOf } from './registry'
import { AUDIT_LOG_FILE, syncDir } from './state-files'
import { StateLock } from './state-lock'
import { legOfStep, orderForStations, stationById, type Trip } from './stations'

export const REFUSALS_FILE = 'handoff-refusals.jsonl'

export interface ReceiveInput {
  plan: Plan
  station: string
  stateDir: string
  mediaDir: string
  /** The segment's final digest in PGP words, as read out by the other site. */
  words: string
  /** The label and bag number as the receiving operator reads them; each is checked when given. */
  media?: Partial<MediaTag>
  openJournalStore(): JournalStore
  now?: () => Date
  boundary?: HandoffBoundary
}

export interface ReceiveOutcome {
  n: number
  from: string
  fromLabel: string
  finalDigest: string
  entries: number
  artifactsChecked: string[]
  media: MediaTag
}

const refuse = (code: string, message: string) => new CeremonyError(code, message)

/** The receipt this station expects now, from its own log and the plan's legs. */
function expected(plan: Plan, station: string, entries: LogEntry[], trips: Trip[]): { n: number; from: string; resumed: boolean } {
  const st = stationState(plan, station, entries)
  if (st.state === 'must-receive') return { n: st.n, from: st.from, resumed: false }
  if (st.state === 'received-unacknowledged') return { n: st.n, from: st.from, resumed: true }
  if (st.state === 'handed-off') {
    const leg = trips.find((t) => t.n > st.n && t.station === station)
    if (leg) return { n: leg.n - 1, from: trips[leg.n - 2]!.station, resumed: false }
  }
  throw refuse('HANDOFF_NOT_EXPECTED', `${stationById(plan, station).label} holds the ceremony now (or has finished its part); there is nothing to receive`)
}

function wordsProblem(typed: string, digest: string): string | null {
  let hex: string
  try {
    hex = wordsToHex(typed)
  } catch (err) {
    if (err instanceof FingerprintFormatError) return err.message
    throw err
  }
  if (hex.length !== digest.length) return `${hex.length / 2} words were typed; the digest has ${digest.length / 2}`
  for (let i = 0; i < hex.length; i += 2) {
    // The expected word is never shown: the check is only worth something if it comes from the other site.
    if (hex.slice(i, i + 2) !== digest.slice(i, i + 2)) return `word ${i / 2 + 1} does not match the segment on the media`
  }
  return null
}

interface Checked {
  text: string
  entries: LogEntry[]
  last: LogEntry
  facts: HandoffFacts
}

async function verifyBundle(input: ReceiveInput, want: { n: number; from: string; resumed: boolean }, local: { text: string }, trips: Trip[]): Promise<Checked> {
  const { plan, station, mediaDir } = input
  const digest = planDigest(plan)
  const names = bundleNames(plan.id, want.n, want.from, station)
  const read = async (name: string, max: number) => {
    const text = await readBundleFile(mediaDir, name, max)
    if (text === null) throw refuse('HANDOFF_NOT_FOUND', `${name} is not on the media: this station expects hand-off ${want.n} from ${stationById(plan, want.from).label}`)
    return text
  }
  const manifestText = await read(names.manifest, BUNDLE_LIMITS.manifest)
  const text = await read(names.segment, BUNDLE_LIMITS.segment)
  const readme = await read(names.readme, BUNDLE_LIMITS.readme)

  const parsed = parseSegment(text, digest)
  if (!parsed.ok) {
    if (parsed.reason.startsWith('planDigest')) throw refuse('HANDOFF_PLAN_MISMATCH', `The segment is for another plan (entry ${parsed.seq}): ${parsed.reason}`)
    throw refuse('SEGMENT_CHAIN_BROKEN', `The audit-log segment does not verify at entry ${parsed.seq}: ${parsed.reason}`)
  }
  const last = parsed.entries.at(-1)!
  if (last.kind !== ENTRY.handoff) throw refuse('SEGMENT_NOT_SEALED', 'The segment does not end with a hand-off entry')
  const factsParsed = HandoffFactsSchema.safeParse(last.facts)
  if (!factsParsed.success) throw refuse('SEGMENT_NOT_SEALED', 'The hand-off entry at the end of the segment is not one this app writes')
  const facts = factsParsed.data
  if (facts.n < want.n || (facts.n === want.n && facts.from === station)) throw refuse('HANDOFF_STALE', `This is hand-off ${facts.n} from ${facts.fromLabel}, an older one; this station expects hand-off ${want.n}`)
  if (facts.n !== want.n || facts.to !== station || facts.from !== want.from) throw refuse('HANDOFF_NOT_FOR_THIS_STATION', `This is hand-off ${facts.n} from ${facts.fromLabel} to ${facts.toLabel}; this station expects hand-off ${want.n} from ${stationById(plan, want.from).label}`)
  // The segment continues this station's own log, byte for byte; nothing of ours is dropped or rewritten.
  if (!text.startsWith(local.text)) throw refuse('HANDOFF_FORKED', "The segment does not continue this station's own audit log: entries this station wrote are missing or changed")
  if (text.length === local.text.length && !want.resumed) throw refuse('HANDOFF_STALE', 'The segment holds nothing this station has not already got')

  const bundle = { mode: plan.mode, ceremonyId: plan.id, planDigest: digest, facts, segmentText: text, entries: parsed.entries.length, finalDigest: last.hash }
  if (manifestText !== renderManifest(bundle)) throw refuse('HANDOFF_MANIFEST_MISMATCH', `${names.manifest} is not the manifest of this segment's hand-off entry${manifestDiff(manifestText, renderManifest(bundle))}`)
  if (readme !== renderReadme(bundle)) throw refuse('HANDOFF_README_MISMATCH', `${names.readme} is not the one written for this hand-off`)

  for (const a of facts.artifacts) {
    const logged = parsed.entries.some((e) => e.kind === ENTRY.artifact && e.facts['name'] === a.name && e.facts['sha256'] === a.sha256 && e.facts['bytes'] === a.bytes)
    if (!logged) throw refuse('HANDOFF_ARTIFACT_NOT_LOGGED', `${a.name} is listed for the hand-off but no artifact entry of the segment records it`)
    await checkArtifact(mediaDir, a).catch((err: unknown) => {
      throw err instanceof HandoffMediaError ? refuse(err.code, err.message) : err
    })
  }
  checkCarries(input, facts, parsed.entries, trips)
  checkOwnSteps(input, facts, trips)
  const seen = { label: input.media?.label?.trim(), bag: input.media?.bag?.trim() }
  if (seen.label !== undefined && seen.label !== facts.media.label) throw refuse('MEDIA_LABEL_MISMATCH', `The media label typed ("${seen.label}") is not the one logged at the hand-off`)
  if (seen.bag !== undefined && seen.bag !== facts.media.bag) throw refuse('BAG_NUMBER_MISMATCH', `The bag number typed ("${seen.bag}") is not the one logged at the hand-off: the bag may have been replaced`)
  const problem = wordsProblem(input.words, last.hash)
  if (problem) throw refuse('HANDOFF_WORDS_MISMATCH', `The words typed are not the digest of the segment on the media (${problem}). Read them again with ${facts.fromLabel}; nothing was copied.`)
  return { text, entries: parsed.entries, last, facts }
}

function manifestDiff(got: string, want: string): string {
  try {
    const g = JSON.parse(got) as Record<string, unknown>
    const w = JSON.parse(want) as Record<string, unknown>
    const key = Object.keys(w).find((k) => canonicalJson(g[k] ?? null) !== canonicalJson(w[k]))
    const inner = key && typeof w[key] === 'object' ? Object.keys(w[key] as object).find((k) => canonicalJson((g[key] as Record<string, unknown> | undefined)?.[k] ?? null) !== canonicalJson((w[key] as Record<string, unknown>)[k])) : undefined
    return key ? ` (field ${key}${inner ? `.${inner}` : ''} differs)` : ''
  } catch {
    return ' (it is not valid JSON)'
  }
}

/** The carried results: every step of the legs before, each as its step logged it, none of later legs. */
function checkCarries(input: ReceiveInput, facts: HandoffFacts, entries: LogEntry[], trips: Trip[]): void {
  const steps = orderForStations(input.plan, kindOf(input.plan).steps(input.plan))
  const legs = legOfStep(trips)
  const unknown = Object.keys(facts.carries).find((id) => !legs.has(id))
  if (unknown !== undefined) throw refuse('HANDOFF_INCONSISTENT', `The hand-off carries a result for "${unknown}", which is no step of this plan`)
  for (const step of steps) {
    const c = facts.carries[step.id]
    const leg = legs.get(step.id)!
    if (leg.n <= facts.n && !c) throw refuse('HANDOFF_INCOMPLETE', `"${step.text.title}" (leg ${leg.n}) is not finished in the hand-off`)
    if (leg.n > facts.n && c) throw refuse('HANDOFF_INCONSISTENT', `"${step.text.title}" runs in leg ${leg.n}, yet the hand-off carries a result for it`)
    if (!c) continue
    if (c.state === 'skipped') {
      if (!entries.some((e) => e.kind === ENTRY.stepSkipped && e.step === step.id)) throw refuse('HANDOFF_RESULT_MISMATCH', `"${step.id}" is carried as skipped, but the segment does not log its skip`)
      continue
    }
    if (!step.result.safeParse(c.result).success) throw refuse('HANDOFF_RESULT_INVALID', `The result carried for "${step.id}" is not what that step records`)
    const logged = entries.filter((e) => e.kind === ENTRY.stepDone && e.step === step.id).at(-1)
    const result = { ...((logged?.facts['result'] as Record<string, unknown> | undefined) ?? {}) }
    delete result['recovered']
    if (!logged || canonicalJson(result) !== canonicalJson(c.result)) throw refuse('HANDOFF_RESULT_MISMATCH', `The result carried for "${step.id}" is not the one its step logged in the segment`)
  }
}

/** This station's own steps in the hand-off must be exactly what it journaled (read without creating a journal). */
function checkOwnSteps(input: ReceiveInput, facts: HandoffFacts, trips: Trip[]): void {
  const legs = legOfStep(trips)
  const data = Journal.openStore(input.openJournalStore).store as { steps?: Record<string, { state?: string; result?: unknown }> }
  for (const [id, c] of Object.entries(facts.carries)) {
    if (legs.get(id)?.station !== input.station) continue
    const record = data.steps?.[id]
    const same = c.state === 'skipped' ? record?.state === 'skipped' : record?.state === 'done' && canonicalJson(record.result ?? null) === canonicalJson(c.result)
    if (!same) throw refuse('HANDOFF_INCONSISTENT', `The hand-off's result for "${id}", a step of this station, is not what this station journaled`)
  }
}

async function logRefusal(input: ReceiveInput, n: number, err: unknown): Promise<void> {
  const log = await AuditLog.open(join(input.stateDir, REFUSALS_FILE), { planDigest: planDigest(input.plan), ...(input.now ? { clock: input.now } : {}) })
  try {
    const message = err instanceof Error ? err.message : String(err)
    await log.append({ actor: stationById(input.plan, input.station).operator, step: 'ceremony', kind: 'handoff-refused', facts: { n, code: errorCode(err, 'INTERNAL'), message } })
  } finally {
    await log.close()
  }
}

async function refusalsFor(input: ReceiveInput, n: number): Promise<Array<{ at: string; code: string; message: string }>> {
  const log = await AuditLog.open(join(input.stateDir, REFUSALS_FILE), { planDigest: planDigest(input.plan) })
  await log.close()
  return log.entries().filter((e) => e.facts['n'] === n).map((e) => ({ at: e.ts, code: String(e.facts['code']), message: String(e.facts['message']) }))
}

/** Checks the bundle this station expects and, only if every check passes, continues the ceremony from it. */
export async function receiveHandoff(input: ReceiveInput): Promise<ReceiveOutcome> {
  const { plan, station, stateDir } = input
  const now = input.now ?? (() => new Date())
  mkdirSync(stateDir, { recursive: true, mode: 0o700 })
  const lock = StateLock.acquire(stateDir, now)
  try {
    // The lock is ours: no write of ours is in flight, so a temp file is one a killed write left.
    await removeStaleTempFiles(stateDir)
    await removeStaleTempFiles(input.mediaDir)
    const trips = tripsOfPlan(plan)
    const local = readLocalLog(plan, stateDir)
    const want = expected(plan, station, local.entries, trips)
    let checked: Checked
    try {
      checked = await verifyBundle(input, want, local, trips)
    } catch (err) {
      if (errorCode(err, '') !== 'STATE_LOCKED') await logRefusal(input, want.n, err)
      throw err
    }
    const { facts, last } = checked
    const here = stationById(plan, station)
    // 1. The journal takes the results of the other stations' steps (its own must already agree).
    const steps = orderForStations(plan, kindOf(plan).steps(plan))
    const legs = legOfStep(trips)
    const journal = new Journal(Journal.openStore(input.openJournalStore), {
      ceremonyId: plan.id, planDigest: planDigest(plan), stepIds: steps.map((s) => s.id), now, afterWrite: () => syncDir(stateDir),
    })
    for (const [id, c] of Object.entries(facts.carries)) {
      const record = journal.get(id)
      if (legs.get(id)!.station === station || record.state === 'done' || record.state === 'skipped') continue
      if (record.state !== 'pending') throw refuse('HANDOFF_INCONSISTENT', `"${id}" runs at another station, yet this station's journal has it ${record.state}`)
      if (c.state === 'done') journal.done(id, c.result as never, now())
      else journal.skip(id, c.reason, now())
    }
    input.boundary?.(`receive-${facts.n}@after-journal`)
    // 2. The log becomes the segment: it starts with this station's own log, so nothing is lost.
    const logPath = join(stateDir, AUDIT_LOG_FILE)
    if (local.text !== checked.text) await writeFileAtomic(logPath, checked.text, { overwrite: true })
    input.boundary?.(`receive-${facts.n}@after-log`)
    // 3. The receipt continues the chain from the segment's final hash.
    const refused = await refusalsFor(input, facts.n)
    const log = await AuditLog.open(logPath, { planDigest: planDigest(plan), clock: now })
    try {
      await log.append({
        actor: here.operator, step: 'ceremony', kind: ENTRY.handoffReceived,
        facts: {
          station, n: facts.n, from: facts.from, finalDigest: last.hash, entries: checked.entries.length,
          media: facts.media, mediaChecked: { label: input.media?.label !== undefined, bag: input.media?.bag !== undefined },
          artifactsChecked: facts.artifacts.map((a) => a.name), wordsMatched: true, refusedBefore: refused,
        },
      })
    } finally {
      await log.close()
    }
    return { n: facts.n, from: facts.from, fromLabel: facts.fromLabel, finalDigest: last.hash, entries: checked.entries.length, artifactsChecked: facts.artifacts.map((a) => a.name), media: facts.media }
  } finally {
    lock.release()
  }
}

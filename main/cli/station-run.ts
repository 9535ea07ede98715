/**
 * `ceremony run --station ID --media DIR …`: one station's part of a ceremony across sites
 * (design §3b). It receives the media when a hand-off is due here (the words read out by the
 * other site are required), runs this station's steps until the next one runs elsewhere, then
 * appends the hand-off entry, writes the bundle to the media, flushes the volume and prints the
 * segment's digest in words. Rerunning the same command after a crash resumes; after a hand-off it
 * writes the same bundle again (nothing new is logged until the media comes back).
 */
import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { runToCompletion, type Witnessing } from '../ceremony/driver'
import { CeremonyEngine } from '../ceremony/engine'
import { dueHandoff, handOff, readLocalLog, stationState, writeHandoffBundle, type HandoffOutcome, type MediaTag } from '../ceremony/handoff'
import { receiveHandoff, type ReceiveOutcome } from '../ceremony/handoff-receive'
import type { Json } from '../ceremony/journal'
import { fileJournalStore } from '../ceremony/journal-file'
import { trustOf, type Plan } from '../ceremony/plan'
import type { Credentials } from '../ceremony/simulated-plan'
import { StateLock } from '../ceremony/state-lock'
import { legOfStep, stationById, tripsOf } from '../ceremony/stations'
import { DsmConnection } from '../dsm'
import type { LogEntry } from '../evidence'
import { wordsToHex } from '../keys'
import { CeremonyError, errorCode } from '../errors'
import { checkMediaFolder, safeToRemoveText } from '../media/volumes'

export interface StationRunOptions {
  plan: Plan
  credentials: Credentials
  station: string
  /** Who signs the steps of this leg (simulated witnesses in a rehearsal; at the terminal in production). */
  witnessing?: Witnessing
  stateDir: string
  mediaDir: string
  /** The words read out by the other site, when this station receives the media. */
  words?: string
  /** The media's label or serial and the (new) bag number, logged at this station's hand-off. */
  media?: Partial<MediaTag>
  /** The label and bag number as read at a receipt: each given one is checked against the hand-off's. */
  receivedMedia?: Partial<MediaTag>
  /** Production: why the media folder is not a removable volume (recorded as an exception). */
  mediaException?: string
  confirm: boolean
  progress?(line: string): void
}

export interface StationSummary {
  ok: boolean
  ceremonyId: string
  kind: string
  mode: string
  station: string
  outcome: Record<string, Json>
  received: (Omit<ReceiveOutcome, 'media'> & { words: string[] }) | null
  handoff: (HandoffOutcome & { safeToRemove: string }) | null
  record: string | null
  finalDigest: string | null
  requests: number
  error?: { code: string; message: string }
}

/** CEREMONY_KILL_AT=<point>: SIGKILL this process at that point, as a power cut would (tests only). */
function killSwitch(): ((point: string) => void) | undefined {
  const spec = process.env.CEREMONY_KILL_AT
  if (!spec) return undefined
  return (point) => {
    if (point === spec) process.kill(process.pid, 'SIGKILL')
  }
}

// The journal's own store: every byte written or a named failure (a full disk never leaves a torn journal).
const journalStore = (stateDir: string) => () => fileJournalStore(stateDir)

async function withLock<T>(stateDir: string, fn: () => Promise<T>): Promise<T> {
  const lock = StateLock.acquire(stateDir)
  try {
    return await fn()
  } finally {
    lock.release()
  }
}

function alreadyReceived(entries: LogEntry[], words: string): boolean {
  let hex: string
  try {
    hex = wordsToHex(words)
  } catch {
    return false
  }
  return entries.some((e) => e.kind === 'handoff-received' && e.facts['finalDigest'] === hex)
}

export async function runStation(options: StationRunOptions): Promise<StationSummary> {
  const { plan, station } = options
  const stateDir = resolve(options.stateDir)
  const mediaDir = resolve(options.mediaDir)
  const say = options.progress ?? (() => undefined)
  const kill = killSwitch()
  const summary: StationSummary = { ok: false, ceremonyId: plan.id, kind: plan.kind, mode: plan.mode, station, outcome: {}, received: null, handoff: null, record: null, finalDigest: null, requests: 0 }
  const fail = (err: unknown) => {
    summary.error = { code: errorCode(err, 'INTERNAL'), message: err instanceof Error ? err.message : String(err) }
    return summary
  }
  let requests = 0
  const finishHandoff = async () => {
    const out = await withLock(stateDir, () => writeHandoffBundle({ plan, station, stateDir, mediaDir, ...(kill ? { boundary: kill } : {}) }))
    summary.handoff = { ...out, safeToRemove: safeToRemoveText(out.synced) }
    summary.ok = true
    say(`HAND-OFF ${out.n} to ${out.toLabel}: read these words to them, and write them on the paper carried with the media:\n\n  ${out.hexGroups}\n\n  ${out.words.join(' ')}\n\n${summary.handoff.safeToRemove}`)
    return summary
  }
  let engine: CeremonyEngine | null = null
  try {
    const here = stationById(plan, station)
    mkdirSync(stateDir, { recursive: true, mode: 0o700 })
    mkdirSync(mediaDir, { recursive: true, mode: 0o700 })
    const media = await checkMediaFolder(mediaDir, { mode: plan.mode, ...(options.mediaException ? { exception: options.mediaException } : {}) }).catch((err: unknown) => {
      throw new CeremonyError(errorCode(err, 'MEDIA_NOT_REMOVABLE'), err instanceof Error ? err.message : String(err))
    })
    const local = readLocalLog(plan, stateDir).entries
    const st = stationState(plan, station, local)
    // The same command run again after a crash carries the words of a receipt already made: it finishes the hand-off.
    if (st.state === 'handed-off' && (options.words === undefined || alreadyReceived(local, options.words))) return await finishHandoff()
    if (st.state === 'handed-off' || st.state === 'must-receive' || st.state === 'received-unacknowledged') {
      if (options.words === undefined) throw new CeremonyError('HANDOFF_WORDS_REQUIRED', `${here.label} continues from hand-off ${st.n}: type the words read out by the other site (--handoff-words "…")`)
      const got = await receiveHandoff({ plan, station, stateDir, mediaDir, words: options.words, ...(options.receivedMedia ? { media: options.receivedMedia } : {}), openJournalStore: journalStore(stateDir), ...(kill ? { boundary: kill } : {}) })
      const { media: _media, ...rest } = got
      summary.received = { ...rest, words: options.words.trim().split(/\s+/) }
      say(`received hand-off ${got.n} from ${got.fromLabel}: segment of ${got.entries} entries, every artifact and the words checked`)
    }
    engine = await CeremonyEngine.open({
      plan, stateDir, mediaDir, station, operator: here.operator,
      openJournalStore: journalStore(stateDir),
      connect: (a) => new DsmConnection({ host: a.host, port: a.port, trust: trustOf(a), onRequest: () => void requests++ }),
      apiKey: (id) => {
        const key = options.credentials.appliances.find((a) => a.id === id)?.apiKey
        return key === undefined ? undefined : Buffer.from(key, 'utf8')
      },
      ...(kill ? { boundary: (id: string, phase: string) => kill(`${id}@${phase}`) } : {}),
    })
    if (media.exception && !engine.logEntries().some((e) => e.kind === 'exception' && e.facts['note'] === `Media folder is not a removable volume: ${media.exception}`)) {
      await engine.recordException('ceremony', here.operator, `Media folder is not a removable volume: ${media.exception}`)
    }
    const legs = legOfStep(tripsOf(plan, engine.steps))
    await runToCompletion(engine, { credentials: options.credentials, confirm: options.confirm, witnessing: options.witnessing ?? { kind: 'simulated' }, progress: say, stopAt: (step) => legs.get(step.id)?.station !== station })
    if (engine.isComplete()) {
      const sealed = await engine.sealRecord()
      summary.ok = true
      summary.record = sealed.path
      summary.finalDigest = sealed.record.finalDigest
      return summary
    }
    if (!dueHandoff(engine, station)) throw new CeremonyError('INTERNAL', 'The run stopped before the hand-off')
    const entry = await handOff(engine, station, { label: options.media?.label ?? '', bag: options.media?.bag ?? '' })
    kill?.(`handoff-${String(entry.facts['n'])}@after-entry`)
    summary.outcome = engine.kind.summary(engine.plan, engine.results())
    await engine.shutdown()
    engine = null
    return await finishHandoff()
  } catch (err) {
    return fail(err)
  } finally {
    if (engine) {
      summary.outcome = engine.kind.summary(engine.plan, engine.results())
      await engine.shutdown()
    }
    summary.requests = requests
  }
}

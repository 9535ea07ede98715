/**
 * The app's side of stations (design §3b): which station this workstation is, which drive carries
 * the media (the renderer picks a volume by an opaque id and never sees a path), the hand-off and
 * the receipt, and what the screens show of them. The ceremony service owns the engine; this module
 * reaches it only through the narrow `Host` below.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { CeremonySnapshot, StationsView } from '../../preload/contract'
import { CeremonyError, errorCode } from '../errors'
import { checkMediaFolder, listRemovableVolumes, safeToRemoveText, systemVolumeDeps, volumeView, type Volume, type VolumeDeps } from '../media/volumes'
import { HandoffFactsSchema, bundleNames, describeMediaFile } from '../media/handoff-bundle'
import type { CeremonyEngine } from './engine'
import { dueHandoff, handOff, readLocalLog, stationState, tripsOfPlan, writeHandoffBundle, type HandoffOutcome, type MediaTag, type StationState } from './handoff'
import { receiveHandoff, type ReceiveOutcome } from './handoff-receive'
import type { JournalStore } from './journal'
import type { Plan } from './plan-envelope'
import { StateLock } from './state-lock'
import { isMultiSite, stationById, stationsOf } from './stations'
import { digestView } from './views'

/** What the station session needs of the ceremony service. */
export interface Host {
  plan(): Plan | null
  engine(): CeremonyEngine | null
  /** Shuts the engine down (its lock released) so the state folder can be handed off or switched. */
  closeEngine(): Promise<void>
  /** Opens (or resumes) the engine on this station's state, as the next action would. */
  openEngine(): Promise<void>
  /** The state folder of the plan for this station. */
  stateDir(): string
  journalStore(dir: string): JournalStore
  snapshot(): CeremonySnapshot
  changed(): void
  /** Who is present was confirmed (for this station's operator); cleared when the station changes. */
  participantsConfirmed(): boolean
  unconfirmParticipants(): void
}

interface Media { dir: string; label: string; removable: boolean; exception: string | null }

/** A drive's folder for this app's files: the files' names say what they are; the folder says whose. */
const MEDIA_FOLDER = 'dsm-key-ceremony'

export class StationSession {
  station: string | null = null
  private media: Media | null = null
  private lastHandoff: HandoffOutcome | null = null
  private lastReceived: ReceiveOutcome | null = null

  constructor(private readonly host: Host, private readonly deps: { volumes?: VolumeDeps; chooseMediaFolder?(): Promise<string | null> } = {}) {}

  /** A new plan: nothing chosen yet; a rehearsal's stations share one media folder the app makes. */
  reset(plan: Plan, rehearsalMedia: string | null): void {
    this.station = null
    this.lastHandoff = null
    this.lastReceived = null
    this.media = plan.mode === 'rehearsal' && rehearsalMedia ? { dir: rehearsalMedia, label: 'Rehearsal media folder', removable: false, exception: null } : null
    if (this.media) mkdirSync(this.media.dir, { recursive: true, mode: 0o700 })
  }

  active(plan: Plan | null): plan is Plan {
    return plan !== null && isMultiSite(plan)
  }

  operator(plan: Plan): string {
    return this.active(plan) && this.station ? stationById(plan, this.station).operator : plan.participants.operator
  }

  /** Each station its own state folder: in a rehearsal on one workstation they share nothing but the media. */
  stateDir(plan: Plan, base: string): string {
    return this.active(plan) && this.station ? `${base}-${this.station}` : base
  }

  mediaDir(stateDir: string): string {
    return this.media?.dir ?? join(stateDir, 'media')
  }

  engineOptions(plan: Plan): { station?: string } {
    return this.active(plan) && this.station ? { station: this.station } : {}
  }

  /** Before the engine opens on a multi-site plan: station and media chosen, and the ceremony here now. */
  requireOpenable(plan: Plan, stateDir: string): void {
    if (!this.active(plan)) return
    if (!this.station) throw new CeremonyError('STATION_NOT_CHOSEN', 'Choose which station this workstation is on the setup screen')
    if (!this.media) throw new CeremonyError('MEDIA_NOT_CHOSEN', 'Choose the removable drive that carries the files between stations')
    const st = this.stateHere(plan, stateDir)
    if (st.state === 'must-receive' || st.state === 'received-unacknowledged') throw new CeremonyError('HANDOFF_NOT_RECEIVED', `This station continues from hand-off ${st.n}: insert the media and type the words on the receive screen`)
    if (st.state === 'handed-off') throw new CeremonyError('HANDED_OFF', 'This station has handed the ceremony on; it continues when the media comes back')
  }

  private stateHere(plan: Plan, stateDir: string): StationState {
    return stationState(plan, this.station!, readLocalLog(plan, stateDir).entries)
  }

  async choose(stationId: string): Promise<CeremonySnapshot> {
    const plan = this.requirePlan()
    stationById(plan, stationId)
    await this.host.closeEngine()
    // Another station, other people: its operator and witnesses are confirmed again.
    if (this.station !== stationId) this.host.unconfirmParticipants()
    this.station = stationId
    this.lastHandoff = null
    this.lastReceived = null
    this.host.changed()
    return this.host.snapshot()
  }

  async listVolumes(): Promise<{ volumes: Volume[] }> {
    return { volumes: (await listRemovableVolumes(this.deps.volumes ?? systemVolumeDeps)).map(volumeView) }
  }

  /** A removable drive by the id the list gave, or (through main's own dialog) a folder, which production takes only with an exception. */
  async chooseMedia(input: { volumeId?: string; viaDialog?: boolean; exception?: string }): Promise<CeremonySnapshot> {
    const plan = this.requirePlan()
    let media: Media
    if (input.volumeId !== undefined) {
      const volume = (await listRemovableVolumes(this.deps.volumes ?? systemVolumeDeps)).find((v) => v.id === input.volumeId)
      if (!volume) throw new CeremonyError('VOLUME_GONE', 'That drive is no longer mounted; insert it again and choose it from the list')
      media = { dir: join(volume.mountPoint, MEDIA_FOLDER), label: volume.label, removable: true, exception: null }
    } else if (input.viaDialog) {
      const path = await this.deps.chooseMediaFolder?.()
      if (!path) return this.host.snapshot()
      const checked = await checkMediaFolder(path, { mode: plan.mode, ...(input.exception ? { exception: input.exception } : {}) }).catch((err: unknown) => {
        throw new CeremonyError(errorCode(err, 'MEDIA_NOT_REMOVABLE'), err instanceof Error ? err.message : String(err))
      })
      media = { dir: path, label: checked.removable?.label ?? 'A folder on this workstation', removable: checked.removable !== null, exception: checked.exception }
    } else {
      throw new CeremonyError('MEDIA_NOT_CHOSEN', 'Choose a drive from the list, or a folder')
    }
    await this.host.closeEngine()
    mkdirSync(media.dir, { recursive: true, mode: 0o700 })
    this.media = media
    this.host.changed()
    return this.host.snapshot()
  }

  /** Ends this station's leg: the hand-off entry, then the bundle on the media, then the volume flushed. */
  async handOff(tag: MediaTag): Promise<CeremonySnapshot> {
    const plan = this.requirePlan()
    const engine = this.host.engine()
    if (!engine || !this.station) throw new CeremonyError('HANDOFF_NOT_DUE', 'Nothing to hand off: this station holds no open ceremony')
    if (this.media?.exception && !engine.logEntries().some((e) => e.kind === 'exception' && String(e.facts['note']).startsWith('Media folder is not a removable volume'))) {
      await engine.recordException('ceremony', this.operator(plan), `Media folder is not a removable volume: ${this.media.exception}`)
    }
    await handOff(engine, this.station, tag)
    await this.host.closeEngine()
    const stateDir = this.host.stateDir()
    const lock = StateLock.acquire(stateDir)
    try {
      this.lastHandoff = await writeHandoffBundle({ plan, station: this.station, stateDir, mediaDir: this.mediaDir(stateDir) })
    } finally {
      lock.release()
    }
    this.host.changed()
    return this.host.snapshot()
  }

  /** Checks the media and the words; only then does this station continue the chain (and open its engine). */
  async receive(input: { words: string; mediaLabel: string; bag: string }): Promise<CeremonySnapshot> {
    const plan = this.requirePlan()
    if (!this.station) throw new CeremonyError('STATION_NOT_CHOSEN', 'Choose which station this workstation is first')
    if (!this.host.participantsConfirmed()) throw new CeremonyError('PARTICIPANTS_NOT_CONFIRMED', 'Confirm the participants at this station on the setup screen first')
    await this.host.closeEngine()
    const stateDir = this.host.stateDir()
    this.lastReceived = await receiveHandoff({
      plan, station: this.station, stateDir, mediaDir: this.mediaDir(stateDir), words: input.words,
      media: { label: input.mediaLabel, bag: input.bag }, openJournalStore: () => this.host.journalStore(stateDir),
    })
    this.lastHandoff = null
    await this.host.openEngine()
    this.host.changed()
    return this.host.snapshot()
  }

  view(plan: Plan | null, engine: CeremonyEngine | null): StationsView | null {
    if (!this.active(plan)) return null
    const trips = tripsOfPlan(plan)
    const stations = stationsOf(plan).map((s) => ({ id: s.id, label: s.label, appliances: s.appliances.map((a) => ({ id: a, label: plan.appliances.find((x) => x.id === a)?.label ?? a })), operator: s.operator, witnesses: s.witnesses }))
    const base = { stations, trips: trips.map((t) => ({ n: t.n, station: t.station, stationLabel: t.stationLabel, steps: t.steps.length })), chosen: this.station, beginStep: trips.find((t) => t.station === this.station)?.steps[0] ?? null, media: this.media ? { label: this.media.label, removable: this.media.removable, exception: this.media.exception } : null }
    const handoff = this.lastHandoff ? this.handoffView(this.lastHandoff) : null
    const received = this.lastReceived ? { n: this.lastReceived.n, fromLabel: this.lastReceived.fromLabel, digest: digestView(this.lastReceived.finalDigest), artifactsChecked: this.lastReceived.artifactsChecked } : null
    if (!this.station) return { ...base, next: 'choose-station', holder: null, receive: null, handoff, received }
    let st: StationState
    try {
      st = this.stateHere(plan, this.host.stateDir())
    } catch {
      st = { state: 'open' } // a damaged log is named when the engine opens it
    }
    const label = (id: string) => stationById(plan, id).label
    const here = { station: this.station, label: label(this.station) }
    const current = engine?.currentStep()
    const currentLeg = current ? trips.find((t) => t.steps.includes(current.id)) : undefined
    if (st.state === 'handed-off') {
      // This station's part may go on later: once the next bundle for it is on the media, it can receive.
      const later = trips.find((t) => t.n > st.n + 1 && t.station === this.station)
      const receive = later ? { n: later.n - 1, fromLabel: trips[later.n - 2]!.stationLabel } : null
      const arrived = later && this.media ? existsSync(join(this.media.dir, bundleNames(plan.id, later.n - 1, trips[later.n - 2]!.station, this.station).manifest)) : false
      return { ...base, next: arrived ? 'receive' : 'handed-off', holder: { station: st.to, label: label(st.to) }, receive, handoff: handoff ?? this.handoffFromLog(plan), received }
    }
    if (st.state === 'must-receive' || st.state === 'received-unacknowledged') {
      return { ...base, next: this.media ? 'receive' : 'choose-media', holder: { station: st.from, label: label(st.from) }, receive: { n: st.n, fromLabel: label(st.from) }, handoff, received }
    }
    if (st.state === 'complete' || (engine?.isComplete() ?? false)) return { ...base, next: 'done', holder: here, receive: null, handoff, received }
    if (!this.media) return { ...base, next: 'choose-media', holder: here, receive: null, handoff, received }
    if (engine && currentLeg && currentLeg.station !== this.station) return { ...base, next: 'hand-off', holder: here, receive: null, handoff: this.dueView(engine), received }
    return { ...base, next: 'run', holder: here, receive: null, handoff, received }
  }

  /** Before the hand-off: where it goes and what the drive will carry (the artifacts so far). */
  private dueView(engine: CeremonyEngine): StationsView['handoff'] {
    const due = dueHandoff(engine, this.station!)
    if (!due) return null
    const names = [...new Set(engine.logEntries().filter((e) => e.kind === 'artifact').map((e) => String(e.facts['name'])))]
    return { n: due.n, to: due.to, toLabel: stationById(engine.plan, due.to).label, digest: null, files: names.map((name) => ({ name, what: describeMediaFile(name).what })), safeToRemove: null }
  }

  /** After a restart: the hand-off this station's log ends with, its words read from the log itself. */
  private handoffFromLog(plan: Plan): StationsView['handoff'] {
    const last = readLocalLog(plan, this.host.stateDir()).entries.at(-1)
    if (!last) return null
    const facts = HandoffFactsSchema.parse(last.facts)
    return { n: facts.n, to: facts.to, toLabel: facts.toLabel, digest: digestView(last.hash), files: facts.leftOnMedia.map((f) => ({ name: f.name, what: f.what })), safeToRemove: null }
  }

  private handoffView(h: HandoffOutcome): NonNullable<StationsView['handoff']> {
    return {
      n: h.n, to: h.to, toLabel: h.toLabel, digest: digestView(h.finalDigest),
      files: h.files.map((name) => ({ name, what: describeMediaFile(name).what })), safeToRemove: safeToRemoveText(h.synced),
    }
  }

  private requirePlan(): Plan {
    const plan = this.host.plan()
    if (!this.active(plan)) throw new CeremonyError('NO_STATIONS', 'This plan lists no stations: one workstation runs all of it')
    return plan
  }
}

/**
 * The ceremony as the app's screens drive it: the plan, the secrets (API keys and sign-in passwords,
 * main-process memory only, in the vault), the appliance connections, the engine, and the views the
 * renderer shows. Electron-free: dialogs, PDF printing, stores and the simulators are injected by
 * the composition root.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { CeremonyRecord, CeremonySnapshot, DigestView, Mode, PlanSummary, ScriptView } from '../../preload/contract'
import { CeremonyError } from '../errors'
import type { RunningCluster, RunningSimulator } from '../simulator'
import { ApiKeyVault } from './api-key-vault'
import { KeyReveals } from './key-reveal'
import type { ResolutionInput } from './witness-desk'
import type { CeremonyEngine, Finding } from './engine'
import { findInterrupted } from './interrupted'
import type { JournalStore } from './journal'
import type { Plan } from './plan'
import { readPlanFile } from './plan-file'
import { SignInsAndRecords } from './service-cluster'
import { ApplianceConnections } from './service-connections'
import { openServiceEngine } from './service-engine'
import { exportRecordFile, savePlanText, validatePlanText } from './service-files'
import { RehearsalSystems, type FreshSpare } from './service-rehearsal'
import { RoomPresence } from './service-room'
import { recordPageOf, snapshotOf } from './service-snapshot'
import { putOnMedia } from './rehearsal-chain'
import type { VolumeDeps } from '../media/volumes'
import type { Software } from './software'
import { StationSession } from './station-service'
import { scriptOf } from './views'

export interface CeremonyServiceDeps {
  /** Each ceremony's journal, audit log, plan copy, media and record live in a folder under here. */
  stateRoot: string
  dialogs: {
    openPlanFile(): Promise<string | null>
    savePlanFile(defaultName: string): Promise<string | null>
    saveRecordFile(defaultName: string, format: 'json' | 'pdf'): Promise<string | null>
    /** An earlier ceremony record the plan builds on (link-cluster, verify-cluster). */
    openRecordFile?(): Promise<string | null>
  }
  /** The record page as PDF (Electron's printToPDF); absent where no Electron renders the page. */
  printRecordPdf?(): Promise<Buffer>
  journalStore(dir: string): JournalStore
  /** `ids`: the appliances' ids when they matter (a membership rehearsal's spare is named); `fresh`: a replacement's spare, out of its box. */
  startSimulator(appliances: number, ids?: string[], fresh?: FreshSpare): Promise<RunningSimulator>
  /** A simulated non-FIPS cluster, for rehearsals of the cluster and membership kinds. */
  startCluster?(): Promise<RunningCluster>
  /** Stations: main's own folder dialog for media that is not a listed drive; the volume reader (tests fake it). */
  chooseMediaFolder?(): Promise<string | null>
  volumes?: VolumeDeps
  onChange(snapshot: CeremonySnapshot): void
  now?: () => Date
  /** Which software runs the ceremonies (recorded in each one's first entry). */
  software?: Software
  /** Secrets are wiped after this long without operator action (production plans); default 10 minutes. */
  idleTimeoutMs?: number
}

export const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60_000

export class CeremonyService {
  private plan: Plan | null = null
  private engine: CeremonyEngine | null = null
  /** The one opening in progress: two calls arriving together must not open the journal and log twice. */
  private opening: Promise<CeremonyEngine> | null = null
  /** API keys and sign-in passwords, main-process memory only: wiped at the seal, after the idle time-out, on quit. */
  private readonly secrets: ApiKeyVault
  /** Keys the ceremony made that the operator may see once on the run screen (key-reveal.ts); never the keys themselves. */
  private readonly reveals: KeyReveals
  /** The connection checks, with the vault's keys (service-connections.ts). */
  private readonly connections: ApplianceConnections
  /** A rehearsal's simulated appliances and cluster (service-rehearsal.ts). */
  private readonly rehearsal: RehearsalSystems
  /** Who the operator confirmed is in the room (service-room.ts). */
  private readonly room = new RoomPresence()
  private exported = new Set<'json' | 'pdf'>()
  private findings: Finding[] = []
  /** Sign-ins (their passwords go to the vault), earlier records, the rehearsal's outage control (service-cluster.ts). */
  private readonly extras: SignInsAndRecords
  /** Stations (design §3b): this workstation's station, the drive, hand-offs and receipts (station-service.ts). */
  readonly stations: StationSession

  constructor(private readonly deps: CeremonyServiceDeps) {
    mkdirSync(deps.stateRoot, { recursive: true, mode: 0o700 })
    this.stations = new StationSession({
      plan: () => this.plan, engine: () => this.engine, stateDir: () => this.stateDir(this.requirePlan()), journalStore: (dir) => deps.journalStore(dir),
      closeEngine: async () => { await this.engine?.shutdown(); this.engine = null },
      openEngine: async () => void (await this.requireEngine()),
      snapshot: () => this.snapshot(), changed: () => this.changed(),
      participantsConfirmed: () => this.room.confirmed, unconfirmParticipants: () => void (this.room.confirmed = false),
    }, { ...(deps.volumes ? { volumes: deps.volumes } : {}), ...(deps.chooseMediaFolder ? { chooseMediaFolder: deps.chooseMediaFolder } : {}) })
    this.secrets = new ApiKeyVault({
      // Simulated appliances' keys are entered for the operator, so a rehearsal has no time-out.
      idleTimeoutMs: () => (this.plan?.mode === 'production' ? (deps.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS) : 0),
      now: deps.now ?? (() => new Date()),
      onIdle: () => void this.endSessions(),
      onWipe: () => this.reveals.lapse('wiped'),
    })
    this.reveals = new KeyReveals(this.secrets, deps.now ?? (() => new Date()))
    this.connections = new ApplianceConnections(this.secrets)
    this.extras = new SignInsAndRecords(this.secrets)
    this.rehearsal = new RehearsalSystems(deps)
    // On start, an unfinished production ceremony is offered for resuming (interrupted.ts).
    ;({ plan: this.plan, findings: this.findings } = findInterrupted(deps.stateRoot, deps.journalStore))
  }

  mode(): Mode {
    return this.plan?.mode ?? 'production'
  }

  // -- plans -----------------------------------------------------------------------------------

  async openPlan(): Promise<{ cancelled: boolean; snapshot: CeremonySnapshot }> {
    const path = await this.deps.dialogs.openPlanFile()
    if (!path) return { cancelled: true, snapshot: this.snapshot() }
    const plan = await readPlanFile(path) // capped, never through a link
    await this.load(plan)
    return { cancelled: false, snapshot: this.snapshot() }
  }

  validatePlan(text: string): { issues: { path: string; message: string }[]; summary: PlanSummary | null } {
    return validatePlanText(text)
  }

  savePlan(text: string): Promise<{ cancelled: boolean; digest: DigestView | null }> {
    return savePlanText(text, (name) => this.deps.dialogs.savePlanFile(name))
  }

  /** A rehearsal of one of main's kinds (default replicate-cmk), on one site or across several (replicate-cmk only); `materials` adds a manifest to type. */
  async startRehearsal(targets: number, opts: { kind?: string; sites?: number; materials?: boolean } = {}): Promise<CeremonySnapshot> {
    const started = await this.rehearsal.start(targets, opts)
    await this.load(started.plan) // wipes the vault: what the rehearsal enters for the operator comes after
    if (started.cluster) this.extras.rehearse(started.cluster.passwords, started.cluster.records, started.cluster.sims)
    putOnMedia(this.stations.mediaDir(this.stateDir(started.plan)), started.mediaFiles)
    for (const [id, key] of started.apiKeys) this.connections.setKey(id, key)
    return this.snapshot()
  }

  private async load(plan: Plan): Promise<void> {
    await this.engine?.shutdown()
    this.engine = null
    this.plan = plan
    this.room.reset()
    this.exported.clear()
    this.findings = []
    this.secrets.wipe('new-plan')
    this.reveals.reset()
    this.connections.forgetChecks()
    this.extras.reset()
    if (plan.mode === 'production') await this.rehearsal.close()
    this.stations.reset(plan, plan.mode === 'rehearsal' ? join(this.deps.stateRoot, `REHEARSAL-${plan.id}-media`) : null)
    this.changed()
  }

  // -- session setup ---------------------------------------------------------------------------

  setApiKey(applianceId: string, apiKey: string): CeremonySnapshot {
    const plan = this.requirePlan()
    if (!plan.appliances.some((a) => a.id === applianceId)) throw new CeremonyError('UNKNOWN_APPLIANCE', `The plan has no appliance "${applianceId}"`)
    this.connections.setKey(applianceId, apiKey)
    // A key typed over the one the ceremony made: the made one is gone, and so is its reveal.
    this.reveals.lapse('replaced', applianceId)
    this.changed()
    return this.snapshot()
  }

  /** A sign-in's password (the cluster administrator's): main memory only. */
  setPassword(signInId: string, password: string): CeremonySnapshot {
    this.extras.setPassword(this.requirePlan(), signInId, password)
    this.changed()
    return this.snapshot()
  }

  /** Main's open-file dialog for an earlier record the plan builds on; read and verified here. */
  async openRecord(): Promise<{ cancelled: boolean; snapshot: CeremonySnapshot }> {
    const plan = this.requirePlan()
    const path = (await this.deps.dialogs.openRecordFile?.()) ?? null
    if (path) this.extras.openRecord(plan, path)
    this.changed()
    return { cancelled: !path, snapshot: this.snapshot() }
  }

  async checkConnections(): Promise<CeremonySnapshot> {
    this.secrets.touch()
    await this.connections.check(this.requirePlan())
    this.changed()
    return this.snapshot()
  }

  /** Who is in the room, from the plan's participants; the plan's operator must be one of them. */
  async confirmParticipants(present: string[]): Promise<CeremonySnapshot> {
    this.room.confirm(this.requirePlan(), present, this.stations)
    this.secrets.touch()
    // Once the ceremony is open, changes of who is present go to the attendance log.
    if (this.engine) await this.room.enterArrivals(this.engine)
    this.changed()
    return this.snapshot()
  }

  async attendance(person: string, event: 'arrive' | 'leave'): Promise<CeremonySnapshot> {
    return this.onEngine(false, (engine) => engine.attendance(person, event, this.stations.operator(this.requirePlan())))
  }

  async approveScript(approver: string, initials: string): Promise<CeremonySnapshot> {
    return this.onEngine(false, (engine) => engine.people((desk) => desk.approveScript(approver, initials)))
  }

  async resolveDeviation(input: ResolutionInput): Promise<CeremonySnapshot> {
    this.secrets.touch()
    const by = this.stations.operator(this.requirePlan())
    return this.onEngine(false, (engine) => engine.people((desk) => desk.resolveDeviation(input, by)))
  }

  async takeBreak(event: 'start' | 'end', stays: string[] = []): Promise<CeremonySnapshot> {
    const by = this.stations.operator(this.requirePlan())
    return this.onEngine(false, (engine) => engine.people((desk) => (event === 'start' ? desk.breakStart(stays, by) : desk.breakEnd(by))))
  }

  async abort(reason: string): Promise<CeremonySnapshot> {
    return this.onEngine(false, async (engine) => {
      await engine.abort(this.requirePlan().participants.operator, reason)
      await engine.sealRecord()
    })
  }

  script(): ScriptView {
    return scriptOf(this.requirePlan())
  }

  /** The operator asks to see, once, the API key the ceremony made for an appliance (key-reveal.ts). */
  async revealApiKey(applianceId: string): Promise<{ applianceId: string; apiKey: string }> {
    const plan = this.requirePlan()
    const revealed = await this.reveals.reveal(plan, applianceId, this.engine, this.stations.operator(plan))
    this.changed()
    return revealed
  }

  // -- running ---------------------------------------------------------------------------------

  async runStep(stepId: string, confirmation?: string, input?: Record<string, string>): Promise<CeremonySnapshot> {
    this.secrets.touch()
    const engine = await this.requireEngine()
    // Opening the engine resumes interrupted steps; a step that is already finished is never run again.
    const state = engine.record(stepId).state
    if (state === 'done' || state === 'skipped') return this.snapshot()
    try {
      await engine.runStep(stepId, { ...(confirmation === undefined ? {} : { confirmation }), ...(input === undefined ? {} : { input }) })
    } finally {
      await this.sealIfComplete()
    }
    return this.snapshot()
  }

  async decideApproval(input: { stepId: string; user: string; password: string; decision: 'approve' | 'deny'; requestId: string; viewDigest: string; reason?: string; confirmation?: string }): Promise<CeremonySnapshot> {
    return this.onEngine(true, (engine) => engine.decideApproval(input.stepId, {
      user: input.user, password: Buffer.from(input.password, 'utf8'), decision: input.decision, requestId: input.requestId, viewDigest: input.viewDigest,
      ...(input.reason === undefined ? {} : { reason: input.reason }),
      ...(input.confirmation === undefined ? {} : { confirmation: input.confirmation }),
    }))
  }

  async restartApproval(stepId: string): Promise<CeremonySnapshot> {
    return this.onEngine(true, (engine) => engine.restartApproval(stepId))
  }

  async signOff(stepId: string, witness: string, initials: string, items: string[]): Promise<CeremonySnapshot> {
    return this.onEngine(true, (engine) => engine.signOff(stepId, { witness, initials, items }))
  }

  async recordException(stepId: string, by: string, note: string, waivesSignoff = false): Promise<CeremonySnapshot> {
    return this.onEngine(true, (engine) => engine.recordException(stepId, by, note, { waivesSignoff }))
  }

  getRecord(): { record: CeremonyRecord; finalDigest: DigestView } {
    return recordPageOf(this.engine)
  }

  async exportRecord(format: 'json' | 'pdf'): Promise<{ cancelled: boolean; file: { name: string; bytes: number; sha256: DigestView } | null }> {
    const exported = await exportRecordFile(this.engine, format, { saveRecordFile: this.deps.dialogs.saveRecordFile, ...(this.deps.printRecordPdf ? { printRecordPdf: this.deps.printRecordPdf } : {}) })
    if (!exported.file) return exported
    this.exported.add(format)
    this.changed()
    return exported
  }

  async shutdown(): Promise<void> {
    this.secrets.wipe('quit')
    await this.engine?.shutdown()
    await this.rehearsal.close()
    this.extras.reset()
  }

  /** After the idle time-out or the seal (the secrets are already wiped): every DSM session ends, the cluster's too; the screens say so. */
  private async endSessions(): Promise<void> {
    await this.engine?.endSessions().catch(() => undefined)
    this.changed()
  }

  // -- internals -------------------------------------------------------------------------------

  private requirePlan(): Plan {
    if (!this.plan) throw new CeremonyError('NO_PLAN', 'Open a ceremony plan or start a rehearsal first')
    return this.plan
  }

  private stateDir(plan: Plan): string {
    return this.stations.stateDir(plan, join(this.deps.stateRoot, plan.mode === 'rehearsal' ? `REHEARSAL-${plan.id}` : plan.id))
  }

  private requireEngine(): Promise<CeremonyEngine> {
    if (this.engine) return Promise.resolve(this.engine)
    this.opening ??= this.openEngine().finally(() => {
      this.opening = null
    })
    return this.opening
  }

  /** An act on the ceremony (opened first if need be), answered by the snapshot; `touch`: the act keeps the secrets from timing out. */
  private async onEngine(touch: boolean, act: (engine: CeremonyEngine) => Promise<unknown>): Promise<CeremonySnapshot> {
    if (touch) this.secrets.touch()
    await act(await this.requireEngine())
    return this.snapshot()
  }

  /** Opens (or resumes) the ceremony once the participants are confirmed (service-engine.ts); the confirmed arrive first. */
  private async openEngine(): Promise<CeremonyEngine> {
    const plan = this.requirePlan()
    if (!this.room.confirmed) throw new CeremonyError('PARTICIPANTS_NOT_CONFIRMED', 'Confirm the participants on the setup screen first')
    const engine = await openServiceEngine(plan, this.stateDir(plan), {
      deps: this.deps, secrets: this.secrets, reveals: this.reveals, stations: this.stations, extras: this.extras, changed: () => this.changed(),
    })
    try {
      await this.room.enterArrivals(engine)
      this.findings = await engine.resume()
    } catch (err) {
      // Not kept: shut again, so the state folder is not held by an engine nobody has.
      await engine.shutdown().catch(() => undefined)
      throw err
    }
    this.engine = engine
    return engine
  }

  /** The last step sealed the log: the record is written, then the secrets are wiped and every session ends. */
  private async sealIfComplete(): Promise<void> {
    if (!this.engine?.isComplete()) return
    await this.engine.sealRecord()
    this.secrets.wipe('sealed')
    await this.endSessions()
  }

  private changed(): void {
    this.deps.onChange(this.snapshot())
  }

  /** Everything the screens show (service-snapshot.ts). */
  snapshot(): CeremonySnapshot {
    return snapshotOf(this.plan, this.engine, {
      room: this.room, findings: this.findings, exported: this.exported, rehearsal: this.rehearsal, connections: this.connections,
      extras: this.extras, stations: this.stations, secrets: this.secrets, reveals: this.reveals,
    })
  }
}

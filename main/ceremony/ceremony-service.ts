/**
 * The ceremony as the app's screens drive it: the plan, the secrets (API keys and sign-in passwords,
 * main-process memory only, in the vault), the appliance connections, the engine, and the views the
 * renderer shows. Electron-free: dialogs, PDF printing, stores and the simulators are injected by
 * the composition root.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { CeremonyRecord, CeremonySnapshot, DigestView, Mode, PlanSummary, ScriptView } from '../../preload/contract'
import { CeremonyError } from '../errors'
import { writeFileAtomic } from '../media'
import type { RunningCluster, RunningSimulator } from '../simulator'
import { ApiKeyVault } from './api-key-vault'
import { KeyReveals } from './key-reveal'
import { labelOf } from './plan-envelope'
import type { ResolutionInput } from './witness-desk'
import { CeremonyEngine, type EngineOptions } from './engine'
import { findInterrupted } from './interrupted'
import type { JournalStore } from './journal'
import type { Plan } from './plan'
import { readPlanFile } from './plan-file'
import { SignInsAndRecords } from './service-cluster'
import { ApplianceConnections, connectTo } from './service-connections'
import { exportRecordFile, savePlanText, validatePlanText } from './service-files'
import { RehearsalSystems } from './service-rehearsal'
import { putOnMedia } from './rehearsal-chain'
import type { VolumeDeps } from '../media/volumes'
import type { Software } from './software'
import { StationSession } from './station-service'
import { approvalAndBreakOf, beginStepOf, deviationRegisterOf, boardOf, digestView, peopleOf, planSummary, scriptOf, stepView } from './views'
import { participantsOf, witnessesOf } from './witnessing'

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
  /** `ids`: the appliances' ids when they matter (a membership rehearsal's spare is named). */
  startSimulator(appliances: number, ids?: string[]): Promise<RunningSimulator>
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
  private participantsConfirmed = false
  /** Who the operator confirmed in the room before the engine opened: their arrivals open the attendance log. */
  private arrivals = new Set<string>()
  private exported = new Set<'json' | 'pdf'>()
  private findings: { stepId: string; finding: string }[] = []
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
      participantsConfirmed: () => this.participantsConfirmed, unconfirmParticipants: () => void (this.participantsConfirmed = false),
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
    this.participantsConfirmed = false
    this.arrivals.clear()
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
    const plan = this.requirePlan()
    const known = new Set(participantsOf(plan).map((p) => p.name))
    const stranger = present.find((p) => !known.has(p))
    if (stranger) throw new CeremonyError('UNKNOWN_PARTICIPANT', `"${stranger}" is not named in the plan`)
    // Across sites each station has its own operator, as the plan's stations name them.
    const operator = this.stations.operator(plan)
    if (!present.includes(operator)) throw new CeremonyError('OPERATOR_NOT_PRESENT', `The plan names "${operator}" as the operator${this.stations.station ? ' at this station' : ''}; they must be present`)
    if (!witnessesOf(plan).some((w) => present.includes(w.name))) throw new CeremonyError('NO_WITNESS_PRESENT', 'At least one witness must be present')
    this.participantsConfirmed = true
    this.arrivals = new Set(present)
    this.secrets.touch()
    // Once the ceremony is open, changes of who is present go to the attendance log.
    if (this.engine) await this.syncArrivals(this.engine)
    this.changed()
    return this.snapshot()
  }

  async attendance(person: string, event: 'arrive' | 'leave'): Promise<CeremonySnapshot> {
    const engine = await this.requireEngine()
    await engine.attendance(person, event, this.stations.operator(this.requirePlan()))
    return this.snapshot()
  }

  async approveScript(approver: string, initials: string): Promise<CeremonySnapshot> {
    await (await this.requireEngine()).people((desk) => desk.approveScript(approver, initials))
    return this.snapshot()
  }

  async resolveDeviation(input: ResolutionInput): Promise<CeremonySnapshot> {
    this.secrets.touch()
    const by = this.stations.operator(this.requirePlan())
    await (await this.requireEngine()).people((desk) => desk.resolveDeviation(input, by))
    return this.snapshot()
  }

  async takeBreak(event: 'start' | 'end', stays: string[] = []): Promise<CeremonySnapshot> {
    const by = this.stations.operator(this.requirePlan())
    await (await this.requireEngine()).people((desk) => (event === 'start' ? desk.breakStart(stays, by) : desk.breakEnd(by)))
    return this.snapshot()
  }

  async abort(reason: string): Promise<CeremonySnapshot> {
    const engine = await this.requireEngine()
    await engine.abort(this.requirePlan().participants.operator, reason)
    await engine.sealRecord()
    return this.snapshot()
  }

  script(): ScriptView {
    return scriptOf(this.requirePlan())
  }

  /** Records the arrival of everyone confirmed present who the attendance log does not have yet. */
  private async syncArrivals(engine: CeremonyEngine): Promise<void> {
    const here = new Set(peopleOf(engine.plan, engine, this.arrivals).filter((p) => p.present).map((p) => p.name))
    for (const person of this.arrivals) if (!here.has(person)) await engine.attendance(person, 'arrive', engine.plan.participants.operator)
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
    this.secrets.touch()
    const engine = await this.requireEngine()
    await engine.decideApproval(input.stepId, {
      user: input.user, password: Buffer.from(input.password, 'utf8'), decision: input.decision, requestId: input.requestId, viewDigest: input.viewDigest,
      ...(input.reason === undefined ? {} : { reason: input.reason }),
      ...(input.confirmation === undefined ? {} : { confirmation: input.confirmation }),
    })
    return this.snapshot()
  }

  async restartApproval(stepId: string): Promise<CeremonySnapshot> {
    this.secrets.touch()
    await (await this.requireEngine()).restartApproval(stepId)
    return this.snapshot()
  }

  async signOff(stepId: string, witness: string, initials: string, items: string[]): Promise<CeremonySnapshot> {
    this.secrets.touch()
    await (await this.requireEngine()).signOff(stepId, { witness, initials, items })
    return this.snapshot()
  }

  async recordException(stepId: string, by: string, note: string, waivesSignoff = false): Promise<CeremonySnapshot> {
    this.secrets.touch()
    await (await this.requireEngine()).recordException(stepId, by, note, { waivesSignoff })
    return this.snapshot()
  }

  getRecord(): { record: CeremonyRecord; finalDigest: DigestView } {
    const engine = this.engine
    if (!engine) throw new CeremonyError('NO_CEREMONY', 'No ceremony has started yet')
    const record = engine.buildRecord()
    return { record, finalDigest: digestView(record.finalDigest) }
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

  private async openEngine(): Promise<CeremonyEngine> {
    const plan = this.requirePlan()
    if (!this.participantsConfirmed) throw new CeremonyError('PARTICIPANTS_NOT_CONFIRMED', 'Confirm the participants on the setup screen first')
    const stateDir = this.stateDir(plan)
    this.stations.requireOpenable(plan, stateDir)
    const mediaDir = this.stations.mediaDir(stateDir)
    for (const d of [stateDir, mediaDir]) mkdirSync(d, { recursive: true, mode: 0o700 })
    const planCopy = join(stateDir, 'plan.json')
    if (!existsSync(planCopy)) await writeFileAtomic(planCopy, JSON.stringify(plan, null, 2) + '\n')
    let opened: CeremonyEngine | null = null
    const options: EngineOptions = {
      plan, stateDir, mediaDir,
      openJournalStore: () => this.deps.journalStore(stateDir),
      connect: connectTo,
      apiKey: (id) => this.secrets.copy(id),
      // A key the ceremony made (replace-appliance's onboarding): held in the vault like a typed one and,
      // when its step asks, offered for one reveal on the run screen (revealApiKey).
      madeApiKey: (id, key, show, stepId) => this.reveals.made(id, key, show ? stepId ?? null : null, opened?.logEntries() ?? []),
      operator: this.stations.operator(plan),
      ...this.stations.engineOptions(plan),
      onChange: () => this.changed(),
      ...(this.deps.software ? { software: this.deps.software } : {}),
      ...(this.deps.now ? { now: this.deps.now } : {}),
      ...this.extras.engineOptions(),
    }
    const engine = (opened = await CeremonyEngine.open(options))
    await this.syncArrivals(engine)
    this.findings = await engine.resume()
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

  snapshot(): CeremonySnapshot {
    const plan = this.plan
    const engine = this.engine
    const steps = engine ? engine.steps.map((step) => stepView(engine, step)) : []
    const entries = engine?.logEntries() ?? []
    const complete = engine?.isComplete() ?? false
    const failed = steps.some((s) => s.state === 'failed')
    const record = engine && complete ? { finalDigest: digestView(engine.logHead()), exported: [...this.exported] } : null
    return {
      plan: plan ? planSummary(plan) : null,
      phase: !plan ? 'no-plan' : !engine ? 'setup' : complete ? 'complete' : engine.isAborted() ? 'aborted' : failed ? 'failed' : 'running',
      people: plan ? peopleOf(plan, engine, this.arrivals) : [],
      ...approvalAndBreakOf(plan, engine),
      deviations: deviationRegisterOf(plan, engine),
      rehearsalCredentials: this.rehearsal.custodians(plan),
      participantsConfirmed: this.participantsConfirmed,
      connections: plan ? this.connections.views(plan) : [],
      steps,
      currentStepId: engine?.currentStep()?.id ?? null,
      // Kinds begin with different steps (replace-appliance with its onboarding): Begin runs the plan's own first.
      ...(plan && !engine ? { beginStep: beginStepOf(plan) } : {}),
      groups: plan && engine ? boardOf(engine, steps) : [],
      reconcile: [...this.findings, ...(engine?.reconcileFindings() ?? []).filter((f) => !this.findings.includes(f))],
      log: { entries: entries.length, head: engine ? digestView(engine.logHead()) : null },
      record,
      ...this.extras.views(plan),
      rehearsalKinds: this.rehearsal.kinds(),
      ...(this.stations.active(plan) ? { stations: this.stations.view(plan, engine) } : {}),
      secrets: this.secrets.view(),
      keyReveals: plan ? this.reveals.views((id) => labelOf(plan, id)) : [],
    }
  }

}

/**
 * The ceremony as the app's screens drive it: the plan, the API keys (main-process memory only),
 * the appliance connections, the engine, and the views the renderer shows. Electron-free: dialogs,
 * PDF printing, stores and the simulator are injected by the composition root.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import type { CeremonyRecord, CeremonySnapshot, ConnectionView, DigestView, Mode, PlanSummary, ScriptView } from '../../preload/contract'
import { AppSession, DsmConnection } from '../dsm'
import { CeremonyError, errorCode } from '../errors'
import { writeFileAtomic } from '../media'
import type { RunningSimulator } from '../simulator'
import { ApiKeyVault } from './api-key-vault'
import { CeremonyEngine, type EngineOptions } from './engine'
import { isFileSystemCode } from './error-codes'
import type { JournalStore } from './journal'
import { checkPlan, parsePlanText, planDigest, trustOf, type Plan, type PlanAppliance } from './plan'
import { readPlanFile, readPlanFileSync } from './plan-file'
import { kindOf } from './registry'
import { parseCredentials, planForAppliances, type Credentials } from './simulated-plan'
import type { VolumeDeps } from '../media/volumes'
import type { Software } from './software'
import { StationSession } from './station-service'
import { planWithStations } from './station-plan'
import { approvalAndBreakOf, boardOf, digestView, peopleOf, planSummary, scriptOf, stepView } from './views'
import { participantsOf, witnessesOf } from './witnessing'

export interface CeremonyServiceDeps {
  /** Each ceremony's journal, audit log, plan copy, media and record live in a folder under here. */
  stateRoot: string
  dialogs: {
    openPlanFile(): Promise<string | null>
    savePlanFile(defaultName: string): Promise<string | null>
    saveRecordFile(defaultName: string, format: 'json' | 'pdf'): Promise<string | null>
  }
  /** The record page as PDF (Electron's printToPDF); absent where no Electron renders the page. */
  printRecordPdf?(): Promise<Buffer>
  journalStore(dir: string): JournalStore
  startSimulator(appliances: number): Promise<RunningSimulator>
  /** Stations: main's own folder dialog for media that is not a listed drive; the volume reader (tests fake it). */
  chooseMediaFolder?(): Promise<string | null>
  volumes?: VolumeDeps
  onChange(snapshot: CeremonySnapshot): void
  now?: () => Date
  /** Which software runs the ceremonies (recorded in each one's first entry). */
  software?: Software
  /** API keys are wiped after this long without operator action (production plans); default 10 minutes. */
  idleTimeoutMs?: number
}

export const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60_000




/** Writes where the operator chose in main's dialog; a failure names the file, not the folder it was in. */
async function writeChosenFile(path: string, data: string | Buffer): Promise<{ sha256: string; bytes: number }> {
  try {
    return await writeFileAtomic(path, data, { overwrite: true })
  } catch (err) {
    const code = errorCode(err, 'MEDIA_WRITE_FAILED')
    throw new CeremonyError(isFileSystemCode(code) ? 'MEDIA_WRITE_FAILED' : code, `Could not write ${basename(path)}: check that the folder is writable and has space`)
  }
}

export class CeremonyService {
  private plan: Plan | null = null
  private engine: CeremonyEngine | null = null
  /** The one opening in progress: two calls arriving together must not open the journal and log twice. */
  private opening: Promise<CeremonyEngine> | null = null
  /** API keys, main-process memory only: wiped at the seal, after the idle time-out, on quit. */
  private readonly apiKeys: ApiKeyVault
  private readonly connections = new Map<string, ConnectionView>()
  private simulator: RunningSimulator | null = null
  private rehearsalCreds: Credentials | null = null
  private participantsConfirmed = false
  /** Who the operator confirmed in the room before the engine opened: their arrivals open the attendance log. */
  private arrivals = new Set<string>()
  private exported = new Set<'json' | 'pdf'>()
  private findings: { stepId: string; finding: string }[] = []
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
    this.apiKeys = new ApiKeyVault({
      // Simulated appliances' keys are entered for the operator, so a rehearsal has no time-out.
      idleTimeoutMs: () => (this.plan?.mode === 'production' ? (deps.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS) : 0),
      now: deps.now ?? (() => new Date()),
      onIdle: () => void this.endSessions(),
    })
    this.loadInterrupted()
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
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (err) {
      return { issues: [{ path: '(file)', message: `not valid JSON: ${err instanceof Error ? err.message : String(err)}` }], summary: null }
    }
    const checked = checkPlan(json)
    return checked.ok ? { issues: [], summary: planSummary(checked.plan) } : { issues: checked.issues, summary: null }
  }

  async savePlan(text: string): Promise<{ cancelled: boolean; digest: DigestView | null }> {
    const plan = parsePlanText(text)
    const path = await this.deps.dialogs.savePlanFile(`${plan.id}.plan.json`)
    if (!path) return { cancelled: true, digest: null }
    await writeChosenFile(path, JSON.stringify(plan, null, 2) + '\n')
    return { cancelled: false, digest: digestView(planDigest(plan)) }
  }

  async startRehearsal(targets: number, sites = 1, materials = false): Promise<CeremonySnapshot> {
    await this.simulator?.close()
    this.simulator = await this.deps.startSimulator(targets + 1)
    this.rehearsalCreds = parseCredentials(this.simulator.readyLine())
    await this.load(sites > 1 ? planWithStations(this.rehearsalCreds, { sites: Math.min(sites, targets + 1) }) : planForAppliances(this.rehearsalCreds, { materials }))
    // Simulated appliances: their API keys are not secrets anyone holds, so they are entered for the operator.
    for (const a of this.rehearsalCreds.appliances) this.apiKeys.set(a.id, a.apiKey)
    this.refreshConnectionsView()
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
    this.apiKeys.wipe('new-plan')
    this.connections.clear()
    if (plan.mode === 'production') {
      this.rehearsalCreds = null
      await this.simulator?.close()
      this.simulator = null
    }
    this.stations.reset(plan, plan.mode === 'rehearsal' ? join(this.deps.stateRoot, `REHEARSAL-${plan.id}-media`) : null)
    this.refreshConnectionsView()
    this.changed()
  }

  // -- session setup ---------------------------------------------------------------------------

  setApiKey(applianceId: string, apiKey: string): CeremonySnapshot {
    const plan = this.requirePlan()
    if (!plan.appliances.some((a) => a.id === applianceId)) throw new CeremonyError('UNKNOWN_APPLIANCE', `The plan has no appliance "${applianceId}"`)
    this.apiKeys.set(applianceId, apiKey)
    this.connections.set(applianceId, { ...this.connectionView(plan.appliances.find((a) => a.id === applianceId)!), state: 'unknown' })
    this.changed()
    return this.snapshot()
  }

  async checkConnections(): Promise<CeremonySnapshot> {
    const plan = this.requirePlan()
    this.apiKeys.touch()
    for (const appliance of plan.appliances) {
      const view = this.connectionView(appliance)
      const key = this.apiKeys.copy(appliance.id)
      if (!key) {
        this.connections.set(appliance.id, { ...view, state: 'unknown' })
        continue
      }
      try {
        const connection = this.connect(appliance)
        const version = await connection.version()
        const session = await AppSession.open(connection, key)
        await session.logout()
        this.connections.set(appliance.id, { ...view, state: 'ok', version: version.version, clockSkewSeconds: version.skewMs === undefined ? null : Math.round(version.skewMs / 1000), error: null })
      } catch (err) {
        const code = errorCode(err, 'INTERNAL')
        this.connections.set(appliance.id, { ...view, state: 'failed', error: { code, message: err instanceof Error ? err.message : String(err) } })
      }
    }
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
    this.apiKeys.touch()
    // Once the ceremony is open, changes of who is present go to the attendance log.
    if (this.engine) await this.syncArrivals(this.engine)
    this.changed()
    return this.snapshot()
  }

  async attendance(person: string, event: 'arrive' | 'leave'): Promise<CeremonySnapshot> {
    const engine = await this.requireEngine()
    await engine.attendance(person, event, this.requirePlan().participants.operator)
    return this.snapshot()
  }

  async approveScript(approver: string, initials: string): Promise<CeremonySnapshot> {
    await (await this.requireEngine()).people((desk) => desk.approveScript(approver, initials))
    return this.snapshot()
  }

  async takeBreak(event: 'start' | 'end', stays: string[] = []): Promise<CeremonySnapshot> {
    const by = this.requirePlan().participants.operator
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

  // -- running ---------------------------------------------------------------------------------

  async runStep(stepId: string, confirmation?: string, input?: Record<string, string>): Promise<CeremonySnapshot> {
    this.apiKeys.touch()
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
    this.apiKeys.touch()
    const engine = await this.requireEngine()
    await engine.decideApproval(input.stepId, {
      user: input.user, password: Buffer.from(input.password, 'utf8'), decision: input.decision, requestId: input.requestId, viewDigest: input.viewDigest,
      ...(input.reason === undefined ? {} : { reason: input.reason }),
      ...(input.confirmation === undefined ? {} : { confirmation: input.confirmation }),
    })
    return this.snapshot()
  }

  async restartApproval(stepId: string): Promise<CeremonySnapshot> {
    this.apiKeys.touch()
    await (await this.requireEngine()).restartApproval(stepId)
    return this.snapshot()
  }

  async signOff(stepId: string, witness: string, initials: string, items: string[]): Promise<CeremonySnapshot> {
    this.apiKeys.touch()
    await (await this.requireEngine()).signOff(stepId, { witness, initials, items })
    return this.snapshot()
  }

  async recordException(stepId: string, by: string, note: string, waivesSignoff = false): Promise<CeremonySnapshot> {
    this.apiKeys.touch()
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
    const engine = this.engine
    if (!engine) throw new CeremonyError('NO_CEREMONY', 'No ceremony has started yet')
    const record = engine.buildRecord()
    const name = `${record.mode === 'rehearsal' ? 'REHEARSAL-' : ''}${engine.plan.id}-record.${format}`
    if (format === 'pdf' && !this.deps.printRecordPdf) {
      throw new CeremonyError('PDF_UNAVAILABLE', 'PDF export needs the desktop app; in the browser harness, print the record page instead')
    }
    const path = await this.deps.dialogs.saveRecordFile(name, format)
    if (!path) return { cancelled: true, file: null }
    const data = format === 'json' ? JSON.stringify(record, null, 2) + '\n' : await this.deps.printRecordPdf!()
    const written = await writeChosenFile(path, data)
    this.exported.add(format)
    this.changed()
    return { cancelled: false, file: { name: basename(path), bytes: written.bytes, sha256: digestView(written.sha256) } }
  }

  async shutdown(): Promise<void> {
    this.apiKeys.wipe('quit')
    await this.engine?.shutdown()
    await this.simulator?.close()
  }

  /** After the idle time-out (the keys are already wiped): every DSM session ends; the screens say so. */
  private async endSessions(): Promise<void> {
    await this.engine?.endSessions().catch(() => undefined)
    for (const [id, view] of this.connections) this.connections.set(id, { ...view, hasApiKey: false, state: 'unknown' })
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

  private connect(appliance: PlanAppliance): DsmConnection {
    return new DsmConnection({ host: appliance.host, port: appliance.port, trust: trustOf(appliance), responseTimeoutMs: 30_000 })
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
    const options: EngineOptions = {
      plan, stateDir, mediaDir,
      openJournalStore: () => this.deps.journalStore(stateDir),
      connect: (a) => this.connect(a),
      apiKey: (id) => this.apiKeys.copy(id),
      operator: this.stations.operator(plan),
      ...this.stations.engineOptions(plan),
      onChange: () => this.changed(),
      ...(this.deps.software ? { software: this.deps.software } : {}),
      ...(this.deps.now ? { now: this.deps.now } : {}),
    }
    const engine = await CeremonyEngine.open(options)
    await this.syncArrivals(engine)
    this.findings = await engine.resume()
    this.engine = engine
    return engine
  }

  /** The last step sealed the log: the record is written, then the API keys are wiped and every session ends. */
  private async sealIfComplete(): Promise<void> {
    if (!this.engine?.isComplete()) return
    await this.engine.sealRecord()
    this.apiKeys.wipe('sealed')
    await this.endSessions()
  }

  /** On start: an unfinished production ceremony in the state folder is offered for resuming. */
  private loadInterrupted(): void {
    for (const name of readdirSync(this.deps.stateRoot)) {
      if (name.startsWith('REHEARSAL-')) continue // simulated appliances do not outlive the app
      const planFile = join(this.deps.stateRoot, name, 'plan.json')
      if (!existsSync(planFile)) continue
      try {
        const plan = readPlanFileSync(planFile)
        const journal = this.deps.journalStore(join(this.deps.stateRoot, name)).store as { steps?: Record<string, { state: string }> }
        const last = kindOf(plan).steps(plan).at(-1)!.id
        if (journal.steps?.[last]?.state === 'done') continue
        this.plan = plan
        this.findings = [{ stepId: 'ceremony', finding: 'An interrupted ceremony was found. Enter the API keys and confirm the participants to resume; every interrupted step is checked against the appliances first.' }]
        this.refreshConnectionsView()
        return
      } catch {
        // A damaged folder is left alone for the operator to inspect; it does not stop the app.
        this.findings.push({ stepId: 'ceremony', finding: `The saved state of ceremony "${name}" cannot be read; it was left untouched for inspection.` })
      }
    }
  }

  private connectionView(a: PlanAppliance): ConnectionView {
    const existing = this.connections.get(a.id)
    return {
      applianceId: a.id, label: a.label, hasApiKey: this.apiKeys.has(a.id),
      state: existing?.state ?? 'unknown', version: existing?.version ?? null, clockSkewSeconds: existing?.clockSkewSeconds ?? null,
      pin: a.trust.spkiSha256 ? digestView(a.trust.spkiSha256) : null, error: existing?.error ?? null,
    }
  }

  private refreshConnectionsView(): void {
    if (!this.plan) return
    for (const a of this.plan.appliances) this.connections.set(a.id, this.connectionView(a))
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
      ...approvalAndBreakOf(engine),
      rehearsalCredentials: plan?.mode === 'rehearsal' && this.rehearsalCreds
        ? this.rehearsalCreds.appliances.flatMap((a) => (a.custodians ?? []).map((c) => ({ applianceId: a.id, user: c.user, password: c.password })))
        : [],
      participantsConfirmed: this.participantsConfirmed,
      connections: plan ? plan.appliances.map((a) => this.connections.get(a.id) ?? this.connectionView(a)) : [],
      steps,
      currentStepId: engine?.currentStep()?.id ?? null,
      groups: plan && engine ? boardOf(engine, steps) : [],
      reconcile: [...this.findings, ...(engine?.reconcileFindings() ?? []).filter((f) => !this.findings.includes(f))],
      log: { entries: entries.length, head: engine ? digestView(engine.logHead()) : null },
      record,
      ...(this.stations.active(plan) ? { stations: this.stations.view(plan, engine) } : {}),
      secrets: this.apiKeys.view(),
    }
  }

}

/**
 * The ceremony as the app's screens drive it: the plan, the API keys (main-process memory only),
 * the appliance connections, the engine, and the views the renderer shows. Electron-free: dialogs,
 * PDF printing, stores and the simulator are injected by the composition root.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import type {
  ApprovalView, CeremonySnapshot, ConnectionView, DigestView, Mode, PlanSummary, StepView,
} from '../../preload/contract'
import { AppSession, DsmConnection } from '../dsm'
import { CeremonyError, errorCode } from '../errors'
import { fingerprintDisplay } from '../keys'
import { writeFileAtomic } from '../media'
import type { RunningSimulator } from '../simulator'
import { CeremonyEngine, type EngineOptions } from './engine'
import { guidanceFor } from './errors'
import type { JournalStore } from './journal'
import { checkPlan, parsePlanText, planDigest, trustOf, type Plan, type PlanAppliance } from './plan'
import { parseCredentials, planForAppliances, type Credentials } from './simulated-plan'

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
  onChange(snapshot: CeremonySnapshot): void
  now?: () => Date
}

function digestView(hex: string): DigestView {
  const d = fingerprintDisplay(hex)
  return { hex: d.hex, hexGroups: d.hexGroups, words: d.words }
}

function kcvView(kcv: string): DigestView {
  return digestView(kcv.toLowerCase())
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '')

/** Writes where the operator chose in main's dialog; a failure names the file, not the folder it was in. */
async function writeChosenFile(path: string, data: string | Buffer): Promise<void> {
  try {
    await writeFileAtomic(path, data, { overwrite: true })
  } catch (err) {
    const code = errorCode(err, 'MEDIA_WRITE_FAILED')
    throw new CeremonyError(/^E[A-Z]+$/.test(code) ? 'MEDIA_WRITE_FAILED' : code, `Could not write ${basename(path)}: check that the folder is writable and has space`)
  }
}

export class CeremonyService {
  private plan: Plan | null = null
  private engine: CeremonyEngine | null = null
  /** The one opening in progress: two calls arriving together must not open the journal and log twice. */
  private opening: Promise<CeremonyEngine> | null = null
  private readonly apiKeys = new Map<string, Buffer>()
  private readonly connections = new Map<string, ConnectionView>()
  private simulator: RunningSimulator | null = null
  private rehearsalCreds: Credentials | null = null
  private participantsConfirmed = false
  private exported = new Set<'json' | 'pdf'>()
  private findings: { stepId: string; finding: string }[] = []

  constructor(private readonly deps: CeremonyServiceDeps) {
    mkdirSync(deps.stateRoot, { recursive: true, mode: 0o700 })
    this.loadInterrupted()
  }

  mode(): Mode {
    return this.plan?.mode ?? 'production'
  }

  // -- plans -----------------------------------------------------------------------------------

  async openPlan(): Promise<{ cancelled: boolean; snapshot: CeremonySnapshot }> {
    const path = await this.deps.dialogs.openPlanFile()
    if (!path) return { cancelled: true, snapshot: this.snapshot() }
    const plan = parsePlanText(readFileSync(path, 'utf8'))
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
    return checked.ok ? { issues: [], summary: this.summary(checked.plan) } : { issues: checked.issues, summary: null }
  }

  async savePlan(text: string): Promise<{ cancelled: boolean; digest: DigestView | null }> {
    const plan = parsePlanText(text)
    const path = await this.deps.dialogs.savePlanFile(`${plan.id}.plan.json`)
    if (!path) return { cancelled: true, digest: null }
    await writeChosenFile(path, JSON.stringify(plan, null, 2) + '\n')
    return { cancelled: false, digest: digestView(planDigest(plan)) }
  }

  async startRehearsal(targets: number): Promise<CeremonySnapshot> {
    await this.simulator?.close()
    this.simulator = await this.deps.startSimulator(targets + 1)
    this.rehearsalCreds = parseCredentials(this.simulator.readyLine())
    await this.load(planForAppliances(this.rehearsalCreds))
    // Simulated appliances: their API keys are not secrets anyone holds, so they are entered for the operator.
    for (const a of this.rehearsalCreds.appliances) this.apiKeys.set(a.id, Buffer.from(a.apiKey, 'utf8'))
    this.refreshConnectionsView()
    return this.snapshot()
  }

  private async load(plan: Plan): Promise<void> {
    await this.engine?.shutdown()
    this.engine = null
    this.plan = plan
    this.participantsConfirmed = false
    this.exported.clear()
    this.findings = []
    for (const key of this.apiKeys.values()) key.fill(0)
    this.apiKeys.clear()
    this.connections.clear()
    if (plan.mode === 'production') {
      this.rehearsalCreds = null
      await this.simulator?.close()
      this.simulator = null
    }
    this.refreshConnectionsView()
    this.changed()
  }

  // -- session setup ---------------------------------------------------------------------------

  setApiKey(applianceId: string, apiKey: string): CeremonySnapshot {
    const plan = this.requirePlan()
    if (!plan.appliances.some((a) => a.id === applianceId)) throw new CeremonyError('UNKNOWN_APPLIANCE', `The plan has no appliance "${applianceId}"`)
    this.apiKeys.get(applianceId)?.fill(0)
    this.apiKeys.set(applianceId, Buffer.from(apiKey.trim(), 'utf8'))
    this.connections.set(applianceId, { ...this.connectionView(plan.appliances.find((a) => a.id === applianceId)!), state: 'unknown' })
    this.changed()
    return this.snapshot()
  }

  async checkConnections(): Promise<CeremonySnapshot> {
    const plan = this.requirePlan()
    for (const appliance of plan.appliances) {
      const view = this.connectionView(appliance)
      const key = this.apiKeys.get(appliance.id)
      if (!key) {
        this.connections.set(appliance.id, { ...view, state: 'unknown' })
        continue
      }
      try {
        const connection = this.connect(appliance)
        const version = await connection.version()
        const session = await AppSession.open(connection, Buffer.from(key))
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

  confirmParticipants(operator: string): CeremonySnapshot {
    const plan = this.requirePlan()
    if (operator.trim() !== plan.participants.operator) {
      throw new CeremonyError('PARTICIPANT_MISMATCH', `The plan names "${plan.participants.operator}" as the operator`)
    }
    this.participantsConfirmed = true
    this.changed()
    return this.snapshot()
  }

  // -- running ---------------------------------------------------------------------------------

  async runStep(stepId: string, confirmation?: string): Promise<CeremonySnapshot> {
    const engine = await this.requireEngine()
    // Opening the engine resumes interrupted steps; a step that is already finished is never run again.
    const state = engine.record(stepId).state
    if (state === 'done' || state === 'skipped') return this.snapshot()
    try {
      await engine.runStep(stepId, confirmation === undefined ? {} : { confirmation })
    } finally {
      await this.sealIfComplete()
    }
    return this.snapshot()
  }

  async decideApproval(input: { stepId: string; user: string; password: string; decision: 'approve' | 'deny'; confirmation?: string }): Promise<CeremonySnapshot> {
    const engine = await this.requireEngine()
    await engine.decideApproval(input.stepId, {
      user: input.user, password: Buffer.from(input.password, 'utf8'), decision: input.decision,
      ...(input.confirmation === undefined ? {} : { confirmation: input.confirmation }),
    })
    return this.snapshot()
  }

  async restartApproval(stepId: string): Promise<CeremonySnapshot> {
    await (await this.requireEngine()).restartApproval(stepId)
    return this.snapshot()
  }

  async signOff(stepId: string, witness: string, items: string[]): Promise<CeremonySnapshot> {
    const plan = this.requirePlan()
    if (!plan.participants.witnesses.includes(witness)) throw new CeremonyError('UNKNOWN_WITNESS', `"${witness}" is not a witness in the plan`)
    await (await this.requireEngine()).signOff(stepId, witness, items)
    return this.snapshot()
  }

  async recordException(stepId: string, by: string, note: string): Promise<CeremonySnapshot> {
    await (await this.requireEngine()).recordException(stepId, by, note)
    return this.snapshot()
  }

  getRecord(): { json: string; finalDigest: DigestView } {
    const engine = this.engine
    if (!engine) throw new CeremonyError('NO_CEREMONY', 'No ceremony has started yet')
    const record = engine.buildRecord()
    return { json: JSON.stringify(record), finalDigest: digestView(record.finalDigest) }
  }

  async exportRecord(format: 'json' | 'pdf'): Promise<{ cancelled: boolean; digest: DigestView | null }> {
    const engine = this.engine
    if (!engine) throw new CeremonyError('NO_CEREMONY', 'No ceremony has started yet')
    const record = engine.buildRecord()
    const name = `${record.mode === 'rehearsal' ? 'REHEARSAL-' : ''}${engine.plan.id}-record.${format}`
    if (format === 'pdf' && !this.deps.printRecordPdf) {
      throw new CeremonyError('PDF_UNAVAILABLE', 'PDF export needs the desktop app; in the browser harness, print the record page instead')
    }
    const path = await this.deps.dialogs.saveRecordFile(name, format)
    if (!path) return { cancelled: true, digest: null }
    const data = format === 'json' ? JSON.stringify(record, null, 2) + '\n' : await this.deps.printRecordPdf!()
    await writeChosenFile(path, data)
    this.exported.add(format)
    this.changed()
    return { cancelled: false, digest: digestView(record.finalDigest) }
  }

  async shutdown(): Promise<void> {
    await this.engine?.shutdown()
    await this.simulator?.close()
    for (const key of this.apiKeys.values()) key.fill(0)
    this.apiKeys.clear()
  }

  // -- internals -------------------------------------------------------------------------------

  private requirePlan(): Plan {
    if (!this.plan) throw new CeremonyError('NO_PLAN', 'Open a ceremony plan or start a rehearsal first')
    return this.plan
  }

  private stateDir(plan: Plan): string {
    return join(this.deps.stateRoot, plan.mode === 'rehearsal' ? `REHEARSAL-${plan.id}` : plan.id)
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
    const mediaDir = join(stateDir, 'media')
    mkdirSync(mediaDir, { recursive: true, mode: 0o700 })
    const planCopy = join(stateDir, 'plan.json')
    if (!existsSync(planCopy)) await writeFileAtomic(planCopy, JSON.stringify(plan, null, 2) + '\n')
    const options: EngineOptions = {
      plan, stateDir, mediaDir,
      openJournalStore: () => this.deps.journalStore(stateDir),
      connect: (a) => this.connect(a),
      apiKey: (id) => {
        const key = this.apiKeys.get(id)
        return key ? Buffer.from(key) : undefined
      },
      operator: plan.participants.operator,
      onChange: () => this.changed(),
      ...(this.deps.now ? { now: this.deps.now } : {}),
    }
    const engine = await CeremonyEngine.open(options)
    this.findings = await engine.resume()
    this.engine = engine
    return engine
  }

  private async sealIfComplete(): Promise<void> {
    if (this.engine?.isComplete()) await this.engine.sealRecord()
  }

  /** On start: an unfinished production ceremony in the state folder is offered for resuming. */
  private loadInterrupted(): void {
    for (const name of readdirSync(this.deps.stateRoot)) {
      if (name.startsWith('REHEARSAL-')) continue // simulated appliances do not outlive the app
      const planFile = join(this.deps.stateRoot, name, 'plan.json')
      if (!existsSync(planFile)) continue
      try {
        const plan = parsePlanText(readFileSync(planFile, 'utf8'))
        const journal = this.deps.journalStore(join(this.deps.stateRoot, name)).store as { steps?: Record<string, { state: string }> }
        if (journal.steps?.['close']?.state === 'done') continue
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

  private summary(plan: Plan): PlanSummary {
    const view = (id: string) => {
      const a = plan.appliances.find((x) => x.id === id)!
      return { id: a.id, label: a.label, host: a.host, port: a.port }
    }
    return {
      id: plan.id, title: plan.title, mode: plan.mode, digest: digestView(planDigest(plan)),
      source: view(plan.source), targets: plan.targets.map(view),
      appliances: plan.appliances.map((a) => ({ id: a.id, label: a.label, host: a.host, port: a.port, spkiSha256: a.trust.spkiSha256 ?? null, hasCa: a.trust.caPem !== undefined })),
      groupName: plan.groupName, cmk: { name: plan.cmk.name, create: plan.cmk.create }, wrapMode: plan.wrapMode,
      participants: { operator: plan.participants.operator, custodians: plan.participants.custodians, witnesses: plan.participants.witnesses },
      json: JSON.stringify(plan, null, 2),
    }
  }

  snapshot(): CeremonySnapshot {
    const plan = this.plan
    const engine = this.engine
    const steps = engine ? engine.steps.map((def) => this.stepView(engine, def.id)) : []
    const entries = engine?.logEntries() ?? []
    const complete = engine?.isComplete() ?? false
    const failed = steps.some((s) => s.state === 'failed')
    const record = engine && complete ? { finalDigest: digestView(engine.logHead()), exported: [...this.exported] } : null
    return {
      plan: plan ? this.summary(plan) : null,
      phase: !plan ? 'no-plan' : !engine ? 'setup' : complete ? 'complete' : failed ? 'failed' : 'running',
      rehearsalCredentials: plan?.mode === 'rehearsal' && this.rehearsalCreds
        ? this.rehearsalCreds.appliances.flatMap((a) => (a.custodians ?? []).map((c) => ({ applianceId: a.id, user: c.user, password: c.password })))
        : [],
      participantsConfirmed: this.participantsConfirmed,
      connections: plan ? plan.appliances.map((a) => this.connections.get(a.id) ?? this.connectionView(a)) : [],
      steps,
      currentStepId: engine?.currentStep()?.id ?? null,
      targets: plan && engine ? plan.targets.map((t) => {
        const own = steps.filter((s) => s.target === t)
        const state = own.some((s) => s.state === 'failed') ? 'failed' : own.every((s) => s.state === 'done' || s.state === 'skipped') ? 'done'
          : own.some((s) => s.state !== 'pending') ? 'running' : 'pending'
        const kcv = engine.record(`unwrap-result:${t}`).result?.['kcvTarget']
        return { id: t, label: plan.appliances.find((a) => a.id === t)!.label, state, kcv: typeof kcv === 'string' ? kcv : null, done: own.filter((s) => s.state === 'done' || s.state === 'skipped').length, total: own.length }
      }) : [],
      reconcile: [...this.findings, ...(engine?.reconcileFindings() ?? []).filter((f) => !this.findings.includes(f))],
      log: { entries: entries.length, head: engine ? digestView(engine.logHead()) : null },
      record,
    }
  }

  private stepView(engine: CeremonyEngine, stepId: string): StepView {
    const def = engine.def(stepId)
    const rec = engine.record(stepId)
    const r = rec.result ?? {}
    const entries = engine.logEntries().filter((e) => e.step === stepId)
    const evidence: StepView['evidence'] = []
    const comparisons: StepView['comparisons'] = []
    const fp = (label: string, hex: unknown) => typeof hex === 'string' && hex && evidence.push({ label, value: hex, digest: digestView(hex) })
    const fact = (label: string, value: unknown) => value !== undefined && value !== null && value !== '' && evidence.push({ label, value: String(value) })
    switch (def.kind) {
      case 'preflight': {
        const apps = (r['appliances'] ?? {}) as Record<string, { version: string; skewSeconds: number | null; quorumN: number; quorumOf: number }>
        for (const [id, a] of Object.entries(apps)) fact(`${id}: version, clock skew, quorum`, `${a.version}; ${a.skewSeconds ?? '?'} s; ${a.quorumN} of ${a.quorumOf}`)
        if (typeof r['cmkKcv'] === 'string') evidence.push({ label: 'CMK KCV on the source', value: r['cmkKcv'], digest: kcvView(r['cmkKcv']) })
        const replicated = r['replicated']
        if (Array.isArray(replicated) && replicated.length) fact('Already replicated (skipped)', replicated.join(', '))
        break
      }
      case 'create-cmk':
        fact('CMK kid', r['kid'])
        if (typeof r['kcv'] === 'string') evidence.push({ label: 'CMK KCV', value: r['kcv'], digest: kcvView(r['kcv']) })
        break
      case 'transfer-key':
        fact('Transfer key', r['name'])
        fact('Key', r['bits'] ? `RSA ${r['bits']}, e=${r['exponent']}` : undefined)
        fp('Transfer-key fingerprint (SPKI SHA-256)', r['fingerprint'])
        break
      case 'export-pubkey':
        fact('File', r['file'])
        fp('File SHA-256', r['sha256'])
        fp('Fingerprint to read aloud', r['fingerprint'])
        break
      case 'import-pubkey':
        fact('Imported as', r['name'])
        fact('Public key only', r['publicOnly'])
        if (typeof r['fingerprintTarget'] === 'string') {
          comparisons.push({ label: 'Target key vs the file', left: { label: `On ${def.target}`, value: digestView(str(r['fingerprintTarget'])) }, right: { label: 'In the file', value: digestView(str(r['fingerprintFile'])) }, match: r['fingerprintTarget'] === r['fingerprintFile'] })
          comparisons.push({ label: 'The file vs the key imported on the source', left: { label: 'In the file', value: digestView(str(r['fingerprintFile'])) }, right: { label: `On ${engine.plan.source}`, value: digestView(str(r['fingerprintSource'])) }, match: r['fingerprintFile'] === r['fingerprintSource'] })
        }
        break
      case 'wrap-request':
      case 'unwrap-request':
        fact('Approval request', r['requestId'])
        fact('On appliance', r['appliance'])
        break
      case 'wrap-result':
        fact('Wrapped key file', r['file'])
        fact('Manifest', r['manifest'])
        fp('Wrapped file SHA-256', r['sha256'])
        fact('Wrapped key size (bytes)', r['wrappedKeyBytes'])
        break
      case 'load-blob':
        fp('File SHA-256 (matches the manifest)', r['sha256'])
        if (typeof r['liveFingerprint'] === 'string') {
          comparisons.push({ label: "The manifest's transfer key vs the key on the target now", left: { label: 'Manifest', value: digestView(str(r['manifestFingerprint'])) }, right: { label: `On ${def.target}`, value: digestView(str(r['liveFingerprint'])) }, match: r['manifestFingerprint'] === r['liveFingerprint'] })
        }
        break
      case 'unwrap-result':
        fact('CMK kid on the target', r['kid'])
        if (typeof r['kcvTarget'] === 'string') {
          comparisons.push({ label: 'KCV on the source vs the target', left: { label: `On ${engine.plan.source}`, value: kcvView(str(r['kcvSource'])) }, right: { label: `On ${def.target}`, value: kcvView(str(r['kcvTarget'])) }, match: r['kcvSource'] === r['kcvTarget'] })
        }
        break
      case 'cleanup': {
        fact('Transfer keys deleted and confirmed absent', r['transferKeysDeleted'] ? 'yes' : undefined)
        const diff = r['inventoryDiff'] as Record<string, { added: string[]; removed: string[] }> | undefined
        for (const [id, d] of Object.entries(diff ?? {})) fact(`Inventory change on ${id}`, `added: ${d.added.join(', ') || 'nothing'}; removed: ${d.removed.join(', ') || 'nothing'}`)
        break
      }
      case 'close': {
        const kcvs = r['kcvByTarget'] as Record<string, string> | undefined
        for (const [t, kcv] of Object.entries(kcvs ?? {})) fact(`KCV on ${t}`, kcv)
        break
      }
      default:
        break
    }
    const state = rec.state === 'intent' ? 'running' : rec.state
    return {
      id: def.id, kind: def.kind, number: def.number, target: def.target, where: def.where, title: def.title, explain: def.explain,
      state, startedAt: rec.startedAt, finishedAt: rec.finishedAt,
      confirmation: def.confirmation && rec.state !== 'done' ? { prompt: def.confirmation.prompt, length: 4 } : null,
      evidence, comparisons,
      approval: this.approvalView(engine, def.id),
      witnessItems: def.witnessItems,
      signoffs: entries.filter((e) => e.kind === 'witness-signoff').map((e) => ({ witness: str(e.facts['witness']), at: e.ts, items: (e.facts['items'] as string[]) ?? [] })),
      exceptions: entries.filter((e) => e.kind === 'exception').map((e) => ({ by: str(e.facts['by']), at: e.ts, note: str(e.facts['note']) })),
      error: rec.state === 'failed' && rec.error ? { ...rec.error, ...guidanceFor(rec.error.code) } : null,
    }
  }

  private approvalView(engine: CeremonyEngine, stepId: string): ApprovalView | null {
    const def = engine.def(stepId)
    if (def.kind !== 'wrap-approval' && def.kind !== 'unwrap-approval') return null
    const state = engine.approvalState(stepId)
    if (!state) return null
    const appliance = def.kind === 'wrap-approval' ? engine.plan.source : def.target!
    const facts = engine.applianceFacts(appliance)
    const target = def.target!
    const fingerprint = engine.record(`transfer-key:${target}`).result?.['fingerprint']
    const importedFp = engine.record(`import-pubkey:${target}`).result?.['fingerprintSource']
    const cmkKid = engine.record('preflight').result?.['cmkKid']
    const request = state.request
    return {
      requestId: request.request_id, appliance, operation: `${request.method} ${request.operation}`,
      status: state.expired ? 'EXPIRED' : request.status,
      quorum: { n: facts?.quorumN ?? 0, of: facts?.quorumOf ?? 0 },
      // Approvals given in the app carry the custodian's name; ones given in the DSM UI show the user id DSM reports.
      approvals: [
        ...state.approvedBy,
        ...request.approvers.slice(state.approvedBy.length).map((a) => ({ user: `DSM user ${String(Object.values(a)[0] ?? '?').slice(0, 8)}… (in the DSM UI)`, at: '' })),
      ],
      denials: state.deniedBy,
      expiresAt: request.expiry ?? null,
      requirePassword: facts?.approveWithLogin ?? false,
      description: request.description ?? '',
      subject: { name: engine.plan.cmk.name, kid: def.kind === 'wrap-approval' && typeof cmkKid === 'string' ? cmkKid : null },
      wrappingKey: {
        name: str(engine.record(`transfer-key:${target}`).result?.['name']),
        fingerprint: digestView(typeof fingerprint === 'string' ? fingerprint : '0'.repeat(64)),
        matchesTarget: typeof fingerprint === 'string' && (def.kind === 'unwrap-approval' || importedFp === fingerprint),
      },
      custodians: engine.plan.participants.custodians[appliance] ?? [],
    }
  }
}

/**
 * The ceremony engine: runs the vendor procedure (guide §3.2.2, design §3) step by step with its
 * checks, survives a crash at any instant, and leaves an audit trail an auditor can verify.
 *
 * Every action follows the same order: audit-log "intent" entry (if it cannot be written, nothing
 * runs) -> journal intent (fsynced) -> look at the appliance first -> act -> journal done -> log
 * "done". Every step looks before it acts (objects by deterministic name, approval requests by the
 * nonce in their description, files by name and digest), so resuming after a crash simply runs the
 * interrupted step again: it adopts what was already done and never does anything twice.
 */
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  AppSession,
  ApprovalExpiredError,
  BadRequestError,
  DsmError,
  NotFoundError,
  QuorumDeniedError,
  UserSession,
  groupQuorum,
  isExpired,
  rsaOaepMode,
  type ApprovalRequest,
  type DsmConnection,
  type Sobject,
} from '../dsm'
import { AuditLog, buildRecord, type CeremonyRecord, type LogEntry } from '../evidence'
import { CeremonyError, errorCode } from '../errors'
import { KeyFormatError, parseTransferPublicKeyPem, publicKeyDerFromBase64, spkiDerToPem, spkiSha256 } from '../keys'
import { readFileVerified, writeFileAtomic } from '../media'
import { stepError } from './errors'
import { Journal, type Json, type JournalStore, type StepRecord } from './journal'
import { applianceOf, planDigest, transferKeyName, type Plan, type PlanAppliance } from './plan'
import { expandSteps, type StepDef } from './steps'

export type Boundary = 'before-intent' | 'after-intent' | 'after-artifact' | 'after-done'

export interface EngineOptions {
  plan: Plan
  /** Journal, audit log and the sealed record live here. */
  stateDir: string
  /** Where artifacts go: the transfer public key, the wrapped CMK and its manifest. */
  mediaDir: string
  /** Opens the journal's store (conf or electron-store on the state folder); may throw on a damaged file. */
  openJournalStore(): JournalStore
  connect(appliance: PlanAppliance): DsmConnection
  /** A fresh copy of the appliance's API key (the session zeroes its copy on logout), or undefined. */
  apiKey(applianceId: string): Buffer | undefined
  operator: string
  now?: () => Date
  poll?: { initialIntervalMs?: number; maxIntervalMs?: number }
  /** Called whenever something the screens show has changed. */
  onChange?(): void
  /** Fault-injection point used by the kill-and-resume tests (a real SIGKILL at a step boundary). */
  boundary?(stepId: string, phase: Boundary): void
  /** Largest clock difference accepted between workstation and appliance. */
  maxClockSkewSeconds?: number
}

interface ApplianceFacts {
  version: string
  skewSeconds: number | null
  groupId: string
  acctId: string
  quorumN: number
  quorumOf: number
  /** The quorum policy's require_password (named so the audit log's secret filter does not trip on it). */
  approveWithLogin: boolean
}

interface InventoryItem {
  kid: string
  name: string
  type: string
}

export interface ApprovalState {
  request: ApprovalRequest
  expired: boolean
  /** user names of custodians who approved in this app, with times (DSM reports ids only) */
  approvedBy: { user: string; at: string }[]
  deniedBy: { user: string; at: string }[]
}

const APPROVAL_KINDS = new Set(['wrap-approval', 'unwrap-approval'])
/** The appliance may simply not have answered: waiting goes on, and steps are safe to run again. */
export const TRANSIENT_CODES: ReadonlySet<string> = new Set(['SERVER_ERROR', 'RATE_LIMITED', 'TIMEOUT', 'UNREACHABLE', 'OUTCOME_UNKNOWN'])

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => {
      clearTimeout(timer)
      resolve()
    }, { once: true })
  })
}
const CMK_KEY_OPS_REQUIRED = 'EXPORT'

function last4(hex: string): string {
  return hex.slice(-4).toUpperCase()
}

function str(value: Json | undefined, what: string): string {
  if (typeof value !== 'string') throw new CeremonyError('JOURNAL_INCOMPLETE', `The journal is missing ${what}`)
  return value
}

export class CeremonyEngine {
  readonly plan: Plan
  readonly planDigest: string
  readonly steps: StepDef[]
  private readonly journal: Journal
  private readonly now: () => Date
  private readonly sessions = new Map<string, AppSession>()
  private readonly approvals = new Map<string, ApprovalState>()
  private readonly pollers = new Map<string, { abort: AbortController; done: Promise<void> }>()
  private readonly findings: { stepId: string; finding: string }[] = []
  private busy: Promise<unknown> = Promise.resolve()

  private constructor(
    private readonly options: EngineOptions,
    private readonly log: AuditLog,
    journal: Journal,
  ) {
    this.plan = options.plan
    this.planDigest = planDigest(options.plan)
    this.steps = expandSteps(options.plan, options.plan.cmk.create)
    this.journal = journal
    this.now = options.now ?? (() => new Date())
  }

  /** Opens (or re-opens) the ceremony's journal and audit log in the state folder. */
  static async open(options: EngineOptions): Promise<CeremonyEngine> {
    const digest = planDigest(options.plan)
    const steps = expandSteps(options.plan, options.plan.cmk.create)
    const now = options.now ?? (() => new Date())
    const store = Journal.openStore(options.openJournalStore)
    const resuming = Journal.exists(store)
    const journal = new Journal(store, { ceremonyId: options.plan.id, planDigest: digest, stepIds: steps.map((s) => s.id), now })
    const log = await AuditLog.open(join(options.stateDir, 'audit-log.jsonl'), { planDigest: digest, clock: now })
    const engine = new CeremonyEngine(options, log, journal)
    if (log.entries().length === 0) {
      await log.append({ actor: options.operator, step: 'ceremony', kind: 'ceremony-open', facts: { ceremonyId: options.plan.id, title: options.plan.title, mode: options.plan.mode, planDigest: digest } })
    } else if (resuming) {
      await log.append({ actor: options.operator, step: 'ceremony', kind: 'ceremony-resume', facts: { ceremonyId: options.plan.id } })
    }
    await engine.backfillDoneEntries()
    return engine
  }

  // ------------------------------------------------------------------------------------------
  // Queries

  record(stepId: string): StepRecord {
    return this.journal.get(stepId)
  }

  def(stepId: string): StepDef {
    const def = this.steps.find((s) => s.id === stepId)
    if (!def) throw new CeremonyError('UNKNOWN_STEP', `No step "${stepId}" in this ceremony`)
    return def
  }

  /** The first step that is not finished, or null when the ceremony is complete. */
  currentStep(): StepDef | null {
    return this.steps.find((s) => !['done', 'skipped'].includes(this.journal.get(s.id).state)) ?? null
  }

  isComplete(): boolean {
    return this.journal.get('close').state === 'done'
  }

  logEntries(): LogEntry[] {
    return this.log.entries()
  }

  logHead(): string {
    return this.log.head()
  }

  approvalState(stepId: string): ApprovalState | undefined {
    return this.approvals.get(stepId)
  }

  reconcileFindings(): readonly { stepId: string; finding: string }[] {
    return this.findings
  }

  /** What the operator must type to confirm an irreversible step (derived from this run's own values). */
  expectedConfirmation(stepId: string): string | null {
    const def = this.def(stepId)
    if (!def.confirmation) return null
    if (def.kind === 'create-cmk') return last4(this.planDigest)
    return last4(this.transferFingerprint(def.target!))
  }

  applianceFacts(id: string): ApplianceFacts | undefined {
    const all = this.journal.get('preflight').result?.['appliances'] as Record<string, Json> | undefined
    return all?.[id] as unknown as ApplianceFacts | undefined
  }

  sourceKcv(): string | null {
    // Preflight records the source KCV; a CMK created in this ceremony adds it there too.
    const kcv = this.journal.get('preflight').result?.['cmkKcv']
    return typeof kcv === 'string' ? kcv : null
  }

  transferFingerprint(target: string): string {
    return str(this.journal.get(`transfer-key:${target}`).result?.['fingerprint'], `the transfer-key fingerprint for ${target}`)
  }

  // ------------------------------------------------------------------------------------------
  // Actions (one at a time: a second click waits for the first)

  /** Runs the step (in order). Irreversible steps need their typed confirmation; approval steps start waiting. */
  runStep(stepId: string, opts: { confirmation?: string } = {}): Promise<StepRecord> {
    return this.exclusive(async () => {
      this.assertOpen()
      const def = this.def(stepId)
      const current = this.currentStep()
      if (!current || current.id !== stepId) {
        throw stepError('STEP_OUT_OF_ORDER', current ? `"${def.title}" cannot run yet: the next step is "${current.title}"` : 'The ceremony is complete')
      }
      const record = this.journal.get(stepId)
      // A resumed intent was confirmed when it was first started; an approval step is confirmed per approval.
      if (def.confirmation && record.state !== 'intent' && !APPROVAL_KINDS.has(def.kind)) this.checkConfirmation(stepId, opts.confirmation)
      await this.execute(def, opts.confirmation !== undefined)
      return this.journal.get(stepId)
    })
  }

  /**
   * Resumes after a restart: every step left in "intent" is run again, which first looks at the
   * appliances and adopts whatever the interrupted attempt had done. Waiting approvals are polled again.
   */
  resume(): Promise<{ stepId: string; finding: string }[]> {
    return this.exclusive(async () => {
      const found: { stepId: string; finding: string }[] = []
      for (const def of this.steps) {
        const record = this.journal.get(def.id)
        if (record.state !== 'intent' && record.state !== 'waiting') continue
        const before = this.findings.length
        try {
          await this.execute(def, true)
        } catch (err) {
          this.note(def.id, `could not be completed on resume: ${err instanceof Error ? err.message : String(err)}`)
        }
        found.push(...this.findings.slice(before))
        if (this.journal.get(def.id).state !== 'done') break
      }
      return found
    })
  }

  /** A custodian signs in with their own DSM user and approves or denies this step's request. */
  decideApproval(stepId: string, input: { user: string; password: Buffer; decision: 'approve' | 'deny'; confirmation?: string }): Promise<ApprovalState> {
    return this.exclusive(async () => {
      try {
        this.assertOpen()
        const def = this.def(stepId)
        if (!APPROVAL_KINDS.has(def.kind)) throw stepError('STEP_NOT_APPROVAL', `"${def.title}" has no approval request`)
        const requestId = str(this.journal.get(this.requestStepOf(def)).result?.['requestId'], 'the approval request id')
        if (input.decision === 'approve' && def.confirmation) this.checkConfirmation(stepId, input.confirmation)
        const appliance = this.approvalAppliance(def)
        const facts = this.applianceFacts(appliance)
        if (!facts) throw new CeremonyError('JOURNAL_INCOMPLETE', 'Run the preflight first')
        const passwordForApproval = facts.approveWithLogin ? Buffer.from(input.password) : undefined
        // Logged before the appliance is asked, like every act: no audit entry, no approval.
        await this.log.append({ actor: input.user, step: stepId, kind: 'approval-intent', facts: { requestId, appliance, decision: input.decision, user: input.user } })
        const session = await UserSession.login(this.options.connect(applianceOf(this.plan, appliance)), { username: input.user, password: Buffer.from(input.password), accountId: facts.acctId })
        try {
          const request = input.decision === 'approve'
            ? await session.approvals.approve(requestId, passwordForApproval ? { password: passwordForApproval } : {})
            : await session.approvals.deny(requestId, 'denied in the DSM Key Ceremony app')
          const at = this.now().toISOString()
          await this.log.append({
            actor: input.user, step: stepId, kind: input.decision === 'approve' ? 'approval' : 'denial',
            facts: { requestId, appliance, decision: input.decision, user: input.user, status: request.status, via: 'in-app' },
          })
          const state = this.approvals.get(stepId) ?? { request, expired: false, approvedBy: [], deniedBy: [] }
          state.request = request
          ;(input.decision === 'approve' ? state.approvedBy : state.deniedBy).push({ user: input.user, at })
          this.approvals.set(stepId, state)
        } finally {
          passwordForApproval?.fill(0)
          await session.logout().catch(() => undefined)
        }
        await this.pollOnce(def)
        this.changed()
        return this.approvals.get(stepId)!
      } finally {
        input.password.fill(0)
      }
    })
  }

  /** After DENIED, FAILED, expiry or a lost result: a fresh request for the same operation, with a new nonce. */
  restartApproval(stepId: string): Promise<void> {
    return this.exclusive(async () => {
      this.assertOpen()
      const def = this.def(stepId)
      const prefix = def.kind.startsWith('wrap') ? 'wrap' : def.kind.startsWith('unwrap') ? 'unwrap' : null
      if (!prefix || !def.target) throw stepError('STEP_NOT_APPROVAL', `"${def.title}" has no approval request`)
      const ids = [`${prefix}-request:${def.target}`, `${prefix}-approval:${def.target}`, `${prefix}-result:${def.target}`]
      if (ids.some((id) => this.journal.get(id).state === 'done' && id.startsWith(`${prefix}-result`))) {
        throw stepError('STEP_OUT_OF_ORDER', 'The result was already fetched; there is nothing to approve again')
      }
      const old = this.journal.get(ids[0]!).result?.['requestId'] ?? null
      this.stopPolling(ids[1]!)
      this.approvals.delete(ids[1]!)
      await this.log.append({ actor: this.options.operator, step: stepId, kind: 'approval-restart', facts: { previousRequestId: old, reason: this.journal.get(stepId).error?.code ?? 'operator' } })
      this.journal.reset(ids)
      this.changed()
    })
  }

  /**
   * Starts waiting for the quorum (background polling) and resolves when the step is decided or the
   * waiting is stopped. An appliance that stops answering for a while does not end the wait: polling
   * backs off (up to 10 s) and carries on, so approvals made meanwhile in the DSM UI are still seen.
   */
  waitForApproval(stepId: string): Promise<void> {
    const def = this.def(stepId)
    const existing = this.pollers.get(stepId)
    if (existing) return existing.done
    const abort = new AbortController()
    const done = (async () => {
      let pause = 1000
      while (!abort.signal.aborted) {
        try {
          const app = await this.app(this.approvalAppliance(def))
          const requestId = str(this.journal.get(this.requestStepOf(def)).result?.['requestId'], 'the approval request id')
          await app.approvals.awaitDecision(requestId, {
            initialIntervalMs: this.options.poll?.initialIntervalMs ?? 250,
            maxIntervalMs: this.options.poll?.maxIntervalMs ?? 1000,
            signal: abort.signal,
            onPoll: (request) => this.seeApproval(stepId, request, false),
          })
          if (abort.signal.aborted) return
          await this.exclusive(() => this.pollOnce(def))
          return
        } catch (err) {
          if (abort.signal.aborted) return
          const code = errorCode(err, '')
          if (!TRANSIENT_CODES.has(code)) {
            await this.exclusive(() => this.failStep(def, err)).catch(() => undefined)
            return
          }
          this.journal.progress(def.id, { lastError: code }, this.journal.get(def.id).state)
          this.changed()
          await abortableSleep(pause, abort.signal)
          pause = Math.min(pause * 2, 10_000)
        }
      }
    })().finally(() => this.pollers.delete(stepId))
    this.pollers.set(stepId, { abort, done })
    return done
  }

  signOff(stepId: string, witness: string, items: string[]): Promise<void> {
    return this.exclusive(async () => {
      this.assertOpen()
      this.def(stepId)
      await this.log.append({ actor: witness, step: stepId, kind: 'witness-signoff', facts: { witness, items } })
      this.changed()
    })
  }

  recordException(stepId: string, by: string, note: string): Promise<void> {
    return this.exclusive(async () => {
      this.assertOpen()
      if (stepId !== 'ceremony') this.def(stepId)
      await this.log.append({ actor: by, step: stepId, kind: 'exception', facts: { by, note } })
      this.changed()
    })
  }

  /** The record as it stands (sealed once the close step is done). */
  buildRecord(): CeremonyRecord {
    const entries = this.log.entries()
    const artifacts = entries.filter((e) => e.kind === 'artifact').map((e) => ({ name: String(e.facts['name']), sha256: String(e.facts['sha256']), bytes: Number(e.facts['bytes']) }))
    return buildRecord({ plan: this.plan, planDigest: this.planDigest, entries, artifacts, mode: this.plan.mode })
  }

  /** Stops polling and signs out of every appliance (also done by the close step). */
  async shutdown(): Promise<void> {
    for (const id of [...this.pollers.keys()]) this.stopPolling(id)
    // Let a running step finish writing its journal and log entries (a stuck appliance call is bounded by its timeout).
    await Promise.race([this.busy, new Promise((r) => setTimeout(r, 35_000).unref())])
    for (const session of this.sessions.values()) await session.logout().catch(() => undefined)
    this.sessions.clear()
    await this.log.close()
  }

  // ------------------------------------------------------------------------------------------
  // Step execution

  private async execute(def: StepDef, confirmed: boolean): Promise<void> {
    const record = this.journal.get(def.id)
    const resuming = record.state === 'intent' || record.state === 'waiting'
    // An earlier attempt (interrupted, or failed after sending) may have acted: what it made is ours
    // to adopt. An object with our name that no attempt of ours could have made is refused instead.
    const earlierAttempt = resuming || record.attempts > 0
    this.options.boundary?.(def.id, 'before-intent')
    try {
      if (APPROVAL_KINDS.has(def.kind)) {
        await this.enterApproval(def)
        return
      }
      if (!resuming) {
        await this.log.append({ actor: this.options.operator, step: def.id, kind: 'step-intent', facts: { title: def.title, confirmed } })
        this.journal.intent(def.id, { kind: def.kind }, this.now())
        this.options.boundary?.(def.id, 'after-intent')
      }
      const result = await this.perform(def, earlierAttempt)
      this.journal.done(def.id, result, this.now())
      this.options.boundary?.(def.id, 'after-done')
      await this.log.append({ actor: this.options.operator, step: def.id, kind: 'step-done', facts: result })
    } catch (err) {
      await this.failStep(def, err)
      throw err
    } finally {
      this.changed()
    }
  }

  private async perform(def: StepDef, earlierAttempt: boolean): Promise<Record<string, Json>> {
    switch (def.kind) {
      case 'preflight': return this.preflight()
      case 'create-cmk': return this.createCmk(earlierAttempt)
      case 'transfer-key': return this.generateTransferKey(def.target!, earlierAttempt)
      case 'export-pubkey': return this.exportPublicKey(def.target!)
      case 'import-pubkey': return this.importPublicKey(def.target!, earlierAttempt)
      case 'wrap-request': return this.openRequest(def, 'wrap')
      case 'wrap-result': return this.fetchWrapResult(def.target!)
      case 'load-blob': return this.loadBlob(def.target!)
      case 'unwrap-request': return this.openRequest(def, 'unwrap')
      case 'unwrap-result': return this.fetchUnwrapResult(def.target!)
      case 'cleanup': return this.cleanup(def.target!)
      case 'close': return this.close()
      default: throw new CeremonyError('UNKNOWN_STEP', `No action for ${def.kind}`)
    }
  }

  private async failStep(def: StepDef, err: unknown): Promise<void> {
    let code = errorCode(err, 'INTERNAL')
    // What the journal, the log and the screen keep: file names, never this workstation's folders.
    let message = err instanceof Error ? err.message : String(err)
    for (const dir of [this.options.mediaDir, this.options.stateDir]) message = message.split(`${dir}/`).join('').split(dir).join('the ceremony folder')
    if (/^(E[A-Z]+|ERR_[A-Z_]+)$/.test(code)) {
      message = `A file this step needs could not be used (${code})`
      code = 'FILE_ERROR'
    }
    // An intent stays an intent when the outcome is unknown: the next run reconciles it first.
    if (code !== 'OUTCOME_UNKNOWN' && code !== 'TIMEOUT' && code !== 'UNREACHABLE' && code !== 'AUDIT_LOG_WRITE_FAILED') {
      this.journal.failed(def.id, { code, message })
    } else {
      this.journal.progress(def.id, { lastError: code }, this.journal.get(def.id).state === 'pending' ? 'pending' : this.journal.get(def.id).state)
    }
    await this.log.append({ actor: 'engine', step: def.id, kind: 'step-failed', facts: { code, message } }).catch(() => undefined)
    this.changed()
  }

  // -- 0: preflight ---------------------------------------------------------------------------

  private async preflight(): Promise<Record<string, Json>> {
    const appliances: Record<string, Json> = {}
    const inventory: Record<string, Json> = {}
    const maxSkew = this.options.maxClockSkewSeconds ?? 300
    for (const appliance of this.plan.appliances) {
      const app = await this.app(appliance.id)
      const version = await app.connection.version()
      const skewSeconds = version.skewMs === undefined ? null : Math.round(version.skewMs / 1000)
      if (skewSeconds !== null && Math.abs(skewSeconds) > maxSkew) {
        throw stepError('CLOCK_SKEW', `${appliance.label}'s clock differs from this workstation's by ${skewSeconds} s (more than ${maxSkew} s)`)
      }
      const group = await app.groups.findByName(this.plan.groupName)
      if (!group) throw stepError('GROUP_MISSING', `${appliance.label} has no group named "${this.plan.groupName}"`)
      const quorum = groupQuorum(group)
      if (!quorum || quorum.n < 1) throw stepError('NO_QUORUM_POLICY', `The group "${this.plan.groupName}" on ${appliance.label} has no quorum approval policy`)
      appliances[appliance.id] = {
        version: version.version, skewSeconds, groupId: group.group_id, acctId: group.acct_id,
        quorumN: quorum.n, quorumOf: quorum.members.length, approveWithLogin: quorum.require_password === true,
      }
      inventory[appliance.id] = (await app.keys.list()).map((o) => ({ kid: o.kid, name: o.name ?? '', type: o.obj_type }))
    }

    const source = await this.app(this.plan.source)
    const cmk = await source.keys.findByName(this.plan.cmk.name)
    let cmkKcv: string | null = null
    if (!cmk) {
      if (!this.plan.cmk.create) throw stepError('CMK_MISSING', `${this.label(this.plan.source)} has no key named "${this.plan.cmk.name}"`)
    } else {
      this.checkCmk(cmk, this.plan.source)
      cmkKcv = cmk.kcv!
      if (this.plan.cmk.create) this.journal.skip('create-cmk', 'the CMK already exists on the source', this.now())
    }

    const replicated: string[] = []
    for (const target of this.plan.targets) {
      const existing = await (await this.app(target)).keys.findByName(this.plan.cmk.name)
      if (!existing) continue
      if (cmkKcv && existing.kcv === cmkKcv) {
        replicated.push(target)
        for (const s of this.steps.filter((d) => d.target === target)) this.journal.skip(s.id, 'the CMK is already on this target with the same KCV', this.now())
        this.note(`preflight`, `${this.label(target)} already holds the CMK with KCV ${cmkKcv}; its steps are skipped`)
      } else {
        throw stepError('CMK_CONFLICT', `${this.label(target)} already has a key named "${this.plan.cmk.name}" with a different KCV (${existing.kcv ?? 'none'})`)
      }
    }
    return { appliances, inventory, cmkKid: cmk?.kid ?? null, cmkKcv, cmkKeyOps: cmk?.key_ops ?? null, replicated }
  }

  private checkCmk(cmk: Sobject, where: string): void {
    if (cmk.obj_type !== 'AES' || cmk.key_size !== 256) {
      throw stepError('CMK_WRONG_TYPE', `The key "${this.plan.cmk.name}" on ${this.label(where)} is ${cmk.obj_type}-${cmk.key_size ?? '?'}, not AES-256`)
    }
    if (!cmk.key_ops.includes(CMK_KEY_OPS_REQUIRED)) throw stepError('CMK_NOT_EXPORTABLE', `The key "${this.plan.cmk.name}" on ${this.label(where)} does not allow EXPORT`)
    if (!cmk.kcv) throw stepError('CMK_WRONG_TYPE', `The key "${this.plan.cmk.name}" on ${this.label(where)} reports no KCV`)
  }

  // -- 1: create the CMK ----------------------------------------------------------------------

  private async createCmk(earlierAttempt: boolean): Promise<Record<string, Json>> {
    const source = await this.app(this.plan.source)
    const facts = this.applianceFacts(this.plan.source)!
    const existing = await source.keys.findByName(this.plan.cmk.name)
    let cmk = existing
    if (existing) {
      if (!earlierAttempt) throw stepError('NAME_IN_USE', `A key named "${this.plan.cmk.name}" already exists on ${this.label(this.plan.source)}`)
      this.note('create-cmk', `found the CMK made by an earlier attempt (kid ${existing.kid}); adopted`)
    } else {
      cmk = await source.keys.generate({
        name: this.plan.cmk.name, obj_type: 'AES', key_size: 256, group_id: facts.groupId,
        key_ops: ['ENCRYPT', 'DECRYPT', 'WRAPKEY', 'UNWRAPKEY', 'DERIVEKEY', 'MACGENERATE', 'MACVERIFY', 'EXPORT', 'APPMANAGEABLE'],
        description: `Cluster Master Key, created by ceremony ${this.plan.id}`,
      })
    }
    this.checkCmk(cmk!, this.plan.source)
    this.journal.progress('preflight', { cmkKid: cmk!.kid, cmkKcv: cmk!.kcv!, cmkKeyOps: cmk!.key_ops }, 'done')
    return { kid: cmk!.kid, kcv: cmk!.kcv! }
  }

  // -- 2: transfer key on the target ----------------------------------------------------------

  private async generateTransferKey(target: string, earlierAttempt: boolean): Promise<Record<string, Json>> {
    const app = await this.app(target)
    const name = transferKeyName(this.plan, target)
    let key = await app.keys.findByName(name)
    if (key) {
      if (!earlierAttempt) throw stepError('NAME_IN_USE', `A key named "${name}" already exists on ${this.label(target)}`)
      this.note(`transfer-key:${target}`, `found transfer key "${name}" made by an earlier attempt; adopted`)
    } else {
      key = await app.keys.generate({
        name, obj_type: 'RSA', key_size: 2048, rsa: { key_size: 2048, public_exponent: 65537 },
        key_ops: ['UNWRAPKEY', 'DECRYPT', 'APPMANAGEABLE'], group_id: this.applianceFacts(target)!.groupId,
        description: `Transfer key for ceremony ${this.plan.id}; delete after the CMK transfer`,
      })
    }
    if (key.obj_type !== 'RSA' || !key.pub_key) throw stepError('TRANSFER_KEY_CHANGED', `"${name}" on ${this.label(target)} is not an RSA key pair`)
    const parsed = this.parsePublicKey(spkiDerToPem(publicKeyDerFromBase64(key.pub_key)))
    return { kid: key.kid, name, fingerprint: parsed.fingerprint, bits: parsed.modulusBits, exponent: parsed.exponent }
  }

  // -- 3: export the public key to media ------------------------------------------------------

  private pubKeyFile(target: string): string {
    return join(this.options.mediaDir, `${this.plan.id}-${target}-transfer-key.pub.pem`)
  }

  private async exportPublicKey(target: string): Promise<Record<string, Json>> {
    const app = await this.app(target)
    const kid = str(this.journal.get(`transfer-key:${target}`).result?.['kid'], 'the transfer key id')
    const key = await app.keys.get(kid)
    if (!key.pub_key) throw stepError('TRANSFER_KEY_CHANGED', `The transfer key on ${this.label(target)} has no public key`)
    const pem = spkiDerToPem(publicKeyDerFromBase64(key.pub_key))
    const fingerprint = this.parsePublicKey(pem).fingerprint
    if (fingerprint !== this.transferFingerprint(target)) throw stepError('TRANSFER_KEY_CHANGED', `The transfer key on ${this.label(target)} changed since it was generated`)
    const written = await this.writeArtifact(this.pubKeyFile(target), pem, `export-pubkey:${target}`)
    return { file: this.fileName(this.pubKeyFile(target)), sha256: written.sha256, bytes: written.bytes, fingerprint }
  }

  // -- 4: import on the source ----------------------------------------------------------------

  private async importPublicKey(target: string, earlierAttempt: boolean): Promise<Record<string, Json>> {
    const exported = this.journal.get(`export-pubkey:${target}`).result!
    const pem = (await readFileVerified(this.pubKeyFile(target), str(exported['sha256'], 'the public-key file digest'))).toString('utf8')
    const fromFile = this.parsePublicKey(pem)
    const fromTarget = this.transferFingerprint(target)
    if (fromFile.fingerprint !== fromTarget) {
      throw stepError('FINGERPRINT_MISMATCH', `The key in the file (${fromFile.fingerprint.slice(0, 16)}…) is not the transfer key generated on ${this.label(target)} (${fromTarget.slice(0, 16)}…)`)
    }
    const source = await this.app(this.plan.source)
    const name = transferKeyName(this.plan, target)
    let imported = await source.keys.findByName(name)
    if (imported) {
      if (!earlierAttempt) throw stepError('NAME_IN_USE', `A key named "${name}" already exists on ${this.label(this.plan.source)}`)
      this.note(`import-pubkey:${target}`, `found the public key imported by an earlier attempt; adopted after checking its fingerprint`)
    } else {
      imported = await source.keys.importPublicKey({
        name, spkiDer: fromFile.spkiDer, key_ops: ['WRAPKEY', 'ENCRYPT', 'APPMANAGEABLE'], group_id: this.applianceFacts(this.plan.source)!.groupId,
        description: `Transfer public key for ${target}, ceremony ${this.plan.id}; delete after the CMK transfer`,
      })
    }
    if (!imported.pub_key) throw stepError('FINGERPRINT_MISMATCH', `The imported key on ${this.label(this.plan.source)} has no public key`)
    const onSource = spkiSha256(publicKeyDerFromBase64(imported.pub_key))
    if (onSource !== fromTarget) throw stepError('FINGERPRINT_MISMATCH', `The key on ${this.label(this.plan.source)} does not have the target's fingerprint`)
    return { kid: imported.kid, name, publicOnly: imported.public_only, fingerprintTarget: fromTarget, fingerprintFile: fromFile.fingerprint, fingerprintSource: onSource }
  }

  // -- 5/9: approval requests -----------------------------------------------------------------

  private async requestBody(def: StepDef, op: 'wrap' | 'unwrap'): Promise<{ operation: string; body: Record<string, Json> }> {
    const target = def.target!
    const mode = rsaOaepMode(this.plan.wrapMode === 'RSA-OAEP-SHA1' ? 'SHA1' : 'SHA256') as unknown as Json
    if (op === 'wrap') {
      const imported = str(this.journal.get(`import-pubkey:${target}`).result?.['kid'], 'the imported key id')
      const cmk = str(this.journal.get('preflight').result?.['cmkKid'], 'the CMK id')
      return { operation: '/crypto/v1/wrapkey', body: { key: { kid: imported }, subject: { kid: cmk }, alg: 'RSA', mode } }
    }
    // The wrapped key is read from the media again (digest-checked), so it never sits in the journal or the log.
    const digest = str(this.journal.get(`load-blob:${target}`).result?.['sha256'], 'the checked blob digest')
    const wrapped = (await readFileVerified(this.blobFile(target), digest)).toString('ascii').trim()
    return {
      operation: '/crypto/v1/unwrapkey',
      body: {
        key: { kid: str(this.journal.get(`transfer-key:${target}`).result?.['kid'], 'the transfer key id') },
        alg: 'RSA', mode, obj_type: 'AES', wrapped_key: wrapped,
        name: this.plan.cmk.name, key_ops: (this.journal.get('preflight').result?.['cmkKeyOps'] ?? ['EXPORT']) as Json,
        group_id: this.applianceFacts(target)!.groupId,
      },
    }
  }

  private async openRequest(def: StepDef, op: 'wrap' | 'unwrap'): Promise<Record<string, Json>> {
    const appliance = op === 'wrap' ? this.plan.source : def.target!
    const app = await this.app(appliance)
    const record = this.journal.get(def.id)
    // The nonce is in the journal before the request is sent, so a lost response is found again by it.
    let nonce = typeof record.result?.['nonce'] === 'string' ? (record.result['nonce'] as string) : null
    if (nonce) {
      const found = await app.approvals.findByNonce(nonce)
      if (found.length > 0) {
        this.note(def.id, `found approval request ${found[0]!.request_id} opened before the interruption; adopted`)
        return { requestId: found[0]!.request_id, nonce, appliance }
      }
    }
    nonce = randomBytes(8).toString('hex')
    this.journal.progress(def.id, { nonce })
    const { operation, body } = await this.requestBody(def, op)
    const what = op === 'wrap' ? `export the CMK "${this.plan.cmk.name}" wrapped for ${this.label(def.target!)}` : `import the CMK "${this.plan.cmk.name}" from ${this.label(this.plan.source)}`
    const description = `DSM Key Ceremony ${this.plan.id}: ${what} [nonce ${nonce}]`
    const request = await app.approvals.create({ method: 'POST', operation, body, description })
    return { requestId: request.request_id, nonce, appliance, operation }
  }

  private requestStepOf(def: StepDef): string {
    return `${def.kind.startsWith('wrap') ? 'wrap' : 'unwrap'}-request:${def.target}`
  }

  private approvalAppliance(def: StepDef): string {
    return def.kind.startsWith('wrap') ? this.plan.source : def.target!
  }

  // -- 6/10: waiting for the quorum -----------------------------------------------------------

  private async enterApproval(def: StepDef): Promise<void> {
    const record = this.journal.get(def.id)
    if (record.state === 'pending' || record.state === 'failed') {
      const requestId = str(this.journal.get(this.requestStepOf(def)).result?.['requestId'], 'the approval request id')
      await this.log.append({ actor: this.options.operator, step: def.id, kind: 'step-intent', facts: { title: def.title, requestId } })
      this.journal.intent(def.id, { requestId }, this.now())
      this.options.boundary?.(def.id, 'after-intent')
    }
    await this.pollOnce(def)
    if (this.journal.get(def.id).state === 'waiting') void this.waitForApproval(def.id)
  }

  private seeApproval(stepId: string, request: ApprovalRequest, expired: boolean): void {
    const state = this.approvals.get(stepId) ?? { request, expired, approvedBy: [], deniedBy: [] }
    state.request = request
    state.expired = expired
    this.approvals.set(stepId, state)
    this.changed()
  }

  /** Reads the request once and moves the step on: APPROVED -> done; PENDING -> waiting; else failed. */
  private async pollOnce(def: StepDef): Promise<void> {
    const app = await this.app(this.approvalAppliance(def))
    const requestId = str(this.journal.get(this.requestStepOf(def)).result?.['requestId'], 'the approval request id')
    const snap = await app.approvals.snapshot(requestId)
    const expired = snap.request.status === 'PENDING' && isExpired(snap.request, snap.serverDate)
    this.seeApproval(def.id, snap.request, expired)
    const status = snap.request.status
    if (status === 'APPROVED') {
      if (this.journal.get(def.id).state === 'done') return
      const approvers = snap.request.approvers.map((a) => Object.values(a)[0]).filter((v): v is string => typeof v === 'string')
      const inApp = (this.approvals.get(def.id)?.approvedBy ?? []).map((a) => a.user)
      const result = { requestId, status, approvers, approvedInApp: inApp }
      this.journal.done(def.id, result, this.now())
      this.options.boundary?.(def.id, 'after-done')
      await this.log.append({ actor: 'engine', step: def.id, kind: 'approval', facts: result })
      this.stopPolling(def.id)
    } else if (status === 'PENDING' && !expired) {
      if (this.journal.get(def.id).state !== 'waiting') this.journal.progress(def.id, { requestId }, 'waiting')
    } else {
      const err = status === 'DENIED'
        ? new QuorumDeniedError(requestId, snap.request.denial_reason ?? undefined)
        : expired
          ? new ApprovalExpiredError(requestId, snap.request.expiry)
          : new CeremonyError('APPROVAL_FAILED', `Approval request ${requestId} failed on the appliance`)
      this.stopPolling(def.id)
      await this.failStep(def, err)
    }
    this.changed()
  }

  private stopPolling(stepId: string): void {
    this.pollers.get(stepId)?.abort.abort()
    this.pollers.delete(stepId)
  }

  // -- 7: fetch the wrapped CMK and write it with its manifest --------------------------------

  private blobFile(target: string): string {
    return join(this.options.mediaDir, `${this.plan.id}-${target}-wrapped_master_key.out`)
  }

  private manifestFile(target: string): string {
    return join(this.options.mediaDir, `${this.plan.id}-${target}-wrapped_master_key.manifest.json`)
  }

  private manifest(target: string, blob: { sha256: string; bytes: number }): Record<string, Json> {
    const pre = this.journal.get('preflight').result!
    return {
      format: 'dsm-key-ceremony/wrapped-key-manifest', version: 1, mode: this.plan.mode,
      ceremonyId: this.plan.id, planDigest: this.planDigest, source: this.plan.source, target,
      cmkName: this.plan.cmk.name, cmkKid: pre['cmkKid'] ?? null, cmkKcv: pre['cmkKcv'] ?? null,
      transferKeyFingerprint: this.transferFingerprint(target), alg: 'RSA', mode_: this.plan.wrapMode,
      encoding: 'base64', blobSha256: blob.sha256, blobBytes: blob.bytes,
    }
  }

  private async readManifest(target: string): Promise<Record<string, Json>> {
    try {
      const parsed: unknown = JSON.parse(await readFile(this.manifestFile(target), 'utf8'))
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, Json>
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') throw stepError('MANIFEST_MISMATCH', `The manifest for ${this.label(target)} is missing from the media`)
    }
    throw stepError('MANIFEST_MISMATCH', `The manifest for ${this.label(target)} on the media is not a readable manifest`)
  }

  private async fetchWrapResult(target: string): Promise<Record<string, Json>> {
    const blobPath = this.blobFile(target)
    const manifestPath = this.manifestFile(target)
    // Written before an interruption? Then adopt it, after checking it is this ceremony's export.
    if (existsSync(blobPath) && existsSync(manifestPath)) {
      const manifest = await this.readManifest(target)
      const blob = await readFileVerified(blobPath, str(manifest['blobSha256'], 'the manifest digest'))
      if (manifest['ceremonyId'] !== this.plan.id || manifest['transferKeyFingerprint'] !== this.transferFingerprint(target)) {
        throw stepError('MANIFEST_MISMATCH', `The files on the media for ${this.label(target)} belong to another ceremony or key`)
      }
      this.note(`wrap-result:${target}`, 'found the wrapped key and manifest written before the interruption; adopted after checking their digests')
      return { file: this.fileName(blobPath), manifest: this.fileName(manifestPath), sha256: String(manifest['blobSha256']), bytes: blob.length, wrappedKeyBytes: Buffer.from(blob.toString('ascii'), 'base64').length }
    }
    if (existsSync(blobPath)) {
      // The blob was written, the manifest not (a crash between the two): the blob is ours (deterministic
      // name, written only here); if it is not the CMK under this transfer key, the KCV check will say so.
      const text = (await readFile(blobPath, 'ascii')).trim()
      const raw = Buffer.from(text, 'base64')
      if (raw.length !== 256 || raw.toString('base64') !== text) throw stepError('WRAPPED_BLOB_INVALID', `The wrapped-key file on the media for ${this.label(target)} is not a 256-byte base64 blob`)
      const blob = await this.writeArtifact(blobPath, text, `wrap-result:${target}`)
      await this.writeArtifact(manifestPath, JSON.stringify(this.manifest(target, blob), null, 2) + '\n', `wrap-result:${target}`)
      this.note(`wrap-result:${target}`, 'found the wrapped key written before the interruption without its manifest; wrote the manifest for it')
      return { file: this.fileName(blobPath), manifest: this.fileName(manifestPath), sha256: blob.sha256, bytes: blob.bytes, wrappedKeyBytes: raw.length }
    }
    const source = await this.app(this.plan.source)
    const requestId = str(this.journal.get(`wrap-request:${target}`).result?.['requestId'], 'the approval request id')
    let wrapped: string
    try {
      wrapped = (await source.approvals.wrapResult(requestId)).wrapped_key
    } catch (err) {
      if (err instanceof BadRequestError && /already been read/i.test(err.message)) {
        throw stepError('WRAP_RESULT_LOST', `The appliance already gave out the result of request ${requestId}, but it never reached the media`)
      }
      throw err
    }
    const raw = Buffer.from(wrapped, 'base64')
    if (raw.length !== 256) throw stepError('WRAPPED_BLOB_INVALID', `The wrapped key is ${raw.length} bytes; an RSA-2048 transfer key gives 256`)
    // The manifest is written after the blob: a manifest on the media always describes a complete blob.
    const blob = await this.writeArtifact(blobPath, wrapped, `wrap-result:${target}`)
    await this.writeArtifact(manifestPath, JSON.stringify(this.manifest(target, blob), null, 2) + '\n', `wrap-result:${target}`)
    return { file: this.fileName(blobPath), manifest: this.fileName(manifestPath), sha256: blob.sha256, bytes: blob.bytes, wrappedKeyBytes: raw.length }
  }

  // -- 8: check the blob before loading it ----------------------------------------------------

  private async loadBlob(target: string): Promise<Record<string, Json>> {
    const written = this.journal.get(`wrap-result:${target}`).result!
    const manifest = await this.readManifest(target)
    if (manifest['blobSha256'] !== written['sha256']) throw stepError('MANIFEST_MISMATCH', 'The manifest on the media names a different blob digest than the one written')
    const blob = await readFileVerified(this.blobFile(target), str(written['sha256'], 'the blob digest')).catch((err: unknown) => {
      if (err instanceof Error && (err as { code?: string }).code === 'DIGEST_MISMATCH') throw stepError('DIGEST_MISMATCH', `The wrapped-key file on the media is not the one written (${err.message})`)
      throw err
    })
    const text = blob.toString('ascii').trim()
    const raw = Buffer.from(text, 'base64')
    if (raw.length !== 256 || raw.toString('base64') !== text) throw stepError('WRAPPED_BLOB_INVALID', 'The wrapped-key file is not a 256-byte base64 blob')
    // The key that will unwrap it must be the one on the target right now, not just the one we remember.
    const onTarget = await (await this.app(target)).keys.get(str(this.journal.get(`transfer-key:${target}`).result?.['kid'], 'the transfer key id'))
    const live = onTarget.pub_key ? spkiSha256(publicKeyDerFromBase64(onTarget.pub_key)) : ''
    if (manifest['transferKeyFingerprint'] !== live || live !== this.transferFingerprint(target)) {
      throw stepError('TRANSFER_KEY_CHANGED', `The manifest's transfer-key fingerprint does not match the key on ${this.label(target)}`)
    }
    if (manifest['ceremonyId'] !== this.plan.id || manifest['target'] !== target) throw stepError('MANIFEST_MISMATCH', 'The manifest is for another ceremony or target')
    return { sha256: str(written['sha256'], 'digest'), manifestFingerprint: String(manifest['transferKeyFingerprint']), liveFingerprint: live, wrappedKeyBytes: raw.length }
  }

  // -- 11: fetch the unwrapped CMK and prove it is the same key -------------------------------

  private async fetchUnwrapResult(target: string): Promise<Record<string, Json>> {
    const app = await this.app(target)
    const sourceKcv = str(this.journal.get('preflight').result?.['cmkKcv'], 'the source KCV')
    const requestId = str(this.journal.get(`unwrap-request:${target}`).result?.['requestId'], 'the approval request id')
    // The appliance creates the key when the quorum is reached; the result tells us which key it made.
    // If that answer was lost (a crash, or an appliance that gives a result once), find the key by name.
    let cmk: Sobject | null
    try {
      cmk = await app.approvals.unwrapResult(requestId)
    } catch (err) {
      if (!(err instanceof BadRequestError || err instanceof DsmError && err.code === 'OUTCOME_UNKNOWN')) throw err
      cmk = await app.keys.findByName(this.plan.cmk.name)
      if (!cmk) throw err
      this.note(`unwrap-result:${target}`, `the result of request ${requestId} could not be read again; found the CMK it created by name (kid ${cmk.kid})`)
    }
    const targetKcv = cmk.kcv ?? ''
    if (targetKcv !== sourceKcv) throw stepError('KCV_MISMATCH', `KCV on ${this.label(target)} is ${targetKcv || 'missing'}; on ${this.label(this.plan.source)} it is ${sourceKcv}`)
    return { kid: cmk.kid, kcvTarget: targetKcv, kcvSource: sourceKcv, match: true }
  }

  // -- 12: delete both transfer keys, confirm, and diff the inventories -----------------------

  private async cleanup(target: string): Promise<Record<string, Json>> {
    const t = await this.app(target)
    const s = await this.app(this.plan.source)
    const targetKid = str(this.journal.get(`transfer-key:${target}`).result?.['kid'], 'the transfer key id')
    const sourceKid = str(this.journal.get(`import-pubkey:${target}`).result?.['kid'], 'the imported key id')
    for (const [app, kid] of [[t, targetKid], [s, sourceKid]] as const) {
      await app.keys.delete(kid).catch((err: unknown) => {
        if (!(err instanceof NotFoundError)) throw err // already gone (e.g. deleted before an interruption)
      })
      const gone = await app.keys.get(kid).then(() => false, (err: unknown) => {
        if (err instanceof NotFoundError) return true
        throw err
      })
      if (!gone) throw stepError('TRANSFER_KEY_STILL_PRESENT', `Key ${kid} can still be read after deletion`)
    }
    const before = this.journal.get('preflight').result!['inventory'] as unknown as Record<string, InventoryItem[]>
    const cmkOnTarget = str(this.journal.get(`unwrap-result:${target}`).result?.['kid'], 'the CMK id on the target')
    const diff: Record<string, Json> = {}
    const unexpected: string[] = []
    for (const [id, app] of [[target, t], [this.plan.source, s]] as const) {
      const now = (await app.keys.list()).map((o) => ({ kid: o.kid, name: o.name ?? '', type: o.obj_type }))
      const was = new Set((before[id] ?? []).map((o) => o.kid))
      const is = new Set(now.map((o) => o.kid))
      const added = now.filter((o) => !was.has(o.kid))
      const removed = (before[id] ?? []).filter((o) => !is.has(o.kid))
      diff[id] = { added: added.map((o) => `${o.name} (${o.type})`), removed: removed.map((o) => `${o.name} (${o.type})`) }
      // Only the CMK may appear: on the target by this transfer, on the source if this ceremony created it.
      const createdOnSource = this.plan.cmk.create && this.journal.get('create-cmk').state === 'done' ? [str(this.journal.get('create-cmk').result?.['kid'], 'the created CMK id')] : []
      const expectedAdded = id === target ? [cmkOnTarget] : createdOnSource
      if (added.map((o) => o.kid).sort().join() !== expectedAdded.join() || removed.length > 0) unexpected.push(this.label(id))
    }
    if (unexpected.length > 0) {
      // Accepted only against an exception recorded at this step, which then stands in the record.
      const exception = this.log.entries().filter((e) => e.kind === 'exception' && e.step === `cleanup:${target}`).at(-1)
      if (!exception) {
        this.journal.progress(`cleanup:${target}`, { transferKeysDeleted: true, inventoryDiff: diff })
        throw stepError('INVENTORY_CHANGED', `Besides the CMK, objects changed on ${unexpected.join(' and ')} during the ceremony`)
      }
      this.note(`cleanup:${target}`, `the inventory change on ${unexpected.join(' and ')} was accepted with the exception recorded at entry ${exception.seq}`)
      return { transferKeysDeleted: true, deleted: [targetKid, sourceKid], inventoryDiff: diff, inventoryChanged: true, acceptedWithException: exception.seq }
    }
    return { transferKeysDeleted: true, deleted: [targetKid, sourceKid], inventoryDiff: diff }
  }

  // -- 14: close -----------------------------------------------------------------------------

  private async close(): Promise<Record<string, Json>> {
    const summary: Record<string, Json> = {}
    for (const target of this.plan.targets) {
      const unwrap = this.journal.get(`unwrap-result:${target}`)
      summary[target] = unwrap.state === 'skipped' ? 'already replicated' : unwrap.result?.['kcvTarget'] ?? null
    }
    for (const [id, session] of this.sessions) {
      await session.logout().catch(() => undefined)
      this.sessions.delete(id)
    }
    return { kcvByTarget: summary, sourceKcv: this.sourceKcv() }
  }

  /** Seals the record into the state folder once the close step is done. */
  async sealRecord(): Promise<{ path: string; record: CeremonyRecord }> {
    const record = this.buildRecord()
    const path = join(this.options.stateDir, `${this.plan.id}${this.plan.mode === 'rehearsal' ? '-REHEARSAL' : ''}-record.json`)
    await writeFileAtomic(path, JSON.stringify(record, null, 2) + '\n', { overwrite: true })
    return { path, record }
  }

  // ------------------------------------------------------------------------------------------
  // Helpers

  private async app(applianceId: string): Promise<AppSession> {
    const open = this.sessions.get(applianceId)
    if (open) return open
    const key = this.options.apiKey(applianceId)
    if (!key) throw stepError('API_KEY_MISSING', `No API key has been entered for ${this.label(applianceId)}`)
    const session = await AppSession.open(this.options.connect(applianceOf(this.plan, applianceId)), key)
    this.sessions.set(applianceId, session)
    return session
  }

  private parsePublicKey(pem: string) {
    try {
      return parseTransferPublicKeyPem(pem)
    } catch (err) {
      if (err instanceof KeyFormatError) throw stepError('KEY_REFUSED', `${err.message} (${err.code})`)
      throw err
    }
  }

  /**
   * Writes an artifact (never overwriting) and logs it. A file already there with exactly these bytes
   * was written by an earlier attempt that died before recording it: it is adopted, and logged once.
   */
  private async writeArtifact(path: string, data: string, step: string): Promise<{ sha256: string; bytes: number }> {
    let written: { sha256: string; bytes: number }
    try {
      written = await writeFileAtomic(path, data)
    } catch (err) {
      if ((err as { code?: string }).code !== 'TARGET_EXISTS') throw err
      const expected = createHash('sha256').update(data).digest('hex')
      // A different file under our name is refused as it is: never overwritten, never adopted.
      await readFileVerified(path, expected).catch(() => Promise.reject(err))
      written = { sha256: expected, bytes: Buffer.byteLength(data) }
      this.note(step, `found ${this.fileName(path)} written before the interruption, byte for byte as expected; adopted`)
    }
    const name = this.fileName(path)
    const logged = this.log.entries().some((e) => e.kind === 'artifact' && e.facts['name'] === name && e.facts['sha256'] === written.sha256)
    if (!logged) await this.log.append({ actor: this.options.operator, step, kind: 'artifact', facts: { name, sha256: written.sha256, bytes: written.bytes } })
    this.options.boundary?.(step, 'after-artifact')
    return written
  }

  private fileName(path: string): string {
    return path.slice(this.options.mediaDir.length + 1)
  }

  private label(id: string): string {
    return this.plan.appliances.find((a) => a.id === id)?.label ?? id
  }

  private checkConfirmation(stepId: string, typed: string | undefined): void {
    const expected = this.expectedConfirmation(stepId)
    if (expected === null) return
    if (!typed) throw stepError('CONFIRMATION_REQUIRED', `${this.def(stepId).confirmation!.prompt}.`)
    if (typed.trim().toUpperCase() !== expected) throw stepError('CONFIRMATION_WRONG', 'The confirmation does not match this run; nothing was done.')
  }

  private note(stepId: string, finding: string): void {
    this.findings.push({ stepId, finding })
    void this.log.append({ actor: 'engine', step: stepId, kind: 'reconcile', facts: { finding } }).catch(() => undefined)
  }

  /** A crash between "journal done" and "log done" leaves a done step without its entry; write it now. */
  private async backfillDoneEntries(): Promise<void> {
    const logged = new Set(this.log.entries().filter((e) => e.kind === 'step-done' || e.kind === 'approval').map((e) => e.step))
    for (const def of this.steps) {
      const r = this.journal.get(def.id)
      if (r.state === 'done' && !logged.has(def.id)) {
        await this.log.append({ actor: 'engine', step: def.id, kind: APPROVAL_KINDS.has(def.kind) ? 'approval' : 'step-done', facts: { ...(r.result ?? {}), recovered: true } })
      }
    }
  }

  /** Once the close step has run the log is sealed: the digest read aloud must stay the record's digest. */
  private assertOpen(): void {
    if (this.isComplete()) throw stepError('CEREMONY_CLOSED', 'This ceremony is closed and its record sealed')
  }

  private changed(): void {
    this.options.onChange?.()
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.busy.then(fn, fn)
    this.busy = run.catch(() => undefined)
    return run
  }
}

export { DsmError }

/**
 * Custodians at the approval steps (design §6, "approvals bound to what was shown"). The view a
 * custodian reads is built from the request exactly as the appliance returns it: the operation, and
 * the keys it names looked up by kid on the appliance (fingerprints computed from the `pub_key` the
 * appliance holds). Its digest is logged once per request, and every decision carries the request
 * id and the digest of the view its custodian saw. A decision on a view that is no longer current
 * is refused (VIEW_STALE), as is an approver the plan does not name for that appliance.
 */
import { UserSession, isExpired, type ApprovalRequest, type DsmConnection } from '../dsm'
import { canonicalJson, sha256Hex, type AuditLog } from '../evidence'
import { CeremonyError, errorCode } from '../errors'
import { checkStillOurs, RequestResult } from './approval'
import { ENTRY } from './entry-kinds'
import { isTransient } from './error-codes'
import type { Journal } from './journal'
import { applianceOf, type Plan } from './plan-envelope'
import type { StepRunner } from './runner'
import { itemsForLog, type AnyStep, type ApprovalFacts } from './step'

export interface Decision {
  user: string
  decision: 'approve' | 'deny'
  at: string
  viewDigest: string
  reason: string | null
}

export interface DeskEntry {
  request: ApprovalRequest
  expired: boolean
  facts: ApprovalFacts
  viewDigest: string
  /** Quorum of the appliance's group: n of m, and whether approving asks for the password. */
  quorum: { n: number; of: number; requirePassword: boolean }
  decisions: Decision[]
}

export interface DecideInput {
  user: string
  password: Buffer
  decision: 'approve' | 'deny'
  requestId: string
  viewDigest: string
  reason?: string
  confirmation?: string
}

export interface DeskDeps {
  plan: Plan
  journal: Journal
  log: AuditLog
  runner: StepRunner
  now: () => Date
  /** A new connection on every call: the session it is made for owns it and closes it when it ends. */
  connect(applianceId: string): DsmConnection
  poll: { initialIntervalMs: number; maxIntervalMs: number }
  /** Called whenever what the screens show has changed. */
  changed(): void
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer)
      resolve()
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

export class ApprovalDesk {
  private readonly entries = new Map<string, DeskEntry>()
  private readonly watchers = new Map<string, { abort: AbortController; done: Promise<void> }>()
  /** When each step's request was last read from the appliance (a view built, a decision answered, a poll). */
  private readonly readAt = new Map<string, number>()

  constructor(private readonly deps: DeskDeps) {}

  entry(stepId: string): DeskEntry | undefined {
    return this.entries.get(stepId)
  }

  /** Reads the request and (re)builds the view custodians see; logs the view the first time it is shown. */
  async refresh(step: AnyStep): Promise<DeskEntry> {
    const binding = step.approval!
    const ctx = this.deps.runner.context(step)
    const opened = ctx.get(binding.request) as RequestResult
    const app = await ctx.app(binding.appliance)
    const snap = await app.approvals.snapshot(opened.requestId)
    checkStillOurs(snap.request, opened)
    const facts = await binding.describe(ctx, snap.request)
    const quorum = binding.quorum(ctx)
    const shown = { requestId: opened.requestId, appliance: binding.appliance, method: snap.request.method, operation: snap.request.operation, bodySha256: opened.bodySha256, facts, quorum: { n: quorum.n, of: quorum.of } }
    const viewDigest = sha256Hex(canonicalJson(shown))
    const previous = this.entries.get(step.id)
    const entry: DeskEntry = {
      request: snap.request, expired: snap.request.status === 'PENDING' && isExpired(snap.request, snap.serverDate), facts, viewDigest,
      quorum: { n: quorum.n, of: quorum.of, requirePassword: quorum.requirePassword },
      decisions: previous?.request.request_id === opened.requestId ? previous.decisions : [],
    }
    this.entries.set(step.id, entry)
    this.readAt.set(step.id, Date.now())
    const logged = this.deps.log.entries().some((e) => e.kind === ENTRY.approvalView && e.facts['viewDigest'] === viewDigest)
    if (!logged) await this.deps.log.append({ actor: 'engine', step: step.id, kind: ENTRY.approvalView, facts: { viewDigest, ...shown, facts: { items: itemsForLog(facts.items), checks: facts.checks } } })
    this.deps.changed()
    return entry
  }

  /**
   * The view for the request the step's journal names now: built (read from the appliance) only if
   * there is none for that request yet. A decision rebuilds it itself, from a fresh read, right
   * before it is sent; the step run after the decision needs no second copy.
   */
  async ensure(step: AnyStep): Promise<DeskEntry> {
    const opened = this.deps.runner.context(step).find(step.approval!.request)
    const entry = this.entries.get(step.id)
    if (entry && opened && entry.request.request_id === opened.requestId) return entry
    return this.refresh(step)
  }

  /** A custodian signs in with their own DSM user and approves or denies, bound to the view they saw. */
  async decide(step: AnyStep, input: DecideInput): Promise<DeskEntry> {
    const binding = step.approval!
    const custodians = this.deps.plan.participants.custodians[binding.appliance] ?? []
    if (!custodians.includes(input.user)) {
      throw new CeremonyError('APPROVER_NOT_IN_PLAN', `"${input.user}" is not a custodian of ${applianceOf(this.deps.plan, binding.appliance).label} in this plan`)
    }
    const current = await this.refresh(step)
    if (input.requestId !== current.request.request_id || input.viewDigest !== current.viewDigest) {
      throw new CeremonyError('VIEW_STALE', 'The request changed since this screen showed it. Read the request again before deciding.')
    }
    if (current.request.status !== 'PENDING' || current.expired) throw new CeremonyError('APPROVAL_CLOSED', `Request ${current.request.request_id} is no longer waiting for decisions`)
    if (current.decisions.some((d) => d.user === input.user)) throw new CeremonyError('ALREADY_DECIDED', `${input.user} has already decided on this request`)
    const quorum = binding.quorum(this.deps.runner.context(step))
    const requestId = current.request.request_id
    const facts = { requestId, appliance: binding.appliance, decision: input.decision, user: input.user, viewDigest: current.viewDigest, ...(input.reason ? { reason: input.reason } : {}) }
    // Logged before the appliance is asked, like every act: no audit entry, no decision.
    await this.deps.log.append({ actor: input.user, step: step.id, kind: ENTRY.approvalIntent, facts })
    const session = await UserSession.login(this.deps.connect(binding.appliance), { username: input.user, password: Buffer.from(input.password), accountId: quorum.acctId }, { ownsConnection: true })
    const password = quorum.requirePassword ? Buffer.from(input.password) : undefined
    try {
      const request = input.decision === 'approve'
        ? await session.approvals.approve(requestId, password ? { password } : {})
        : await session.approvals.deny(requestId, input.reason ?? 'denied in the DSM Key Ceremony app')
      await this.deps.log.append({ actor: input.user, step: step.id, kind: input.decision === 'approve' ? ENTRY.approval : ENTRY.denial, facts: { ...facts, status: request.status, via: 'in-app' } })
      current.request = request
      this.readAt.set(step.id, Date.now())
      current.decisions.push({ user: input.user, decision: input.decision, at: this.deps.now().toISOString(), viewDigest: current.viewDigest, reason: input.reason ?? null })
    } finally {
      password?.fill(0)
      await session.logout().catch(() => undefined)
    }
    this.deps.changed()
    return current
  }

  /**
   * Polls the request in the background until it is decided (then `onDecided` runs the step to
   * completion or failure). An appliance that stops answering for a while does not end the wait:
   * polling backs off (up to 10 s) and carries on, so approvals made in the DSM UI are still seen.
   * The first poll comes one interval after the wait starts (the step has just read the request),
   * and a poll is skipped while the request was read more recently than the interval (custodians
   * deciding in the app): every request to an appliance shares its one connection, so a redundant
   * poll would hold up the decision behind it.
   */
  watch(step: AnyStep, onDecided: () => Promise<void>): Promise<void> {
    const existing = this.watchers.get(step.id)
    if (existing) return existing.done
    const abort = new AbortController()
    const done = (async () => {
      let interval = this.deps.poll.initialIntervalMs
      let gap = interval // the wait before the poll now due
      let outage = 1000
      await abortableSleep(gap, abort.signal)
      while (!abort.signal.aborted) {
        try {
          const since = Date.now() - (this.readAt.get(step.id) ?? 0)
          if (since < gap) {
            await abortableSleep(gap - since, abort.signal)
            continue
          }
          const entry = this.entries.get(step.id) ?? (await this.refresh(step))
          const app = await this.deps.runner.context(step).app(step.approval!.appliance)
          const snap = await app.approvals.snapshot(entry.request.request_id)
          this.readAt.set(step.id, Date.now())
          entry.request = snap.request
          entry.expired = snap.request.status === 'PENDING' && isExpired(snap.request, snap.serverDate)
          this.deps.changed()
          if (snap.request.status !== 'PENDING' || entry.expired) {
            if (!abort.signal.aborted) await onDecided()
            return
          }
          gap = interval
          await abortableSleep(gap, abort.signal)
          interval = Math.min(interval * 2, this.deps.poll.maxIntervalMs)
          outage = 1000
        } catch (err) {
          if (abort.signal.aborted) return
          if (!isTransient(errorCode(err, ''))) {
            await onDecided().catch(() => undefined)
            return
          }
          await abortableSleep(outage, abort.signal)
          outage = Math.min(outage * 2, 10_000)
        }
      }
    })().finally(() => this.watchers.delete(step.id))
    this.watchers.set(step.id, { abort, done })
    return done
  }

  /**
   * A fresh request for the same operation (after DENIED, FAILED, expiry or a lost result). A request
   * still open could yet be approved and executed: it is denied or let expire first.
   */
  async restart(approval: AnyStep, opts: { operator: string; reasonFrom: string }): Promise<void> {
    const { resets, request, appliance } = approval.approval!
    if (this.deps.journal.get(resets.at(-1)!).state === 'done') throw new CeremonyError('STEP_OUT_OF_ORDER', 'The result was already fetched; there is nothing to approve again')
    const ctx = this.deps.runner.context(approval)
    const opened = ctx.find(request)
    if (opened) {
      const snap = await (await ctx.app(appliance)).approvals.snapshot(opened.requestId).catch(() => null)
      const entry = this.entries.get(approval.id)
      const expired = (entry?.request.request_id === opened.requestId && entry.expired) || this.deps.journal.get(approval.id).error?.code === 'APPROVAL_EXPIRED'
      if (snap?.request.status === 'PENDING' && !expired) {
        throw new CeremonyError('APPROVAL_STILL_PENDING', `Request ${opened.requestId} is still waiting for decisions; deny it (or let it expire) before opening a fresh one`)
      }
    }
    const reason = this.deps.journal.get(opts.reasonFrom).error?.code ?? this.deps.journal.get(approval.id).error?.code ?? 'operator'
    await this.deps.log.append({ actor: opts.operator, step: opts.reasonFrom, kind: ENTRY.approvalRestart, facts: { previousRequestId: opened?.requestId ?? null, reason } })
    this.forget(approval.id)
    this.deps.journal.reset(resets)
    this.deps.changed()
  }

  /** Stops waiting and forgets the view (a fresh request starts a new one). */
  forget(stepId: string): void {
    this.stop(stepId)
    this.entries.delete(stepId)
    this.readAt.delete(stepId)
  }

  stop(stepId: string): void {
    this.watchers.get(stepId)?.abort.abort()
    this.watchers.delete(stepId)
  }

  stopAll(): void {
    for (const id of [...this.watchers.keys()]) this.stop(id)
  }
}

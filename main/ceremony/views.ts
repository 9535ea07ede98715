/**
 * What the renderer is shown of a ceremony, built from the plan, the kind and what each step
 * declares: plan summary, step views, the approval view, the board. Views only: no key material,
 * no secret, no file path. Values that are read aloud come in one canonical form everywhere.
 */
import type { ApprovalView, CeremonySnapshot, DigestView, PlanSummary, ScriptView, StepView } from '../../preload/contract'
import { fingerprintDisplay } from '../keys'
import type { CeremonyEngine } from './engine'
import { ENTRY } from './entry-kinds'
import { recoveryFor } from './error-codes'
import { guidanceFor } from './errors'
import { labelOf, planDigest, type Plan } from './plan'
import { describeMaterials } from './materials'
import { kindOf } from './registry'
import type { ScriptedStep } from './kind'
import { isMultiSite, orderForStations, tripsOf } from './stations'
import type { AnyStep, EvidenceItem } from './step'
import { typedFrom } from './step-input'
import { scriptDigest, scriptSteps } from './script'
import { approversOf, breakInProgress, participantsOf, presentNow, witnessesOf } from './witnessing'

export function digestView(hex: string): DigestView {
  const d = fingerprintDisplay(hex)
  return { hex: d.hex, hexGroups: d.hexGroups, words: d.words }
}

/** Fingerprints, digests and KCVs are shown in one canonical form everywhere: lowercase hex in groups, with words. */
function valueView(hex: string): DigestView {
  return digestView(hex.toLowerCase())
}

function itemView(i: EvidenceItem): StepView['evidence'][number] {
  return i.format === 'text' ? { label: i.label, value: i.value } : { label: i.label, value: i.value.toLowerCase(), digest: valueView(i.value) }
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '')

export function planSummary(plan: Plan): PlanSummary {
  const kind = kindOf(plan)
  const roles = kind.roles(plan)
  return {
    kind: plan.kind, kindTitle: kind.title, id: plan.id, title: plan.title, mode: plan.mode, digest: digestView(planDigest(plan)),
    appliances: plan.appliances.map((a) => ({ id: a.id, label: a.label, host: a.host, port: a.port, spkiSha256: a.trust.spkiSha256 ?? null, hasCa: a.trust.caPem !== undefined, role: roles[a.id] ?? '—' })),
    details: [...kind.describe(plan), ...describeMaterials(plan)],
    participants: { operator: plan.participants.operator, custodians: plan.participants.custodians, witnesses: witnessesOf(plan).map((w) => w.name) },
    cameras: (plan.cameras ?? []).map((c) => ({ id: c.id, label: c.label, films: c.films })),
    json: JSON.stringify(plan, null, 2),
    ...(kind.buildsOn ? { buildsOn: kind.buildsOn(plan).map(digestView) } : {}),
    ...(isMultiSite(plan) ? { trips: tripsWithTitles(plan) } : {}),
  }
}

/** The step Begin runs: the plan's first, in the order the engine runs them (kinds begin differently: replace-appliance with its onboarding). */
export function beginStepOf(plan: Plan): string {
  return orderForStations(plan, kindOf(plan).steps(plan))[0]!.id
}

/** The plan review shows the trips before the ceremony: each leg, its station and its steps in words. */
function tripsWithTitles(plan: Plan): NonNullable<PlanSummary['trips']> {
  const steps = orderForStations(plan, kindOf(plan).steps(plan))
  const title = new Map(steps.map((s) => [s.id, s.text.title]))
  return tripsOf(plan, steps).map((t) => ({ n: t.n, station: t.station, stationLabel: t.stationLabel, steps: t.steps.map((id) => title.get(id) ?? id) }))
}

/** One line per group of steps, with the kind's outcome for it. */
export function boardOf(engine: CeremonyEngine, steps: StepView[]): CeremonySnapshot['groups'] {
  const results = engine.results()
  return engine.kind.groups(engine.plan).map((g) => {
    const own = steps.filter((s) => s.group === g.id)
    const finished = (s: StepView) => s.state === 'done' || s.state === 'skipped'
    const state = own.some((s) => s.state === 'failed') ? 'failed' : own.every(finished) ? 'done' : own.some((s) => s.state !== 'pending') ? 'running' : 'pending'
    return { id: g.id, label: g.label, state, outcome: engine.kind.groupOutcome(engine.plan, g.id, results), done: own.filter(finished).length, total: own.length }
  })
}

export function stepView(engine: CeremonyEngine, step: ScriptedStep): StepView {
  const rec = engine.record(step.id)
  const signoff = engine.witnesses.status(step)
  const entries = engine.logEntries().filter((e) => e.step === step.id)
  const evidence = engine.evidence(step.id)
  const confirmation = engine.confirmationOf(step.id)
  const siblings = engine.steps.filter((s) => s.group === step.group)
  return {
    id: step.id, scriptId: step.scriptId, name: step.name, number: siblings.indexOf(step) + 1, group: step.group, interaction: step.interaction, seals: step === engine.steps.at(-1),
    where: step.text.where, title: step.text.title, explain: step.text.explain,
    state: rec.state === 'intent' ? 'running' : rec.state, startedAt: rec.startedAt, finishedAt: rec.finishedAt,
    confirmation: step.confirmation && rec.state !== 'done'
      ? { prompt: step.confirmation.prompt, length: 4, label: step.confirmation.label, value: confirmation ? valueView(confirmation.value) : null }
      : null,
    input: inputView(engine, step),
    evidence: (evidence?.items ?? []).map(itemView),
    comparisons: (evidence?.comparisons ?? []).map((c) => ({ label: c.label, left: { label: c.left.label, value: valueView(c.left.value) }, right: { label: c.right.label, value: valueView(c.right.value) }, match: c.match })),
    approval: approvalView(engine, step),
    witnessItems: step.text.witnessItems,
    signoffs: entries.filter((e) => e.kind === ENTRY.witnessSignoff && e.facts['attempt'] === engine.witnesses.signedAttempt(step))
      .map((e) => ({ witness: str(e.facts['witness']), at: e.ts, items: (e.facts['items'] as string[]) ?? [], simulated: e.facts['simulated'] === true })),
    signoff: signoff ? { required: signoff.required, complete: signoff.complete, waivedBy: signoff.waivedBy?.by ?? null } : null,
    exceptions: entries.filter((e) => e.kind === ENTRY.exception).map((e) => ({ by: str(e.facts['by']), at: e.ts, note: str(e.facts['note']), waivesSignoff: e.facts['waivesSignoff'] === true })),
    error: rec.state === 'failed' && rec.error ? { ...rec.error, ...guidanceFor(rec.error.code, engine.plan.kind), recovery: recoveryFor(rec.error.code) } : null,
  }
}

/** A step's fields; a rehearsal shows what the simulated item shows, a production plan never its expected values. */
function inputView(engine: CeremonyEngine, step: AnyStep): StepView['input'] {
  if (!step.input) return null
  const rec = engine.record(step.id)
  const rehearsal = engine.plan.mode === 'rehearsal'
  return {
    fields: step.input.fields.map((f) => ({ id: f.id, group: f.group, label: f.label, hint: f.hint, format: f.format, options: f.options ?? null, twice: f.twice === true, simulatedShows: rehearsal ? f.rehearsal : null })),
    earlier: rec.attempts > 0 ? typedFrom(rec.intent) : null,
  }
}

function approvalView(engine: CeremonyEngine, step: AnyStep): ApprovalView | null {
  const entry = step.approval ? engine.approvalEntry(step.id) : undefined
  if (!step.approval || !entry) return null
  const request = entry.request
  const decisions = (d: 'approve' | 'deny') => entry.decisions.filter((x) => x.decision === d)
  const appliance = step.approval.appliance
  return {
    requestId: request.request_id, appliance, applianceLabel: labelOf(engine.plan, appliance), operation: `${request.method} ${request.operation}`,
    status: entry.expired ? 'EXPIRED' : request.status,
    quorum: { n: entry.quorum.n, of: entry.quorum.of },
    // Approvals given in the app carry the custodian's name; ones given in the DSM UI show the user id DSM reports.
    approvals: [
      ...decisions('approve').map((d) => ({ user: d.user, at: d.at })),
      ...request.approvers.slice(decisions('approve').length).map((a) => ({ user: `DSM user ${String(Object.values(a)[0] ?? '?').slice(0, 8)}… (in the DSM UI)`, at: '' })),
    ],
    denials: decisions('deny').map((d) => ({ user: d.user, at: d.at, reason: d.reason })),
    expiresAt: request.expiry ?? null,
    requirePassword: entry.quorum.requirePassword,
    description: request.description ?? '',
    facts: entry.facts.items.map(itemView),
    checks: entry.facts.checks,
    viewDigest: entry.viewDigest,
    custodians: engine.plan.participants.custodians[appliance] ?? [],
  }
}

/** Everyone the plan names, with their role and whether the attendance log has them in the room. */
export function peopleOf(plan: Plan, engine: CeremonyEngine | null, pendingArrivals: ReadonlySet<string>): CeremonySnapshot['people'] {
  const present = engine ? presentNow(engine.logEntries()) : pendingArrivals
  return participantsOf(plan).map((p) => ({ ...p, present: present.has(p.name) }))
}

/** The ceremony script, from the plan alone: every step in order, by the id it is read aloud by. */
export function scriptOf(plan: Plan): ScriptView {
  const rule = plan.witnessing?.signersPerStep ?? 'all-present'
  // The order the engine runs them in (across sites, the stations' legs): the digest approvers sign is the engine's.
  const steps = orderForStations(plan, kindOf(plan).steps(plan))
  return {
    plan: planSummary(plan),
    steps: scriptSteps(steps),
    witnesses: witnessesOf(plan).map((w) => w.name),
    signersPerStep: rule === 'all-present' ? 'every witness present (at least one)' : `${rule} witness(es)`,
    digest: digestView(scriptDigest(planDigest(plan), steps)),
    approvers: approversOf(plan).map((a) => a.name),
  }
}

/** Who approved the plan and its script (when the plan names approvers), and the break in progress. */
export function approvalAndBreakOf(plan: Plan | null, engine: CeremonyEngine | null): Pick<CeremonySnapshot, 'scriptApproval' | 'onBreak'> {
  if (!engine) {
    // Before the ceremony opens, the approvers the plan names have signed nothing yet: the screen asks for them.
    const named = plan ? approversOf(plan) : []
    if (!plan || named.length === 0) return { scriptApproval: null, onBreak: null }
    return { scriptApproval: { digest: scriptOf(plan).digest, approvers: named.map((a) => ({ name: a.name, signed: false })) }, onBreak: null }
  }
  const approvers = approversOf(engine.plan)
  const pending = new Set(engine.witnesses.approversStillToSign())
  return {
    scriptApproval: approvers.length === 0 ? null : { digest: digestView(engine.witnesses.scriptDigest()), approvers: approvers.map((a) => ({ name: a.name, signed: !pending.has(a.name) })) },
    onBreak: breakInProgress(engine.logEntries()),
  }
}

/** The register with each line's script id ("T2.7"), as the screens and the printed record read it. */
export function deviationRegisterOf(plan: Plan | null, engine: CeremonyEngine | null): CeremonySnapshot['deviations'] {
  const keeper = plan?.participants.internalWitness ?? null
  if (!engine) return { keeper, lines: [], allowers: [], witnessesPresent: [] }
  const scriptIds = new Map(engine.steps.map((s) => [s.id, s.scriptId]))
  const present = presentNow(engine.logEntries())
  return {
    keeper,
    lines: engine.witnesses.deviations().map((d) => ({ ...d, scriptId: d.scriptId ?? scriptIds.get(d.step) ?? null })),
    allowers: engine.witnesses.allowers().filter((n) => present.has(n)),
    witnessesPresent: witnessesOf(engine.plan).map((w) => w.name).filter((n) => present.has(n)),
  }
}

/**
 * How a ceremony engine (engine.ts) comes to be: its state folder opened under the lock, the
 * station's turn checked, the entry that says the ceremony opened or resumed, the temporary files an
 * interrupted write left behind reported, and the parts the engine drives wired from its options
 * (the DSM sessions, the step runner, the approval desk, the witness desk). Separate from the engine
 * because it runs once, before any action, and decides who gets which option; the engine is the
 * protocol of the actions. A failure anywhere in the opening, the engine's own part included,
 * releases the lock and is named (state-files.ts).
 */
import type { AuditLog } from '../evidence'
import { ApprovalDesk } from './approval-desk'
import { CeremonySessions } from './ceremony-sessions'
import type { EngineOptions } from './engine-options'
import { ENTRY } from './entry-kinds'
import type { Journal } from './journal'
import type { CeremonyKind, ScriptedStep } from './kind'
import { holdMadeKeyOnce } from './made-keys'
import { applianceOf, type Plan } from './plan-envelope'
import { planDigest } from './plan'
import { kindOf } from './registry'
import { StepRunner, type Finding } from './runner'
import type { StateLock } from './state-lock'
import type { AnyStep } from './step'
import { acquireStateLock, namedStateError, openCeremonyState } from './state-files'
import { checkStationMayOpen, orderForStations } from './station-guard'
import { WitnessDesk } from './witness-desk'

/** The engine's clock: the options' (tests), or the wall clock. */
export function clockOf(options: EngineOptions): () => Date {
  return options.now ?? (() => new Date())
}

/** A ceremony is complete once its last step is done: its log is sealed then. */
export function completeIn(journal: Journal, steps: readonly AnyStep[]): boolean {
  const last = steps.at(-1)
  return last !== undefined && journal.get(last.id).state === 'done'
}

/** The state folder as opened, held under its lock, with what opening it found to report. */
export interface OpenedFolder {
  steps: ScriptedStep[]
  journal: Journal
  log: AuditLog
  lock: StateLock
  /** Temporary files removed at the opening, already logged (reconcile entries). */
  findings: Finding[]
}

/**
 * Opens (or re-opens) the ceremony's state folder under its lock (STATE_LOCKED while another runner
 * holds it) and logs the opening; `finish` builds the engine on it. Anything failing releases the lock.
 */
export async function openEngineFolder<E>(options: EngineOptions, finish: (opened: OpenedFolder) => Promise<E>): Promise<E> {
  const steps = orderForStations(options.plan, kindOf(options.plan).steps(options.plan))
  const now = clockOf(options)
  const lock = acquireStateLock(options.stateDir, now)
  try {
    const digest = planDigest(options.plan)
    const { journal, log, resuming, removedTempFiles } = await openCeremonyState({
      stateDir: options.stateDir, mediaDir: options.mediaDir, plan: options.plan, planDigest: digest,
      stepIds: steps.map((s) => s.id), openJournalStore: options.openJournalStore, now, ...options.stateFaults,
    })
    // Stations: a log that ends in a hand-off, or a later leg's station with no log, waits for the media.
    if (options.station) checkStationMayOpen(options.plan, options.station, steps, log.entries())
    const facts = {
      ceremonyId: options.plan.id, kind: options.plan.kind, title: options.plan.title, mode: options.plan.mode, planDigest: digest,
      ...(options.software ? { software: { ...options.software } } : {}), ...(options.station ? { station: options.station } : {}),
    }
    // A closed ceremony (complete, or stopped) is opened only to show its record: its log was sealed
    // and its final digest read aloud, so nothing is appended to it, not even that it was opened.
    const closed = resuming && (completeIn(journal, steps) || log.entries().some((e) => e.kind === ENTRY.ceremonyAbort))
    if (!resuming) await log.append({ actor: options.operator, step: 'ceremony', kind: ENTRY.ceremonyOpen, facts })
    else if (!closed) await log.append({ actor: options.operator, step: 'ceremony', kind: ENTRY.ceremonyResume, facts: { ceremonyId: options.plan.id, ...(options.station ? { station: options.station } : {}) } })
    const findings: Finding[] = []
    for (const name of removedTempFiles) {
      const finding = `removed ${name}, a temporary file an interrupted write left behind (never a ceremony file)`
      findings.push({ stepId: 'ceremony', finding })
      if (!closed) await log.append({ actor: 'engine', step: 'ceremony', kind: ENTRY.reconcile, facts: { finding } })
    }
    return await finish({ steps, journal, log, lock, findings })
  } catch (err) {
    lock.release()
    throw namedStateError(err)
  }
}

/** What the engine drives: every DSM session of the ceremony, the step protocol, the approvals, the people's acts. */
export interface EngineParts {
  /** One session per appliance, and the named users' (ceremony-sessions.ts). */
  sessions: CeremonySessions
  runner: StepRunner
  desk: ApprovalDesk
  /** Attendance, sign-offs, exceptions: the people's side of the protocol. */
  witnesses: WitnessDesk
}

/** Wires the engine's parts from its options; `changed` tells the screens something they show has changed. */
export function engineParts(input: {
  options: EngineOptions
  kind: CeremonyKind<Plan>
  planDigest: string
  journal: Journal
  log: AuditLog
  steps: ScriptedStep[]
  changed: () => void
}): EngineParts {
  const { options, kind, journal, log, steps, changed } = input
  const plan = options.plan
  const now = clockOf(options)
  const sessions = new CeremonySessions({
    plan, connect: options.connect, apiKey: options.apiKey, signIns: kind.signIns?.(plan) ?? [], now: () => now().getTime(),
    ...(options.password ? { password: options.password } : {}),
  })
  const runner = new StepRunner({
    plan, planDigest: input.planDigest, journal, log, mediaDir: options.mediaDir, stateDir: options.stateDir,
    operator: options.operator, now, app: (id) => sessions.app(id), ...(options.boundary ? { boundary: options.boundary } : {}),
    user: (id) => sessions.user(id), records: () => options.records?.() ?? [], apiKey: (id) => sessions.apiKeyCopy(id),
    madeApiKey: (id, key, show, stepId) => holdMadeKeyOnce(options, log, options.operator, applianceOf(plan, id).label, id, key, show, stepId),
    // Only a rehearsal may take an appliance down; a production drill is the operator's, by hand.
    outage: plan.mode === 'rehearsal' ? options.outage ?? null : null,
  })
  const desk = new ApprovalDesk({
    plan, journal, log, runner, now,
    connect: (id) => options.connect(applianceOf(plan, id)),
    poll: { initialIntervalMs: options.poll?.initialIntervalMs ?? 250, maxIntervalMs: options.poll?.maxIntervalMs ?? 1000 },
    changed,
  })
  const witnesses = new WitnessDesk(plan, input.planDigest, steps, journal, log, changed)
  return { sessions, runner, desk, witnesses }
}

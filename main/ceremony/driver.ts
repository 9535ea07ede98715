/**
 * Drives a whole ceremony without a screen: the headless `ceremony run`, `ceremony rehearse` and
 * the tests. Custodian approvals come from the credentials file when it has them (rehearsal);
 * otherwise the driver waits for approvals made in the DSM UI. It knows no kind or step by name:
 * it works from what each step declares.
 */
import { CeremonyError, errorCode } from '../errors'
import type { CeremonyEngine } from './engine'
import { ENTRY } from './entry-kinds'
import { isTransient, recoveryFor } from './error-codes'
import type { ScriptedStep } from './kind'
import type { Credentials } from './simulated-plan'
import type { AnyStep } from './step'
import { INPUT_REFUSALS, askInput, isMismatchCode, needsInput, rehearsalInput, resolveAtTerminal } from './driver-input'
import { presentNow, witnessesOf } from './witnessing'

/**
 * Who signs the witness checklists. The driver never signs for anyone: in a rehearsal the simulated
 * witnesses sign (marked as simulated in the record); in production the witnesses type their name
 * and initials at the terminal, one sign-off at a time.
 */
export type Witnessing =
  | { kind: 'simulated' }
  | { kind: 'ask'; present: string[]; ask(question: string): Promise<string | null> }

export interface RunOptions {
  credentials: Credentials
  /** Supply typed confirmations automatically (rehearsal, or `--yes` for a production plan). */
  confirm: boolean
  witnessing: Witnessing
  progress?(line: string): void
  /** Stations: stop (without running it) at the first step this workstation does not run. */
  stopAt?(step: AnyStep): boolean
}

const MAX_TRANSIENT_RETRIES = 8

export async function runToCompletion(engine: CeremonyEngine, options: RunOptions): Promise<void> {
  const say = options.progress ?? (() => undefined)
  // Retries are counted per step: a flaky appliance may cost a few, but a dead one stops the run.
  let transientRetries = 0
  let retryingStep = ''
  const transient = async (code: string, stepId: string): Promise<boolean> => {
    if (stepId !== retryingStep) {
      retryingStep = stepId
      transientRetries = 0
    }
    if (!isTransient(code) || transientRetries >= MAX_TRANSIENT_RETRIES) return false
    transientRetries++
    say(`${stepId}: ${code}; checking the appliance and trying again`)
    await new Promise((r) => setTimeout(r, 200 * transientRetries))
    return true
  }
  for (const finding of await engine.resume()) say(`resumed ${finding.stepId}: ${finding.finding}`)
  await recordArrivals(engine, options.witnessing)
  // Steps whose values the operator chose to type again after a mismatch.
  const retype = new Set<string>()
  let registerRounds = 0
  const witnessing = options.witnessing
  for (;;) {
    const step = engine.currentStep()
    if (!step) return
    // A step is left only once its witnesses signed it (a station signs its own steps before it hands
    // the ceremony on); the sealing step is signed before it runs.
    const unsigned = engine.witnesses.firstUnsignedBefore(step) ?? (step === engine.steps.at(-1) && !engine.witnesses.status(step)?.complete ? step : null)
    if (unsigned) {
      await signStep(engine, unsigned, options.witnessing, say)
      continue
    }
    // The record is sealed only once every line of the deviation register is resolved.
    if (step === engine.steps.at(-1) && engine.witnesses.deviations().some((d) => !d.resolution)) {
      // Answers the desk keeps refusing (a name not entitled, wrong initials) are asked for again, a
      // few times, then the run stops by name instead of asking for ever.
      if (++registerRounds > MAX_REGISTER_ROUNDS) throw new CeremonyError('DEVIATION_UNRESOLVED', `The deviation register is still open after ${MAX_REGISTER_ROUNDS} rounds of answers: resolve it in the app, or run again`)
      await resolveDeviations(engine, options.witnessing, say)
      continue
    }
    if (options.stopAt?.(step)) return
    const record = engine.record(step.id)
    if (record.state === 'failed' && record.error) {
      // A result the appliance gives only once, lost before it was recorded: custodians approve again.
      if (record.error.code === 'RESULT_LOST') {
        say(`${step.id}: ${record.error.message}; opening a fresh approval request`)
        await engine.recordException(step.id, 'headless runner', `${record.error.message}. A fresh approval request was opened.`)
        await engine.restartApproval(step.id)
        continue
      }
      // A value read in the room differs (materials): at the terminal, type again or a witness names it.
      if (isMismatchCode(record.error.code) && witnessing.kind === 'ask') {
        if ((await resolveAtTerminal(engine, step, witnessing.ask, say)) === 'retype') retype.add(step.id)
      } else if (record.error.code === 'APPLIANCE_LOG_FINDINGS' && acknowledgedSinceRefusal(engine, step.id)) {
        // A witness recorded an exception at C.0 since its findings (in the app, or by hand): judged again.
        say(`${step.id}: exceptions recorded since the findings; the logs are judged again`)
      } else if (recoveryFor(record.error.code) === 'fresh-request' || !(await transient(record.error.code, step.id))) {
        throw new CeremonyError(record.error.code, `${step.text.title}: ${record.error.message}`)
      }
    }
    try {
      if (step.interaction === 'approval') await approve(engine, step, options, say)
      else {
        const confirmation = options.confirm ? (engine.expectedConfirmation(step.id) ?? undefined) : undefined
        // What is read in the room: the simulated room's values in a rehearsal, typed at the terminal in production.
        const typing = retype.has(step.id) || needsInput(engine, step)
        const input = !typing ? undefined : witnessing.kind === 'ask' ? await askInput(step, witnessing.ask, say) : rehearsalInput(step.input!.fields)
        retype.delete(step.id)
        await engine.runStep(step.id, { ...(confirmation === undefined ? {} : { confirmation }), ...(input ? { input } : {}) })
      }
      say(`${step.id}: ${engine.record(step.id).state}`)
    } catch (err) {
      const code = errorCode(err, '')
      // Typed values refused before anything was recorded: at the terminal, say why and ask again.
      if (INPUT_REFUSALS.has(code) && witnessing.kind === 'ask' && engine.record(step.id).state !== 'failed') {
        say(`${step.scriptId}: ${code}: ${err instanceof Error ? err.message : String(err)}`)
        retype.add(step.id)
        continue
      }
      // A refusal is in the journal; the top of the loop decides whether to retry, restart or stop.
      if (engine.record(step.id).state === 'failed') continue
      if (await transient(code, step.id)) continue
      throw err
    }
  }
}

async function approve(engine: CeremonyEngine, step: AnyStep, options: RunOptions, say: (line: string) => void): Promise<void> {
  if (engine.record(step.id).state !== 'waiting') await engine.runStep(step.id)
  if (engine.record(step.id).state !== 'waiting') return
  await approveWithCredentials(engine, step, options)
  if (engine.record(step.id).state === 'waiting') {
    say(`${step.id}: waiting for custodians to approve in the DSM UI`)
    await engine.waitForApproval(step.id)
  }
}

/** Rehearsal: the simulated custodians approve in turn, each on the view the engine shows, until the quorum is reached. */
async function approveWithCredentials(engine: CeremonyEngine, step: AnyStep, options: RunOptions): Promise<void> {
  const appliance = step.approval!.appliance
  const custodians = options.credentials.appliances.find((a) => a.id === appliance)?.custodians ?? []
  const confirmation = options.confirm ? (engine.expectedConfirmation(step.id) ?? undefined) : undefined
  for (const custodian of custodians) {
    if (engine.record(step.id).state !== 'waiting') return
    const entry = engine.approvalEntry(step.id)
    if (!entry) return
    if (entry.decisions.some((d) => d.user === custodian.user)) continue
    try {
      await engine.decideApproval(step.id, {
        user: custodian.user, password: Buffer.from(custodian.password, 'utf8'), decision: 'approve',
        requestId: entry.request.request_id, viewDigest: entry.viewDigest, ...(confirmation ? { confirmation } : {}),
      })
    } catch (err) {
      // Already approved by this custodian before an interruption, or not named in the plan: the next one carries on.
      if (['BAD_REQUEST', 'APPROVER_NOT_IN_PLAN', 'ALREADY_DECIDED'].includes(errorCode(err, ''))) continue
      throw err
    }
  }
}

/** Everyone the run says is in the room is recorded as arriving (once). */
async function recordArrivals(engine: CeremonyEngine, witnessing: Witnessing): Promise<void> {
  const plan = engine.plan
  const present = presentNow(engine.logEntries())
  const arriving = witnessing.kind === 'simulated' ? [plan.participants.operator, ...witnessesOf(plan).map((w) => w.name)] : witnessing.present
  for (const person of arriving) if (!present.has(person)) await engine.attendance(person, 'arrive', plan.participants.operator)
}

async function signStep(engine: CeremonyEngine, step: ScriptedStep, witnessing: Witnessing, say: (line: string) => void): Promise<void> {
  const items = step.text.witnessItems
  if (witnessing.kind === 'simulated') {
    const present = presentNow(engine.logEntries())
    for (const w of witnessesOf(engine.plan).filter((x) => present.has(x.name))) {
      if (engine.witnesses.status(step)?.complete) return
      if (engine.witnesses.status(step)?.signed.includes(w.name)) continue
      await engine.signOff(step.id, { witness: w.name, initials: w.initials, items, simulated: true })
    }
    return
  }
  say(`${step.scriptId} ${step.text.title}: witnesses sign its checklist:\n${items.map((i) => `  - ${i}`).join('\n')}`)
  while (!engine.witnesses.status(step)?.complete) {
    const witness = await witnessing.ask(`${step.scriptId} witness name: `)
    if (witness === null) throw new CeremonyError('WITNESS_SIGNOFF_REQUIRED', `${step.scriptId} "${step.text.title}" is not signed, and no witness answered at the terminal`)
    const initials = await witnessing.ask(`${step.scriptId} initials of ${witness.trim()}: `)
    if (initials === null) throw new CeremonyError('WITNESS_SIGNOFF_REQUIRED', `${step.scriptId} "${step.text.title}" is not signed`)
    try {
      await engine.signOff(step.id, { witness: witness.trim(), initials, items })
      say(`${step.scriptId}: signed by ${witness.trim()}`)
    } catch (err) {
      say(`${step.scriptId}: ${errorCode(err, 'REFUSED')}: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
}

/**
 * Before the seal: each open line of the deviation register is resolved. In a rehearsal the simulated
 * witnesses note it (marked simulated); in production the operator writes the resolution and who
 * allowed going on, and every witness in the room types their initials, at the terminal.
 */
const MAX_REGISTER_ROUNDS = 3

async function resolveDeviations(engine: CeremonyEngine, witnessing: Witnessing, say: (line: string) => void): Promise<void> {
  const present = presentNow(engine.logEntries())
  const here = witnessesOf(engine.plan).filter((w) => present.has(w.name))
  const by = engine.operator
  // Who allows going on, in a rehearsal: the operator the plan names for this room.
  const operators = [engine.plan.participants.operator, ...(engine.plan.stations ?? []).map((st) => st.operator)]
  const operatorHere = operators.find((o) => present.has(o)) ?? by
  for (const d of engine.witnesses.deviations().filter((x) => !x.resolution)) {
    if (witnessing.kind === 'simulated') {
      await engine.people((desk) => desk.resolveDeviation({
        deviation: d.id, resolution: 'Rehearsal: noted by the simulated witnesses; the ceremony went on as the engine recorded',
        allowedBy: operatorHere, initials: here.map((w) => ({ witness: w.name, initials: w.initials })), simulated: true,
      }, by))
      continue
    }
    say(`${d.id} (${d.ts}, ${d.step}): ${d.what}`)
    const resolution = await witnessing.ask(`${d.id} resolution: `)
    const allowedBy = resolution === null ? null : await witnessing.ask(`${d.id} allowed to go on by (name): `)
    if (resolution === null || allowedBy === null) throw new CeremonyError('DEVIATION_UNRESOLVED', `${d.id} is not resolved, and no one answered at the terminal`)
    const initials: { witness: string; initials: string }[] = []
    for (const w of here) {
      const typed = await witnessing.ask(`${d.id} initials of ${w.name}: `)
      if (typed === null) throw new CeremonyError('DEVIATION_UNRESOLVED', `${d.id} is not resolved: ${w.name} did not initial it`)
      initials.push({ witness: w.name, initials: typed })
    }
    try {
      await engine.people((desk) => desk.resolveDeviation({ deviation: d.id, resolution, allowedBy: allowedBy.trim(), initials }, by))
      say(`${d.id}: resolved`)
    } catch (err) {
      // Refused (wrong initials, not entitled …): the loop asks again for what is still open.
      say(`${d.id}: ${errorCode(err, 'REFUSED')}: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
}

/** An exception recorded at the step after its last refusal: what it names may now be acknowledged. */
function acknowledgedSinceRefusal(engine: CeremonyEngine, stepId: string): boolean {
  const entries = engine.logEntries().filter((e) => e.step === stepId)
  const refused = entries.reduce((seq, e) => (e.kind === ENTRY.stepFailed ? e.seq : seq), -1)
  return entries.some((e) => e.kind === ENTRY.exception && e.seq > refused)
}

/**
 * Drives a whole ceremony without a screen: the headless `ceremony run`, `ceremony rehearse` and
 * the tests. Custodian approvals come from the credentials file when it has them (rehearsal);
 * otherwise the driver waits for approvals made in the DSM UI. It knows no kind or step by name:
 * it works from what each step declares.
 */
import { CeremonyError, errorCode } from '../errors'
import type { CeremonyEngine } from './engine'
import { isTransient, recoveryFor } from './error-codes'
import type { Credentials } from './simulated-plan'
import type { AnyStep } from './step'

export interface RunOptions {
  credentials: Credentials
  /** Supply typed confirmations automatically (rehearsal, or `--yes` for a production plan). */
  confirm: boolean
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
  for (;;) {
    const step = engine.currentStep()
    if (!step || options.stopAt?.(step)) return
    const record = engine.record(step.id)
    if (record.state === 'failed' && record.error) {
      // A result the appliance gives only once, lost before it was recorded: custodians approve again.
      if (record.error.code === 'RESULT_LOST') {
        say(`${step.id}: ${record.error.message}; opening a fresh approval request`)
        await engine.recordException(step.id, 'headless runner', `${record.error.message}. A fresh approval request was opened.`)
        await engine.restartApproval(step.id)
        continue
      }
      if (recoveryFor(record.error.code) === 'fresh-request' || !(await transient(record.error.code, step.id))) {
        throw new CeremonyError(record.error.code, `${step.text.title}: ${record.error.message}`)
      }
    }
    try {
      if (step.interaction === 'approval') await approve(engine, step, options, say)
      else {
        const confirmation = options.confirm ? (engine.expectedConfirmation(step.id) ?? undefined) : undefined
        await engine.runStep(step.id, confirmation === undefined ? {} : { confirmation })
      }
      say(`${step.id}: ${engine.record(step.id).state}`)
    } catch (err) {
      const code = errorCode(err, '')
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

/**
 * Drives a whole ceremony without a screen: the headless `ceremony run`, `ceremony rehearse` and
 * the tests. Custodian approvals come from the credentials file when it has them (rehearsal);
 * otherwise the runner waits for approvals made in the DSM UI.
 */
import { CeremonyError, errorCode } from '../errors'
import type { Credentials } from './simulated-plan'
import { TRANSIENT_CODES as TRANSIENT, type CeremonyEngine } from './engine'

export interface RunOptions {
  credentials: Credentials
  /** Supply typed confirmations automatically (rehearsal, or `--yes` for a production plan). */
  confirm: boolean
  progress?(line: string): void
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
    if (!TRANSIENT.has(code) || transientRetries >= MAX_TRANSIENT_RETRIES) return false
    transientRetries++
    say(`${stepId}: ${code}; checking the appliance and trying again`)
    await new Promise((r) => setTimeout(r, 200 * transientRetries))
    return true
  }
  for (const finding of await engine.resume()) say(`resumed ${finding.stepId}: ${finding.finding}`)
  for (;;) {
    const step = engine.currentStep()
    if (!step) return
    const record = engine.record(step.id)
    const approval = step.kind === 'wrap-approval' || step.kind === 'unwrap-approval'
    if (record.state === 'failed' && record.error) {
      if (record.error.code === 'WRAP_RESULT_LOST') {
        say(`${step.id}: ${record.error.message}; opening a fresh approval request`)
        await engine.recordException(step.id, 'headless runner', `${record.error.message}. A fresh approval request was opened.`)
        await engine.restartApproval(step.id)
        continue
      }
      if (!(await transient(record.error.code, step.id))) throw new CeremonyError(record.error.code, `${step.title}: ${record.error.message}`)
    }
    try {
      if (approval) {
        if (engine.record(step.id).state !== 'waiting') await engine.runStep(step.id)
        if (engine.record(step.id).state === 'waiting') {
          await approveWithCredentials(engine, step.id, options)
          if (engine.record(step.id).state === 'waiting') {
            say(`${step.id}: waiting for custodians to approve in the DSM UI`)
            await engine.waitForApproval(step.id)
          }
        }
      } else {
        const confirmation = options.confirm ? (engine.expectedConfirmation(step.id) ?? undefined) : undefined
        await engine.runStep(step.id, confirmation === undefined ? {} : { confirmation })
      }
      say(`${step.id}: ${engine.record(step.id).state}`)
    } catch (err) {
      const code = errorCode(err, '')
      // A refusal is in the journal; the top of the loop decides whether to retry, restart or stop.
      if (code === 'WRAP_RESULT_LOST' || engine.record(step.id).state === 'failed') continue
      if (await transient(code, step.id)) continue
      throw err
    }
  }
}

/** Rehearsal: the simulated custodians approve in turn until the quorum is reached. */
async function approveWithCredentials(engine: CeremonyEngine, stepId: string, options: RunOptions): Promise<void> {
  const def = engine.def(stepId)
  const appliance = def.kind === 'wrap-approval' ? engine.plan.source : def.target!
  const custodians = options.credentials.appliances.find((a) => a.id === appliance)?.custodians ?? []
  const confirmation = options.confirm ? (engine.expectedConfirmation(stepId) ?? undefined) : undefined
  for (const custodian of custodians) {
    if (engine.record(stepId).state !== 'waiting') return
    if (engine.approvalState(stepId)?.approvedBy.some((a) => a.user === custodian.user)) continue
    try {
      await engine.decideApproval(stepId, { user: custodian.user, password: Buffer.from(custodian.password, 'utf8'), decision: 'approve', ...(confirmation ? { confirmation } : {}) })
    } catch (err) {
      // Already approved by this custodian before an interruption: the next one carries on.
      if ((err as { code?: string }).code === 'BAD_REQUEST') continue
      throw err
    }
  }
}

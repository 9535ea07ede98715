/**
 * Typed confirmations of irreversible steps. What is typed is derived from this run's own values
 * (the last four characters of a fingerprint or a digest shown on screen), so a confirmation cannot
 * be carried over from another run or read off the printed script.
 */
import { CeremonyError } from '../errors'
import type { AnyStep, StepContext } from './step'

export interface ExpectedConfirmation {
  /** What must be typed (compared without case). */
  expected: string
  /** What it is taken from, and that value, shown beside the box. */
  label: string
  value: string
}

export function expectedConfirmation(step: AnyStep, ctx: StepContext): ExpectedConfirmation | null {
  if (!step.confirmation) return null
  try {
    const value = step.confirmation.value(ctx)
    return { expected: value.slice(-4).toUpperCase(), label: step.confirmation.label, value }
  } catch {
    return null // what it refers to does not exist yet (an earlier step has not run)
  }
}

/** Refuses a missing or wrong confirmation before anything is done. */
export function checkTypedConfirmation(step: AnyStep, confirmation: ExpectedConfirmation | null, typed: string | undefined): void {
  if (!confirmation) return
  if (!typed) throw new CeremonyError('CONFIRMATION_REQUIRED', `${step.confirmation!.prompt}.`)
  if (typed.trim().toUpperCase() !== confirmation.expected) throw new CeremonyError('CONFIRMATION_WRONG', 'The confirmation does not match this run; nothing was done.')
}

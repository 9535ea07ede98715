/**
 * Typed confirmations before irreversible acts: the last four characters of a value this run made
 * (a transfer-key fingerprint, the plan digest), so a confirmation can only be given for this run.
 */
import { CeremonyError } from '../errors'
import type { AnyStep, StepContext } from './step'

export interface Confirming {
  expected: string
  label: string
  value: string
}

export function confirmationFor(step: AnyStep, ctx: () => StepContext): Confirming | null {
  if (!step.confirmation) return null
  try {
    const value = step.confirmation.value(ctx())
    return { expected: value.slice(-4).toUpperCase(), label: step.confirmation.label, value }
  } catch {
    return null // what it refers to does not exist yet (an earlier step has not run)
  }
}

export function checkTyped(step: AnyStep, confirming: Confirming | null, typed: string | undefined): void {
  if (!confirming) return
  if (!typed) throw new CeremonyError('CONFIRMATION_REQUIRED', `${step.confirmation!.prompt}.`)
  if (typed.trim().toUpperCase() !== confirming.expected) throw new CeremonyError('CONFIRMATION_WRONG', 'The confirmation does not match this run; nothing was done.')
}

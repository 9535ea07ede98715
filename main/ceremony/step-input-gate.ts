/**
 * The engine's gate for typed step input: what was typed is validated and checked against earlier
 * results before the step is run (a refusal here records nothing), or, when nothing new was typed,
 * the step must have journaled values from an earlier attempt to judge again.
 */
import { CeremonyError } from '../errors'
import type { StepRecord } from './journal'
import type { AnyStep, StepContext } from './step'
import { readInput, typedFrom, type Typed } from './step-input'

export function inputFor(step: AnyStep, raw: Readonly<Record<string, string>> | undefined, record: StepRecord, ctx: () => StepContext): Typed | undefined {
  if (!step.input) {
    if (raw !== undefined) throw new CeremonyError('STEP_INPUT_INVALID', `"${step.text.title}" takes no typed values. Nothing was recorded.`)
    return undefined
  }
  if (raw === undefined) {
    if (record.attempts > 0 && typedFrom(record.intent) !== null) return undefined
    throw new CeremonyError('STEP_INPUT_REQUIRED', `"${step.text.title}" needs what is read in the room to be typed first: ${step.input.fields.map((f) => `${f.group} — ${f.label}`).slice(0, 4).join('; ')}${step.input.fields.length > 4 ? ' …' : ''}`)
  }
  const typed = readInput(step.input.fields, raw)
  step.input.check?.(ctx(), typed)
  return typed
}

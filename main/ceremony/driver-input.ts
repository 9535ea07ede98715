/**
 * Typed step input for the headless run (driver.ts): what is read in the room — serial numbers,
 * tamper labels, bag numbers, who receives an item. In a rehearsal the simulated operator types
 * what the simulated chassis and bags show (each field's `rehearsal` value); in production the
 * operator types each value at the terminal, and when a value differs from the plan or the earlier
 * record the run asks whether to type again (a slip of the finger) or to have a witness record an
 * exception naming each mismatch. The run never makes a value up and never accepts one silently.
 */
import { CeremonyError } from '../errors'
import type { CeremonyEngine } from './engine'
import { ENTRY } from './entry-kinds'
import { MISMATCH } from './materials/mismatch'
import type { AnyStep } from './step'
import { again, typedFrom, type InputField } from './step-input'

export type Ask = (question: string) => Promise<string | null>

/** The refusals of typed input itself: nothing was recorded, and the operator types again. */
export const INPUT_REFUSALS: ReadonlySet<string> = new Set(['STEP_INPUT_INVALID', 'TYPED_TWICE_DIFFER', 'BAG_REUSED'])

export const isMismatchCode = (code: string) => Object.hasOwn(MISMATCH, code)

/** Whether running the step needs values typed now: none journaled yet, or the operator chose to type again. */
export function needsInput(engine: CeremonyEngine, step: AnyStep): boolean {
  if (!step.input) return false
  const record = engine.record(step.id)
  return !(record.attempts > 0 && typedFrom(record.intent) !== null)
}

export function rehearsalInput(fields: readonly InputField[]): Record<string, string> {
  const input: Record<string, string> = {}
  for (const f of fields) {
    input[f.id] = f.rehearsal
    if (f.twice) input[again(f.id)] = f.rehearsal
  }
  return input
}

async function required(ask: Ask, question: string, scriptId: string): Promise<string> {
  const answer = await ask(question)
  if (answer === null) throw new CeremonyError('STEP_INPUT_REQUIRED', `${scriptId}: what is read in the room was not typed at the terminal`)
  return answer
}

/** Asks for every field at the terminal, in order; a choice may be answered by its number. */
export async function askInput(step: AnyStep & { scriptId: string }, ask: Ask, say: (line: string) => void): Promise<Record<string, string>> {
  const input: Record<string, string> = {}
  let group = ''
  for (const f of step.input!.fields as InputField[]) {
    if (f.group !== group) say(`${step.scriptId} ${(group = f.group)}:`)
    if (f.format === 'choice') {
      const options = f.options ?? []
      say(options.map((o, i) => `  ${i + 1}. ${o.label}`).join('\n'))
      const answer = (await required(ask, `  ${f.label} (${f.hint}; number or name): `, step.scriptId)).trim()
      const n = Number(answer)
      input[f.id] = Number.isInteger(n) && n >= 1 && n <= options.length ? options[n - 1]!.value : answer
      continue
    }
    input[f.id] = await required(ask, `  ${f.label} (${f.hint}): `, step.scriptId)
    if (f.twice) input[again(f.id)] = await required(ask, `  ${f.label}, once more: `, step.scriptId)
  }
  return input
}

/** The mismatches logged at a step that no exception there names yet. */
export function openMismatchRefs(engine: CeremonyEngine, stepId: string): string[] {
  const entries = engine.logEntries()
  const notes = entries.filter((e) => e.kind === ENTRY.exception && e.step === stepId).map((e) => String(e.facts['note'] ?? '').toUpperCase())
  const refs = entries.filter((e) => e.kind === ENTRY.materialsMismatch && e.step === stepId).map((e) => String(e.facts['reference']))
  return [...new Set(refs)].filter((r) => !notes.some((n) => n.includes(r.toUpperCase())))
}

/**
 * A step refused by a mismatch, at the terminal: type the values again, or a witness records one
 * exception naming every open mismatch (the references are written into it), or stop.
 */
export async function resolveAtTerminal(engine: CeremonyEngine, step: AnyStep & { scriptId: string }, ask: Ask, say: (line: string) => void): Promise<'retype' | 'excepted'> {
  const refs = openMismatchRefs(engine, step.id)
  say(`${step.scriptId}: ${engine.record(step.id).error?.message ?? 'a value differs from what is expected'}`)
  for (;;) {
    const answer = (await ask(`${step.scriptId}: type "again" to type the values again, or "exception" for a witness to record one naming ${refs.join(', ') || 'the mismatch'}; an empty line stops: `))?.trim().toLowerCase()
    if (!answer) throw new CeremonyError(engine.record(step.id).error?.code ?? 'STEP_INPUT_REQUIRED', `${step.scriptId}: stopped at a mismatch nobody resolved (${refs.join(', ')})`)
    if (answer === 'again') return 'retype'
    if (answer !== 'exception') continue
    const by = (await required(ask, `${step.scriptId} witness name: `, step.scriptId)).trim()
    const note = (await required(ask, `${step.scriptId} what was found, and why the ceremony may go on: `, step.scriptId)).trim()
    try {
      await engine.recordException(step.id, by, `${refs.join(', ')}: ${note}`)
      return 'excepted'
    } catch (err) {
      say(`${step.scriptId}: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
}

import type { InputFieldView, StepView } from '../../../preload/contract'

/** Field id -> what was typed (a second typing under `${id}:again`). */
export type TypedValues = Record<string, string>

export const againId = (id: string) => `${id}:again`

/** Choices start on the plan's receiver (main lists it first); everything else starts empty. */
export function initialValues(fields: readonly InputFieldView[]): TypedValues {
  return Object.fromEntries(fields.filter((f) => f.format === 'choice' && f.options?.[0]).map((f) => [f.id, f.options![0]!.value]))
}

const norm = (v: string) => v.trim().toUpperCase()

/** What still stops the form from being sent, in words (main checks every format again). */
export function formProblem(fields: readonly InputFieldView[], values: TypedValues): string | null {
  for (const f of fields) {
    if (!(values[f.id] ?? '').trim()) return `${f.group}: type the ${f.label.toLowerCase()}.`
    if (f.twice && norm(values[againId(f.id)] ?? '') !== norm(values[f.id] ?? '')) return `${f.group}: type the ${f.label.toLowerCase()} a second time, the same.`
  }
  return null
}

const FORMAT_HINT: Record<InputFieldView['format'], string> = {
  bag: 'Letters, digits and dashes, as printed.',
  serial: 'As printed; capitals or not, it does not matter.',
  labels: 'Every label, separated by spaces.',
  choice: '',
}

function groupsOf(fields: readonly InputFieldView[]): { group: string; fields: InputFieldView[] }[] {
  const groups: { group: string; fields: InputFieldView[] }[] = []
  for (const f of fields) {
    const last = groups.at(-1)
    if (last?.group === f.group) last.fields.push(f)
    else groups.push({ group: f.group, fields: [f] })
  }
  return groups
}

/**
 * The values read in the room for a step (serials, tamper labels, bag numbers, who receives an
 * item), one box per field under the item it belongs to, each with where to read it. Nothing is
 * prefilled from the plan in production: the point is to read the chassis and the bags, not the
 * plan. A rehearsal shows what the simulated item "shows" beside each box.
 */
export function StepInputForm({ step, values, onChange, disabled }: { step: StepView; values: TypedValues; onChange(values: TypedValues): void; disabled: boolean }): React.JSX.Element {
  const input = step.input!
  const set = (id: string, v: string) => onChange({ ...values, [id]: v })
  return (
    <section className="step-input" aria-labelledby={`input-${step.id}`} data-testid="step-input">
      <h4 id={`input-${step.id}`}>Read these in the room and type them</h4>
      <p className="hint">Read each value aloud from the item itself, so a witness can check it. Nothing is recorded until the step runs.</p>
      {groupsOf(input.fields).map((g) => (
        <fieldset key={g.group} className="input-group" disabled={disabled}>
          <legend>{g.group}</legend>
          {g.fields.map((f) => (f.format === 'choice' ? (
            <fieldset key={f.id} className="input-choice">
              <legend>{f.label}</legend>
              <p className="hint">{f.hint}</p>
              {(f.options ?? []).map((o, i) => (
                <label key={o.value} className="choice">
                  <input type="radio" name={`${step.id}-${f.id}`} value={o.value} checked={values[f.id] === o.value} onChange={() => set(f.id, o.value)} />
                  {o.label}
                  {i === 0 && <span className="hint"> (as planned)</span>}
                </label>
              ))}
            </fieldset>
          ) : (
            <div key={f.id} className="input-field">
              <TextField id={`${step.id}-${f.id}`} label={f.label} hint={`${f.hint}. ${FORMAT_HINT[f.format]}`} value={values[f.id] ?? ''} onChange={(v) => set(f.id, v)} shows={f.simulatedShows} />
              {f.twice && (
                <>
                  <TextField id={`${step.id}-${f.id}-again`} label={`${f.label}, once more`} hint="Type it again without looking at the first box." value={values[againId(f.id)] ?? ''} onChange={(v) => set(againId(f.id), v)} shows={null} />
                  {(values[againId(f.id)] ?? '') !== '' && norm(values[againId(f.id)]!) !== norm(values[f.id] ?? '') && (
                    <p className="input-differs" role="status">The two typings differ: read the number from the bag again.</p>
                  )}
                </>
              )}
            </div>
          )))}
        </fieldset>
      ))}
    </section>
  )
}

function TextField({ id, label, hint, value, onChange, shows }: { id: string; label: string; hint: string; value: string; onChange(v: string): void; shows: string | null }): React.JSX.Element {
  return (
    <p className="text-field">
      <label htmlFor={id}>{label}</label>
      <input id={id} type="text" className="typed-value" autoComplete="off" spellCheck={false} maxLength={400} aria-describedby={`${id}-hint`} value={value} onChange={(e) => onChange(e.target.value)} />
      <span id={`${id}-hint`} className="hint">
        {hint}
        {shows !== null && <> Rehearsal: the simulated item shows <strong>{shows}</strong>.</>}
      </span>
    </p>
  )
}

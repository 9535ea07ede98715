import { useState } from 'react'
import type { StepView } from '../../../preload/contract'
import { Time } from '../components/Time'
import { useCeremony, useStores } from '../stores'

/** The step's checklist for witnesses: a named witness ticks what they saw and signs it off. */
export function WitnessPanel({ step }: { step: StepView }): React.JSX.Element | null {
  const stores = useStores()
  const witnesses = useCeremony((s) => s.snapshot?.plan?.participants.witnesses)
  const busy = useCeremony((s) => s.busy.includes(`signoff:${step.id}`))
  const [witness, setWitness] = useState('')
  const [checked, setChecked] = useState<string[]>([])
  if (step.witnessItems.length === 0 && step.signoffs.length === 0) return null
  const finished = step.state === 'done' || step.state === 'skipped'
  // Witnesses attest to what happened: nothing to sign before a step has run. The close step is the
  // exception: it seals the log, so its checklist is signed before it runs.
  const sealing = step.seals
  const signable = sealing ? step.state !== 'done' && step.state !== 'running' : step.state !== 'pending' && step.state !== 'running'
  const ids = (i: number) => `witness-item-${step.id}-${i}`

  function submit(event: React.FormEvent): void {
    event.preventDefault()
    if (witness === '' || checked.length === 0) return
    const items = step.witnessItems.filter((item) => checked.includes(item))
    void stores.ceremony
      .getState()
      .signOff(step.id, witness, items)
      .then((ok) => {
        if (ok) {
          setChecked([])
          setWitness('')
        }
      })
  }

  return (
    <section className="witness" aria-labelledby={`witness-${step.id}`}>
      <h4 id={`witness-${step.id}`}>Witness checklist</h4>
      {step.signoffs.length > 0 && (
        <ul className="signoffs" aria-label="Signed off">
          {step.signoffs.map((s, i) => (
            <li key={i}>
              ✓ Signed off by <strong>{s.witness}</strong> at <Time iso={s.at} />
              <ul>
                {s.items.map((item) => (
                  <li key={item}>{item}</li>
                ))}
              </ul>
            </li>
          ))}
        </ul>
      )}
      {step.witnessItems.length > 0 && (
        <form onSubmit={submit}>
          <fieldset>
            <legend>What the witness saw{signable ? '' : sealing ? ' (the record is sealed)' : ' (sign off once the step has run)'}</legend>
            {step.witnessItems.map((item, i) => (
              <div key={item} className="check-row">
                <input
                  type="checkbox"
                  id={ids(i)}
                  checked={checked.includes(item)}
                  onChange={(e) => setChecked((c) => (e.target.checked ? [...c, item] : c.filter((x) => x !== item)))}
                />
                <label htmlFor={ids(i)}>{item}</label>
              </div>
            ))}
          </fieldset>
          <label htmlFor={`witness-name-${step.id}`}>Witness</label>
          <div className="inline-form">
            <select id={`witness-name-${step.id}`} value={witness} onChange={(e) => setWitness(e.target.value)}>
              <option value="">Choose a witness…</option>
              {(witnesses ?? []).map((w) => (
                <option key={w} value={w}>
                  {w}
                </option>
              ))}
            </select>
            <button type="submit" className="secondary" disabled={!signable || witness === '' || checked.length === 0 || busy}>
              Sign off
            </button>
          </div>
        </form>
      )}
    </section>
  )
}

/** Anyone records what went differently from the plan, at any step. */
export function ExceptionPanel({ step }: { step: StepView }): React.JSX.Element {
  const stores = useStores()
  const plan = useCeremony((s) => s.snapshot?.plan ?? null)
  const busy = useCeremony((s) => s.busy.includes(`exception:${step.id}`))
  const [by, setBy] = useState('')
  const [note, setNote] = useState('')
  const people = plan
    ? [...new Set([plan.participants.operator, ...plan.participants.witnesses, ...Object.values(plan.participants.custodians).flat()])]
    : []

  function submit(event: React.FormEvent): void {
    event.preventDefault()
    if (by === '' || note.trim() === '') return
    void stores.ceremony
      .getState()
      .recordException(step.id, by, note.trim())
      .then((ok) => {
        if (ok) setNote('')
      })
  }

  return (
    <section className="exceptions" aria-labelledby={`exc-${step.id}`}>
      <h4 id={`exc-${step.id}`}>Exceptions</h4>
      {step.exceptions.length > 0 ? (
        <ul>
          {step.exceptions.map((e, i) => (
            <li key={i}>
              <strong>{e.by}</strong> at <Time iso={e.at} />: {e.note}
            </li>
          ))}
        </ul>
      ) : (
        <p className="hint">None recorded at this step.</p>
      )}
      <details>
        <summary>Record an exception</summary>
        <form onSubmit={submit}>
          <label htmlFor={`exc-by-${step.id}`}>Recorded by</label>
          <select id={`exc-by-${step.id}`} value={by} onChange={(e) => setBy(e.target.value)}>
            <option value="">Choose a person…</option>
            {people.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
          <label htmlFor={`exc-note-${step.id}`}>What happened</label>
          <textarea id={`exc-note-${step.id}`} rows={3} maxLength={2000} value={note} onChange={(e) => setNote(e.target.value)} />
          <div className="actions">
            <button type="submit" className="secondary" disabled={by === '' || note.trim() === '' || busy}>
              Record exception
            </button>
          </div>
        </form>
      </details>
    </section>
  )
}

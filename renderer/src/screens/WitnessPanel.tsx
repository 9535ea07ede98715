import { useState } from 'react'
import type { StepView } from '../../../preload/contract'
import { Time } from '../components/Time'
import { useCeremony, useStores } from '../stores'

const NOBODY: { name: string; role: string; present: boolean }[] = []

/**
 * The step's checklist for witnesses. Each sign-off is the witness's own act: they choose their name
 * (only witnesses recorded as in the room are offered), confirm every item, and type their initials,
 * which main checks against the plan. A witness signs a step once; a step cannot be left until the
 * plan's witnesses have signed it (or an exception allowed going on without).
 */
export function WitnessPanel({ step }: { step: StepView }): React.JSX.Element | null {
  const stores = useStores()
  const people = useCeremony((s) => s.snapshot?.people) ?? NOBODY
  const busy = useCeremony((s) => s.busy.includes(`signoff:${step.id}`))
  const [witness, setWitness] = useState('')
  const [initials, setInitials] = useState('')
  const [checked, setChecked] = useState<string[]>([])
  if (step.witnessItems.length === 0 && step.signoffs.length === 0) return null
  // Witnesses attest to what happened: nothing to sign before a step has run. The sealing step is the
  // exception: it seals the log, so its checklist is signed before it runs.
  const signable = step.signoff !== null && !step.signoff.complete || (step.signoff !== null && step.seals && step.state !== 'done')
  const signed = new Set(step.signoffs.map((s) => s.witness))
  const candidates = people.filter((p) => p.role === 'witness' && p.present && !signed.has(p.name)).map((p) => p.name)
  const ids = (i: number) => `witness-item-${step.id}-${i}`
  const allChecked = step.witnessItems.every((i) => checked.includes(i))

  function submit(event: React.FormEvent): void {
    event.preventDefault()
    if (witness === '' || !allChecked || initials.trim() === '') return
    void stores.ceremony
      .getState()
      .signOff(step.id, witness, initials.trim(), step.witnessItems)
      .then((ok) => {
        if (ok) {
          setChecked([])
          setWitness('')
          setInitials('')
        }
      })
  }

  return (
    <section className="witness" aria-labelledby={`witness-${step.id}`}>
      <h4 id={`witness-${step.id}`}>Witness checklist</h4>
      {step.signoff && (
        <p className={step.signoff.complete ? 'ok-text' : 'warn-text'} data-testid="signoff-status" role="status">
          {step.signoff.waivedBy
            ? `Passed without every sign-off: the exception recorded by ${step.signoff.waivedBy} allowed it.`
            : step.signoff.complete
              ? `✓ Signed by ${step.signoffs.length} of the ${step.signoff.required} witness(es) required.`
              : `${step.signoffs.length} of ${step.signoff.required} required witness sign-off(s). The ceremony cannot move on until they sign.`}
        </p>
      )}
      {step.signoffs.length > 0 && (
        <ul className="signoffs" aria-label="Signed off">
          {step.signoffs.map((s, i) => (
            <li key={i}>
              ✓ Signed off by <strong>{s.witness}</strong>
              {s.simulated ? ' (simulated witness, rehearsal)' : ''} at <Time iso={s.at} />
            </li>
          ))}
        </ul>
      )}
      {step.witnessItems.length > 0 && (
        <form onSubmit={submit}>
          <fieldset>
            <legend>What the witness saw{signable ? '' : step.state === 'done' || step.state === 'skipped' ? '' : ' (sign off once the step has run)'}</legend>
            {step.witnessItems.map((item, i) => (
              <div key={item} className="check-row">
                <input
                  type="checkbox"
                  id={ids(i)}
                  checked={checked.includes(item)}
                  disabled={!signable}
                  onChange={(e) => setChecked((c) => (e.target.checked ? [...c, item] : c.filter((x) => x !== item)))}
                />
                <label htmlFor={ids(i)}>{item}</label>
              </div>
            ))}
          </fieldset>
          <div className="inline-form">
            <div>
              <label htmlFor={`witness-name-${step.id}`}>Witness</label>
              <select id={`witness-name-${step.id}`} value={witness} disabled={!signable} onChange={(e) => setWitness(e.target.value)}>
                <option value="">Choose your name…</option>
                {candidates.map((w) => (
                  <option key={w} value={w}>
                    {w}
                  </option>
                ))}
              </select>
            </div>
            <div>
              <label htmlFor={`witness-initials-${step.id}`}>Your initials</label>
              <input
                id={`witness-initials-${step.id}`}
                className="initials-input"
                value={initials}
                maxLength={4}
                autoComplete="off"
                spellCheck={false}
                disabled={!signable}
                onChange={(e) => setInitials(e.target.value)}
              />
            </div>
            <button type="submit" className="secondary" disabled={!signable || witness === '' || !allChecked || initials.trim() === '' || busy}>
              Sign off
            </button>
          </div>
          {signable && candidates.length === 0 && <p className="hint">Every witness recorded as present has signed. Someone arriving is recorded on the setup screen.</p>}
        </form>
      )}
    </section>
  )
}

/** Anyone records what went differently from the plan, at any step. */
export function ExceptionPanel({ step }: { step: StepView }): React.JSX.Element {
  const stores = useStores()
  const people = (useCeremony((s) => s.snapshot?.people) ?? NOBODY).map((p) => p.name)
  const closed = useCeremony((s) => s.snapshot?.phase === 'complete' || s.snapshot?.phase === 'aborted')
  const busy = useCeremony((s) => s.busy.includes(`exception:${step.id}`))
  const [by, setBy] = useState('')
  const [note, setNote] = useState('')
  const [waive, setWaive] = useState(false)
  const canWaive = step.signoff !== null && !step.signoff.complete

  function submit(event: React.FormEvent): void {
    event.preventDefault()
    if (by === '' || note.trim() === '') return
    void stores.ceremony
      .getState()
      .recordException(step.id, by, note.trim(), canWaive && waive)
      .then((ok) => {
        if (ok) {
          setNote('')
          setWaive(false)
        }
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
              {e.waivesSignoff ? ' (allowed going on without every sign-off)' : ''}
            </li>
          ))}
        </ul>
      ) : (
        <p className="hint">None recorded at this step.</p>
      )}
      {!closed && (
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
          {canWaive && (
            <label className="inline">
              <input type="checkbox" checked={waive} onChange={(e) => setWaive(e.target.checked)} />
              This exception allows going on without every witness sign-off (say who allowed it and why)
            </label>
          )}
          <div className="actions">
            <button type="submit" className="secondary" disabled={by === '' || note.trim() === '' || busy}>
              Record exception
            </button>
          </div>
        </form>
      </details>
      )}
    </section>
  )
}

import { useState } from 'react'
import type { DeviationView } from '../../../preload/contract'
import { Time } from '../components/Time'
import { useCeremony, useStores } from '../stores'

const SOURCE: Record<DeviationView['source'], string> = {
  exception: 'written down',
  failure: 'a step failed',
  denial: 'an approval was denied',
  retry: 'a fresh request',
  interruption: 'after an interruption',
  repair: 'the log was repaired',
  refusal: 'refused',
}

/**
 * The deviation register, as the internal witness keeps it: every departure from the script, the
 * ones people write down and the ones the engine saw, each resolved in front of the witnesses —
 * what was done about it, who allowed going on, and the initials of every witness in the room.
 * Main checks each of those; the record cannot be sealed while a line is open.
 */
export function DeviationRegister(): React.JSX.Element | null {
  const register = useCeremony((s) => s.snapshot?.deviations)
  const phase = useCeremony((s) => s.snapshot?.phase)
  if (!register) return null
  const open = register.lines.filter((d) => !d.resolution)
  const closed = phase === 'complete' || phase === 'aborted'
  return (
    <section className="card deviations" id="deviations" aria-labelledby="deviations-heading" data-testid="deviation-register">
      <h3 id="deviations-heading">
        Deviation register{' '}
        <span className={open.length > 0 ? 'warn-text' : 'hint'} data-testid="deviations-open">
          ({open.length === 0 ? 'none open' : `${open.length} open`})
        </span>
      </h3>
      <p className="hint">
        Every departure from the script is one line: the ones written down and the failures, denials and retries the app saw.
        {register.keeper ? ` Kept by ${register.keeper}, the internal witness.` : ''} The record is sealed only once every line is resolved.
      </p>
      {register.lines.length === 0 ? (
        <p>No deviation so far.</p>
      ) : (
        <ol className="deviation-lines">
          {register.lines.map((d) => (
            <li key={d.id} data-testid={`deviation-${d.id}`}>
              <p>
                <strong>{d.id}</strong> <Time iso={d.ts} /> · {d.scriptId ?? (d.step === 'ceremony' ? 'the whole ceremony' : d.step)} · {SOURCE[d.source]} · raised by {d.raisedBy}
              </p>
              <p>{d.what}</p>
              {d.resolution ? (
                <p className="ok-text">
                  ✓ Resolved at <Time iso={d.resolution.ts} />: {d.resolution.resolution} — allowed by {d.resolution.allowedBy}; initialled by{' '}
                  {d.resolution.initials.map((i) => `${i.witness} (${i.initials})`).join(', ')}
                  {d.resolution.simulated ? ' (simulated witnesses, rehearsal)' : ''}
                </p>
              ) : (
                !closed && <ResolveForm deviation={d} allowers={register.allowers} witnesses={register.witnessesPresent} />
              )}
            </li>
          ))}
        </ol>
      )}
      {!closed && <RaiseForm />}
    </section>
  )
}

function ResolveForm({ deviation, allowers, witnesses }: { deviation: DeviationView; allowers: string[]; witnesses: string[] }): React.JSX.Element {
  const stores = useStores()
  const busy = useCeremony((s) => s.busy.includes(`resolve:${deviation.id}`))
  const [resolution, setResolution] = useState('')
  const [allowedBy, setAllowedBy] = useState('')
  const [initials, setInitials] = useState<Record<string, string>>({})
  const id = (what: string) => `dev-${what}-${deviation.id}`
  const complete = resolution.trim() !== '' && allowedBy !== '' && witnesses.length > 0 && witnesses.every((w) => (initials[w] ?? '').trim() !== '')

  function submit(event: React.FormEvent): void {
    event.preventDefault()
    if (!complete) return
    void stores.ceremony.getState().resolveDeviation({
      deviation: deviation.id, resolution: resolution.trim(), allowedBy, initials: witnesses.map((w) => ({ witness: w, initials: initials[w]!.trim() })),
    })
  }

  return (
    <form onSubmit={submit} aria-label={`Resolve ${deviation.id}`}>
      <label htmlFor={id('resolution')}>Resolution: what was done about it</label>
      <textarea id={id('resolution')} rows={2} maxLength={2000} value={resolution} onChange={(e) => setResolution(e.target.value)} />
      <label htmlFor={id('allowed')}>Allowed to go on by</label>
      <select id={id('allowed')} value={allowedBy} onChange={(e) => setAllowedBy(e.target.value)}>
        <option value="">Choose a person…</option>
        {allowers.map((p) => (
          <option key={p} value={p}>
            {p}
          </option>
        ))}
      </select>
      {allowers.length === 0 && <p className="hint">No one who may allow it (an operator, the internal witness or an approver) is recorded as in the room.</p>}
      <fieldset>
        <legend>Initials of every witness in the room</legend>
        {witnesses.length === 0 && <p className="hint">No witness is recorded as in the room.</p>}
        {witnesses.map((w) => (
          <div key={w} className="inline-form">
            <label htmlFor={id(`initials-${w}`)}>Initials of {w}</label>
            <input
              id={id(`initials-${w}`)}
              className="initials-input"
              maxLength={4}
              autoComplete="off"
              spellCheck={false}
              value={initials[w] ?? ''}
              onChange={(e) => setInitials((x) => ({ ...x, [w]: e.target.value }))}
            />
          </div>
        ))}
      </fieldset>
      <div className="actions">
        <button type="submit" className="secondary" disabled={!complete || busy}>
          Resolve {deviation.id}
        </button>
      </div>
    </form>
  )
}

/** A deviation for the ceremony as a whole (one at a step is written down at that step). */
function RaiseForm(): React.JSX.Element {
  const stores = useStores()
  const people = useCeremony((s) => s.snapshot?.people) ?? []
  const busy = useCeremony((s) => s.busy.includes('exception:ceremony'))
  const [by, setBy] = useState('')
  const [what, setWhat] = useState('')
  function submit(event: React.FormEvent): void {
    event.preventDefault()
    if (by === '' || what.trim() === '') return
    void stores.ceremony
      .getState()
      .recordException('ceremony', by, what.trim())
      .then((ok) => {
        if (ok) setWhat('')
      })
  }
  return (
    <details>
      <summary>Write down a deviation for the whole ceremony</summary>
      <form onSubmit={submit}>
        <label htmlFor="dev-raise-by">Written down by</label>
        <select id="dev-raise-by" value={by} onChange={(e) => setBy(e.target.value)}>
          <option value="">Choose a person…</option>
          {people.filter((p) => p.present).map((p) => (
            <option key={p.name} value={p.name}>
              {p.name}
            </option>
          ))}
        </select>
        <label htmlFor="dev-raise-what">What departed from the script</label>
        <textarea id="dev-raise-what" rows={2} maxLength={2000} value={what} onChange={(e) => setWhat(e.target.value)} />
        <div className="actions">
          <button type="submit" className="secondary" disabled={by === '' || what.trim() === '' || busy}>
            Write it down
          </button>
        </div>
      </form>
    </details>
  )
}

import { useState } from 'react'
import { Digest } from '../components/Digest'
import { NoPlan } from '../components/NoPlan'
import { useCeremony, useStores } from '../stores'

const CHECKLIST = [
  'The drive is labelled with the ceremony id, and its label or serial is typed below',
  'Every file listed is on the drive (the app wrote and read back each one)',
  'The drive goes into a new tamper-evident bag, sealed in front of the witnesses, its number typed below',
  'The words are written on the paper record carried with the bag (or read to the other site by phone)',
]

/** Hand-off: what to carry, the media checklist, then the words to read out and when the drive is safe to remove. */
export function HandoffScreen(): React.JSX.Element {
  const stores = useStores()
  const view = useCeremony((s) => s.snapshot?.stations ?? null)
  const busy = useCeremony((s) => s.busy.includes('handoff'))
  const [label, setLabel] = useState('')
  const [bag, setBag] = useState('')
  const [checked, setChecked] = useState<boolean[]>(CHECKLIST.map(() => false))
  if (!view) return <NoPlan />
  const h = view.handoff
  const written = h?.digest != null

  return (
    <div className="handoff">
      <h2 tabIndex={-1} data-screen-heading>
        {h ? `Hand-off ${h.n} to ${h.toLabel}` : 'Hand-off'}
      </h2>
      {!h && <p>No hand-off is due at this station.</p>}
      {h && (
        <section className="card" aria-labelledby="carry-heading">
          <h3 id="carry-heading">What the drive carries</h3>
          <ul data-testid="carry-list">
            {h.files.map((f) => (
              <li key={f.name}>
                <code>{f.name}</code> — {f.what}
              </li>
            ))}
            {!written && <li>the audit log so far, sealed into a segment, with a manifest and a README saying what each file is</li>}
          </ul>
          <p className="hint">No API key, password, token or plaintext key material is ever written to the drive.</p>
        </section>
      )}
      {h && !written && (
        <form
          className="card"
          aria-labelledby="media-heading"
          onSubmit={(e) => {
            e.preventDefault()
            void stores.stations.getState().handOff(label.trim(), bag.trim())
          }}
        >
          <h3 id="media-heading">The media checklist</h3>
          <label htmlFor="handoff-label">Media label or serial</label>
          <input id="handoff-label" value={label} maxLength={120} autoComplete="off" onChange={(e) => setLabel(e.target.value)} />
          <label htmlFor="handoff-bag">Tamper-evident bag number</label>
          <input id="handoff-bag" value={bag} maxLength={120} autoComplete="off" onChange={(e) => setBag(e.target.value)} />
          {CHECKLIST.map((item, i) => (
            <label key={item} className="inline">
              <input type="checkbox" checked={checked[i]} onChange={(e) => setChecked(checked.map((c, j) => (j === i ? e.target.checked : c)))} />
              {item}
            </label>
          ))}
          <div className="actions">
            <button type="submit" disabled={busy || label.trim() === '' || bag.trim() === '' || checked.some((c) => !c)}>
              {busy ? 'Writing to the drive…' : 'Write the hand-off to the drive'}
            </button>
            <span className="hint">Both numbers are logged; the next station checks them.</span>
          </div>
        </form>
      )}
      {h?.digest && (
        <section className="card card-emphasis" aria-labelledby="words-heading">
          <h3 id="words-heading">Read these words to {h.toLabel}</h3>
          <p>The digest of the audit-log segment on the drive. {h.toLabel} types the words; the ceremony continues there only if every word matches.</p>
          <Digest value={h.digest} size="large" label="Hand-off digest" />
          {h.safeToRemove && (
            <p className="ok-box" role="status" data-testid="safe-to-remove">
              {h.safeToRemove}
            </p>
          )}
        </section>
      )}
      <div className="actions screen-actions">
        {view.next === 'receive' && (
          <button type="button" onClick={() => stores.ui.getState().go('receive')}>
            Receive the drive back
          </button>
        )}
        <button type="button" className="secondary" onClick={() => stores.ui.getState().go('setup')}>
          Back to setup
        </button>
      </div>
    </div>
  )
}

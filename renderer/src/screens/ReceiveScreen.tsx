import { useState } from 'react'
import { NoPlan } from '../components/NoPlan'
import { useCeremony, useStores } from '../stores'

/** Receiving the drive: insert it, type its label, the bag number and the words read out; main checks every byte first. */
export function ReceiveScreen(): React.JSX.Element {
  const stores = useStores()
  const view = useCeremony((s) => s.snapshot?.stations ?? null)
  const error = useCeremony((s) => s.error)
  const busy = useCeremony((s) => s.busy.includes('receive'))
  const [label, setLabel] = useState('')
  const [bag, setBag] = useState('')
  const [words, setWords] = useState('')
  if (!view) return <NoPlan />
  const r = view.receive
  const count = words.trim() === '' ? 0 : words.trim().split(/\s+/).length

  return (
    <div className="receive">
      <h2 tabIndex={-1} data-screen-heading>
        {r ? `Receive hand-off ${r.n} from ${r.fromLabel}` : 'Receive the media'}
      </h2>
      {view.received && view.next !== 'receive' ? (
        <section className="ok-box" role="status" data-testid="receive-result">
          <p>
            <strong>✓ Hand-off {view.received.n} from {view.received.fromLabel} checked.</strong> The audit-log segment's chain and plan digest, every file on the
            drive ({view.received.artifactsChecked.length}), the label, the bag number and the words all match. The ceremony continues here.
          </p>
          <button type="button" onClick={() => stores.ui.getState().go('run')}>
            Go to the ceremony steps
          </button>
        </section>
      ) : (
        <form
          className="card"
          aria-labelledby="receive-heading"
          onSubmit={(e) => {
            e.preventDefault()
            void stores.stations.getState().receive(words.trim(), label.trim(), bag.trim())
          }}
        >
          <h3 id="receive-heading">1. Insert the drive · 2. Check the bag · 3. Type the words</h3>
          <p>
            Drive: <strong>{view.media?.label ?? 'none chosen — choose it on the setup screen'}</strong>. Nothing on it is used before every check below passes.
          </p>
          <label htmlFor="receive-label">Media label or serial, as written on the drive</label>
          <input id="receive-label" value={label} maxLength={120} autoComplete="off" onChange={(e) => setLabel(e.target.value)} />
          <label htmlFor="receive-bag">Tamper-evident bag number, as printed on the bag</label>
          <input id="receive-bag" value={bag} maxLength={120} autoComplete="off" onChange={(e) => setBag(e.target.value)} />
          <label htmlFor="receive-words">The words read out by {r?.fromLabel ?? 'the other site'} (or from the paper carried with the drive)</label>
          <textarea id="receive-words" value={words} rows={4} maxLength={2000} spellCheck={false} autoComplete="off" aria-describedby="receive-words-count" onChange={(e) => setWords(e.target.value)} />
          <p id="receive-words-count" className="hint">
            {count} of 32 words
          </p>
          <div className="actions">
            <button type="submit" disabled={busy || !view.media || label.trim() === '' || bag.trim() === '' || count === 0}>
              {busy ? 'Checking the drive…' : 'Check the drive and continue'}
            </button>
          </div>
          {error && (
            <p className="error-text" role="alert" data-testid="receive-refused">
              <code className="error-code">{error.code}</code> {error.message} The refusal is logged; nothing was used.
            </p>
          )}
        </form>
      )}
    </div>
  )
}

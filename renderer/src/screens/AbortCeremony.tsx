import { useState } from 'react'
import { useCeremony, useStores } from '../stores'

/**
 * Stopping the ceremony for good: the reason is asked for and recorded, with what is left on which
 * appliance or medium (main works that out from the steps that ran). Asked twice, never one click.
 */
export function AbortCeremony(): React.JSX.Element {
  const stores = useStores()
  const busy = useCeremony((s) => s.busy.includes('abort'))
  const [reason, setReason] = useState('')
  return (
    <details className="abort">
      <summary>Stop the ceremony…</summary>
      <form
        onSubmit={(e) => {
          e.preventDefault()
          if (reason.trim() !== '') void stores.ceremony.getState().abort(reason.trim())
        }}
      >
        <p>
          Stopping ends this ceremony: no further step runs, and the record is sealed with the reason and a list of what is left on which
          appliance (transfer keys, open approval requests, files on the media) for the administrators to clean up.
        </p>
        <label htmlFor="abort-reason">Why the ceremony stops</label>
        <textarea id="abort-reason" rows={2} maxLength={2000} value={reason} onChange={(e) => setReason(e.target.value)} />
        <div className="actions">
          <button type="submit" className="danger" disabled={reason.trim() === '' || busy}>
            Stop the ceremony and seal the record
          </button>
        </div>
      </form>
    </details>
  )
}

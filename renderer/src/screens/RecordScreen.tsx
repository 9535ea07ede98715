import { useEffect, useState } from 'react'
import { Digest } from '../components/Digest'
import { useCeremony, useStores } from '../stores'
import { RecordPage } from './record/RecordPage'

/** The ceremony record: print it, export it (JSON, PDF), and see exactly which file was written. */
export function RecordScreen(): React.JSX.Element {
  const stores = useStores()
  const snapshot = useCeremony((s) => s.snapshot)
  const loaded = useCeremony((s) => s.record)
  const exportingJson = useCeremony((s) => s.busy.includes('export:json'))
  const exportingPdf = useCeremony((s) => s.busy.includes('export:pdf'))
  const lastExport = useCeremony((s) => s.lastExport)
  const logEntries = useCeremony((s) => s.snapshot?.log.entries ?? 0)
  const [withLog, setWithLog] = useState(false)
  const [printed, setPrinted] = useState(false)

  // Fetch the record on arrival and whenever the log grows (a late sign-off or exception).
  useEffect(() => {
    void stores.ceremony.getState().loadRecord()
  }, [stores, logEntries])

  const exportAs = (format: 'json' | 'pdf') => void stores.ceremony.getState().exportRecord(format)

  return (
    <div className="record" data-testid="record">
      <div className="no-print">
        <h2 tabIndex={-1} data-screen-heading>
          Ceremony record
        </h2>
        <div className="actions screen-actions">
          <button
            type="button"
            onClick={() => {
              window.print()
              setPrinted(true)
            }}
          >
            Print
          </button>
          <button type="button" className="secondary" disabled={exportingJson} onClick={() => exportAs('json')}>
            Export as JSON…
          </button>
          <button type="button" className="secondary" disabled={exportingPdf} onClick={() => exportAs('pdf')}>
            Export as PDF…
          </button>
          <button type="button" className="secondary" onClick={() => stores.ui.getState().go('run')}>
            Back to the steps
          </button>
        </div>
        <label className="inline">
          <input type="checkbox" checked={withLog} onChange={(e) => setWithLog(e.target.checked)} />
          Print the full audit log as an appendix (it is always in the JSON)
        </label>
        {printed && (
          <p role="status" className="hint">
            Sent to the printer. Check every page came out, and that the final digest on paper matches the one on screen.
          </p>
        )}
        {lastExport && (
          <div role="status" className="ok-box" data-testid="export-result">
            <p>
              Wrote <strong>{lastExport.file.name}</strong> ({lastExport.file.bytes} bytes). SHA-256 of the file:
            </p>
            <Digest value={lastExport.file.sha256} label="Exported file digest" />
            <button type="button" className="secondary" onClick={() => exportAs(lastExport.format)}>
              Write a second copy…
            </button>
          </div>
        )}
        {snapshot?.record && snapshot.record.exported.length > 0 && (
          <p className="hint">Exported so far: {snapshot.record.exported.map((f) => f.toUpperCase()).join(', ')}</p>
        )}
      </div>
      {snapshot?.plan ? (
        <RecordPage snapshot={snapshot} record={loaded?.record ?? null} finalDigest={loaded?.finalDigest ?? null} withLog={withLog} />
      ) : (
        <p>No ceremony is loaded.</p>
      )}
    </div>
  )
}

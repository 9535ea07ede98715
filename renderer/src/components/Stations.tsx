/**
 * Stations on screen (design §3b): the trips in the plan review, the station and drive chosen at
 * setup, and the banner on the run screen saying which site holds the ceremony now.
 */
import { useEffect, useState } from 'react'
import type { PlanSummary, StationsView } from '../../../preload/contract'
import { useCeremony, useStations, useStores } from '../stores'

/** The plan review: each leg, where, and what runs there; the media travels between legs. */
export function TripList({ plan }: { plan: PlanSummary }): React.JSX.Element | null {
  if (!plan.trips) return null
  return (
    <section className="card" aria-labelledby="plan-trips-heading">
      <h3 id="plan-trips-heading">Trips between sites</h3>
      <p className="hint">
        {plan.trips.length} legs and {plan.trips.length - 1} hand-offs on removable media. At each hand-off the digest of the audit log is read to the
        next site by phone, or carried on paper with the drive.
      </p>
      <ol className="trips" data-testid="trips">
        {plan.trips.map((t) => (
          <li key={t.n}>
            <strong>
              Leg {t.n} at {t.stationLabel}
            </strong>
            <ul>
              {t.steps.map((title, i) => (
                <li key={i}>{title}</li>
              ))}
            </ul>
            {t.n < plan.trips!.length && <p className="trip-arrow">↓ hand-off {t.n}: the drive goes to {plan.trips![t.n]!.stationLabel}</p>}
          </li>
        ))}
      </ol>
    </section>
  )
}

function size(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`
  return `${Math.round(bytes / 1e3)} kB`
}

/** Setup: which station this workstation is, and which drive carries the files. */
export function StationSetup({ view }: { view: StationsView }): React.JSX.Element {
  const stores = useStores()
  const mode = useCeremony((s) => s.snapshot?.plan?.mode ?? 'production')
  const volumes = useStations((s) => s.volumes)
  const busy = useCeremony((s) => s.busy.includes('station') || s.busy.includes('media'))
  const [exception, setException] = useState('')

  useEffect(() => {
    if (view.chosen && !view.media) void stores.stations.getState().listVolumes()
  }, [stores, view.chosen, view.media])

  return (
    <section className="card" aria-labelledby="station-heading">
      <h3 id="station-heading">This station</h3>
      <fieldset>
        <legend>Which site is this workstation at?</legend>
        {view.stations.map((s) => (
          <label key={s.id} className="inline station-choice">
            <input type="radio" name="station" value={s.id} checked={view.chosen === s.id} disabled={busy} onChange={() => void stores.stations.getState().chooseStation(s.id)} />
            <span>
              <strong>{s.label}</strong> — reaches {s.appliances.map((a) => a.label).join(', ')}; operator {s.operator}; witnesses {s.witnesses.join(', ')}
            </span>
          </label>
        ))}
      </fieldset>
      {view.chosen && (
        <div className="media-choice">
          <h4>The drive that carries the files</h4>
          {view.media ? (
            <p data-testid="media-chosen">
              ✓ {view.media.label}
              {view.media.removable ? ' (removable drive)' : mode === 'rehearsal' ? ' (a folder on this workstation: rehearsal)' : ' (a folder on this workstation, by exception)'}
            </p>
          ) : (
            <p className="hint">Insert the drive, then choose it. Only mounted removable drives are listed.</p>
          )}
          {mode === 'production' && (
            <>
              <ul className="volumes" aria-label="Removable drives">
                {(volumes ?? []).map((v) => (
                  <li key={v.id}>
                    <button type="button" className="secondary" disabled={busy} onClick={() => void stores.stations.getState().chooseVolume(v.id)}>
                      Use {v.label}
                    </button>{' '}
                    <span className="hint">
                      {size(v.sizeBytes)}, {size(v.freeBytes)} free, {v.fsType}
                    </span>
                  </li>
                ))}
                {volumes !== null && volumes.length === 0 && <li className="hint">No removable drive is mounted.</li>}
              </ul>
              <button type="button" className="secondary" onClick={() => void stores.stations.getState().listVolumes()}>
                List the drives again
              </button>
              <details>
                <summary>Use a folder that is not a removable drive (needs an exception)</summary>
                <label htmlFor="media-exception">Why this folder is used instead of a removable drive</label>
                <textarea id="media-exception" value={exception} maxLength={500} onChange={(e) => setException(e.target.value)} />
                <button type="button" className="secondary" disabled={exception.trim() === '' || busy} onClick={() => void stores.stations.getState().chooseFolder(exception.trim())}>
                  Choose the folder…
                </button>
              </details>
            </>
          )}
        </div>
      )}
    </section>
  )
}

/** The run screen: which site holds the ceremony now, and the hand-off once this station's leg is done. */
export function StationBanner(): React.JSX.Element | null {
  const stores = useStores()
  const view = useCeremony((s) => s.snapshot?.stations ?? null)
  if (!view) return null
  const here = view.stations.find((s) => s.id === view.chosen)
  return (
    <div className="station-banner" role="status" data-testid="station-banner">
      <p>
        This workstation: <strong>{here?.label ?? '—'}</strong>. The ceremony is now held by <strong data-testid="holder">{view.holder?.label ?? '—'}</strong>.
      </p>
      {view.next === 'hand-off' && view.handoff && (
        <p>
          This station's part of leg is done: the next step runs at {view.handoff.toLabel}.{' '}
          <button type="button" onClick={() => stores.ui.getState().go('handoff')}>
            Hand off to {view.handoff.toLabel}
          </button>
        </p>
      )}
    </div>
  )
}

import type { PlanSummary } from '../../../preload/contract'
import { useCeremony, useUi } from '../stores'
import { useNow } from './Time'

const pad = (n: number) => String(n).padStart(2, '0')

/**
 * The UTC clock and the step id, large and in the sticky top bar while the ceremony runs (issue 14
 * part 5): the screen camera films both, so any frame of the footage says when it was and which step
 * it shows, and the video addendum's start and stop times can be checked against the record.
 * UTC, never local time: the record, the recorders and the addendum all use it.
 */
export function CeremonyClock(): React.JSX.Element | null {
  // Seconds: a recorder shows whole seconds, and matching footage to the log needs no finer.
  const now = useNow(1000)
  const snapshot = useCeremony((s) => s.snapshot)
  const selected = useUi((s) => s.selectedStepId)
  if (!snapshot?.plan || snapshot.steps.length === 0) return null
  const d = new Date(now)
  const stepOf = (id: string | null) => (id === null ? undefined : snapshot.steps.find((s) => s.id === id))
  const current = stepOf(snapshot.currentStepId)
  const shown = stepOf(selected)
  const done = snapshot.phase === 'complete' || snapshot.phase === 'aborted'
  return (
    <div className="ceremony-clock" data-testid="ceremony-clock">
      <div role="timer" aria-label="UTC clock" className="clock-time">
        <time dateTime={d.toISOString().slice(0, 19) + 'Z'}>
          {pad(d.getUTCHours())}:{pad(d.getUTCMinutes())}:{pad(d.getUTCSeconds())}
        </time>
        <span className="clock-zone">
          UTC {d.getUTCFullYear()}-{pad(d.getUTCMonth() + 1)}-{pad(d.getUTCDate())}
        </span>
      </div>
      <p className="clock-step" data-testid="clock-step">
        <span className="clock-label">{done ? 'Ceremony' : 'Step'}</span>{' '}
        <span className="clock-step-id">{done ? (snapshot.phase === 'complete' ? 'complete' : 'stopped') : (current?.scriptId ?? '—')}</span>
        {/* The operator looking back at another step: the footage must not be read as that step running. */}
        {!done && shown && shown.id !== current?.id && <span className="clock-viewing"> (viewing {shown.scriptId})</span>}
      </p>
    </div>
  )
}

/** The cameras the plan names, so everyone in the room knows what is filmed and keeps the clock in view. */
export function CameraList({ cameras }: { cameras: PlanSummary['cameras'] }): React.JSX.Element {
  if (cameras.length === 0) return <p className="hint cameras" data-testid="cameras">The plan names no cameras.</p>
  return (
    <section className="cameras" aria-labelledby="cameras-heading" data-testid="cameras">
      <h3 id="cameras-heading">Filmed by</h3>
      <ul>
        {cameras.map((c) => (
          <li key={c.id}>
            <strong>{c.label}</strong> <span className="hint">({c.id})</span>: {c.films}
          </li>
        ))}
      </ul>
      <p className="hint">Keep the UTC clock and the step id at the top of the screen in view of the screen camera.</p>
    </section>
  )
}

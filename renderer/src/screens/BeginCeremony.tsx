import { useEffect } from 'react'
import { useCeremony, useStores } from '../stores'

/** Before the first step: the ceremony at a glance, then Begin (or Resume after a restart). */
export function BeginCeremony(): React.JSX.Element {
  const stores = useStores()
  // Across sites each station begins with its own first step (its own preflight).
  const first = useCeremony((s) => s.snapshot?.stations?.beginStep ?? s.snapshot?.beginStep ?? s.snapshot?.steps[0]?.id ?? 'preflight')
  const starting = useCeremony((s) => s.busy.includes(`run:${first}`))
  const confirmed = useCeremony((s) => s.snapshot?.participantsConfirmed ?? false)
  // After a restart the first call resumes: interrupted steps are checked against the appliances first.
  const resuming = useCeremony((s) => (s.snapshot?.reconcile ?? []).some((f) => f.stepId === 'ceremony' && /interrupted/.test(f.finding)))
  return (
    <div className="run">
      <h2 tabIndex={-1} data-screen-heading>
        Ceremony steps
      </h2>
      <ScriptOverview />
      <section className="card card-emphasis" aria-labelledby="begin-heading">
        <h3 id="begin-heading">{resuming ? 'Resume the ceremony' : 'Begin the ceremony'}</h3>
        {resuming ? (
          <p>
            This ceremony was interrupted. Resuming checks every interrupted step against the appliances first, adopts what was already
            done, and never does anything twice. What it finds is listed on the run screen.
          </p>
        ) : (
          <p>
            The first step signs in to every appliance and checks it before anything changes: versions, clocks, the quorum group and its
            policy, and the Cluster Master Key on the source. Nothing is created or changed by it.
          </p>
        )}
        <div className="actions">
          <button
            type="button"
            className="primary-big"
            disabled={starting || !confirmed}
            onClick={() => {
              stores.ui.getState().selectStep(first)
              void stores.ceremony.getState().runStep(first)
            }}
          >
            {starting ? (resuming ? 'Checking interrupted steps…' : 'Running the preflight checks…') : resuming ? 'Resume: check interrupted steps against the appliances' : 'Begin: run the preflight checks'}
          </button>
          {!confirmed && (
            <button type="button" className="secondary" onClick={() => stores.ui.getState().go('setup')}>
              Confirm the participants first
            </button>
          )}
        </div>
      </section>
    </div>
  )
}

/** Before Begin: the whole ceremony at a glance, by the ids the steps are read aloud by. */
function ScriptOverview(): React.JSX.Element | null {
  const stores = useStores()
  const script = useCeremony((s) => s.script)
  const planId = useCeremony((s) => s.snapshot?.plan?.id)
  useEffect(() => {
    void stores.ceremony.getState().loadScript()
  }, [stores, planId])
  if (!script || script.plan.id !== planId) return null
  return (
    <section className="card" aria-labelledby="overview-heading" data-testid="ceremony-overview">
      <h3 id="overview-heading">The ceremony at a glance ({script.steps.length} steps)</h3>
      <ol className="overview">
        {script.steps.map((s) => (
          <li key={s.scriptId}>
            <span className="script-id">{s.scriptId}</span> {s.title}
          </li>
        ))}
      </ol>
      <button type="button" className="secondary" onClick={() => stores.ui.getState().go('script')}>
        The ceremony script, to print
      </button>
    </section>
  )
}

import { useState } from 'react'
import { ReconcileNotes } from '../components/ReconcileNotes'
import { useApp, useCeremony, useStores } from '../stores'
import { PLAN_TEMPLATE } from '../stores/plan-editor-store'

export function HomeScreen(): React.JSX.Element {
  const stores = useStores()
  const info = useApp((s) => s.info)
  const snapshot = useCeremony((s) => s.snapshot)
  const opening = useCeremony((s) => s.busy.includes('open'))
  const starting = useCeremony((s) => s.busy.includes('rehearsal'))
  const inProgress = snapshot?.plan != null && snapshot.phase !== 'no-plan'
  // Which kind to rehearse: main lists what it can simulate; the first is the default.
  const kinds = snapshot?.rehearsalKinds ?? []
  const [kind, setKind] = useState('')
  // Leaving a ceremony that has begun is asked first, with what would be left behind.
  const begun = inProgress && snapshot!.phase !== 'complete' && snapshot!.phase !== 'aborted' && snapshot!.steps.some((s) => s.state !== 'pending')
  const [asking, setAsking] = useState<'open' | 'rehearsal' | null>(null)
  const [withMaterials, setWithMaterials] = useState(false)

  async function openPlan(): Promise<void> {
    setAsking(null)
    if (await stores.ceremony.getState().openPlan()) stores.ui.getState().go('plan')
  }
  async function startRehearsal(): Promise<void> {
    setAsking(null)
    const chosen = kind !== '' && kind !== kinds[0]?.kind ? kind : undefined
    if (await stores.ceremony.getState().startRehearsal(2, chosen, withMaterials)) stores.ui.getState().go('plan')
  }
  async function startTwoSiteRehearsal(): Promise<void> {
    if (await stores.stations.getState().startRehearsal(1, 2, withMaterials)) stores.ui.getState().go('plan')
  }
  function newPlan(): void {
    const editor = stores.editor.getState()
    if (editor.text.trim() === '') void editor.load(PLAN_TEMPLATE)
    stores.ui.getState().go('editor')
  }

  return (
    <div className="home">
      {inProgress && snapshot && <ResumeCard />}
      <section aria-labelledby="start-heading" className="card">
        <h2 id="start-heading" tabIndex={-1} data-screen-heading>
          Start a ceremony
        </h2>
        <p>Copy the Cluster Master Key from one FIPS appliance to others, with quorum approvals, checks and a record for auditors.</p>
        <div className="actions">
          <button type="button" className={inProgress ? 'secondary' : undefined} onClick={() => (begun ? setAsking('open') : void openPlan())} disabled={opening}>
            Open ceremony plan…
          </button>
          <button type="button" className="secondary" onClick={() => (begun ? setAsking('rehearsal') : void startRehearsal())} disabled={starting}>
            Start a rehearsal
          </button>
          {kinds.length > 1 && (
            <label className="inline">
              of{' '}
              <select aria-label="Ceremony to rehearse" value={kind || kinds[0]!.kind} onChange={(e) => setKind(e.target.value)}>
                {kinds.map((k) => (
                  <option key={k.kind} value={k.kind}>
                    {k.title}
                  </option>
                ))}
              </select>
            </label>
          )}
          <button type="button" className="secondary" onClick={() => void startTwoSiteRehearsal()} disabled={starting}>
            Rehearse across two sites
          </button>
          <button type="button" className="secondary" onClick={newPlan}>
            Write or edit a plan
          </button>
        </div>
        <label className="hint">
          <input type="checkbox" checked={withMaterials} onChange={(e) => setWithMaterials(e.target.checked)} /> Rehearse the materials too: type the chassis serials, tamper labels and bag numbers, and hand each item over at the close
        </label>
        {asking && snapshot?.plan && (
          <div className="confirm-leave" role="alertdialog" aria-labelledby="leave-heading" data-testid="confirm-leave">
            <h3 id="leave-heading">A ceremony is in progress</h3>
            <p>
              <strong>{snapshot.plan.title}</strong>: {snapshot.steps.filter((s) => s.state === 'done' || s.state === 'skipped').length} of {snapshot.steps.length} steps
              done.{' '}
              {snapshot.plan.mode === 'rehearsal'
                ? 'Leaving it ends this rehearsal: its simulated appliances stop, and what it made is gone with them.'
                : 'Leaving it stops nothing on the appliances: what it made stays there (see its steps), its journal and log stay on this workstation, and it is offered for resuming when the app starts again. To end it for good, stop it from the run screen, which records why and what is left.'}
            </p>
            <div className="actions">
              <button type="button" className="danger" onClick={() => void (asking === 'open' ? openPlan() : startRehearsal())}>
                {asking === 'open' ? 'Leave it and open another plan' : 'Leave it and start a rehearsal'}
              </button>
              <button type="button" className="secondary" onClick={() => setAsking(null)}>
                Stay with this ceremony
              </button>
            </div>
          </div>
        )}
        <p className="hint">
          A rehearsal runs the whole ceremony against two simulated target appliances started on this workstation. Everything it shows and
          writes is marked REHEARSAL.
        </p>
        {(opening || starting) && (
          <p role="status" className="hint">
            {opening ? 'Choose the plan file in the window that opened…' : 'Starting the simulated appliances…'}
          </p>
        )}
      </section>
      <SettingsCard />
      {info && (
        <p className="about">
          Version {info.version} · {info.platform}/{info.arch}
        </p>
      )}
    </div>
  )
}

const PHASE_TEXT: Record<string, string> = {
  setup: 'being set up',
  running: 'in progress',
  complete: 'complete',
  failed: 'stopped on a failure',
  aborted: 'stopped by its participants',
}

function ResumeCard(): React.JSX.Element | null {
  const stores = useStores()
  const snapshot = useCeremony((s) => s.snapshot)
  if (!snapshot?.plan) return null
  const { plan, phase, steps } = snapshot
  const done = steps.filter((s) => s.state === 'done' || s.state === 'skipped').length

  function resume(): void {
    const ui = stores.ui.getState()
    if (phase === 'complete') ui.go('record')
    else if (phase === 'setup' || !snapshot?.participantsConfirmed) ui.go('setup')
    else ui.go('run')
  }

  return (
    <section aria-labelledby="resume-heading" className="card card-emphasis">
      <h2 id="resume-heading" tabIndex={-1} data-screen-heading>A ceremony is {PHASE_TEXT[phase] ?? phase}</h2>
      <p>
        <strong>{plan.title}</strong> ({plan.id}) — {steps.length === 0 ? 'no step has run yet.' : `${done} of ${steps.length} steps done.`}
      </p>
      <ReconcileNotes all />
      <div className="actions">
        <button type="button" onClick={resume}>
          {phase === 'complete' ? 'View the ceremony record' : 'Resume the ceremony'}
        </button>
        <button type="button" className="secondary" onClick={() => stores.ui.getState().go('plan')}>
          Review the plan
        </button>
      </div>
    </section>
  )
}

function SettingsCard(): React.JSX.Element | null {
  const stores = useStores()
  const settings = useApp((s) => s.settings)
  if (!settings) return null
  const update = stores.app.getState().updateSettings

  return (
    <section aria-labelledby="settings-heading" className="card">
      <h2 id="settings-heading">This workstation</h2>
      <p className="hint">Who takes part comes from the plan: its operator, custodians and witnesses.</p>
      <fieldset>
        <legend>Text size</legend>
        {[100, 150, 200].map((scale) => (
          <label key={scale} className="inline">
            <input type="radio" name="text-scale" checked={settings.textScale === scale} onChange={() => void update({ textScale: scale })} />
            {scale}%
          </label>
        ))}
      </fieldset>
      <label className="inline">
        <input type="checkbox" checked={settings.highContrast} onChange={(e) => void update({ highContrast: e.target.checked })} />
        High contrast
      </label>
    </section>
  )
}

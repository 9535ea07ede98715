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

  async function openPlan(): Promise<void> {
    if (await stores.ceremony.getState().openPlan()) stores.ui.getState().go('plan')
  }
  async function startRehearsal(): Promise<void> {
    if (await stores.ceremony.getState().startRehearsal(2)) stores.ui.getState().go('plan')
  }
  async function startTwoSiteRehearsal(): Promise<void> {
    if (await stores.stations.getState().startRehearsal(1, 2)) stores.ui.getState().go('plan')
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
          <button type="button" className={inProgress ? 'secondary' : undefined} onClick={() => void openPlan()} disabled={opening}>
            Open ceremony plan…
          </button>
          <button type="button" className="secondary" onClick={() => void startRehearsal()} disabled={starting}>
            Start a rehearsal
          </button>
          <button type="button" className="secondary" onClick={() => void startTwoSiteRehearsal()} disabled={starting}>
            Rehearse across two sites
          </button>
          <button type="button" className="secondary" onClick={newPlan}>
            Write or edit a plan
          </button>
        </div>
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
        <strong>{plan.title}</strong> ({plan.id}) — {done} of {steps.length} steps done.
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
  const saving = useApp((s) => s.saving)
  const [operatorName, setOperatorName] = useState(settings?.operatorName ?? '')
  const [saved, setSaved] = useState(false)
  if (!settings) return null
  const update = stores.app.getState().updateSettings

  return (
    <section aria-labelledby="settings-heading" className="card">
      <h2 id="settings-heading">This workstation</h2>
      <form
        onSubmit={(event) => {
          event.preventDefault()
          setSaved(false)
          void update({ operatorName }).then(setSaved)
        }}
      >
        <label htmlFor="operator-name">Operator name</label>
        <div className="inline-form">
          <input id="operator-name" value={operatorName} maxLength={80} onChange={(e) => setOperatorName(e.target.value)} />
          <button type="submit" className="secondary" disabled={saving}>
            Save
          </button>
          <span role="status" className="hint">
            {saved ? 'Saved.' : ''}
          </span>
        </div>
      </form>
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

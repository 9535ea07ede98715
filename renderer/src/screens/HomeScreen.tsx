import { useState } from 'react'
import { useStore } from 'zustand'
import type { AppInfo } from '../../../preload/contract'
import type { AppStore } from '../stores/app-store'

export function HomeScreen({ info, appStore }: { info: AppInfo; appStore: AppStore }): React.JSX.Element {
  return (
    <div className="home">
      <section aria-labelledby="start-heading" className="card">
        <h2 id="start-heading">Start</h2>
        <p>Copy the Cluster Master Key from one FIPS appliance to others, with quorum approvals, checks and a record for auditors.</p>
        <div className="actions">
          <button type="button" disabled aria-describedby="not-yet">
            Open ceremony plan…
          </button>
          <button type="button" disabled aria-describedby="not-yet">
            Start a rehearsal
          </button>
        </div>
        <p id="not-yet" className="hint">
          Not yet available in this build.
        </p>
      </section>
      <SettingsCard appStore={appStore} />
      <p className="about">
        Version {info.version} · {info.platform}/{info.arch}
      </p>
    </div>
  )
}

function SettingsCard({ appStore }: { appStore: AppStore }): React.JSX.Element | null {
  const settings = useStore(appStore, (s) => s.settings)
  const saving = useStore(appStore, (s) => s.saving)
  const [operatorName, setOperatorName] = useState(settings?.operatorName ?? '')
  const [saved, setSaved] = useState(false)
  if (!settings) return null

  return (
    <section aria-labelledby="settings-heading" className="card">
      <h2 id="settings-heading">This workstation</h2>
      <form
        onSubmit={(event) => {
          event.preventDefault()
          setSaved(false)
          void appStore.getState().updateSettings({ operatorName }).then(setSaved)
        }}
      >
        <label htmlFor="operator-name">Operator name</label>
        <input id="operator-name" value={operatorName} maxLength={80} onChange={(e) => setOperatorName(e.target.value)} />
        <button type="submit" disabled={saving}>
          Save
        </button>
        <span role="status" className="hint">
          {saved ? 'Saved.' : ''}
        </span>
      </form>
      <fieldset>
        <legend>Text size</legend>
        {[100, 150, 200].map((scale) => (
          <label key={scale} className="inline">
            <input
              type="radio"
              name="text-scale"
              checked={settings.textScale === scale}
              onChange={() => void appStore.getState().updateSettings({ textScale: scale })}
            />
            {scale}%
          </label>
        ))}
      </fieldset>
      <label className="inline">
        <input
          type="checkbox"
          checked={settings.highContrast}
          onChange={(e) => void appStore.getState().updateSettings({ highContrast: e.target.checked })}
        />
        High contrast
      </label>
    </section>
  )
}

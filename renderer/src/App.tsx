import { useEffect } from 'react'
import { useStore } from 'zustand'
import type { AppStore } from './stores/app-store'
import { ModeBadge } from './components/ModeBadge'
import { HomeScreen } from './screens/HomeScreen'

export function App({ appStore }: { appStore: AppStore }): React.JSX.Element {
  const info = useStore(appStore, (s) => s.info)
  const settings = useStore(appStore, (s) => s.settings)
  const error = useStore(appStore, (s) => s.error)

  useEffect(() => {
    void appStore.getState().load()
    return appStore.getState().follow()
  }, [appStore])

  useEffect(() => {
    if (!settings) return
    document.documentElement.style.fontSize = `${settings.textScale}%`
    document.documentElement.dataset.contrast = settings.highContrast ? 'high' : 'normal'
  }, [settings])

  useEffect(() => {
    if (info) document.documentElement.dataset.mode = info.mode
  }, [info])

  return (
    <div className="app">
      <header className="topbar">
        <h1 className="app-name">DSM Key Ceremony</h1>
        {info && <ModeBadge mode={info.mode} />}
      </header>
      {error && (
        <div role="alert" className="banner banner-error">
          <strong>{error.code}</strong>: {error.message}
        </div>
      )}
      <main className="content">
        {info && settings ? <HomeScreen info={info} appStore={appStore} /> : <p aria-live="polite">Starting…</p>}
      </main>
    </div>
  )
}

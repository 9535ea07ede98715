import { useEffect, useRef } from 'react'
import type { Mode } from '../../preload/contract'
import { CallError } from './components/ErrorBox'
import { ModeBadge } from './components/ModeBadge'
import { CeremonyClock } from './components/CeremonyClock'
import { HandoffScreen } from './screens/HandoffScreen'
import { HomeScreen } from './screens/HomeScreen'
import { PlanEditorScreen } from './screens/PlanEditorScreen'
import { PlanReviewScreen } from './screens/PlanReviewScreen'
import { ScriptScreen } from './screens/ScriptScreen'
import { ReceiveScreen } from './screens/ReceiveScreen'
import { RecordScreen } from './screens/RecordScreen'
import { RunScreen } from './screens/RunScreen'
import { SetupScreen } from './screens/SetupScreen'
import { StoresContext, useApp, useCeremony, useStores, useUi, type Stores } from './stores'

export function App({ stores }: { stores: Stores }): React.JSX.Element {
  return (
    <StoresContext.Provider value={stores}>
      <Shell />
    </StoresContext.Provider>
  )
}

/**
 * The mode of what is loaded: the plan's when there is one (main runs a rehearsal plan only against
 * simulated appliances), otherwise the app's. Read live from the snapshot, so opening a production
 * plan after a rehearsal turns the badge back at once.
 */
export function useMode(): Mode | null {
  const appMode = useApp((s) => s.info?.mode ?? null)
  const planMode = useCeremony((s) => s.snapshot?.plan?.mode ?? null)
  const simulated = useCeremony((s) => (s.snapshot?.rehearsalCredentials.length ?? 0) > 0)
  if (appMode === null) return null
  if (simulated) return 'rehearsal'
  return planMode ?? appMode
}

function Shell(): React.JSX.Element {
  const stores = useStores()
  const info = useApp((s) => s.info)
  const settings = useApp((s) => s.settings)
  const appError = useApp((s) => s.error)
  const callError = useCeremony((s) => s.error)
  const planTitle = useCeremony((s) => s.snapshot?.plan?.title ?? null)
  const screen = useUi((s) => s.screen)
  const mode = useMode()
  const firstScreen = useRef(true)

  useEffect(() => {
    void stores.app.getState().load()
    void stores.ceremony.getState().load()
    const stopApp = stores.app.getState().follow()
    const stopCeremony = stores.ceremony.getState().follow()
    return () => {
      stopApp()
      stopCeremony()
    }
  }, [stores])

  useEffect(() => {
    if (!settings) return
    document.documentElement.style.fontSize = `${settings.textScale}%`
    document.documentElement.dataset.contrast = settings.highContrast ? 'high' : 'normal'
  }, [settings])

  useEffect(() => {
    if (mode) document.documentElement.dataset.mode = mode
  }, [mode])

  // A new screen: move focus to its heading so keyboard and screen-reader users start at the top.
  useEffect(() => {
    if (firstScreen.current) {
      firstScreen.current = false
      return
    }
    window.scrollTo?.(0, 0)
    document.querySelector<HTMLElement>('[data-screen-heading]')?.focus()
  }, [screen])

  return (
    <div className="app">
      <header className="topbar">
        <h1 className="app-name">DSM Key Ceremony</h1>
        {mode && <ModeBadge mode={mode} planOpen={planTitle !== null} />}
        {planTitle && <span className="topbar-plan">{planTitle}</span>}
        {screen === 'run' && <CeremonyClock />}
        {mode === 'rehearsal' && (
          <p className="rehearsal-banner" data-testid="rehearsal-banner">
            REHEARSAL — simulated appliances only; nothing real is touched. Every output is marked REHEARSAL.
          </p>
        )}
      </header>
      <main className="content" id="content">
        {appError && (
          <div role="alert" className="banner banner-error">
            <strong>{appError.code}</strong>: {appError.message}
          </div>
        )}
        {info && settings ? <CurrentScreen screen={screen} /> : <p aria-live="polite">Starting…</p>}
      </main>
      <aside className="toast-region" aria-label="Messages">
        {callError && <CallError error={callError} onDismiss={() => stores.ceremony.getState().clearError()} />}
      </aside>
    </div>
  )
}

function CurrentScreen({ screen }: { screen: ReturnType<Stores['ui']['getState']>['screen'] }): React.JSX.Element {
  switch (screen) {
    case 'plan':
      return <PlanReviewScreen />
    case 'editor':
      return <PlanEditorScreen />
    case 'setup':
      return <SetupScreen />
    case 'run':
      return <RunScreen />
    case 'record':
      return <RecordScreen />
    case 'script':
      return <ScriptScreen />
    case 'handoff':
      return <HandoffScreen />
    case 'receive':
      return <ReceiveScreen />
    default:
      return <HomeScreen />
  }
}

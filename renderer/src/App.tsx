import { Suspense, useEffect, useRef, type ComponentType } from 'react'
import type { Mode } from '../../preload/contract'
import { CallError } from './components/ErrorBox'
import { ModeBadge } from './components/ModeBadge'
import { CeremonyClock } from './components/CeremonyClock'
import { FocusScreenHeading, lazyScreen, ScreenLoadBoundary, ScreenLoading, type LazyScreen } from './components/LazyScreen'
import { HomeScreen } from './screens/HomeScreen'
import { PlanReviewScreen } from './screens/PlanReviewScreen'
import { RunScreen } from './screens/RunScreen'
import { SetupScreen } from './screens/SetupScreen'
import { StoresContext, useApp, useCeremony, useStores, useUi, type Stores } from './stores'
import type { Screen } from './stores/ui-store'

/**
 * Every screen. The ones a ceremony needs from the first moment (home, plan review, setup, run) are
 * in the start-up bundle; the rest are chunks fetched when first opened (components/LazyScreen.tsx).
 */
const SCREENS: Record<Screen, ComponentType | LazyScreen> = {
  home: HomeScreen,
  plan: PlanReviewScreen,
  setup: SetupScreen,
  run: RunScreen,
  editor: lazyScreen('the plan editor', () => import('./screens/PlanEditorScreen').then((m) => m.PlanEditorScreen)),
  script: lazyScreen('the ceremony script', () => import('./screens/ScriptScreen').then((m) => m.ScriptScreen)),
  record: lazyScreen('the record', () => import('./screens/RecordScreen').then((m) => m.RecordScreen)),
  handoff: lazyScreen('the hand-off', () => import('./screens/HandoffScreen').then((m) => m.HandoffScreen)),
  receive: lazyScreen('the receive screen', () => import('./screens/ReceiveScreen').then((m) => m.ReceiveScreen)),
}

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
  const shownBefore = useRef(false)

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
        {info && settings ? <CurrentScreen screen={screen} shownBefore={shownBefore} /> : <p aria-live="polite">Starting…</p>}
      </main>
      <aside className="toast-region" aria-label="Messages">
        {callError && <CallError error={callError} onDismiss={() => stores.ceremony.getState().clearError()} />}
      </aside>
    </div>
  )
}

/**
 * The screen the operator is on. Keyed by screen, so a screen that failed to load is forgotten once
 * they go elsewhere; the heading takes focus once the screen (a lazy one's chunk too) is on the page.
 */
function CurrentScreen({ screen, shownBefore }: { screen: Screen; shownBefore: React.RefObject<boolean> }): React.JSX.Element {
  const stores = useStores()
  const Current = SCREENS[screen] ?? HomeScreen
  return (
    <ScreenLoadBoundary key={screen} onHome={() => stores.ui.getState().go('home')}>
      <Suspense fallback={<ScreenLoading name={'screenName' in Current ? Current.screenName : 'the screen'} />}>
        <Current />
        <FocusScreenHeading shownBefore={shownBefore} />
      </Suspense>
    </ScreenLoadBoundary>
  )
}

/**
 * Where the operator was (screen and selected step), kept in the tab's sessionStorage so that the
 * page main loads again after a renderer crash (security.md §8 F24) comes back to the same screen
 * and step. A page that goes away normally (a reload, a navigation, closing) says so on `pagehide`
 * and the memory is dropped, so only a crash, which fires no event, leaves it for the next load.
 * Only navigation is kept: every ceremony fact comes from main again. The storage lives as long as
 * the window, never on disk, and holds nothing secret.
 */
import type { Screen, UiStore } from './stores/ui-store'

const KEY = 'dsm-ceremony.ui'
const SCREENS: readonly Screen[] = ['home', 'plan', 'editor', 'setup', 'run', 'record']

export function restoredUi(): { screen?: Screen; selectedStepId: string | null } {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as { screen?: unknown; selectedStepId?: unknown } | null
    const screen = SCREENS.find((s) => s === saved?.screen)
    const step = typeof saved?.selectedStepId === 'string' && saved.selectedStepId.length <= 120 ? saved.selectedStepId : null
    return { ...(screen ? { screen } : {}), selectedStepId: step }
  } catch {
    return { selectedStepId: null }
  }
}

export function rememberUi(ui: UiStore): void {
  addEventListener('pagehide', () => {
    try {
      sessionStorage.removeItem(KEY)
    } catch {
      // nothing to forget
    }
  })
  ui.subscribe((s) => {
    try {
      sessionStorage.setItem(KEY, JSON.stringify({ screen: s.screen, selectedStepId: s.selectedStepId }))
    } catch {
      // No storage (a locked-down profile): a reload starts at the home screen, which offers to resume.
    }
  })
}

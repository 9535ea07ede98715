/**
 * Where the operator was (screen and selected step), kept in the tab's sessionStorage so that a
 * reload after a renderer crash (main reloads the page; security.md §8 F24) comes back to the same
 * screen and step. Only navigation is kept: every ceremony fact comes from main again. The storage
 * lives as long as the window, never on disk, and holds nothing secret.
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
  ui.subscribe((s) => {
    try {
      sessionStorage.setItem(KEY, JSON.stringify({ screen: s.screen, selectedStepId: s.selectedStepId }))
    } catch {
      // No storage (a locked-down profile): a reload starts at the home screen, which offers to resume.
    }
  })
}

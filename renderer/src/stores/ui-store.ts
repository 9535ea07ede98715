/** Where the operator is in the app: which screen, and which step the run screen shows. */
import { createStore } from 'zustand/vanilla'

export type Screen = 'home' | 'plan' | 'script' | 'editor' | 'setup' | 'run' | 'record' | 'handoff' | 'receive'

export interface UiState {
  screen: Screen
  /** The step shown on the run screen; null follows the ceremony's current step. */
  selectedStepId: string | null
  go(screen: Screen): void
  selectStep(stepId: string | null): void
}

export function createUiStore(initial: Screen = 'home') {
  return createStore<UiState>()((set) => ({
    screen: initial,
    selectedStepId: null,
    go: (screen) => set({ screen }),
    selectStep: (selectedStepId) => set({ selectedStepId }),
  }))
}

export type UiStore = ReturnType<typeof createUiStore>

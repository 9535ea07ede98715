/** Every store of the renderer, created once with the bridge injected (tests inject a fake). */
import { createContext, useContext } from 'react'
import { useStore } from 'zustand'
import type { CeremonyBridge } from '../../../preload/contract'
import { createAppStore, type AppState, type AppStore } from './app-store'
import { createCeremonyStore, type CeremonyState, type CeremonyStore } from './ceremony-store'
import { createPlanEditorStore, type PlanEditorOptions, type PlanEditorState, type PlanEditorStore } from './plan-editor-store'
import { createStationStore, type StationState, type StationStore } from './station-store'
import { createUiStore, type Screen, type UiState, type UiStore } from './ui-store'

export interface Stores {
  app: AppStore
  ceremony: CeremonyStore
  editor: PlanEditorStore
  ui: UiStore
  /** Stations across sites (station-store.ts). */
  stations: StationStore
}

export function createStores(bridge: CeremonyBridge, options: { editor?: PlanEditorOptions; screen?: Screen } = {}): Stores {
  const ceremony = createCeremonyStore(bridge)
  return {
    app: createAppStore(bridge),
    ceremony,
    editor: createPlanEditorStore(bridge, options.editor),
    ui: createUiStore(options.screen),
    stations: createStationStore(bridge, ceremony),
  }
}

export const StoresContext = createContext<Stores | null>(null)

export function useStores(): Stores {
  const stores = useContext(StoresContext)
  if (!stores) throw new Error('StoresContext is missing')
  return stores
}

export const useApp = <T,>(selector: (s: AppState) => T): T => useStore(useStores().app, selector)
export const useCeremony = <T,>(selector: (s: CeremonyState) => T): T => useStore(useStores().ceremony, selector)
export const useEditor = <T,>(selector: (s: PlanEditorState) => T): T => useStore(useStores().editor, selector)
export const useUi = <T,>(selector: (s: UiState) => T): T => useStore(useStores().ui, selector)
export const useStations = <T,>(selector: (s: StationState) => T): T => useStore(useStores().stations, selector)

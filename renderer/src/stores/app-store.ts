/** App-level state: identity, mode and settings. The bridge is injected so tests pass a fake. */
import { createStore } from 'zustand/vanilla'
import type { AppInfo, CeremonyBridge, IpcError, Settings } from '../../../preload/contract'

export type AppBridge = Pick<CeremonyBridge, 'appInfo' | 'getSettings' | 'updateSettings' | 'onSettingsChanged'>

export interface AppState {
  info: AppInfo | null
  settings: Settings | null
  /** The last failed call, shown to the operator until the next success. */
  error: IpcError | null
  saving: boolean
  load(): Promise<void>
  updateSettings(patch: Partial<Settings>): Promise<boolean>
  /** Follows settings changed from elsewhere; returns the unsubscribe. */
  follow(): () => void
}

export function createAppStore(bridge: AppBridge) {
  return createStore<AppState>()((set) => ({
    info: null,
    settings: null,
    error: null,
    saving: false,
    async load() {
      const [info, settings] = await Promise.all([bridge.appInfo(), bridge.getSettings()])
      if (!info.ok) return set({ error: info.error })
      if (!settings.ok) return set({ error: settings.error })
      set({ info: info.data, settings: settings.data, error: null })
    },
    async updateSettings(patch) {
      set({ saving: true })
      const result = await bridge.updateSettings(patch)
      if (!result.ok) {
        set({ saving: false, error: result.error })
        return false
      }
      set({ saving: false, settings: result.data, error: null })
      return true
    },
    follow() {
      return bridge.onSettingsChanged((settings) => set({ settings }))
    },
  }))
}

export type AppStore = ReturnType<typeof createAppStore>

/** Thin IPC handlers: the payload is already validated; each one calls a service and returns its result. */
import type { Mode } from '../../preload/contract'
import type { SettingsService } from '../settings/settings-service'
import type { Handlers } from './register'

export interface AppIdentity {
  name: string
  version: string
  platform: string
  arch: string
}

export interface Services {
  identity: AppIdentity
  /** Production until the operator starts a rehearsal; every screen shows it. */
  mode(): Mode
  settings: SettingsService
}

export function createHandlers(services: Services): Handlers {
  return {
    appInfo: () => ({ ...services.identity, mode: services.mode() }),
    getSettings: () => services.settings.get(),
    updateSettings: (patch) => services.settings.update(patch),
  }
}

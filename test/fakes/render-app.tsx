/** Renders the whole app on a chosen screen with a fake bridge that answers the start-up calls. */
import { act, render } from '@testing-library/react'
import type { CeremonySnapshot } from '../../preload/contract'
import { App } from '../../renderer/src/App'
import { createStores, type Stores } from '../../renderer/src/stores'
import type { Screen } from '../../renderer/src/stores/ui-store'
import { createFakeBridge, type FakeBridge } from './fake-bridge'
import { ok } from './ceremony-fixtures'

export const INFO = { name: 'DSM Key Ceremony', version: '1.0.0', platform: 'linux', arch: 'x64', mode: 'production' as const }
export const SETTINGS = { operatorName: 'Sam', textScale: 100, highContrast: false }

export function bridgeWith(snapshot: CeremonySnapshot | null): FakeBridge {
  const bridge = createFakeBridge()
  bridge.appInfo.mockResolvedValue(ok(INFO))
  bridge.getSettings.mockResolvedValue(ok(SETTINGS))
  if (snapshot) bridge.status.mockResolvedValue(ok(snapshot))
  return bridge
}

export async function renderApp(bridge: FakeBridge, screen: Screen = 'home'): Promise<Stores> {
  const stores = createStores(bridge, { screen, editor: { debounceMs: 0 } })
  await act(async () => {
    render(<App stores={stores} />)
  })
  return stores
}

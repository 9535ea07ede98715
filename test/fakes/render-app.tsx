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

type AnyMock = { mock: { invocationCallOrder: number[]; settledResults: { type: string; value?: unknown }[] } }

/** The snapshot main would hold now: the one answered by the most recent successful call. */
function latestSnapshot(bridge: FakeBridge, initial: CeremonySnapshot): CeremonySnapshot {
  let best = initial
  let order = -1
  for (const [name, member] of Object.entries(bridge)) {
    if (name === 'status' || typeof member !== 'function' || !('mock' in member)) continue
    const { invocationCallOrder, settledResults } = (member as unknown as AnyMock).mock
    settledResults.forEach((r, i) => {
      const value = r.value as { ok?: boolean; data?: { steps?: unknown; snapshot?: CeremonySnapshot } } | undefined
      if (r.type !== 'fulfilled' || !value?.ok || !value.data) return
      const snap = value.data.snapshot ?? (value.data.steps ? (value.data as unknown as CeremonySnapshot) : null)
      if (snap && invocationCallOrder[i]! > order) {
        best = snap
        order = invocationCallOrder[i]!
      }
    })
  }
  return best
}

/** A fake bridge for the app: status() answers the latest snapshot any call returned, as main would. */
export function bridgeWith(snapshot: CeremonySnapshot | null): FakeBridge {
  const bridge = createFakeBridge()
  bridge.appInfo.mockResolvedValue(ok(INFO))
  bridge.getSettings.mockResolvedValue(ok(SETTINGS))
  if (snapshot) bridge.status.mockImplementation(async () => ok(latestSnapshot(bridge, snapshot)))
  return bridge
}

export async function renderApp(bridge: FakeBridge, screen: Screen = 'home'): Promise<Stores> {
  const stores = createStores(bridge, { screen, editor: { debounceMs: 0 } })
  await act(async () => {
    render(<App stores={stores} />)
  })
  return stores
}

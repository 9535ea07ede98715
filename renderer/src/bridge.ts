/** The only file that reads the preload's global. Types come from the contract (type-only import). */
import type { BRIDGE_KEY, CeremonyBridge } from '../../preload/contract'

declare global {
  interface Window {
    readonly ceremony?: CeremonyBridge
  }
}

const key: typeof BRIDGE_KEY = 'ceremony'

export function getBridge(): CeremonyBridge {
  const bridge = window[key]
  if (!bridge) throw new Error('The app bridge is missing: this page must be opened by DSM Key Ceremony')
  return bridge
}

export type { CeremonyBridge }

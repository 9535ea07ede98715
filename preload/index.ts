/**
 * The preload: turns the contract into named async methods on `window.ceremony`. It holds no logic
 * and exposes no `ipcRenderer`, no generic invoke and no `send`, so a compromised renderer can only
 * make the calls listed in the contract (and main validates those again).
 * Built as one CommonJS bundle so it runs with `sandbox: true`.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import { BRIDGE_KEY, events, invokes, type CeremonyBridge } from './contract'

// Fail closed: without context isolation the page could reach this script's scope.
if (process.contextIsolated !== true) {
  throw new Error('DSM Key Ceremony refuses to start: context isolation is off')
}

const bridge: Record<string, unknown> = {}

for (const [method, spec] of Object.entries(invokes)) {
  bridge[method] = (request?: unknown) => ipcRenderer.invoke(spec.channel, request ?? {})
}

for (const [method, spec] of Object.entries(events)) {
  bridge[method] = (listener: (payload: unknown) => void) => {
    const forward = (_event: IpcRendererEvent, payload: unknown) => listener(payload)
    ipcRenderer.on(spec.channel, forward)
    return () => {
      ipcRenderer.removeListener(spec.channel, forward)
    }
  }
}

contextBridge.exposeInMainWorld(BRIDGE_KEY, Object.freeze(bridge) as CeremonyBridge)

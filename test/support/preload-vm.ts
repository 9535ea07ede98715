/**
 * Runs the built preload bundle in a VM with a recording fake of what Electron gives a sandboxed
 * preload (contextBridge, ipcRenderer), so tests see exactly what the bundle exposes to the page.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import vm from 'node:vm'

export const PRELOAD_BUNDLE = join(__dirname, '../../out/preload/index.js')

export interface PreloadRun {
  /** What exposeInMainWorld put on the page's window, by key. */
  exposed: Record<string, unknown>
  invoked: { channel: string; payload: unknown }[]
  /** How many arguments beyond (channel, payload) each invoke got: the page must not choose any. */
  extraArgs: number[]
  listeners: Map<string, Set<(...a: unknown[]) => void>>
  /** The fake ipcRenderer, to check it never leaks into the page. */
  ipcRenderer: object
}

export function runPreload(contextIsolated: boolean, answer: unknown = { ok: true, data: null }): PreloadRun {
  const exposed: Record<string, unknown> = {}
  const invoked: PreloadRun['invoked'] = []
  const extraArgs: number[] = []
  const listeners = new Map<string, Set<(...a: unknown[]) => void>>()
  const ipcRenderer = {
    // Objects made inside the VM have its own prototypes; copy them into this realm to compare.
    invoke: async (channel: string, payload: unknown, ...rest: unknown[]) => {
      invoked.push({ channel, payload: JSON.parse(JSON.stringify(payload ?? null)) })
      extraArgs.push(rest.length)
      return answer
    },
    on: (channel: string, fn: (...a: unknown[]) => void) => {
      if (!listeners.has(channel)) listeners.set(channel, new Set())
      listeners.get(channel)!.add(fn)
      return ipcRenderer
    },
    removeListener: (channel: string, fn: (...a: unknown[]) => void) => {
      listeners.get(channel)?.delete(fn)
      return ipcRenderer
    },
  }
  const electron = { contextBridge: { exposeInMainWorld: (key: string, api: unknown) => { exposed[key] = api } }, ipcRenderer }
  const context = vm.createContext({
    require: (name: string) => { if (name === 'electron') return electron; throw new Error(`the preload may require only electron, not ${name}`) },
    process: { contextIsolated },
    Object, Error,
  })
  vm.runInContext(readFileSync(PRELOAD_BUNDLE, 'utf8'), context)
  return { exposed, invoked, extraArgs, listeners, ipcRenderer }
}

/**
 * Stands in for `electron` when the real preload is bundled for a plain browser: contextBridge puts
 * the bridge on window, ipcRenderer carries calls over loopback HTTP to the real main handlers, and
 * main → renderer events arrive over Server-Sent Events. The per-run token is baked in by the harness.
 */
declare const __HARNESS_TOKEN__: string

type Listener = (event: unknown, payload: unknown) => void

export const contextBridge = {
  exposeInMainWorld(key: string, api: unknown): void {
    Object.defineProperty(window, key, { value: api, writable: false, configurable: false })
  },
}

const listeners = new Map<string, Set<Listener>>()
let source: EventSource | null = null

function ensureEventSource(): void {
  if (source) return
  source = new EventSource(`./__events?token=${encodeURIComponent(__HARNESS_TOKEN__)}`)
  source.onmessage = (message) => {
    const { channel, payload } = JSON.parse(message.data) as { channel: string; payload: unknown }
    for (const listener of listeners.get(channel) ?? []) listener({}, payload)
  }
}

export const ipcRenderer = {
  async invoke(channel: string, payload: unknown): Promise<unknown> {
    const response = await fetch(`./__ipc/${encodeURIComponent(channel)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-harness-token': __HARNESS_TOKEN__ },
      body: JSON.stringify(payload),
    })
    // Named refusals (too large, not JSON) come back as a Result, as main's own refusals do.
    if (!response.ok && !(response.headers.get('content-type') ?? '').startsWith('application/json')) {
      throw new Error(`harness IPC ${channel}: HTTP ${response.status}`)
    }
    return response.json()
  },
  on(channel: string, listener: Listener): void {
    ensureEventSource()
    if (!listeners.has(channel)) listeners.set(channel, new Set())
    listeners.get(channel)!.add(listener)
  },
  removeListener(channel: string, listener: Listener): void {
    listeners.get(channel)?.delete(listener)
  },
}

/**
 * A fake of `window.ceremony` generated from the contract: one vi.fn per bridge member, so a new
 * channel appears here without anyone writing it twice. Unfaked calls answer a named error.
 */
import { vi, type Mock } from 'vitest'
import { events, invokes, type CeremonyBridge } from '../../preload/contract'

export type FakeBridge = { [K in keyof CeremonyBridge]: Mock<CeremonyBridge[K]> } & {
  /** Delivers a main → renderer event to the subscribed listeners. */
  emit<K extends keyof typeof events>(name: K, payload: Parameters<Parameters<CeremonyBridge[K]>[0]>[0]): void
}

export function createFakeBridge(): FakeBridge {
  const listeners = new Map<string, Set<(payload: unknown) => void>>()
  const bridge: Record<string, unknown> = {}
  for (const name of Object.keys(invokes)) {
    bridge[name] = vi.fn(async () => ({ ok: false, error: { code: 'NOT_FAKED', message: `${name} is not faked in this test` } }))
  }
  for (const name of Object.keys(events)) {
    listeners.set(name, new Set())
    bridge[name] = vi.fn((listener: (payload: unknown) => void) => {
      listeners.get(name)!.add(listener)
      return () => listeners.get(name)!.delete(listener)
    })
  }
  bridge.emit = (name: string, payload: unknown) => listeners.get(name)!.forEach((l) => l(payload))
  return bridge as FakeBridge
}

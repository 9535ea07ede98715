import { afterEach, describe, expect, test } from 'vitest'
import { act, cleanup, render, screen } from '@testing-library/react'
import { App } from '../../renderer/src/App'
import { createAppStore } from '../../renderer/src/stores/app-store'
import { createStores } from '../../renderer/src/stores'
import { createFakeBridge } from '../fakes/fake-bridge'
import { makeSnapshot, ok } from '../fakes/ceremony-fixtures'

const info = { name: 'DSM Key Ceremony', version: '1.0.0', platform: 'linux', arch: 'x64', mode: 'production' as const }
const settings = { operatorName: 'Sam', textScale: 100, highContrast: false }
const noPlan = makeSnapshot({ plan: null, phase: 'no-plan', steps: [], groups: [], connections: [], rehearsalCredentials: [], currentStepId: null })

function bridgeWithData() {
  const bridge = createFakeBridge()
  bridge.appInfo.mockResolvedValue({ ok: true, data: info })
  bridge.getSettings.mockResolvedValue({ ok: true, data: settings })
  bridge.status.mockResolvedValue(ok(noPlan))
  return bridge
}

afterEach(cleanup)

describe('app store', () => {
  test('load() fills info and settings from the bridge', async () => {
    const store = createAppStore(bridgeWithData())
    await store.getState().load()
    expect(store.getState()).toMatchObject({ info, settings, error: null })
  })

  test('a failed call is kept as the error and nothing else changes', async () => {
    const bridge = bridgeWithData()
    bridge.getSettings.mockResolvedValue({ ok: false, error: { code: 'INTERNAL', message: 'boom' } })
    const store = createAppStore(bridge)
    await store.getState().load()
    expect(store.getState().error).toEqual({ code: 'INTERNAL', message: 'boom' })
    expect(store.getState().settings).toBeNull()
  })

  test('updateSettings sends only the patch and stores what main returns', async () => {
    const bridge = bridgeWithData()
    bridge.updateSettings.mockResolvedValue({ ok: true, data: { ...settings, textScale: 150 } })
    const store = createAppStore(bridge)
    expect(await store.getState().updateSettings({ textScale: 150 })).toBe(true)
    expect(bridge.updateSettings).toHaveBeenCalledWith({ textScale: 150 })
    expect(store.getState().settings?.textScale).toBe(150)
  })

  test('updateSettings reports a refusal without losing the current settings', async () => {
    const bridge = bridgeWithData()
    bridge.updateSettings.mockResolvedValue({ ok: false, error: { code: 'INVALID_PAYLOAD', message: 'textScale: too big' } })
    const store = createAppStore(bridge)
    await store.getState().load()
    expect(await store.getState().updateSettings({ textScale: 999 })).toBe(false)
    expect(store.getState().settings).toEqual(settings)
    expect(store.getState().error?.code).toBe('INVALID_PAYLOAD')
  })

  test('follow() tracks settings changed in main until unsubscribed', async () => {
    const bridge = bridgeWithData()
    const store = createAppStore(bridge)
    const stop = store.getState().follow()
    bridge.emit('onSettingsChanged', { ...settings, highContrast: true })
    expect(store.getState().settings?.highContrast).toBe(true)
    stop()
    bridge.emit('onSettingsChanged', { ...settings, highContrast: false })
    expect(store.getState().settings?.highContrast).toBe(true)
  })
})

describe('App', () => {
  test('shows the mode badge and the home screen with working entry points once loaded', async () => {
    await act(async () => {
      render(<App stores={createStores(bridgeWithData())} />)
    })
    // A production workstation with no plan open touches no appliance: it says so, not PRODUCTION.
    expect(screen.getByTestId('mode-badge').textContent).toBe('NO PLAN OPEN')
    expect(screen.getByRole('button', { name: 'Start a rehearsal' }).hasAttribute('disabled')).toBe(false)
    expect(screen.getByRole('button', { name: 'Open ceremony plan…' }).hasAttribute('disabled')).toBe(false)
    // Who takes part comes from the plan: the workstation no longer asks for an operator name.
    expect(screen.queryByLabelText('Operator name')).toBeNull()
    expect(screen.queryByText(/Not yet available/)).toBeNull()
  })

  test('shows a rehearsal as REHEARSAL', async () => {
    const bridge = bridgeWithData()
    bridge.appInfo.mockResolvedValue({ ok: true, data: { ...info, mode: 'rehearsal' } })
    await act(async () => {
      render(<App stores={createStores(bridge)} />)
    })
    expect(screen.getByTestId('mode-badge').textContent).toBe('REHEARSAL')
    expect(document.documentElement.dataset.mode).toBe('rehearsal')
    expect(screen.getByTestId('rehearsal-banner').textContent).toMatch(/simulated appliances only/)
  })

  test('a loaded rehearsal plan turns the badge to REHEARSAL even when the app started in production', async () => {
    const bridge = bridgeWithData()
    bridge.status.mockResolvedValue(ok(makeSnapshot()))
    await act(async () => {
      render(<App stores={createStores(bridge)} />)
    })
    expect(screen.getByTestId('mode-badge').textContent).toBe('REHEARSAL')
    expect(document.documentElement.dataset.mode).toBe('rehearsal')
  })

  test('opening a production plan after a rehearsal shows PRODUCTION at once', async () => {
    const bridge = bridgeWithData()
    bridge.appInfo.mockResolvedValue({ ok: true, data: { ...info, mode: 'rehearsal' } })
    bridge.status.mockResolvedValue(ok(makeSnapshot()))
    const stores = createStores(bridge)
    await act(async () => {
      render(<App stores={stores} />)
    })
    expect(screen.getByTestId('mode-badge').textContent).toBe('REHEARSAL')
    const production = makeSnapshot({ plan: makeSnapshot().plan && { ...makeSnapshot().plan!, mode: 'production' }, rehearsalCredentials: [] })
    await act(async () => bridge.emit('onCeremonyChanged', production))
    expect(screen.getByTestId('mode-badge').textContent).toBe('PRODUCTION')
    expect(document.documentElement.dataset.mode).toBe('production')
  })
})

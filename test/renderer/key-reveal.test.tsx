/**
 * The one-time reveal on the run screen (renderer/src/components/KeyReveal.tsx): the key P.2 made is
 * asked for only by the operator's click, shown from the component's state alone (no store, no
 * storage), and gone when hidden, when another step is shown, and when the window is hidden; a
 * refusal shows no key.
 */
import { afterEach, describe, expect, test } from 'vitest'
import { act, cleanup, fireEvent, screen } from '@testing-library/react'
import type { CeremonySnapshot, KeyRevealView } from '../../preload/contract'
import { fail, makeRecord, makeSnapshot, makeStep, ok } from '../fakes/ceremony-fixtures'
import { eventsByStep } from '../../renderer/src/screens/record/record-model'
import { bridgeWith, renderApp } from '../fakes/render-app'
import type { Stores } from '../../renderer/src/stores'

afterEach(cleanup)

const KEY = 'NjZmOTk0ZjMtYzFiZC00ZTkzLTg1ZTEtN2M2OGM0ZTk2NGQ3OnJldmVhbGVkLW9uY2Utc2VjcmV0LTEyMzQ='
const offered: KeyRevealView = { applianceId: 'fips-4', label: 'FIPS appliance 3 (fips-4)', stepId: 'onboard-app', state: 'offered', shownAt: null, lapsed: null }
const steps = [
  makeStep({ id: 'onboard-group', scriptId: 'P.1', name: 'onboard-group', title: 'Make the quorum group', state: 'done' }),
  makeStep({ id: 'onboard-app', scriptId: 'P.2', name: 'onboard-app', title: 'Make the app and show its API key once', state: 'done' }),
  makeStep({ id: 'appliance-preflight', scriptId: 'P.3', name: 'appliance-preflight', title: 'Preflight of the new appliance' }),
]
const snap = (reveal: KeyRevealView): CeremonySnapshot => makeSnapshot({ steps, currentStepId: 'appliance-preflight', groups: [], keyReveals: [reveal] })

/** The run screen on P.2, with main's offer; after a reveal main says it was shown. */
async function onTheAppStep(answer: ReturnType<typeof ok> | ReturnType<typeof fail> = ok({ applianceId: 'fips-4', apiKey: KEY })) {
  const bridge = bridgeWith(snap(offered))
  let revealed = false
  bridge.status.mockImplementation(async () => ok(snap(revealed ? { ...offered, state: 'shown', shownAt: '2026-12-02T12:00:00.000Z' } : offered)))
  bridge.revealApiKey.mockImplementation(async () => {
    revealed = true
    return answer as never
  })
  const stores = await renderApp(bridge, 'run')
  await act(async () => stores.ui.getState().selectStep('onboard-app'))
  return { bridge, stores }
}

const showButton = () => screen.queryByRole('button', { name: 'Show the API key once' })
const keyOnScreen = () => document.body.textContent!.includes(KEY)
function keptNowhere(stores: Stores) {
  for (const store of Object.values(stores)) expect(JSON.stringify(store.getState())).not.toContain(KEY)
  expect(JSON.stringify({ ...localStorage })).not.toContain(KEY)
  expect(JSON.stringify({ ...sessionStorage })).not.toContain(KEY)
}

describe('the one-time reveal of the API key P.2 made', () => {
  test('nothing is asked of main until the operator clicks; the key is then shown, kept in no store, and gone when hidden', async () => {
    const { bridge, stores } = await onTheAppStep()
    expect(screen.getByTestId('key-reveal').dataset.state).toBe('offered')
    expect(bridge.revealApiKey).not.toHaveBeenCalled()
    expect(keyOnScreen()).toBe(false)
    await act(async () => fireEvent.click(showButton()!))
    expect(bridge.revealApiKey).toHaveBeenCalledTimes(1)
    expect(bridge.revealApiKey).toHaveBeenCalledWith({ applianceId: 'fips-4' })
    expect(screen.getByTestId('revealed-key').textContent).toBe(KEY)
    expect(screen.getByText(/It will not be shown again/)).toBeTruthy()
    expect(showButton()).toBeNull()
    keptNowhere(stores)
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Hide the key' })))
    expect(keyOnScreen()).toBe(false)
    expect(screen.queryByTestId('revealed-key')).toBeNull()
    expect(screen.getByText(/The API key was shown once/)).toBeTruthy()
    expect(showButton()).toBeNull()
    keptNowhere(stores)
  })

  test('showing another step drops the key; coming back shows that it was shown, not the key', async () => {
    const { stores } = await onTheAppStep()
    await act(async () => fireEvent.click(showButton()!))
    expect(keyOnScreen()).toBe(true)
    await act(async () => stores.ui.getState().selectStep('onboard-group'))
    expect(keyOnScreen()).toBe(false)
    await act(async () => stores.ui.getState().selectStep('onboard-app'))
    expect(keyOnScreen()).toBe(false)
    expect(screen.getByTestId('key-reveal').dataset.state).toBe('shown')
    expect(showButton()).toBeNull()
  })

  test('the window hidden drops the key', async () => {
    await onTheAppStep()
    await act(async () => fireEvent.click(showButton()!))
    expect(keyOnScreen()).toBe(true)
    const visibility = Object.getOwnPropertyDescriptor(Document.prototype, 'visibilityState')
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true })
    try {
      await act(async () => document.dispatchEvent(new Event('visibilitychange')))
      expect(keyOnScreen()).toBe(false)
    } finally {
      delete (document as { visibilityState?: string }).visibilityState
      if (visibility) expect(document.visibilityState).toBe('visible')
    }
  })

  test('main refusing (KEY_ALREADY_SHOWN) shows no key, and its refusal', async () => {
    const { stores } = await onTheAppStep(fail('KEY_ALREADY_SHOWN', 'The API key made for FIPS appliance 3 (fips-4) was shown once; it is not shown again'))
    await act(async () => fireEvent.click(showButton()!))
    expect(screen.queryByTestId('revealed-key')).toBeNull()
    expect(stores.ceremony.getState().error?.code).toBe('KEY_ALREADY_SHOWN')
    expect(screen.getByText(/was shown once; it is not shown again/)).toBeTruthy()
    expect(screen.getByTestId('key-reveal').dataset.state).toBe('shown')
  })

  test('an offer that lapsed says why, with no button', async () => {
    const bridge = bridgeWith(snap({ ...offered, state: 'lapsed', lapsed: 'wiped' }))
    const stores = await renderApp(bridge, 'run')
    await act(async () => stores.ui.getState().selectStep('onboard-app'))
    expect(screen.getByText(/can no longer be shown: the secrets were wiped/)).toBeTruthy()
    expect(showButton()).toBeNull()
  })

  test('the printed record lists the reveal at its step, by whom, without the key', () => {
    const base = makeRecord()
    const shown = { ...base.entries[0]!, seq: 3, step: 'onboard-app', actor: 'Olivia Operator', kind: 'api-key-shown', facts: { appliance: 'fips-4', by: 'Olivia Operator', shown: 'once, on the run screen, at the operator\'s request' } }
    const events = eventsByStep({ ...base, entries: [...base.entries, shown] })
    expect(events.get('onboard-app')!.map((e) => e.text)).toEqual(['the API key the ceremony made for fips-4 was shown once to Olivia Operator, at their request (never recorded)'])
  })
})

/**
 * The UTC clock and the step id in the top bar of the run screen (issue 14 part 5), so the screen
 * camera's footage can be matched to steps, and the cameras the plan names listed for the room.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react'
import { makePlan, makeSnapshot } from '../fakes/ceremony-fixtures'
import { bridgeWith, renderApp } from '../fakes/render-app'

// Only the clock's time source is faked: promises and the store's timeouts run as usual.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] })
  vi.setSystemTime(new Date('2026-12-02T05:21:37.400Z'))
})
afterEach(() => {
  cleanup()
  vi.useRealTimers()
})

const clock = () => screen.getByTestId('ceremony-clock')

describe('the UTC clock and the step id', () => {
  test('show the time in UTC to the second and the current step id, and tick', async () => {
    await renderApp(bridgeWith(makeSnapshot()), 'run')
    const timer = within(clock()).getByRole('timer', { name: 'UTC clock' })
    expect(timer.textContent).toBe('05:21:37UTC 2026-12-02')
    expect(timer.querySelector('time')!.getAttribute('datetime')).toBe('2026-12-02T05:21:37Z')
    expect(screen.getByTestId('clock-step').textContent).toBe('Step P.0')
    await act(async () => vi.advanceTimersByTime(1000))
    expect(timer.textContent).toBe('05:21:38UTC 2026-12-02')
    // The clock sits in the top bar, which stays on screen while the step list scrolls.
    expect(clock().closest('header.topbar')).toBeTruthy()
  })

  test('follow the ceremony, and say when the operator is looking at another step', async () => {
    const snap = makeSnapshot()
    const bridge = bridgeWith(snap)
    await renderApp(bridge, 'run')
    await act(async () => bridge.emit('onCeremonyChanged', { ...snap, currentStepId: 'transfer-key-dsm-t1' }))
    expect(screen.getByTestId('clock-step').textContent).toBe('Step T1.1')
    fireEvent.click(screen.getAllByRole('button', { name: /Close the ceremony/ })[0]!)
    expect(screen.getByTestId('clock-step').textContent).toBe('Step T1.1 (viewing C.1)')
    await act(async () => bridge.emit('onCeremonyChanged', { ...snap, phase: 'complete', currentStepId: null }))
    expect(screen.getByTestId('clock-step').textContent).toBe('Ceremony complete')
  })

  test('are shown on the run screen only', async () => {
    await renderApp(bridgeWith(makeSnapshot({ phase: 'setup', participantsConfirmed: false })), 'setup')
    expect(screen.queryByTestId('ceremony-clock')).toBeNull()
  })
})

describe('the cameras', () => {
  test('the plan\'s cameras are listed on the run screen with what each films', async () => {
    await renderApp(bridgeWith(makeSnapshot()), 'run')
    const list = within(screen.getByRole('region', { name: 'Filmed by' }))
    const items = list.getAllByRole('listitem').map((li) => li.textContent)
    expect(items).toEqual([
      "Screen camera (cam-screen): the operator's screen, with the UTC clock and the step id",
      "Room camera (cam-room): the appliances' front panels and the table",
    ])
  })

  test('the plan review names the cameras before the ceremony', async () => {
    await renderApp(bridgeWith(makeSnapshot({ phase: 'setup' })), 'plan')
    expect(screen.getByTestId('plan-cameras').textContent).toBe("Screen camera (cam-screen): the operator's screen, with the UTC clock and the step id; Room camera (cam-room): the appliances' front panels and the table")
  })

  test('a plan without cameras says so', async () => {
    await renderApp(bridgeWith(makeSnapshot({ plan: makePlan({ cameras: [] }) })), 'run')
    expect(screen.getByTestId('cameras').textContent).toBe('The plan names no cameras.')
  })
})

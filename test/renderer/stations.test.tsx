/**
 * Stations on screen (design §3b) with a fake bridge: the station and drive at setup, the hand-off
 * (checklist first, then the words large and when the drive is safe to remove), the receipt (the
 * words go to main; a refusal is shown by name), and the banner saying who holds the ceremony.
 */
import { afterEach, describe, expect, test } from 'vitest'
import { act, cleanup, fireEvent, screen } from '@testing-library/react'
import type { CeremonySnapshot, StationsView } from '../../preload/contract'
import { digest, fail, makePlan, makeSnapshot, ok } from '../fakes/ceremony-fixtures'
import { bridgeWith, renderApp } from '../fakes/render-app'

afterEach(cleanup)

const HANDOFF_DIGEST = digest('5a'.repeat(32))

function stations(over: Partial<StationsView> = {}): StationsView {
  return {
    stations: [
      { id: 'site-a', label: 'Site A', appliances: [{ id: 'dsm-s', label: 'Source DSM' }], operator: 'Ana', witnesses: ['Wes'] },
      { id: 'site-b', label: 'Site B', appliances: [{ id: 'dsm-t1', label: 'Target DSM 1' }, { id: 'dsm-t2', label: 'Target DSM 2' }], operator: 'Ben', witnesses: ['Wil'] },
    ],
    trips: [{ n: 1, station: 'site-b', stationLabel: 'Site B', steps: 3 }, { n: 2, station: 'site-a', stationLabel: 'Site A', steps: 6 }, { n: 3, station: 'site-b', stationLabel: 'Site B', steps: 6 }],
    chosen: 'site-b',
    beginStep: 'station-preflight:site-b',
    next: 'run',
    holder: { station: 'site-b', label: 'Site B' },
    media: { label: 'CEREMONY 01', removable: true, exception: null },
    receive: null,
    handoff: null,
    received: null,
    ...over,
  }
}
const snap = (over: Partial<StationsView> = {}, rest: Partial<CeremonySnapshot> = {}) => makeSnapshot({ stations: stations(over), ...rest })

describe('stations', () => {
  test('setup (production): choosing the station asks main; only that station\'s appliances need keys; the drive is picked by id', async () => {
    const production = { plan: { ...makePlan(), mode: 'production' as const }, rehearsalCredentials: [], phase: 'setup' as const, participantsConfirmed: false }
    const bridge = bridgeWith(snap({ chosen: null, next: 'choose-station', holder: null, media: null }, production))
    bridge.chooseStation.mockResolvedValue(ok(snap({ media: null, next: 'choose-media' }, production)))
    bridge.listVolumes.mockResolvedValue(ok({ volumes: [{ id: '0123456789abcdef', label: 'CEREMONY 01', sizeBytes: 8e9, freeBytes: 7e9, fsType: 'vfat' }] }))
    bridge.chooseMedia.mockResolvedValue(ok(snap({}, production)))
    await renderApp(bridge, 'setup')
    await act(async () => fireEvent.click(screen.getByRole('radio', { name: /Site B/ })))
    expect(bridge.chooseStation).toHaveBeenCalledWith({ stationId: 'site-b' })
    expect(screen.queryByLabelText('API key for Source DSM')).toBeNull()
    expect(screen.getByLabelText('API key for Target DSM 1')).toBeTruthy()
    await act(async () => fireEvent.click(await screen.findByRole('button', { name: 'Use CEREMONY 01' })))
    expect(bridge.chooseMedia).toHaveBeenCalledWith({ volumeId: '0123456789abcdef' })
    expect(screen.getByText(/At this station the plan names Ben as the operator, and Wil as witnesses/)).toBeTruthy()
  })

  test('run screen: the banner says who holds the ceremony, and offers the hand-off once this leg is done', async () => {
    const stores = await renderApp(bridgeWith(snap({ next: 'hand-off', handoff: { n: 1, to: 'site-a', toLabel: 'Site A', digest: null, files: [], safeToRemove: null } })), 'run')
    expect(screen.getByTestId('holder').textContent).toBe('Site B')
    fireEvent.click(screen.getByRole('button', { name: 'Hand off to Site A' }))
    expect(stores.ui.getState().screen).toBe('handoff')
  })

  test('hand-off: the label, the bag and every checklist item first; then the words, large, and safe to remove', async () => {
    const due = { n: 1, to: 'site-a', toLabel: 'Site A', digest: null, files: [{ name: 'c-fips-2-transfer-key.pub.pem', what: 'transfer public key (PEM)' }], safeToRemove: null }
    const bridge = bridgeWith(snap({ next: 'hand-off', handoff: due }))
    bridge.handOff.mockResolvedValue(ok(snap({ next: 'handed-off', holder: { station: 'site-a', label: 'Site A' }, handoff: { ...due, digest: HANDOFF_DIGEST, safeToRemove: 'Eject it; then it is safe to remove.' } })))
    await renderApp(bridge, 'handoff')
    expect(await screen.findByRole('heading', { name: 'Hand-off 1 to Site A' })).toBeTruthy()
    expect(screen.getByTestId('carry-list').textContent).toContain('transfer public key (PEM)')
    const submit = screen.getByRole('button', { name: 'Write the hand-off to the drive' }) as HTMLButtonElement
    fireEvent.change(screen.getByLabelText('Media label or serial'), { target: { value: 'USB-0042' } })
    fireEvent.change(screen.getByLabelText('Tamper-evident bag number'), { target: { value: 'TEB-1001' } })
    expect(submit.disabled).toBe(true)
    for (const box of screen.getAllByRole('checkbox')) fireEvent.click(box)
    expect(submit.disabled).toBe(false)
    await act(async () => fireEvent.click(submit))
    expect(bridge.handOff).toHaveBeenCalledWith({ mediaLabel: 'USB-0042', bag: 'TEB-1001' })
    const words = screen.getByRole('group', { name: 'Hand-off digest' })
    expect(words.textContent).toContain(HANDOFF_DIGEST.words.join(' '))
    expect(words.closest('.digest')?.className).toContain('digest-large')
    expect(screen.getByTestId('safe-to-remove').textContent).toContain('safe to remove')
  })

  test('receive: the words, label and bag go to main; a wrong word is shown by name, the right ones continue', async () => {
    const waiting = snap({ next: 'receive', chosen: 'site-a', holder: { station: 'site-b', label: 'Site B' }, receive: { n: 1, fromLabel: 'Site B' } }, { steps: [] })
    const bridge = bridgeWith(waiting)
    bridge.receiveHandoff
      .mockResolvedValueOnce(fail('HANDOFF_WORDS_MISMATCH', 'The words typed are not the digest of the segment on the media (word 4 does not match).'))
      .mockResolvedValueOnce(ok(snap({ next: 'run', chosen: 'site-a', holder: { station: 'site-a', label: 'Site A' }, received: { n: 1, fromLabel: 'Site B', digest: HANDOFF_DIGEST, artifactsChecked: ['a.pem'] } })))
    const stores = await renderApp(bridge, 'receive')
    expect(await screen.findByRole('heading', { name: 'Receive hand-off 1 from Site B' })).toBeTruthy()
    fireEvent.change(screen.getByLabelText(/Media label or serial/), { target: { value: 'USB-0042' } })
    fireEvent.change(screen.getByLabelText(/Tamper-evident bag number/), { target: { value: 'TEB-1001' } })
    fireEvent.change(screen.getByLabelText(/The words read out by Site B/), { target: { value: `  ${HANDOFF_DIGEST.words.join('  ')} ` } })
    expect(screen.getByText('32 of 32 words')).toBeTruthy()
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Check the drive and continue' })))
    expect(bridge.receiveHandoff).toHaveBeenCalledWith({ words: HANDOFF_DIGEST.words.join('  '), mediaLabel: 'USB-0042', bag: 'TEB-1001' })
    expect(screen.getByTestId('receive-refused').textContent).toContain('HANDOFF_WORDS_MISMATCH')
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Check the drive and continue' })))
    expect(screen.getByTestId('receive-result').textContent).toContain('Hand-off 1 from Site B checked')
    fireEvent.click(screen.getByRole('button', { name: 'Go to the ceremony steps' }))
    expect(stores.ui.getState().screen).toBe('run')
  })

  test('plan review: the trips between sites', async () => {
    const plan = { ...makeSnapshot().plan!, trips: [{ n: 1, station: 'site-b', stationLabel: 'Site B', steps: ['Generate the transfer key'] }, { n: 2, station: 'site-a', stationLabel: 'Site A', steps: ['Import the public key'] }] }
    await renderApp(bridgeWith(makeSnapshot({ plan })), 'plan')
    const trips = screen.getByTestId('trips')
    expect(trips.textContent).toContain('Leg 1 at Site B')
    expect(trips.textContent).toContain('hand-off 1: the drive goes to Site A')
  })
})

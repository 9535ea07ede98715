import { afterEach, describe, expect, test } from 'vitest'
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react'
import type { StepView } from '../../preload/contract'
import { makeSnapshot, ok, withStep } from '../fakes/ceremony-fixtures'
import { bridgeWith, renderApp } from '../fakes/render-app'

afterEach(cleanup)

const fields: NonNullable<StepView['input']>['fields'] = [
  { id: 'item:laptop:bag', group: 'Ceremony laptop (laptop)', label: 'New tamper-evident bag number', hint: 'read it from the new bag', format: 'bag', options: null, twice: true, simulatedShows: null },
  { id: 'item:laptop:to', group: 'Ceremony laptop (laptop)', label: 'Given to', hint: 'the person or safe that receives it now', format: 'choice', options: [{ value: 'safe-a', label: 'Safe A (safe)' }, { value: 'Wendy Witness', label: 'Wendy Witness (witness)' }], twice: false, simulatedShows: null },
]
const storage = (patch: Partial<StepView> = {}) => ({ ...withStep(makeSnapshot(), 'preflight', { id: 'preflight', title: 'Seal each item in a new bag and hand it over for storage', input: { fields, earlier: null }, ...patch }), currentStepId: 'preflight' })

describe('typed values read in the room', () => {
  test('each value has its own labelled box under its item, the new bag is typed twice, and Run step sends exactly what was typed', async () => {
    const snap = storage()
    const bridge = bridgeWith(snap)
    bridge.runStep.mockResolvedValue(ok(snap))
    await renderApp(bridge, 'run')
    const form = screen.getByTestId('step-input')
    expect(within(form).getByRole('group', { name: 'Ceremony laptop (laptop)' })).toBeTruthy()
    const run = screen.getByRole('button', { name: 'Run step' })
    expect(run.hasAttribute('disabled')).toBe(true)
    fireEvent.change(screen.getByLabelText('New tamper-evident bag number'), { target: { value: 'teb-200001' } })
    fireEvent.change(screen.getByLabelText('New tamper-evident bag number, once more'), { target: { value: 'TEB-200010' } })
    expect(screen.getByRole('status').textContent).toContain('The two typings differ')
    expect(run.hasAttribute('disabled')).toBe(true)
    fireEvent.change(screen.getByLabelText('New tamper-evident bag number, once more'), { target: { value: 'TEB-200001' } })
    // The plan's receiver is chosen to begin with; another can be chosen.
    expect((screen.getByRole('radio', { name: /Safe A \(safe\)/ }) as HTMLInputElement).checked).toBe(true)
    fireEvent.click(screen.getByRole('radio', { name: /Wendy Witness/ }))
    expect(run.hasAttribute('disabled')).toBe(false)
    await act(async () => fireEvent.click(run))
    expect(bridge.runStep).toHaveBeenCalledWith({ stepId: 'preflight', input: { 'item:laptop:to': 'Wendy Witness', 'item:laptop:bag': 'teb-200001', 'item:laptop:bag:again': 'TEB-200001' } })
  })

  test('a production form never shows the expected values; a rehearsal says what the simulated item shows', async () => {
    await renderApp(bridgeWith(storage()), 'run')
    expect(screen.getByTestId('step-input').textContent).not.toMatch(/simulated item shows/)
    cleanup()
    await renderApp(bridgeWith(storage({ input: { fields: fields.map((f) => ({ ...f, simulatedShows: f.format === 'bag' ? 'RB-1A2B3C4D' : null })), earlier: null } })), 'run')
    expect(screen.getByTestId('step-input').textContent).toContain('the simulated item shows RB-1A2B3C4D')
  })

  test('after a mismatch, Run step judges the values typed before (listed); "type them again" opens the form', async () => {
    const snap = storage({
      state: 'failed',
      input: { fields, earlier: { 'item:laptop:bag': 'TEB-200001', 'item:laptop:to': 'Wendy Witness' } },
      error: { code: 'STORAGE_MISMATCH', message: 'STO-1a2b3c4d: Ceremony laptop, place of storage typed …', safe: 'Nothing was changed.', next: 'Record an exception naming it, or type again.', recovery: 'run-again' },
    })
    const bridge = bridgeWith(snap)
    bridge.runStep.mockResolvedValue(ok(snap))
    await renderApp(bridge, 'run')
    expect(screen.queryByTestId('step-input')).toBeNull()
    const earlier = screen.getByRole('region', { name: 'Values typed before' })
    expect(earlier.textContent).toContain('Given to: Wendy Witness (witness)')
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Run step' })))
    expect(bridge.runStep).toHaveBeenCalledWith({ stepId: 'preflight' })
    fireEvent.click(screen.getByRole('button', { name: /type them again/ }))
    expect(screen.getByTestId('step-input')).toBeTruthy()
  })
})

test('a step refused when run shows the refusal main journaled, not only the call error', async () => {
  const snap = storage()
  const failed = withStep(snap, 'preflight', { state: 'failed', input: { fields, earlier: { 'item:laptop:bag': 'TEB-200001', 'item:laptop:to': 'safe-a' } }, error: { code: 'BAG_NUMBER_MISMATCH', message: 'BAG-1a2b3c4d: …', safe: 'Nothing was changed.', next: 'Record an exception naming it.', recovery: 'run-again' } })
  const bridge = bridgeWith(snap)
  bridge.runStep.mockResolvedValue({ ok: false, error: { code: 'BAG_NUMBER_MISMATCH', message: 'BAG-1a2b3c4d: …' } })
  await renderApp(bridge, 'run')
  bridge.status.mockResolvedValue(ok(failed))
  fireEvent.change(screen.getByLabelText('New tamper-evident bag number'), { target: { value: 'TEB-200001' } })
  fireEvent.change(screen.getByLabelText('New tamper-evident bag number, once more'), { target: { value: 'TEB-200001' } })
  await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Run step' })))
  expect(screen.getByTestId('step-detail').dataset.state).toBe('failed')
  expect(screen.getByRole('region', { name: 'Values typed before' }).textContent).toContain('TEB-200001')
})

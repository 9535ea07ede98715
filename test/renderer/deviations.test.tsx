/**
 * The deviation register, the script's approval and breaks on screen, with a fake bridge: the
 * close waits while a line is open; a line is resolved only with a resolution, who allowed going on
 * and every present witness's initials; the approvers sign the script's digest; a break names at
 * least two who stay; and the printed record has the register as its own section.
 */
import { afterEach, describe, expect, test } from 'vitest'
import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react'
import type { CeremonySnapshot, DeviationView } from '../../preload/contract'
import { digest, makeRecord, makeSnapshot, ok } from '../fakes/ceremony-fixtures'
import { bridgeWith, renderApp } from '../fakes/render-app'

afterEach(cleanup)

const open: DeviationView = {
  id: 'D-17', seq: 17, ts: '2025-01-01T10:17:00.000Z', step: 'wrap-approval-dsm-t1', scriptId: 'T1.5', source: 'denial',
  what: 'bob@example.test denied the approval request: wrong fingerprint read aloud', raisedBy: 'bob@example.test', resolution: null,
}
const resolved: DeviationView = {
  ...open, id: 'D-9', seq: 9, source: 'exception', what: 'Bag TEB-1142 seal number differs from the log sheet', raisedBy: 'Walter Witness',
  resolution: { seq: 30, ts: '2025-01-01T10:30:00.000Z', resolution: 'Log sheet corrected; the bag was intact', allowedBy: 'Olivia Operator', initials: [{ witness: 'Wendy Witness', initials: 'WW' }, { witness: 'Walter Witness', initials: 'WAW' }], simulated: false },
}

/** At the close, with the given register lines. */
function atClose(lines: DeviationView[], over: Partial<CeremonySnapshot> = {}): CeremonySnapshot {
  const base = makeSnapshot()
  return { ...base, currentStepId: 'close', deviations: { ...base.deviations, lines }, ...over }
}

describe('deviation register', () => {
  test('the close waits while a line is open, and says so', async () => {
    await renderApp(bridgeWith(atClose([open])), 'run')
    expect(screen.getByTestId('seal-waits').textContent).toContain('1 deviation(s) are open')
    expect(screen.getByTestId('deviations-open').textContent).toBe('(1 open)')
    expect((screen.getByRole('button', { name: /^Run / }) as HTMLButtonElement).disabled).toBe(true)
  })

  test('the close runs once every line is resolved', async () => {
    await renderApp(bridgeWith(atClose([resolved])), 'run')
    expect(screen.queryByTestId('seal-waits')).toBeNull()
    expect(screen.getByTestId('deviations-open').textContent).toBe('(none open)')
    expect(screen.getByTestId('deviation-D-9').textContent).toContain('allowed by Olivia Operator; initialled by Wendy Witness (WW), Walter Witness (WAW)')
  })

  test('a line is resolved only with a resolution, who allowed it and the initials of every witness present', async () => {
    const bridge = bridgeWith(atClose([open]))
    bridge.resolveDeviation.mockResolvedValue(ok(atClose([{ ...open, resolution: { ...resolved.resolution! } }])))
    await renderApp(bridge, 'run')
    const line = screen.getByTestId('deviation-D-17')
    const submit = within(line).getByRole('button', { name: 'Resolve D-17' }) as HTMLButtonElement
    fireEvent.change(within(line).getByLabelText('Resolution: what was done about it'), { target: { value: 'A fresh request was read aloud and matched' } })
    fireEvent.change(within(line).getByLabelText('Allowed to go on by'), { target: { value: 'Olivia Operator' } })
    fireEvent.change(within(line).getByLabelText('Initials of Wendy Witness'), { target: { value: 'WW' } })
    expect(submit.disabled).toBe(true) // Walter is in the room too
    fireEvent.change(within(line).getByLabelText('Initials of Walter Witness'), { target: { value: 'WAW' } })
    expect(submit.disabled).toBe(false)
    await act(async () => fireEvent.click(submit))
    expect(bridge.resolveDeviation).toHaveBeenCalledWith({
      deviation: 'D-17', resolution: 'A fresh request was read aloud and matched', allowedBy: 'Olivia Operator',
      initials: [{ witness: 'Wendy Witness', initials: 'WW' }, { witness: 'Walter Witness', initials: 'WAW' }],
    })
    await waitFor(() => expect(screen.queryByTestId('seal-waits')).toBeNull())
  })

  test('a deviation for the whole ceremony is written down with who raised it', async () => {
    const bridge = bridgeWith(atClose([]))
    bridge.recordException.mockResolvedValue(ok(atClose([])))
    await renderApp(bridge, 'run')
    const register = within(screen.getByTestId('deviation-register'))
    fireEvent.change(register.getByLabelText('Written down by'), { target: { value: 'Walter Witness' } })
    fireEvent.change(register.getByLabelText('What departed from the script'), { target: { value: 'Camera 2 stopped for four minutes' } })
    await act(async () => fireEvent.click(register.getByRole('button', { name: 'Write it down' })))
    expect(bridge.recordException).toHaveBeenCalledWith({ stepId: 'ceremony', by: 'Walter Witness', note: 'Camera 2 stopped for four minutes' })
  })
})

describe('script approval and breaks', () => {
  test('each approver signs the script digest before the first step', async () => {
    const approval = { digest: digest('3c'.repeat(32)), approvers: [{ name: 'Anna Approver', signed: false }, { name: 'Abe Approver', signed: true }] }
    const bridge = bridgeWith(makeSnapshot({ scriptApproval: approval }))
    bridge.approveScript.mockResolvedValue(ok(makeSnapshot({ scriptApproval: { ...approval, approvers: approval.approvers.map((a) => ({ ...a, signed: true })) } })))
    await renderApp(bridge, 'run')
    const panel = screen.getByTestId('script-approval')
    expect(within(panel).getByRole('group', { name: 'Script digest' }).textContent).toContain(approval.digest.hexGroups)
    expect(panel.textContent).toContain('Signed by Abe Approver')
    fireEvent.change(within(panel).getByLabelText('Approver'), { target: { value: 'Anna Approver' } })
    fireEvent.change(within(panel).getByLabelText('Initials'), { target: { value: 'AA' } })
    await act(async () => fireEvent.click(within(panel).getByRole('button', { name: 'Sign the script' })))
    expect(bridge.approveScript).toHaveBeenCalledWith({ approver: 'Anna Approver', initials: 'AA' })
    await waitFor(() => expect(screen.queryByTestId('script-approval')).toBeNull())
  })

  test('a break names at least two who stay; while it lasts the screen says so and offers its end', async () => {
    const bridge = bridgeWith(makeSnapshot())
    bridge.takeBreak.mockResolvedValue(ok(makeSnapshot({ onBreak: { stays: ['Olivia Operator', 'Wendy Witness'], since: '2025-01-01T10:40:00.000Z' } })))
    await renderApp(bridge, 'run')
    const start = screen.getByRole('button', { name: 'Start the break' }) as HTMLButtonElement
    fireEvent.click(screen.getByRole('checkbox', { name: 'Olivia Operator' }))
    expect(start.disabled).toBe(true)
    fireEvent.click(screen.getByRole('checkbox', { name: 'Wendy Witness' }))
    expect(start.disabled).toBe(false)
    await act(async () => fireEvent.click(start))
    expect(bridge.takeBreak).toHaveBeenCalledWith({ event: 'start', stays: ['Olivia Operator', 'Wendy Witness'] })
    expect(screen.getByTestId('on-break').textContent).toContain('In the room: Olivia Operator, Wendy Witness')
    bridge.takeBreak.mockResolvedValue(ok(makeSnapshot()))
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'End the break' })))
    expect(bridge.takeBreak).toHaveBeenLastCalledWith({ event: 'end' })
  })
})

describe('the printed record', () => {
  test('has the register as its own section: time, step, what, resolution, who allowed it, initials', async () => {
    const bridge = bridgeWith(makeSnapshot({ phase: 'complete', currentStepId: null }))
    bridge.getRecord.mockResolvedValue(ok({ record: makeRecord({ deviations: [resolved, open] }), finalDigest: digest('5e'.repeat(32)) }))
    await renderApp(bridge, 'record')
    const section = await screen.findByTestId('record-deviations')
    const rows = section.querySelectorAll('tbody tr')
    expect(rows).toHaveLength(2)
    expect(rows[0]!.textContent).toContain('Log sheet corrected; the bag was intact')
    expect(rows[0]!.textContent).toContain('Olivia Operator')
    expect(rows[0]!.textContent).toContain('WW WAW')
    expect(rows[1]!.textContent).toContain('T1.5')
    expect(rows[1]!.textContent).toContain('UNRESOLVED')
  })
})

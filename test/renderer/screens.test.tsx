import { afterEach, describe, expect, test, vi } from 'vitest'
import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react'
import { FINGERPRINT, PLAN_DIGEST, digest, fail, makeApproval, makePlan, makeRecord, makeSnapshot, ok, withStep } from '../fakes/ceremony-fixtures'
import { bridgeWith, renderApp } from '../fakes/render-app'

afterEach(cleanup)

const noPlan = makeSnapshot({ plan: null, phase: 'no-plan', steps: [], groups: [], connections: [], rehearsalCredentials: [], currentStepId: null })

describe('home screen', () => {
  test('Open ceremony plan… asks main (no path in the renderer) and shows the plan for review', async () => {
    const bridge = bridgeWith(noPlan)
    bridge.openPlan.mockResolvedValue(ok({ cancelled: false, snapshot: makeSnapshot({ phase: 'setup' }) }))
    const stores = await renderApp(bridge)
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Open ceremony plan…' })))
    expect(bridge.openPlan).toHaveBeenCalledWith()
    expect(stores.ui.getState().screen).toBe('plan')
    expect(screen.getByRole('heading', { name: 'Review the ceremony plan' })).toBeTruthy()
    const digestBox = screen.getByRole('group', { name: 'Plan digest' })
    expect(digestBox.textContent).toContain(PLAN_DIGEST.hexGroups)
    expect(digestBox.textContent).toContain(PLAN_DIGEST.words.join(' '))
  })

  test('Start a rehearsal asks for two simulated targets', async () => {
    const bridge = bridgeWith(noPlan)
    bridge.startRehearsal.mockResolvedValue(ok(makeSnapshot({ phase: 'setup', participantsConfirmed: false })))
    const stores = await renderApp(bridge)
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Start a rehearsal' })))
    expect(bridge.startRehearsal).toHaveBeenCalledWith({ targets: 2 })
    expect(stores.ui.getState().screen).toBe('plan')
    expect(screen.getByTestId('mode-badge').textContent).toBe('REHEARSAL')
  })

  test('Rehearse across two sites asks for two sites, with the materials when the box is ticked (each station types its own)', async () => {
    const bridge = bridgeWith(noPlan)
    bridge.startRehearsal.mockResolvedValue(ok(makeSnapshot({ phase: 'setup', participantsConfirmed: false })))
    await renderApp(bridge)
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Rehearse across two sites' })))
    expect(bridge.startRehearsal).toHaveBeenLastCalledWith({ targets: 1, sites: 2 })
    cleanup()
    await renderApp(bridge)
    fireEvent.click(screen.getByRole('checkbox', { name: /Rehearse the materials too/ }))
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Rehearse across two sites' })))
    expect(bridge.startRehearsal).toHaveBeenLastCalledWith({ targets: 1, sites: 2, materials: true })
  })

  test('a ceremony in progress is offered for resume with what the reconcile found', async () => {
    const snap = makeSnapshot({ reconcile: [{ stepId: 'transfer-key-dsm-t1', finding: 'found the transfer key made before the interruption; adopted' }] })
    const stores = await renderApp(bridgeWith(snap))
    expect(screen.getByRole('heading', { name: 'A ceremony is in progress' })).toBeTruthy()
    expect(screen.getByText(/found the transfer key made before the interruption/)).toBeTruthy()
    fireEvent.click(screen.getByRole('button', { name: 'Resume the ceremony' }))
    expect(stores.ui.getState().screen).toBe('run')
  })

  test('after a restart, an interrupted production ceremony is offered; resuming leads to setup, which repeats the finding', async () => {
    const finding = 'An interrupted ceremony was found. Enter the API keys and confirm the participants to resume.'
    const snap = makeSnapshot({
      plan: makePlan({ mode: 'production' }), phase: 'setup', steps: [], groups: [], currentStepId: null, rehearsalCredentials: [],
      participantsConfirmed: false, reconcile: [{ stepId: 'ceremony', finding }],
    })
    const stores = await renderApp(bridgeWith(snap))
    expect(screen.getByTestId('mode-badge').textContent).toBe('PRODUCTION')
    expect(screen.getByRole('heading', { name: 'A ceremony is being set up' })).toBeTruthy()
    expect(screen.getByText(finding)).toBeTruthy()
    fireEvent.click(screen.getByRole('button', { name: 'Resume the ceremony' }))
    expect(stores.ui.getState().screen).toBe('setup')
    expect(screen.getByText(finding)).toBeTruthy()
  })

  test('a failed call shows its code and message until dismissed', async () => {
    const bridge = bridgeWith(noPlan)
    bridge.openPlan.mockResolvedValue(fail('PLAN_INVALID', 'targets.0: no appliance with id "dsm-x"'))
    await renderApp(bridge)
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Open ceremony plan…' })))
    const alert = screen.getByRole('alert')
    expect(alert.textContent).toContain('PLAN_INVALID')
    expect(alert.textContent).toContain('no appliance with id "dsm-x"')
    fireEvent.click(within(alert).getByRole('button', { name: 'Dismiss' }))
    expect(screen.queryByRole('alert')).toBeNull()
  })
})

describe('plan editor', () => {
  test('issues appear by field as the operator types, and a valid plan can be saved', async () => {
    const bridge = bridgeWith(noPlan)
    bridge.validatePlan.mockImplementation(async ({ text }) =>
      text.includes('"source":"nope"')
        ? ok({ issues: [{ path: 'source', message: 'no appliance with id "nope"' }], summary: null })
        : ok({ issues: [], summary: makePlan() }),
    )
    bridge.savePlan.mockResolvedValue(ok({ cancelled: false, digest: PLAN_DIGEST }))
    await renderApp(bridge, 'editor')
    const textarea = await screen.findByLabelText('Plan (JSON)')
    await act(async () => fireEvent.change(textarea, { target: { value: '{"source":"nope"}' } }))
    await waitFor(() => expect(screen.getByRole('list', { name: 'Problems by field' }).textContent).toContain('source'))
    expect(screen.getByText('no appliance with id "nope"')).toBeTruthy()
    expect(screen.getByRole('button', { name: 'Save plan…' }).hasAttribute('disabled')).toBe(true)
    await act(async () => fireEvent.change(textarea, { target: { value: '{"source":"dsm-s"}' } }))
    await waitFor(() => expect(screen.getByText('The plan is valid.')).toBeTruthy())
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Save plan…' })))
    expect(bridge.savePlan).toHaveBeenCalledWith({ text: '{"source":"dsm-s"}' })
    expect(screen.getByText(/Saved. Digest of the saved file/)).toBeTruthy()
  })
})

describe('session setup', () => {
  const setupSnap = makeSnapshot({
    phase: 'setup',
    participantsConfirmed: false,
    connections: makeSnapshot().connections.map((c) => ({ ...c, hasApiKey: false, state: 'unknown' as const, version: null, clockSkewSeconds: null, pin: null })),
  })

  test('an API key is masked, sent to main, and the field is cleared at once', async () => {
    const bridge = bridgeWith(setupSnap)
    bridge.setApiKey.mockResolvedValue(ok(setupSnap))
    const stores = await renderApp(bridge, 'setup')
    const input = screen.getByLabelText('API key for Source DSM') as HTMLInputElement
    expect(input.type).toBe('password')
    fireEvent.change(input, { target: { value: 'c2VjcmV0LWFwaS1rZXk=' } })
    await act(async () => fireEvent.click(within(input.closest('form')!).getByRole('button', { name: 'Set key' })))
    expect(bridge.setApiKey).toHaveBeenCalledWith({ applianceId: 'dsm-s', apiKey: 'c2VjcmV0LWFwaS1rZXk=' })
    expect(input.value).toBe('')
    for (const store of Object.values(stores)) expect(JSON.stringify(store.getState())).not.toContain('c2VjcmV0LWFwaS1rZXk=')
  })

  test('connections show version, clock and the TLS pin in hex and words; participants are confirmed', async () => {
    const checked = makeSnapshot({ phase: 'setup', participantsConfirmed: false })
    const bridge = bridgeWith(setupSnap)
    bridge.checkConnections.mockResolvedValue(ok(checked))
    bridge.confirmParticipants.mockResolvedValue(ok({ ...checked, participantsConfirmed: true }))
    const stores = await renderApp(bridge, 'setup')
    expect(screen.getByRole('button', { name: 'Check connections' }).hasAttribute('disabled')).toBe(true)
    await act(async () => stores.ceremony.setState({ snapshot: { ...setupSnap, connections: setupSnap.connections.map((c) => ({ ...c, hasApiKey: true })) } }))
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Check connections' })))
    expect(screen.getByTestId('conn-state-dsm-s').textContent).toContain('Connected')
    const pin = screen.getByRole('group', { name: 'TLS pin of Source DSM' })
    expect(pin.textContent).toContain(digest('ab'.repeat(32)).hexGroups)
    expect(pin.textContent).toContain(digest('ab'.repeat(32)).words[0])
    expect(screen.getByText('2 s behind this workstation')).toBeTruthy()
    expect(screen.getByRole('button', { name: 'Go to the ceremony steps' }).hasAttribute('disabled')).toBe(true)
    const confirm = screen.getByRole('button', { name: 'Confirm participants' })
    expect(confirm.hasAttribute('disabled')).toBe(true)
    fireEvent.click(screen.getByLabelText('I have checked the identity of everyone taking part'))
    // The operator the plan names must be ticked, and at least one witness.
    fireEvent.click(screen.getByLabelText(/Olivia Operator/))
    expect(confirm.hasAttribute('disabled')).toBe(true)
    expect(screen.getByText('At least one witness must be present.')).toBeTruthy()
    fireEvent.click(screen.getByLabelText(/Wendy Witness/))
    await act(async () => fireEvent.click(confirm))
    expect(bridge.confirmParticipants).toHaveBeenCalledWith({ present: ['Olivia Operator', 'Wendy Witness'] })
    fireEvent.click(screen.getByRole('button', { name: 'Go to the ceremony steps' }))
    expect(stores.ui.getState().screen).toBe('run')
  })

  test('a rehearsal shows the simulated custodians sign-ins', async () => {
    await renderApp(bridgeWith(makeSnapshot({ phase: 'setup' })), 'setup')
    expect(screen.getByRole('heading', { name: 'Simulated custodians (rehearsal only)' })).toBeTruthy()
    expect(screen.getByText('sim-pass-alice')).toBeTruthy()
  })
})

describe('run screen', () => {
  test('shows the current step, what it does, the target board, and runs it', async () => {
    const snap = makeSnapshot()
    const bridge = bridgeWith(snap)
    bridge.runStep.mockResolvedValue(ok(withStep(snap, 'preflight', { state: 'done' })))
    await renderApp(bridge, 'run')
    const detail = screen.getByTestId('step-detail')
    expect(within(detail).getByRole('heading', { name: 'Preflight checks' })).toBeTruthy()
    expect(within(detail).getByText(/checks versions, clocks/)).toBeTruthy()
    expect(screen.getByTestId('target-dsm-t1').textContent).toContain('Target DSM 1')
    expect(screen.getByTestId('target-dsm-t2').textContent).toContain('0 of 3')
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Run step' })))
    expect(bridge.runStep).toHaveBeenCalledWith({ stepId: 'preflight' })
  })

  test('pushed changes update the live status', async () => {
    const snap = makeSnapshot()
    const bridge = bridgeWith(snap)
    await renderApp(bridge, 'run')
    await act(async () => bridge.emit('onCeremonyChanged', withStep(snap, 'preflight', { state: 'running', startedAt: '2025-01-01T10:00:00Z' })))
    expect(screen.getByTestId('step-detail').dataset.state).toBe('running')
    expect(screen.getByRole('button', { name: 'Running…' }).hasAttribute('disabled')).toBe(true)
  })

  test('an irreversible step needs the typed confirmation before Run step enables, and sends it', async () => {
    const snap = { ...makeSnapshot(), currentStepId: 'cleanup-dsm-t1' }
    const bridge = bridgeWith(snap)
    bridge.runStep.mockResolvedValue(ok(snap))
    await renderApp(bridge, 'run')
    const run = screen.getByRole('button', { name: 'Run step' })
    expect(run.hasAttribute('disabled')).toBe(true)
    const input = screen.getByLabelText(/last 4 characters of the transfer-key fingerprint/)
    // What the characters come from is shown beside the box.
    expect(screen.getByRole('group', { name: 'Transfer-key fingerprint' }).textContent).toContain(FINGERPRINT.hexGroups)
    fireEvent.change(input, { target: { value: '07' } })
    expect(run.hasAttribute('disabled')).toBe(true)
    // Four characters that are not the value never enable the step.
    fireEvent.change(input, { target: { value: 'ABCD' } })
    expect(run.hasAttribute('disabled')).toBe(true)
    expect(screen.getByTestId('confirm-status').textContent).toContain('does not match')
    fireEvent.change(input, { target: { value: '0718' } })
    expect(run.hasAttribute('disabled')).toBe(false)
    await act(async () => fireEvent.click(run))
    expect(bridge.runStep).toHaveBeenCalledWith({ stepId: 'cleanup-dsm-t1', confirmation: '0718' })
  })

  test('a step error shows what happened, what is safe and what to do next', async () => {
    const snap = withStep(makeSnapshot(), 'preflight', {
      state: 'failed',
      error: { code: 'CLOCK_SKEW', message: 'Target DSM 1 is 412 s behind', safe: 'Nothing was changed on any appliance by this step.', next: 'Correct the clock, then run preflight again.', recovery: 'run-again' },
    })
    await renderApp(bridgeWith(snap), 'run')
    const box = screen.getAllByRole('alert').find((a) => a.textContent?.includes('CLOCK_SKEW'))!
    expect(box.textContent).toContain('Target DSM 1 is 412 s behind')
    expect(box.textContent).toContain('Nothing was changed on any appliance')
    expect(box.textContent).toContain('Correct the clock')
  })

  test('comparisons show both sides in hex and words with MATCH or MISMATCH', async () => {
    const kcvS = digest('a1b2c3')
    const kcvT = digest('a1b2c4')
    const snap = withStep(makeSnapshot(), 'preflight', {
      comparisons: [
        { label: 'Key check value', left: { label: 'Source', value: kcvS }, right: { label: 'Target DSM 1', value: kcvS }, match: true },
        { label: 'Transfer key fingerprint', left: { label: 'On target', value: kcvS }, right: { label: 'In file', value: kcvT }, match: false },
      ],
      evidence: [{ label: 'Appliance version', value: '4.23.0' }, { label: 'File digest', value: FINGERPRINT.hex, digest: FINGERPRINT }],
    })
    await renderApp(bridgeWith(snap), 'run')
    const verdicts = screen.getAllByTestId('verdict').map((v) => v.textContent)
    expect(verdicts).toEqual(['✓ MATCH', '✗ MISMATCH'])
    expect(screen.getAllByRole('group', { name: 'Target DSM 1' })[0]!.textContent).toContain(kcvS.hexGroups)
    expect(screen.getByText(/These values differ. Stop here/)).toBeTruthy()
    expect(screen.getByRole('group', { name: 'File digest' }).textContent).toContain(FINGERPRINT.words.join(' '))
  })

  test('choosing an earlier step shows it; "Go to the current step" follows the ceremony again', async () => {
    const stores = await renderApp(bridgeWith(makeSnapshot()), 'run')
    fireEvent.click(screen.getAllByRole('button', { name: /Close the ceremony/ })[0]!)
    expect(stores.ui.getState().selectedStepId).toBe('close')
    expect(screen.getByTestId('step-detail').dataset.stepId).toBe('close')
    expect(screen.getByText('Steps run in order: this is not the current step.')).toBeTruthy()
    fireEvent.click(screen.getByRole('button', { name: 'Go to the current step' }))
    expect(screen.getByTestId('step-detail').dataset.stepId).toBe('preflight')
  })
})

describe('custodian approvals', () => {
  const approvalStep = 'wrap-approval-dsm-t1'
  function approvalSnapshot(patch: Parameters<typeof makeApproval>[0] = {}) {
    const confirmation = { prompt: 'Type the last 4 characters of the fingerprint to approve the export', length: 4, label: 'Transfer-key fingerprint', value: FINGERPRINT }
    return { ...withStep(makeSnapshot(), approvalStep, { state: 'waiting', interaction: 'approval', approval: makeApproval(patch), confirmation }), currentStepId: approvalStep }
  }

  test('shows exactly what will be approved (as the appliance holds it), the checks, the quorum progress and the expiry', async () => {
    await renderApp(bridgeWith(approvalSnapshot({ approvals: [{ user: 'alice@example.test', at: '2025-01-01T10:00:00Z' }] })), 'run')
    const panel = screen.getByTestId('approval-panel')
    expect(panel.textContent).toContain('wrapkey')
    expect(panel.textContent).toContain('Cluster Master Key')
    expect(panel.textContent).toContain('8f14e45f-ceea-467f-a0e6-6d1b5e3c9a2b')
    expect(within(panel).getByRole('group', { name: 'Wrapping key fingerprint' }).textContent).toContain(FINGERPRINT.hexGroups)
    expect(screen.getAllByTestId('approval-check').map((c) => c.textContent)).toEqual(['✓ The key exported is the Cluster Master Key', '✓ The wrapping key is the transfer key generated on Target DSM 1'])
    expect(screen.queryByTestId('approval-check-failed')).toBeNull()
    expect(panel.textContent).toContain('5e5e5e5e5e5e5e5e…')
    expect(screen.getByTestId('quorum-progress').textContent).toContain('1 of 2 approvals needed (2 of 3 custodians')
    expect(panel.textContent).toMatch(/Expires .*\(in \d+ min\)/)
    expect(panel.textContent).toContain('Waiting for approvals')
    // alice already approved: the next custodian is offered first.
    expect((screen.getByLabelText('Custodian') as HTMLSelectElement).value).toBe('bob@example.test')
    expect(screen.queryByRole('button', { name: 'Run step' })).toBeNull()
  })

  test('a failed check (a wrapping key that is not the target key) is flagged', async () => {
    await renderApp(bridgeWith(approvalSnapshot({ checks: [{ label: 'The wrapping key is the transfer key generated on Target DSM 1', ok: false }] })), 'run')
    expect(screen.getByTestId('approval-check').textContent).toBe('✗ The wrapping key is the transfer key generated on Target DSM 1')
    expect(screen.getByTestId('approval-check-failed').textContent).toContain('Deny it')
  })

  test('a custodian approves with their own user and password (masked, cleared) and the typed confirmation', async () => {
    const bridge = bridgeWith(approvalSnapshot())
    bridge.decideApproval.mockResolvedValue(ok(approvalSnapshot({ approvals: [{ user: 'alice@example.test', at: '2025-01-01T10:00:00Z' }] })))
    const stores = await renderApp(bridge, 'run')
    const password = screen.getByLabelText('Password') as HTMLInputElement
    expect(password.type).toBe('password')
    fireEvent.change(password, { target: { value: 'alice-secret-pw' } })
    const approve = screen.getByRole('button', { name: '✓ Approve' })
    expect(approve.hasAttribute('disabled')).toBe(true) // the confirmation is not typed yet
    expect(screen.getByRole('button', { name: '✗ Deny…' }).hasAttribute('disabled')).toBe(false)
    fireEvent.change(screen.getByLabelText(/to approve the export/), { target: { value: '0718' } })
    await act(async () => fireEvent.click(approve))
    expect(bridge.decideApproval).toHaveBeenCalledWith({ stepId: approvalStep, user: 'alice@example.test', password: 'alice-secret-pw', decision: 'approve', requestId: 'req-1', viewDigest: '5e'.repeat(32), confirmation: '0718' })
    expect(password.value).toBe('')
    for (const store of Object.values(stores)) expect(JSON.stringify(store.getState())).not.toContain('alice-secret-pw')
    expect(screen.getByText('alice@example.test', { selector: 'strong' })).toBeTruthy()
    expect((screen.getByLabelText('Custodian') as HTMLSelectElement).value).toBe('bob@example.test')
  })

  test('a custodian not in the list can type their DSM user name; deny needs no confirmation', async () => {
    const bridge = bridgeWith(approvalSnapshot())
    bridge.decideApproval.mockResolvedValue(ok(approvalSnapshot()))
    await renderApp(bridge, 'run')
    fireEvent.change(screen.getByLabelText('Custodian'), { target: { value: '__other__' } })
    fireEvent.change(screen.getByLabelText('DSM user name'), { target: { value: 'zoe@example.test' } })
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'pw' } })
    // Deny asks for the reason first, and a second click.
    await act(async () => fireEvent.click(screen.getByRole('button', { name: '✗ Deny…' })))
    expect(bridge.decideApproval).not.toHaveBeenCalled()
    const denyNow = screen.getByRole('button', { name: 'Deny the request' })
    expect(denyNow.hasAttribute('disabled')).toBe(true)
    fireEvent.change(screen.getByLabelText('Why you deny it (recorded)'), { target: { value: 'The fingerprint read aloud differs' } })
    await act(async () => fireEvent.click(denyNow))
    expect(bridge.decideApproval).toHaveBeenCalledWith({ stepId: approvalStep, user: 'zoe@example.test', password: 'pw', decision: 'deny', requestId: 'req-1', viewDigest: '5e'.repeat(32), reason: 'The fingerprint read aloud differs' })
  })

  test('after a denial, a fresh request can be started', async () => {
    const denied = approvalSnapshot({ status: 'DENIED', denials: [{ user: 'bob@example.test', at: '2025-01-01T10:00:00Z', reason: 'wrong fingerprint' }] })
    const bridge = bridgeWith(denied)
    bridge.restartApproval.mockResolvedValue(ok(denied))
    await renderApp(bridge, 'run')
    expect(screen.getByTestId('approval-status').textContent).toContain('Denied')
    expect(screen.queryByLabelText('Password')).toBeNull()
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Start a fresh request' })))
    expect(bridge.restartApproval).toHaveBeenCalledWith({ stepId: approvalStep })
  })
})

describe('witnesses and exceptions', () => {
  test('a present witness signs the whole checklist with their initials once the step has run; Next step waits for the sign-offs', async () => {
    const notYet = makeSnapshot()
    await renderApp(bridgeWith(notYet), 'run')
    expect((screen.getByLabelText('Appliance versions read aloud') as HTMLInputElement).disabled).toBe(true)
    expect(screen.getByRole('button', { name: 'Sign off' }).hasAttribute('disabled')).toBe(true)
    cleanup()

    const items = ['Appliance versions read aloud', 'Clock differences noted']
    const signoff = { required: 2, complete: false, waivedBy: null }
    const snap = { ...withStep(makeSnapshot(), 'preflight', { state: 'done', witnessItems: items, signoff }), currentStepId: 'transfer-key-dsm-t1' }
    const signed = withStep(snap, 'preflight', { signoffs: [{ witness: 'Wendy Witness', at: '2025-01-01T10:05:00Z', items, simulated: false }], signoff: { ...signoff } })
    const bridge = bridgeWith(snap)
    bridge.signOff.mockResolvedValue(ok(signed))
    const stores = await renderApp(bridge, 'run')
    stores.ui.getState().selectStep('preflight')
    await act(async () => undefined)
    const signOff = screen.getByRole('button', { name: 'Sign off' })
    const next = screen.getByRole('button', { name: /^Next step: T1\.1/ })
    expect(next.hasAttribute('disabled')).toBe(true)
    expect(screen.getByTestId('signoff-status').textContent).toContain('0 of 2 required')
    fireEvent.click(screen.getByLabelText('Appliance versions read aloud'))
    fireEvent.change(screen.getByLabelText('Witness'), { target: { value: 'Wendy Witness' } })
    fireEvent.change(screen.getByLabelText('Your initials'), { target: { value: 'ww' } })
    expect(signOff.hasAttribute('disabled')).toBe(true) // every item must be confirmed
    fireEvent.click(screen.getByLabelText('Clock differences noted'))
    await act(async () => fireEvent.click(signOff))
    expect(bridge.signOff).toHaveBeenCalledWith({ stepId: 'preflight', witness: 'Wendy Witness', initials: 'ww', items })
    const list = screen.getByRole('list', { name: 'Signed off' })
    expect(list.textContent).toContain('Wendy Witness')
    expect(list.querySelector('time')?.getAttribute('datetime')).toBe('2025-01-01T10:05:00.000Z')
    // Wendy signed: only Walter is offered now, and Next step still waits for him.
    expect([...(screen.getByLabelText('Witness') as HTMLSelectElement).options].map((o) => o.value)).toEqual(['', 'Walter Witness'])
    expect(screen.getByRole('button', { name: /^Next step: T1\.1/ }).hasAttribute('disabled')).toBe(true)
  })

  test('anyone can record an exception at any step', async () => {
    const snap = makeSnapshot()
    const bridge = bridgeWith(snap)
    bridge.recordException.mockResolvedValue(ok(withStep(snap, 'preflight', { exceptions: [{ by: 'Walter Witness', at: '2025-01-01T10:06:00Z', note: 'Bag 1142 seal number differs from the log sheet', waivesSignoff: false }] })))
    await renderApp(bridge, 'run')
    fireEvent.change(screen.getByLabelText('Recorded by'), { target: { value: 'Walter Witness' } })
    fireEvent.change(screen.getByLabelText('What happened'), { target: { value: 'Bag 1142 seal number differs from the log sheet' } })
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Record exception' })))
    expect(bridge.recordException).toHaveBeenCalledWith({ stepId: 'preflight', by: 'Walter Witness', note: 'Bag 1142 seal number differs from the log sheet' })
    expect(screen.getByText(/Bag 1142 seal number differs/, { selector: 'li' })).toBeTruthy()
  })
})

describe('ceremony record', () => {
  test('shows the final digest in hex, words and a QR code, the steps by script id, one approvals table, events where they happened; an export says what it wrote', async () => {
    const finalDigest = digest('5e'.repeat(32))
    const snap = makeSnapshot({ phase: 'complete', currentStepId: null })
    const bridge = bridgeWith(snap)
    const entry = (seq: number, step: string, kind: string, actor: string, facts: Record<string, unknown>) => ({ seq, ts: `2025-01-01T10:0${seq}:00.000Z`, prev: '00'.repeat(32), planDigest: PLAN_DIGEST.hex, actor, step, kind, facts, hash: `${seq}`.repeat(64).slice(0, 64) })
    const record = makeRecord({
      planDigest: PLAN_DIGEST.hex,
      entries: [
        entry(1, 'ceremony', 'ceremony-open', 'Olivia Operator', { software: { name: 'DSM Key Ceremony', version: '0.1.0', buildDigest: 'ab'.repeat(32) } }),
        entry(2, 'ceremony', 'attendance', 'Olivia Operator', { person: 'Wendy Witness', role: 'witness', event: 'arrive' }),
        entry(3, 'wrap-approval-dsm-t1', 'denial', 'bob@example.test', { requestId: 'aaaabbbb-0000', decision: 'deny', viewDigest: 'cd'.repeat(32), reason: 'wrong fingerprint read aloud' }),
        entry(4, 'wrap-approval-dsm-t1', 'approval', 'alice@example.test', { requestId: 'ccccdddd-0000', decision: 'approve', viewDigest: 'ef'.repeat(32) }),
      ],
      artifacts: [{ name: 'rehearsal-dsm-t1-wrapped_master_key.out', sha256: 'cd'.repeat(32), bytes: 256, seq: 3 }],
    })
    bridge.getRecord.mockResolvedValue(ok({ record, finalDigest }))
    bridge.exportRecord.mockResolvedValue(ok({ cancelled: false, file: { name: 'REHEARSAL-cmk-rehearsal-record.pdf', bytes: 48213, sha256: FINGERPRINT } }))
    await renderApp(bridge, 'record')
    await waitFor(() => expect(screen.getByRole('group', { name: 'Final log digest' })).toBeTruthy())
    const final = screen.getByRole('group', { name: 'Final log digest' })
    expect(final.textContent).toContain(finalDigest.hexGroups)
    expect(final.textContent).toContain(finalDigest.words.join(' '))
    expect(Number(screen.getByTestId('qr-code').dataset.modules)).toBeGreaterThanOrEqual(21)
    expect(screen.getByTestId('record-watermark').textContent).toContain('REHEARSAL')
    expect(screen.getByTestId('record-software').textContent).toContain('DSM Key Ceremony 0.1.0')
    // The cameras the plan names, on the printed record: the auditor matches the addendum's files to them.
    for (const c of snap.plan!.cameras) expect(screen.getByTestId('record-cameras').textContent).toContain(`${c.label} (${c.id})`)
    // One table of decisions: who, what, when, and the digest of what they read.
    const approvals = document.querySelector('.record-approvals')!
    expect(approvals.textContent).toContain('bob@example.test')
    expect(approvals.textContent).toContain('denied: wrong fingerprint read aloud')
    expect(approvals.textContent).toContain('EFEF EFEF')
    // The denial also shows where it happened, under its step.
    expect(document.querySelector('.record-steps')!.textContent).toContain('denied by bob@example.test: wrong fingerprint read aloud')
    expect(document.querySelector('.record-attendance')!.textContent).toContain('Wendy Witness')
    expect(screen.getByText('rehearsal-dsm-t1-wrapped_master_key.out')).toBeTruthy()
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Export as PDF…' })))
    expect(bridge.exportRecord).toHaveBeenCalledWith({ format: 'pdf' })
    const result = screen.getByTestId('export-result')
    expect(result.textContent).toContain('REHEARSAL-cmk-rehearsal-record.pdf (48213 bytes)')
    expect(result.textContent).toContain(FINGERPRINT.hexGroups)
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Write a second copy…' })))
    expect(bridge.exportRecord).toHaveBeenCalledTimes(2)
  })

  test('Print uses the browser print (print CSS lays out the record)', async () => {
    const bridge = bridgeWith(makeSnapshot({ phase: 'complete' }))
    bridge.getRecord.mockResolvedValue(fail('RECORD_UNAVAILABLE', 'not yet'))
    const print = vi.fn()
    window.print = print
    await renderApp(bridge, 'record')
    fireEvent.click(await screen.findByRole('button', { name: 'Print' }))
    expect(print).toHaveBeenCalled()
  })
})

describe('times', () => {
  test("DSM's compact expiry form is read like ISO time", async () => {
    const { parseTime, untilText } = await import('../../renderer/src/components/Time')
    expect(parseTime('20261228T161129Z').toISOString()).toBe('2026-12-28T16:11:29.000Z')
    expect(untilText('20261228T161129Z', Date.parse('2026-12-28T15:41:29Z'))).toBe('in 30 min')
    expect(untilText('20261228T161129Z', Date.parse('2026-11-28T16:11:29Z'))).toBe('in 30 days')
    expect(untilText('20261228T161129Z', Date.parse('2026-12-29T00:00:00Z'))).toBe('expired')
  })
})

describe('read aloud', () => {
  test('shows one group of a fingerprint at a time, large, with its words and where the reader is', async () => {
    const snap = withStep(makeSnapshot(), 'preflight', { evidence: [{ label: 'Fingerprint to read aloud', value: FINGERPRINT.hex, digest: FINGERPRINT }] })
    await renderApp(bridgeWith(snap), 'run')
    fireEvent.click(within(screen.getByRole('group', { name: 'Fingerprint to read aloud' })).getByRole('button', { name: 'Read aloud' }))
    const dialog = screen.getByRole('dialog', { name: 'Read aloud: Fingerprint to read aloud' })
    const groups = FINGERPRINT.hexGroups.split(' ')
    expect(within(dialog).getByTestId('read-aloud-position').textContent).toBe(`Group 1 of ${groups.length}`)
    expect(within(dialog).getByTestId('read-aloud-group').textContent).toBe(`${groups[0]}${FINGERPRINT.words.slice(0, 2).join(' ')}`)
    fireEvent.click(within(dialog).getByRole('button', { name: 'Next group →' }))
    expect(within(dialog).getByTestId('read-aloud-position').textContent).toBe(`Group 2 of ${groups.length}`)
    expect(within(dialog).getByTestId('read-aloud-group').textContent).toBe(`${groups[1]}${FINGERPRINT.words.slice(2, 4).join(' ')}`)
    fireEvent.keyDown(dialog, { key: 'Escape' })
    expect(screen.queryByRole('dialog')).toBeNull()
  })
})

describe('orientation', () => {
  test('following the ceremony, the screen stays on the step being signed (after a restart too) until its witnesses signed', async () => {
    const items = ['Appliance versions read aloud']
    const snap = { ...withStep(makeSnapshot(), 'preflight', { state: 'done', witnessItems: items, signoff: { required: 1, complete: false, waivedBy: null } }), currentStepId: 'transfer-key-dsm-t1' }
    const bridge = bridgeWith(snap)
    await renderApp(bridge, 'run')
    expect(screen.getByTestId('step-detail').dataset.stepId).toBe('preflight')
    expect(screen.getByRole('button', { name: /^Next step: T1\.1/ }).hasAttribute('disabled')).toBe(true)
    await act(async () => bridge.emit('onCeremonyChanged', withStep(snap, 'preflight', { signoff: { required: 1, complete: true, waivedBy: null } })))
    // Signed: the screen stays until the operator moves on, then follows the current step.
    expect(screen.getByTestId('step-detail').dataset.stepId).toBe('preflight')
  })
})

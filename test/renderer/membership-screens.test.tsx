/**
 * The screens with the membership kinds (add-appliance, replace-appliance), on the views main builds
 * for them (membership-snapshot.ts): the plan review fact by fact with each earlier record by its
 * digest, the editor's templates and preview, every step of a replacement on the run screen (its
 * checklist, typed confirmation, and D.1's values read in the room), and the printed record's
 * outcome part by part and the records it builds on.
 */
import { afterEach, beforeAll, describe, expect, test } from 'vitest'
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react'
import type { CeremonySnapshot } from '../../preload/contract'
import { checkPlan } from '../../main/ceremony/plan'
import { PLAN_TEMPLATES } from '../../renderer/src/stores/plan-templates'
import { digest, makeRecord, ok, withStep } from '../fakes/ceremony-fixtures'
import { EARLIER, membershipPlan, membershipSnapshot } from '../fakes/membership-snapshot'
import { beginStepOf } from '../../main/ceremony/views'
import { bridgeWith, renderApp } from '../fakes/render-app'

afterEach(cleanup)

let replace: CeremonySnapshot
let add: CeremonySnapshot
beforeAll(async () => {
  replace = await membershipSnapshot('replace-appliance')
  add = await membershipSnapshot('add-appliance')
})

/** The value of a plan fact, by its label, in the first list of facts under `root`. */
function fact(root: ParentNode, label: string): string | null {
  const dt = [...root.querySelectorAll('dt')].find((d) => d.textContent === label)
  return dt?.nextElementSibling?.textContent ?? null
}

describe('plan review of the membership kinds', () => {
  test('a replacement shows the failed appliance fact by fact, the replacement, the cluster and the group, and each earlier record by its digest', async () => {
    await renderApp(bridgeWith({ ...replace, phase: 'setup' }), 'plan')
    const review = document.querySelector('.plan-review')!
    expect(fact(review, 'Ceremony')).toBe('Replace a failed FIPS appliance')
    expect(fact(review, 'Failed appliance (removed from the group, never contacted)')).toBe('FIPS appliance 1 (fips-1) at 127.0.0.1:4431')
    expect(fact(review, 'Its serial (typed off the chassis at the destruction record)')).toBe('FX2200-SIM-0001')
    expect(fact(review, 'What is done with it')).toBe('returned to the vendor under RMA RMA-2026-0042')
    expect(fact(review, 'Evidence on the media')).toBe('fips-1-rma-receipt.pdf')
    expect(fact(review, 'New appliance')).toBe('FIPS appliance 3 (fips-4) at 127.0.0.1:4434')
    expect(fact(review, 'Cluster')).toBe('Non-FIPS DSM cluster (sim-cluster) at 127.0.0.1:4440')
    expect(fact(review, 'Group')).toBe('FIPS GROUP')
    expect(fact(review, 'CMK from')).toMatch(/^FIPS appliance 2 \(fips-2\) \("cluster-master-key", quorum group "Quorum Group"/)
    expect(fact(review, 'The group afterwards, in priority order')).toBe('FIPS appliance 2 (fips-2), FIPS appliance 3 (fips-4)')
    // The records it builds on: read aloud in hex groups and words, one box each, never as a run of raw hex.
    const records = screen.getByTestId('plan-builds-on')
    EARLIER.forEach((hex, i) => {
      const box = within(records).getByRole('group', { name: `Final digest of earlier record ${i + 1}` })
      expect(box.querySelector('.digest-hex')!.textContent!.replace(/\s/g, '').toLowerCase()).toBe(hex)
      expect(box.querySelector('.digest-words')!.textContent!.split(' ')).toHaveLength(32)
    })
    expect(review.querySelector('dl.facts')!.textContent).not.toMatch(/[0-9a-f]{64}/)
    // Each appliance's part in it.
    const rows = [...review.querySelectorAll('#plan-appliances-heading ~ div tbody tr')].map((r) => r.textContent)
    expect(rows.find((r) => r!.includes('fips-1'))).toContain('Failed appliance (removed, not contacted)')
    expect(rows.find((r) => r!.includes('fips-4'))).toContain('Replacement')
  })

  test('an addition names the new appliance and the source, and no failed appliance', async () => {
    await renderApp(bridgeWith({ ...add, phase: 'setup' }), 'plan')
    const review = document.querySelector('.plan-review')!
    expect(fact(review, 'Ceremony')).toBe('Add a FIPS appliance')
    expect(fact(review, 'New appliance')).toBe('FIPS appliance 3 (fips-4) at 127.0.0.1:4434')
    expect(fact(review, 'The group afterwards, in priority order')).toBe('FIPS appliance 1 (fips-1), FIPS appliance 2 (fips-2), FIPS appliance 3 (fips-4)')
    expect(review.textContent).not.toContain('Failed appliance')
    expect(within(screen.getByTestId('plan-builds-on')).getAllByRole('group')).toHaveLength(2)
  })
})

describe('setup of a replacement', () => {
  test('the failed appliance asks for no key and no check; the steps open once the others are connected', async () => {
    const ok_ = (id: string) => ({ applianceId: id, label: replace.plan!.appliances.find((a) => a.id === id)!.label, hasApiKey: true, state: 'ok' as const, version: '4.23.0', clockSkewSeconds: 0, pin: digest('ab'.repeat(32)), error: null })
    const failed = { applianceId: 'fips-1', label: 'FIPS appliance 1 (fips-1)', hasApiKey: false, state: 'unknown' as const, version: null, clockSkewSeconds: null, pin: digest('aa'.repeat(32)), error: null, contacted: false }
    const snap = { ...replace, phase: 'setup' as const, participantsConfirmed: true, connections: [failed, ok_('fips-2'), ok_('fips-4')] }
    await renderApp(bridgeWith(snap), 'setup')
    expect(screen.getByTestId('conn-state-fips-1').textContent).toContain('Not contacted by this ceremony')
    expect(screen.queryByLabelText('API key for FIPS appliance 1 (fips-1)')).toBeNull()
    expect(screen.getByLabelText('API key for FIPS appliance 2 (fips-2)')).toBeTruthy()
    expect(screen.getByRole('group', { name: 'TLS pin of FIPS appliance 1 (fips-1)' })).toBeTruthy()
    expect(screen.getByRole('button', { name: 'Check connections' }).hasAttribute('disabled')).toBe(false)
    expect(screen.getByRole('button', { name: 'Go to the ceremony steps' }).hasAttribute('disabled')).toBe(false)
    cleanup()
    // Another appliance without its key still holds the ceremony back.
    await renderApp(bridgeWith({ ...snap, connections: [failed, { ...ok_('fips-2'), hasApiKey: false, state: 'unknown' as const }, ok_('fips-4')] }), 'setup')
    expect(screen.getByRole('button', { name: 'Check connections' }).hasAttribute('disabled')).toBe(true)
    expect(screen.getByRole('button', { name: 'Go to the ceremony steps' }).hasAttribute('disabled')).toBe(true)
    cleanup()
    // Onboarded through the API, the replacement's key is the ceremony's to make (P.2): none is asked, and it is checked without one.
    const made = { ...ok_('fips-4'), hasApiKey: false, state: 'unknown' as const, keyMadeHere: true }
    await renderApp(bridgeWith({ ...snap, connections: [failed, ok_('fips-2'), made] }), 'setup')
    expect(screen.queryByLabelText('API key for FIPS appliance 4 (fips-4)')).toBeNull()
    expect(screen.getByTestId('key-made-here-fips-4').textContent).toContain('this ceremony makes its app and key (P.2)')
    expect(screen.getByRole('button', { name: 'Check connections' }).hasAttribute('disabled')).toBe(false)
    expect(screen.getByRole('button', { name: 'Go to the ceremony steps' }).hasAttribute('disabled')).toBe(true)
    cleanup()
    await renderApp(bridgeWith({ ...snap, connections: [failed, ok_('fips-2'), { ...made, state: 'ok' as const }] }), 'setup')
    expect(screen.getByRole('button', { name: 'Go to the ceremony steps' }).hasAttribute('disabled')).toBe(false)
  })

  test('behind a load balancer the failed appliance\'s key is asked (the join re-sends it) and awaited, though it is never checked', async () => {
    const ok_ = (id: string) => ({ applianceId: id, label: replace.plan!.appliances.find((a) => a.id === id)!.label, hasApiKey: true, state: 'ok' as const, version: '4.23.0', clockSkewSeconds: 0, pin: digest('ab'.repeat(32)), error: null })
    const failed = { applianceId: 'fips-1', label: 'FIPS appliance 1 (fips-1)', hasApiKey: false, state: 'unknown' as const, version: null, clockSkewSeconds: null, pin: digest('aa'.repeat(32)), error: null, contacted: false, keyNeeded: true }
    const snap = { ...replace, phase: 'setup' as const, participantsConfirmed: true, connections: [failed, ok_('fips-2'), ok_('fips-4')] }
    const bridge = bridgeWith(snap)
    await renderApp(bridge, 'setup')
    expect(screen.getByTestId('conn-state-fips-1').textContent).toContain('Not contacted by this ceremony')
    const field = screen.getByLabelText('API key for FIPS appliance 1 (fips-1)') as HTMLInputElement
    expect(screen.getByRole('button', { name: 'Check connections' }).hasAttribute('disabled')).toBe(true)
    expect(screen.getByRole('button', { name: 'Go to the ceremony steps' }).hasAttribute('disabled')).toBe(true)
    fireEvent.change(field, { target: { value: 'failed-key' } })
    await act(async () => fireEvent.click(screen.getAllByRole('button', { name: 'Set key' })[0]!))
    expect(bridge.setApiKey).toHaveBeenCalledWith({ applianceId: 'fips-1', apiKey: 'failed-key' })
    expect(field.value).toBe('')
    cleanup()
    // Its key held, the steps open, though it was never checked (its state stays unknown).
    await renderApp(bridgeWith({ ...snap, connections: [{ ...failed, hasApiKey: true }, ok_('fips-2'), ok_('fips-4')] }), 'setup')
    expect(screen.getByRole('button', { name: 'Check connections' }).hasAttribute('disabled')).toBe(false)
    expect(screen.getByRole('button', { name: 'Go to the ceremony steps' }).hasAttribute('disabled')).toBe(false)
  })
})

describe('beginning a membership ceremony', () => {
  test('Begin runs the plan\'s own first step (a replacement\'s onboarding, an addition\'s preflight), as main names it', async () => {
    expect([beginStepOf(membershipPlan('replace-appliance')), beginStepOf(membershipPlan('add-appliance'))]).toEqual(['onboarding', 'appliance-preflight'])
    const before = { ...replace, phase: 'setup' as const, steps: [], groups: [], currentStepId: null, beginStep: 'onboarding' }
    const bridge = bridgeWith(before)
    bridge.runStep.mockResolvedValue(ok(replace))
    await renderApp(bridge, 'run')
    await act(async () => fireEvent.click(screen.getByRole('button', { name: /^Begin: / })))
    expect(bridge.runStep).toHaveBeenCalledWith({ stepId: 'onboarding' })
  })
})

describe('plan editor with the membership kinds', () => {
  test('each kind\'s template is a plan of that kind whose only problems are the values to fill in', () => {
    const fillIn = /^(appliances\.\d+\.trust\.spkiSha256|cluster\.trust\.spkiSha256|cluster\.accountId|cluster\.admin|buildsOn\.0|failed\.serial|onboarding\.(sysadmin|accountId)|participants\..*)$/
    expect(PLAN_TEMPLATES.map((t) => t.kind)).toEqual(['replicate-cmk', 'add-appliance', 'replace-appliance'])
    for (const t of PLAN_TEMPLATES) {
      const checked = checkPlan(JSON.parse(t.text))
      expect(checked.ok).toBe(false)
      if (checked.ok) continue
      expect(checked.issues.filter((i) => !fillIn.test(i.path)), t.kind).toEqual([])
    }
  })

  test('a template of the chosen kind is loaded while the text is untouched; a valid plan is previewed as the review will show it', async () => {
    const bridge = bridgeWith(null)
    bridge.validatePlan.mockResolvedValue(ok({ issues: [], summary: replace.plan! }))
    const stores = await renderApp(bridge, 'editor')
    fireEvent.change(await screen.findByLabelText('Template'), { target: { value: 'replace-appliance' } })
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Start from this template' })))
    const text = stores.editor.getState().text
    expect(JSON.parse(text)).toMatchObject({ kind: 'replace-appliance', failed: { id: 'fips-1' }, fips: ['fips-2', 'fips-4'] })
    expect(bridge.validatePlan).toHaveBeenLastCalledWith({ text })
    const preview = screen.getByTestId('editor-preview')
    expect(fact(preview, 'What is done with it')).toBe('returned to the vendor under RMA RMA-2026-0042')
    expect(within(preview).getAllByRole('group', { name: /^Final digest of earlier record/ })).toHaveLength(2)
    // One plan digest on the screen (the editor's own), not a second in the preview.
    expect(screen.getAllByRole('group', { name: 'Plan digest' })).toHaveLength(1)
    // The operator's own changes are never replaced by a template.
    fireEvent.change(screen.getByLabelText('Plan (JSON)'), { target: { value: `${text} ` } })
    expect(screen.getByRole('button', { name: 'Start from this template' }).hasAttribute('disabled')).toBe(true)
    expect(screen.getByText(/clear it first to start from a template/)).toBeTruthy()
  })
})

describe('run screen with every step of a replacement', () => {
  test('each step shows its script id, title, where, what the witnesses check, and the typed confirmation or the values to type', async () => {
    expect(replace.steps.map((s) => s.scriptId)).toEqual(['P.0', 'P.1', ...Array.from({ length: 12 }, (_, i) => `R.${i + 1}`), 'J.1', 'J.2', 'J.3', 'V.1', 'V.2', 'X.1', 'X.2', 'D.1', 'C.0', 'C.1'])
    for (const step of replace.steps) {
      await renderApp(bridgeWith({ ...replace, currentStepId: step.id }), 'run')
      const detail = screen.getByTestId('step-detail')
      expect(within(detail).getByRole('heading', { name: step.title }), step.scriptId).toBeTruthy()
      expect(within(detail).getAllByText(step.scriptId).length, step.scriptId).toBeGreaterThan(0)
      for (const item of step.witnessItems) expect(within(detail).getByLabelText(item), `${step.scriptId}: ${item}`).toBeTruthy()
      // An approval's confirmation is typed by the custodian in the approval panel, once the request exists.
      if (step.confirmation && step.interaction === 'run') expect(within(detail).getByLabelText(step.confirmation.prompt, { exact: false }), step.scriptId).toBeTruthy()
      expect(within(detail).queryByTestId('step-input') !== null, step.scriptId).toBe(step.input !== null)
      cleanup()
    }
  })

  test('the onboarding checklist: every item is confirmed by the witness signing it, after the step ran', async () => {
    const onboarding = replace.steps[0]!
    expect(onboarding.witnessItems).toHaveLength(4)
    expect(onboarding.witnessItems[1]).toMatch(/account administrators are in place/)
    const ran = { ...withStep(replace, onboarding.id, { state: 'done', signoff: { required: 2, complete: false, waivedBy: null } }), currentStepId: onboarding.id }
    const bridge = bridgeWith(ran)
    bridge.signOff.mockResolvedValue(ok(ran))
    await renderApp(bridge, 'run')
    const signOff = screen.getByRole('button', { name: 'Sign off' })
    fireEvent.change(screen.getByLabelText('Witness'), { target: { value: 'Witness One' } })
    fireEvent.change(screen.getByLabelText('Your initials'), { target: { value: 'WO' } })
    for (const item of onboarding.witnessItems.slice(0, 3)) fireEvent.click(screen.getByLabelText(item))
    expect(signOff.hasAttribute('disabled')).toBe(true)
    fireEvent.click(screen.getByLabelText(onboarding.witnessItems[3]!))
    await act(async () => fireEvent.click(signOff))
    expect(bridge.signOff).toHaveBeenCalledWith({ stepId: onboarding.id, witness: 'Witness One', initials: 'WO', items: onboarding.witnessItems })
  })

  test('adding the config to the group needs the last 4 of the config digest shown beside the box', async () => {
    const join = replace.steps.find((s) => s.scriptId === 'J.2')!
    const config = digest('7c'.repeat(31) + '9a4e')
    const snap = { ...withStep(replace, join.id, { confirmation: { ...join.confirmation!, value: config } }), currentStepId: join.id }
    const bridge = bridgeWith(snap)
    bridge.runStep.mockResolvedValue(ok(snap))
    await renderApp(bridge, 'run')
    expect(screen.getByRole('group', { name: join.confirmation!.label }).textContent).toContain(config.hexGroups)
    const run = screen.getByRole('button', { name: 'Run step' })
    fireEvent.change(screen.getByLabelText(join.confirmation!.prompt, { exact: false }), { target: { value: '7c7c' } })
    expect(run.hasAttribute('disabled')).toBe(true)
    fireEvent.change(screen.getByLabelText(join.confirmation!.prompt, { exact: false }), { target: { value: '9a4e' } })
    await act(async () => fireEvent.click(run))
    expect(bridge.runStep).toHaveBeenCalledWith({ stepId: join.id, confirmation: '9a4e' })
  })

  test('D.1: the serial, what was done (the plan\'s choice first) and the RMA number are typed from the room and sent as typed', async () => {
    const d1 = replace.steps.find((s) => s.scriptId === 'D.1')!
    const snap = { ...replace, currentStepId: d1.id }
    const bridge = bridgeWith(snap)
    bridge.runStep.mockResolvedValue(ok(snap))
    await renderApp(bridge, 'run')
    const form = screen.getByTestId('step-input')
    expect(within(form).getByRole('group', { name: 'FIPS appliance 1 (fips-1)' })).toBeTruthy()
    // A rehearsal says what the simulated chassis and paperwork show; nothing is typed for the operator.
    expect(form.textContent).toContain('the simulated item shows FX2200-SIM-0001')
    expect((screen.getByLabelText('Serial number') as HTMLInputElement).value).toBe('')
    const choices = within(form).getAllByRole('radio') as HTMLInputElement[]
    expect(choices.map((c) => c.value)).toEqual(['returned-rma', 'zeroised', 'destroyed'])
    expect(choices[0]!.checked).toBe(true)
    const run = screen.getByRole('button', { name: 'Run step' })
    expect(run.hasAttribute('disabled')).toBe(true)
    fireEvent.change(screen.getByLabelText('Serial number'), { target: { value: 'fx2200-sim-0001' } })
    fireEvent.change(screen.getByLabelText('RMA number'), { target: { value: 'RMA-2026-0042' } })
    fireEvent.click(choices[2]!)
    expect(choices[2]!.checked).toBe(true)
    await act(async () => fireEvent.click(run))
    expect(bridge.runStep).toHaveBeenCalledWith({ stepId: d1.id, input: { 'failed:disposition': 'destroyed', 'failed:serial': 'fx2200-sim-0001', 'failed:rma-number': 'RMA-2026-0042' } })
  })

  test('the board lists the parts of the ceremony, not appliances', async () => {
    await renderApp(bridgeWith(replace), 'run')
    expect(screen.getByRole('heading', { name: 'Progress, part by part' })).toBeTruthy()
    expect(replace.groups.map((g) => screen.getByTestId(`target-${g.id}`).querySelector('th')!.textContent)).toEqual(['Replicate the CMK', 'Join the group', 'Prove recovery', 'Remove the failed appliance', 'Record its fate'])
  })
})

describe('the record of a replacement', () => {
  test('lists the outcome part by part and the records it builds on, by digest', async () => {
    const outcomes = ['KCV 3f9a1c', 'priority 1', 'canary decrypts through the new appliance alone', 'FIPS appliance 1 (fips-1) removed', `returned to the vendor under RMA RMA-2026-0042, serial FX2200-SIM-0001, evidence SHA-256 ${'ab'.repeat(32)}`]
    const snap = { ...replace, phase: 'complete' as const, currentStepId: null, groups: replace.groups.map((g, i) => ({ ...g, state: 'done' as const, outcome: outcomes[i]! })) }
    const bridge = bridgeWith(snap)
    bridge.getRecord.mockResolvedValue(ok({ record: makeRecord(), finalDigest: digest('99'.repeat(32)) }))
    await renderApp(bridge, 'record')
    const outcome = await screen.findByRole('list', { name: 'Outcome, part by part' })
    expect([...outcome.querySelectorAll('li')].map((li) => li.textContent)).toEqual(replace.groups.map((g, i) => `${g.label}: ${outcomes[i]}`))
    const builds = screen.getByTestId('record-builds-on')
    expect([...builds.querySelectorAll('code')].map((c) => c.textContent!.replace(/\s/g, '').toLowerCase())).toEqual(EARLIER)
    expect(fact(document.querySelector('.record-page')!, 'Failed appliance (removed from the group, never contacted)')).toBe('FIPS appliance 1 (fips-1) at 127.0.0.1:4431')
  })
})

import { describe, expect, test } from 'vitest'
import { createCeremonyStore } from '../../renderer/src/stores/ceremony-store'
import { createFakeBridge } from '../fakes/fake-bridge'
import { FINGERPRINT, digest, fail, makeRecord, makeSnapshot, ok, withStep } from '../fakes/ceremony-fixtures'

const snapshot = makeSnapshot()

describe('ceremony store', () => {
  test('load() keeps the snapshot from status()', async () => {
    const bridge = createFakeBridge()
    bridge.status.mockResolvedValue(ok(snapshot))
    const store = createCeremonyStore(bridge)
    expect(await store.getState().load()).toBe(true)
    expect(store.getState()).toMatchObject({ snapshot, loaded: true, error: null, busy: [] })
  })

  test('a refused call keeps the code and message and leaves the snapshot alone', async () => {
    const bridge = createFakeBridge()
    bridge.status.mockResolvedValue(ok(snapshot))
    bridge.runStep.mockResolvedValue(fail('STEP_OUT_OF_ORDER', 'finish the preflight first'))
    const store = createCeremonyStore(bridge)
    await store.getState().load()
    expect(await store.getState().runStep('close')).toBe(false)
    expect(store.getState().error).toEqual({ code: 'STEP_OUT_OF_ORDER', message: 'finish the preflight first' })
    expect(store.getState().snapshot).toBe(snapshot)
  })

  test('a bridge that throws is reported as a named error, never an unhandled rejection', async () => {
    const bridge = createFakeBridge()
    bridge.checkConnections.mockRejectedValue(new Error('harness IPC session:check: HTTP 404'))
    const store = createCeremonyStore(bridge)
    expect(await store.getState().checkConnections()).toBe(false)
    expect(store.getState().error).toEqual({ code: 'BRIDGE_FAILED', message: 'harness IPC session:check: HTTP 404' })
    expect(store.getState().busy).toEqual([])
  })

  test('follow() takes every pushed snapshot until unsubscribed', () => {
    const bridge = createFakeBridge()
    const store = createCeremonyStore(bridge)
    const stop = store.getState().follow()
    const moved = withStep(snapshot, 'preflight', { state: 'running' })
    bridge.emit('onCeremonyChanged', moved)
    expect(store.getState().snapshot).toBe(moved)
    stop()
    bridge.emit('onCeremonyChanged', snapshot)
    expect(store.getState().snapshot).toBe(moved)
  })

  test('a push sent before a call answered cannot undo the answer; each call ends with a fresh status()', async () => {
    const bridge = createFakeBridge()
    const before = makeSnapshot({ phase: 'setup', connections: snapshot.connections.map((c) => ({ ...c, hasApiKey: false })) })
    const after = makeSnapshot({ phase: 'setup' })
    let answer!: (v: ReturnType<typeof ok<typeof after>>) => void
    bridge.startRehearsal.mockImplementation(() => new Promise((r) => (answer = r)))
    bridge.status.mockResolvedValue(ok(after))
    const store = createCeremonyStore(bridge)
    store.getState().follow()
    const pending = store.getState().startRehearsal()
    bridge.emit('onCeremonyChanged', before) // emitted while main was still working
    expect(store.getState().snapshot).toBeNull()
    answer(ok(after))
    await pending
    expect(bridge.status).toHaveBeenCalledTimes(1)
    expect(store.getState().snapshot).toBe(after)
    const later = withStep(after, 'preflight', { state: 'running' })
    bridge.emit('onCeremonyChanged', later) // nothing in flight: pushes apply again
    expect(store.getState().snapshot).toBe(later)
  })

  test('openPlan() is true only when a plan was loaded; a cancelled dialog is not an error', async () => {
    const bridge = createFakeBridge()
    const store = createCeremonyStore(bridge)
    bridge.openPlan.mockResolvedValueOnce(ok({ cancelled: true, snapshot: makeSnapshot({ plan: null, phase: 'no-plan' }) }))
    expect(await store.getState().openPlan()).toBe(false)
    expect(store.getState().error).toBeNull()
    bridge.openPlan.mockResolvedValueOnce(ok({ cancelled: false, snapshot }))
    expect(await store.getState().openPlan()).toBe(true)
    expect(store.getState().snapshot?.plan?.id).toBe('cmk-rehearsal')
    bridge.openPlan.mockResolvedValueOnce(fail('PLAN_INVALID', 'source: no appliance with id "x"'))
    expect(await store.getState().openPlan()).toBe(false)
    expect(store.getState().error?.code).toBe('PLAN_INVALID')
  })

  test('startRehearsal() asks main for two simulated targets by default', async () => {
    const bridge = createFakeBridge()
    bridge.startRehearsal.mockResolvedValue(ok(snapshot))
    const store = createCeremonyStore(bridge)
    expect(await store.getState().startRehearsal()).toBe(true)
    expect(bridge.startRehearsal).toHaveBeenCalledWith({ targets: 2 })
  })

  test('setApiKey() passes the key to main and keeps no copy of it anywhere in the store', async () => {
    const bridge = createFakeBridge()
    bridge.setApiKey.mockResolvedValue(ok(snapshot))
    const store = createCeremonyStore(bridge)
    const secret = 'NzFmM2UtYXBpLWtleS1zZWNyZXQ='
    let sawBusy = false
    store.subscribe((s) => {
      if (s.busy.includes('key:dsm-s')) sawBusy = true
      expect(JSON.stringify(s)).not.toContain(secret)
    })
    expect(await store.getState().setApiKey('dsm-s', secret)).toBe(true)
    expect(sawBusy).toBe(true)
    expect(bridge.setApiKey).toHaveBeenCalledWith({ applianceId: 'dsm-s', apiKey: secret })
    expect(JSON.stringify(store.getState())).not.toContain(secret)
  })

  test('decideApproval() sends the custodian password and confirmation to main and keeps neither', async () => {
    const bridge = createFakeBridge()
    bridge.decideApproval.mockResolvedValue(ok(snapshot))
    const store = createCeremonyStore(bridge)
    const bound = { requestId: 'req-1', viewDigest: '5e'.repeat(32) }
    const ok1 = await store.getState().decideApproval({ stepId: 'wrap-approval-dsm-t1', user: 'alice@example.test', password: 'hunter2-secret', decision: 'approve', ...bound, confirmation: '0718' })
    expect(ok1).toBe(true)
    expect(bridge.decideApproval).toHaveBeenCalledWith({ stepId: 'wrap-approval-dsm-t1', user: 'alice@example.test', password: 'hunter2-secret', decision: 'approve', ...bound, confirmation: '0718' })
    expect(JSON.stringify(store.getState())).not.toContain('hunter2-secret')
    await store.getState().decideApproval({ stepId: 's', user: 'bob', password: 'p', decision: 'deny', ...bound, reason: 'wrong key' })
    expect(bridge.decideApproval).toHaveBeenLastCalledWith({ stepId: 's', user: 'bob', password: 'p', decision: 'deny', ...bound, reason: 'wrong key' })
  })

  test('runStep() sends the typed confirmation only when there is one', async () => {
    const bridge = createFakeBridge()
    bridge.runStep.mockResolvedValue(ok(snapshot))
    const store = createCeremonyStore(bridge)
    await store.getState().runStep('preflight')
    expect(bridge.runStep).toHaveBeenLastCalledWith({ stepId: 'preflight' })
    await store.getState().runStep('cleanup-dsm-t1', '0718')
    expect(bridge.runStep).toHaveBeenLastCalledWith({ stepId: 'cleanup-dsm-t1', confirmation: '0718' })
  })

  test('busy marks the call in flight, per step', async () => {
    const bridge = createFakeBridge()
    let finish!: (v: ReturnType<typeof ok<typeof snapshot>>) => void
    bridge.runStep.mockImplementation(() => new Promise((r) => (finish = r)))
    const store = createCeremonyStore(bridge)
    const pending = store.getState().runStep('preflight')
    expect(store.getState().isBusy('run:preflight')).toBe(true)
    expect(store.getState().isBusy('run:close')).toBe(false)
    finish(ok(snapshot))
    await pending
    expect(store.getState().busy).toEqual([])
  })

  test('witness sign-offs, exceptions, participants and approval restarts go to main as given', async () => {
    const bridge = createFakeBridge()
    for (const m of [bridge.signOff, bridge.recordException, bridge.confirmParticipants, bridge.restartApproval, bridge.checkConnections]) m.mockResolvedValue(ok(snapshot))
    const store = createCeremonyStore(bridge)
    await store.getState().signOff('preflight', 'Wendy Witness', 'WW', ['Appliance versions read aloud'])
    expect(bridge.signOff).toHaveBeenCalledWith({ stepId: 'preflight', witness: 'Wendy Witness', initials: 'WW', items: ['Appliance versions read aloud'] })
    await store.getState().recordException('preflight', 'Olivia Operator', 'Badge reader offline; IDs checked by hand')
    expect(bridge.recordException).toHaveBeenCalledWith({ stepId: 'preflight', by: 'Olivia Operator', note: 'Badge reader offline; IDs checked by hand' })
    await store.getState().confirmParticipants(['Olivia Operator', 'Wendy Witness'])
    expect(bridge.confirmParticipants).toHaveBeenCalledWith({ present: ['Olivia Operator', 'Wendy Witness'] })
    await store.getState().recordException('preflight', 'Wendy Witness', 'Walter was called away', true)
    expect(bridge.recordException).toHaveBeenLastCalledWith({ stepId: 'preflight', by: 'Wendy Witness', note: 'Walter was called away', waivesSignoff: true })
    await store.getState().restartApproval('wrap-approval-dsm-t1')
    expect(bridge.restartApproval).toHaveBeenCalledWith({ stepId: 'wrap-approval-dsm-t1' })
    await store.getState().checkConnections()
    expect(bridge.checkConnections).toHaveBeenCalled()
  })

  test('loadRecord() keeps the record main returns; exportRecord() keeps the file digest and refreshes the snapshot', async () => {
    const bridge = createFakeBridge()
    const finalDigest = digest('99'.repeat(32))
    const record = makeRecord()
    bridge.getRecord.mockResolvedValue(ok({ record, finalDigest }))
    bridge.exportRecord.mockResolvedValue(ok({ cancelled: false, file: { name: 'REHEARSAL-cmk-rehearsal-record.pdf', bytes: 48213, sha256: FINGERPRINT } }))
    bridge.status.mockResolvedValue(ok({ ...snapshot, record: { finalDigest, exported: ['pdf'] } }))
    const store = createCeremonyStore(bridge)
    expect(await store.getState().loadRecord()).toBe(true)
    expect(store.getState().record).toEqual({ record, finalDigest })
    expect(store.getState().record?.record.approvals[0]?.actor).toBe('alice')
    expect(await store.getState().exportRecord('pdf')).toBe(true)
    expect(bridge.exportRecord).toHaveBeenCalledWith({ format: 'pdf' })
    expect(store.getState().lastExport).toEqual({ format: 'pdf', file: { name: 'REHEARSAL-cmk-rehearsal-record.pdf', bytes: 48213, sha256: FINGERPRINT } })
    expect(store.getState().snapshot?.record?.exported).toEqual(['pdf'])
  })

  test('a cancelled export is not an error and records nothing', async () => {
    const bridge = createFakeBridge()
    bridge.exportRecord.mockResolvedValue(ok({ cancelled: true, file: null }))
    const store = createCeremonyStore(bridge)
    expect(await store.getState().exportRecord('json')).toBe(false)
    expect(store.getState()).toMatchObject({ lastExport: null, error: null })
    expect(bridge.status).not.toHaveBeenCalled()
  })
})

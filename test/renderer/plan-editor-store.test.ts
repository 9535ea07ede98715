import { describe, expect, test, vi } from 'vitest'
import { createPlanEditorStore, PLAN_TEMPLATE } from '../../renderer/src/stores/plan-editor-store'
import { createUiStore } from '../../renderer/src/stores/ui-store'
import { createFakeBridge } from '../fakes/fake-bridge'
import { PLAN_DIGEST, fail, makePlan, ok } from '../fakes/ceremony-fixtures'

/** A hand-cranked timer: tests decide when the debounce fires. */
function manualTimer() {
  const pending = new Map<number, () => void>()
  let next = 1
  return {
    setTimer: (fn: () => void) => {
      pending.set(next, fn)
      return next++
    },
    clearTimer: (h: unknown) => void pending.delete(h as number),
    fire: () => {
      const fns = [...pending.values()]
      pending.clear()
      fns.forEach((f) => f())
    },
    get count() {
      return pending.size
    },
  }
}

describe('plan editor store', () => {
  test('typing waits for a pause, then validates only the latest text once', async () => {
    const bridge = createFakeBridge()
    bridge.validatePlan.mockResolvedValue(ok({ issues: [{ path: 'source', message: 'no appliance with id "x"' }], summary: null }))
    const timer = manualTimer()
    const store = createPlanEditorStore(bridge, timer)
    store.getState().setText('{')
    store.getState().setText('{"a"')
    store.getState().setText('{"a":1}')
    expect(store.getState().status).toBe('dirty')
    expect(timer.count).toBe(1)
    expect(bridge.validatePlan).not.toHaveBeenCalled()
    timer.fire()
    await vi.waitFor(() => expect(store.getState().status).toBe('checked'))
    expect(bridge.validatePlan).toHaveBeenCalledTimes(1)
    expect(bridge.validatePlan).toHaveBeenCalledWith({ text: '{"a":1}' })
    expect(store.getState().issues).toEqual([{ path: 'source', message: 'no appliance with id "x"' }])
  })

  test('an answer for text that has since changed is dropped', async () => {
    const bridge = createFakeBridge()
    let answer!: (v: unknown) => void
    bridge.validatePlan.mockImplementationOnce(() => new Promise((r) => (answer = r as (v: unknown) => void)))
    const timer = manualTimer()
    const store = createPlanEditorStore(bridge, timer)
    store.getState().setText('old')
    const first = store.getState().validateNow()
    store.getState().setText('new')
    answer(ok({ issues: [{ path: '(file)', message: 'stale' }], summary: null }))
    await first
    expect(store.getState().issues).toEqual([])
    expect(store.getState().status).toBe('dirty')
  })

  test('a valid plan shows its digest; save() goes through main and shows the saved digest', async () => {
    const bridge = createFakeBridge()
    bridge.validatePlan.mockResolvedValue(ok({ issues: [], summary: makePlan() }))
    bridge.savePlan.mockResolvedValue(ok({ cancelled: false, digest: PLAN_DIGEST }))
    const store = createPlanEditorStore(bridge, manualTimer())
    await store.getState().load(PLAN_TEMPLATE)
    expect(store.getState()).toMatchObject({ status: 'checked', issues: [] })
    expect(store.getState().summary?.digest).toEqual(PLAN_DIGEST)
    expect(await store.getState().save()).toBe(true)
    expect(bridge.savePlan).toHaveBeenCalledWith({ text: PLAN_TEMPLATE })
    expect(store.getState().saved).toEqual(PLAN_DIGEST)
  })

  test('a cancelled save is not an error; a refused save shows its code', async () => {
    const bridge = createFakeBridge()
    const store = createPlanEditorStore(bridge, manualTimer())
    bridge.savePlan.mockResolvedValueOnce(ok({ cancelled: true, digest: null }))
    expect(await store.getState().save()).toBe(false)
    expect(store.getState().error).toBeNull()
    bridge.savePlan.mockResolvedValueOnce(fail('PLAN_INVALID', 'not valid'))
    expect(await store.getState().save()).toBe(false)
    expect(store.getState().error?.code).toBe('PLAN_INVALID')
  })

  test('empty text is not sent to main', async () => {
    const bridge = createFakeBridge()
    const store = createPlanEditorStore(bridge, manualTimer())
    await store.getState().load('   ')
    expect(store.getState().status).toBe('empty')
    expect(bridge.validatePlan).not.toHaveBeenCalled()
  })

  test('the template is a JSON object in the plan format', () => {
    expect(JSON.parse(PLAN_TEMPLATE)).toMatchObject({ format: 'dsm-key-ceremony/plan', version: 1 })
  })
})

describe('ui store', () => {
  test('moves between screens and follows the current step unless one is chosen', () => {
    const ui = createUiStore()
    expect(ui.getState()).toMatchObject({ screen: 'home', selectedStepId: null })
    ui.getState().go('run')
    ui.getState().selectStep('preflight')
    expect(ui.getState()).toMatchObject({ screen: 'run', selectedStepId: 'preflight' })
    ui.getState().selectStep(null)
    expect(ui.getState().selectedStepId).toBeNull()
  })
})

/** The contract, the handlers and the preload agree, channel for channel. */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import vm from 'node:vm'
import { BRIDGE_KEY, events, invokes } from '../preload/contract'
import { createHandlers } from '../main/ipc/handlers'
import { dispatch, registerContract, type Handlers, type IpcSender } from '../main/ipc/register'
import { SettingsService } from '../main/settings/settings-service'
import { CeremonyService } from '../main/ceremony/ceremony-service'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'

const PRELOAD_BUNDLE = join(__dirname, '../out/preload/index.js')

function memoryStore() {
  let data: Record<string, unknown> = {}
  return { get store() { return data }, set store(v: Record<string, unknown>) { data = structuredClone(v) } }
}

function handlers(): Handlers {
  return createHandlers({
    identity: { name: 'DSM Key Ceremony', version: '1.2.3', platform: 'linux', arch: 'x64' },
    mode: () => 'rehearsal',
    settings: new SettingsService(memoryStore()),
    ceremony: new CeremonyService({
      stateRoot: mkdtempSync(join(tmpdir(), 'dsm-contract-')),
      dialogs: { openPlanFile: async () => null, savePlanFile: async () => null, saveRecordFile: async () => null },
      journalStore: () => memoryStore(),
      startSimulator: () => Promise.reject(new Error('no simulator in this test')),
      onChange: () => undefined,
    }),
  })
}

const trusted: IpcSender = { sender: { id: 1 }, senderFrame: { url: 'file:///app/index.html', parent: null } }
const options = { isTrustedSender: (e: IpcSender) => e.sender.id === 1 && e.senderFrame?.parent === null }

/** Runs the built preload in a VM with a recording fake of what Electron gives a sandboxed preload. */
function runPreload(contextIsolated: boolean) {
  const exposed: Record<string, unknown> = {}
  const invoked: { channel: string; payload: unknown }[] = []
  const listeners = new Map<string, Set<(...a: unknown[]) => void>>()
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => { exposed[key] = api } },
    ipcRenderer: {
      // Objects made inside the VM have its own prototypes; copy them into this realm to compare.
      invoke: async (channel: string, payload: unknown) => { invoked.push({ channel, payload: JSON.parse(JSON.stringify(payload)) }); return { ok: true, data: null } },
      on: (channel: string, fn: (...a: unknown[]) => void) => { if (!listeners.has(channel)) listeners.set(channel, new Set()); listeners.get(channel)!.add(fn) },
      removeListener: (channel: string, fn: (...a: unknown[]) => void) => listeners.get(channel)?.delete(fn),
    },
  }
  const code = readFileSync(PRELOAD_BUNDLE, 'utf8')
  const context = vm.createContext({
    require: (name: string) => { if (name === 'electron') return electron; throw new Error(`the preload may require only electron, not ${name}`) },
    process: { contextIsolated },
    Object, Error,
  })
  vm.runInContext(code, context)
  return { exposed, invoked, listeners }
}

describe('the IPC contract', () => {
  test('every channel is named domain:verb, once', () => {
    const channels = [...Object.values(invokes), ...Object.values(events)].map((s) => s.channel)
    assert.equal(new Set(channels).size, channels.length)
    for (const channel of channels) assert.match(channel, /^[a-z]+:[a-z-]+$/)
  })

  test('every invoke channel has a handler and registration refuses a missing one', () => {
    const h = handlers()
    for (const name of Object.keys(invokes)) assert.equal(typeof h[name as keyof Handlers], 'function', name)
    const registered: string[] = []
    registerContract({ handle: (c) => void registered.push(c) }, h, options)
    assert.deepEqual(registered.sort(), Object.values(invokes).map((s) => s.channel).sort())
    const missing = { ...h } as Partial<Handlers>
    delete missing.appInfo
    assert.throws(() => registerContract({ handle: () => {} }, missing as Handlers, options), /No IPC handler for app:info/)
  })

  test('a handler that breaks the response schema is caught before the renderer sees it', async () => {
    const h = { ...handlers(), appInfo: () => ({ name: 'x' }) as never }
    const result = await dispatch('appInfo', h, options, trusted, {})
    assert.deepEqual(result, { ok: false, error: { code: 'INVALID_RESPONSE', message: 'The main process produced an invalid app:info response' } })
  })

  test('service errors keep their code; unexpected and Node errors do not leak', async () => {
    const named = Object.assign(new Error('Appliance fips-2 is not reachable'), { code: 'DSM_UNREACHABLE' })
    const leaky = Object.assign(new Error("ENOENT: no such file or directory, open '/home/custodian/secret.pem'"), { code: 'ENOENT' })
    const seen: string[] = []
    const opts = { ...options, onInternalError: (channel: string) => void seen.push(channel) }
    assert.deepEqual(await dispatch('appInfo', { ...handlers(), appInfo: () => { throw named } }, opts, trusted, {}), {
      ok: false, error: { code: 'DSM_UNREACHABLE', message: 'Appliance fips-2 is not reachable' },
    })
    const hidden = await dispatch('appInfo', { ...handlers(), appInfo: () => { throw leaky } }, opts, trusted, {})
    assert.deepEqual(hidden, { ok: false, error: { code: 'INTERNAL', message: 'Unexpected error in the main process' } })
    assert.deepEqual(seen, ['app:info'])
  })

  test('an untrusted sender is refused before the payload is even parsed', async () => {
    let called = false
    const h = { ...handlers(), updateSettings: () => { called = true; return handlers().getSettings({}, { senderId: 2 }) } }
    const result = await dispatch('updateSettings', h, options, { sender: { id: 2 }, senderFrame: null }, { operatorName: 'x' })
    assert.equal(result.ok, false)
    assert.equal(!result.ok && result.error.code, 'UNTRUSTED_SENDER')
    assert.equal(called, false)
  })
})

describe('the built preload', () => {
  test('exposes exactly the contract as named methods and nothing else', async () => {
    const { exposed, invoked } = runPreload(true)
    assert.deepEqual(Object.keys(exposed), [BRIDGE_KEY])
    const bridge = exposed[BRIDGE_KEY] as Record<string, (...a: unknown[]) => unknown>
    assert.deepEqual(Object.keys(bridge).sort(), [...Object.keys(invokes), ...Object.keys(events)].sort())
    assert.ok(Object.isFrozen(bridge))
    for (const [method, spec] of Object.entries(invokes)) {
      await bridge[method]!({})
      assert.deepEqual(invoked.at(-1), { channel: spec.channel, payload: {} })
    }
    await bridge.appInfo!()
    assert.deepEqual(invoked.at(-1), { channel: 'app:info', payload: {} }, 'no-argument calls send {}')
  })

  test('listeners receive only the payload and return a working unsubscribe', () => {
    const { exposed, listeners } = runPreload(true)
    const bridge = exposed[BRIDGE_KEY] as Record<string, (fn: (p: unknown) => void) => () => void>
    const got: unknown[] = []
    const unsubscribe = bridge.onSettingsChanged!((p) => got.push(p))
    const channelListeners = listeners.get('settings:changed')!
    assert.equal(channelListeners.size, 1)
    for (const fn of channelListeners) fn({ sender: 'ipc-event-internals' }, { textScale: 150 })
    assert.deepEqual(got, [{ textScale: 150 }])
    unsubscribe()
    assert.equal(channelListeners.size, 0)
  })

  test('fails closed when context isolation is off', () => {
    assert.throws(() => runPreload(false), /context isolation is off/)
  })

  test('carries no validation library or Node access (names only)', () => {
    const code = readFileSync(PRELOAD_BUNDLE, 'utf8')
    assert.ok(code.length < 4096, `preload is ${code.length} bytes`)
    assert.doesNotMatch(code, /zod|require\("(fs|child_process|net|http)/)
  })
})

describe('every channel refuses', () => {
  const untrusted: Array<[string, IpcSender]> = [
    ['a foreign window', { sender: { id: 2 }, senderFrame: { url: 'file:///app/index.html', parent: null } }],
    ['a sub-frame', { sender: { id: 1 }, senderFrame: { url: 'file:///app/index.html', parent: {} } }],
    ['a sender without a frame', { sender: { id: 1 }, senderFrame: null }],
  ]
  const badPayloads: Array<[string, unknown]> = [
    ['an unknown key', { unexpected: true }],
    ['a __proto__ key', JSON.parse('{"__proto__": {"isAdmin": true}}')],
    ['a constructor key', { constructor: { prototype: {} } }],
    ['a string instead of an object', 'payload'],
    ['an array', []],
    ['null', null],
  ]
  for (const name of Object.keys(invokes) as (keyof typeof invokes)[]) {
    test(`${invokes[name].channel}: untrusted senders, and payloads off the contract, before its handler runs`, async () => {
      let ran = 0
      const h = Object.fromEntries(Object.keys(invokes).map((k) => [k, () => { ran++; throw new Error('must not run') }])) as unknown as Handlers
      for (const [who, event] of untrusted) {
        const result = await dispatch(name, h, options, event, {})
        assert.equal(!result.ok && result.error.code, 'UNTRUSTED_SENDER', who)
      }
      for (const [what, payload] of badPayloads) {
        const result = await dispatch(name, h, options, trusted, payload)
        assert.equal(!result.ok && result.error.code, 'INVALID_PAYLOAD', what)
      }
      assert.equal(ran, 0)
    })
  }

  test('oversized payloads', async () => {
    const h = handlers()
    const big = await dispatch('validatePlan', h, options, trusted, { text: 'x'.repeat(1_000_001) })
    assert.equal(!big.ok && big.error.code, 'INVALID_PAYLOAD')
    const key = await dispatch('setApiKey', h, options, trusted, { applianceId: 'fips-1', apiKey: 'k'.repeat(4097) })
    assert.equal(!key.ok && key.error.code, 'INVALID_PAYLOAD')
    const note = await dispatch('recordException', h, options, trusted, { stepId: 'preflight', by: 'Wes', note: 'n'.repeat(2001) })
    assert.equal(!note.ok && note.error.code, 'INVALID_PAYLOAD')
  })
})

/** The contract, the handlers and the preload agree, channel for channel. */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { BRIDGE_KEY, events, invokes } from '../preload/contract'
import { createHandlers } from '../main/ipc/handlers'
import { dispatch, registerContract, type Handlers, type IpcSender } from '../main/ipc/register'
import { PRELOAD_BUNDLE, runPreload } from './support/preload-vm'
import { SettingsService } from '../main/settings/settings-service'
import { CeremonyService } from '../main/ceremony/ceremony-service'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'


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

// Every channel's sender, payload and size refusals: test/ipc-channels.test.ts (generated from the contract).

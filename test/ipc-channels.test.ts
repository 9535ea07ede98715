/**
 * security.md §8 C, generated from the contract: for every channel in `invokes`, five refusals with
 * the app's real sender check (main/app/ipc-sender.ts, the function main/app/index.ts wires in) and
 * the real dispatch, with handlers that count calls, so a refusal is proven to come before the
 * handler. Payloads come from each channel's own schema (test/support/contract-samples.ts), so a
 * channel added to the contract is covered without editing this file. Plus the two bridge tests.
 * Named `IPC <channel>: …` and `IPC bridge: …` so they can be counted: 5 × N + 2.
 */
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { BRIDGE_KEY, events, invokes, type InvokeName } from '../preload/contract'
import { isAppWindowSender } from '../main/app/ipc-sender'
import { RENDERER_URL } from '../main/app/renderer-files'
import { MAX_IPC_PAYLOAD_UNITS } from '../main/ipc/payload-size'
import { dispatch, type Handlers, type IpcSender } from '../main/ipc/register'
import { bootMain, cleanupBoots } from './harness/boot-main'
import { overMax, validSample, withOwnKey, wrongTypes } from './support/contract-samples'
import { runPreload } from './support/preload-vm'

after(cleanupBoots)

const APP_WINDOW = 7
const trustedSenders = new Set([APP_WINDOW])
const options = { isTrustedSender: (event: IpcSender) => isAppWindowSender(trustedSenders, event) }
const trusted: IpcSender = { sender: { id: APP_WINDOW }, senderFrame: { url: RENDERER_URL, parent: null } }

/** Handlers that count calls and answer with a named error, so reaching one is visible. */
function countingHandlers() {
  const calls: string[] = []
  const handlers = Object.fromEntries(
    Object.keys(invokes).map((name) => [name, () => { calls.push(name); throw Object.assign(new Error('reached the handler'), { code: 'HANDLER_REACHED' }) }]),
  ) as unknown as Handlers
  return { handlers, calls }
}

async function codeOf(name: InvokeName, event: IpcSender, payload: unknown, handlers: Handlers): Promise<string> {
  const result = await dispatch(name, handlers, options, event, payload)
  return result.ok ? 'OK' : result.error.code
}

/** Refusals must come with `code` and leave the handler uncalled; a valid call from the window reaches it. */
async function assertRefused(name: InvokeName, cases: Array<[what: string, event: IpcSender, payload: unknown]>, code: string) {
  const { handlers, calls } = countingHandlers()
  for (const [what, event, payload] of cases) assert.equal(await codeOf(name, event, payload, handlers), code, what)
  assert.deepEqual(calls, [], 'no handler ran')
  assert.equal(await codeOf(name, trusted, validSample(invokes[name].request), handlers), 'HANDLER_REACHED', 'control: the app window with a valid request reaches the handler')
  assert.deepEqual(calls, [name])
}

for (const name of Object.keys(invokes) as InvokeName[]) {
  const { channel, request } = invokes[name]
  describe(`IPC ${channel}`, () => {
    const sample = () => validSample(request)

    test(`IPC ${channel}: a foreign origin is refused before its handler runs`, async () => {
      const frame = (url: string) => ({ url, parent: null })
      await assertRefused(name, [
        ['another window', { sender: { id: APP_WINDOW + 1 }, senderFrame: frame(RENDERER_URL) }, sample()],
        ['a remote page', { sender: { id: APP_WINDOW }, senderFrame: frame('https://evil.example/index.html') }, sample()],
        ['another app:// host', { sender: { id: APP_WINDOW }, senderFrame: frame('app://elsewhere/index.html') }, sample()],
        ['another page of the app', { sender: { id: APP_WINDOW }, senderFrame: frame('app://ceremony/other.html') }, sample()],
        ['a file:// page', { sender: { id: APP_WINDOW }, senderFrame: frame('file:///opt/dsm-key-ceremony/index.html') }, sample()],
        ['the harness origin', { sender: { id: APP_WINDOW }, senderFrame: frame('http://127.0.0.1:5173/index.html') }, sample()],
      ], 'UNTRUSTED_SENDER')
    })

    test(`IPC ${channel}: a sub-frame is refused before its handler runs`, async () => {
      const top = { url: RENDERER_URL, parent: null }
      await assertRefused(name, [
        ['an iframe of the app page', { sender: { id: APP_WINDOW }, senderFrame: { url: RENDERER_URL, parent: top } }, sample()],
        ['a foreign iframe', { sender: { id: APP_WINDOW }, senderFrame: { url: 'https://evil.example/', parent: top } }, sample()],
      ], 'UNTRUSTED_SENDER')
    })

    test(`IPC ${channel}: a null senderFrame is refused before its handler runs`, async () => {
      const destroyed = { get url(): string { throw new Error('Render frame was disposed before WebFrameMain could be accessed') }, parent: null }
      await assertRefused(name, [
        ['senderFrame null (navigated away)', { sender: { id: APP_WINDOW }, senderFrame: null }, sample()],
        ['a frame that is gone', { sender: { id: APP_WINDOW }, senderFrame: destroyed }, sample()],
      ], 'UNTRUSTED_SENDER')
    })

    test(`IPC ${channel}: wrong types, extra keys, __proto__ and constructor keys are refused before its handler runs`, async () => {
      assert.equal(request.safeParse(sample()).success, true, 'control: the generated sample is valid')
      const cases: Array<[string, IpcSender, unknown]> = [
        ['a string', trusted, 'payload'],
        ['an array', trusted, [sample()]],
        ['null', trusted, null],
        ['a number', trusted, 42],
        ...wrongTypes(request).map(([field, p]): [string, IpcSender, unknown] => [`${field} of the wrong type`, trusted, p]),
        ['an extra key', trusted, { ...sample(), unexpected: true }],
        ['an own __proto__ key', trusted, withOwnKey(sample(), '__proto__', { isAdmin: true })],
        ['__proto__ from JSON.parse', trusted, { ...JSON.parse('{"__proto__": {"isAdmin": true}}'), ...sample() }],
        ['a constructor key', trusted, { ...sample(), constructor: { prototype: { isAdmin: true } } }],
      ]
      await assertRefused(name, cases, 'INVALID_PAYLOAD')
      assert.equal(({} as Record<string, unknown>)['isAdmin'], undefined, 'Object.prototype untouched')
    })

    test(`IPC ${channel}: an oversized payload is refused before its handler runs`, async () => {
      const cyclic: Record<string, unknown> = { ...sample() }
      cyclic['self'] = cyclic
      await assertRefused(name, [
        ['one string past the IPC cap', trusted, { ...sample(), padding: 'x'.repeat(MAX_IPC_PAYLOAD_UNITS + 1) }],
        ['many small keys past the cap', trusted, Object.fromEntries(Array.from({ length: MAX_IPC_PAYLOAD_UNITS / 8 }, (_, i) => [`k${i}`, 0]))],
        ['a cycle (structured clone allows them)', trusted, cyclic],
      ], 'PAYLOAD_TOO_LARGE')
      await assertRefused(name, overMax(request).map(([field, p]): [string, IpcSender, unknown] => [`${field} one past its maximum`, trusted, p]), 'INVALID_PAYLOAD')
    })
  })
}

describe('IPC bridge', () => {
  test('IPC bridge: the API exposed to the page equals the allowlist derived from the contract', () => {
    const { exposed } = runPreload(true)
    assert.deepEqual(Object.keys(exposed), [BRIDGE_KEY], 'one global, nothing else')
    const bridge = exposed[BRIDGE_KEY] as Record<string, unknown>
    assert.deepEqual(Object.keys(bridge).sort(), [...Object.keys(invokes), ...Object.keys(events)].sort())
    assert.ok(Object.isFrozen(bridge), 'the page cannot add or swap a method')
    for (const [key, value] of Object.entries(bridge)) assert.equal(typeof value, 'function', key)
  })

  test('IPC bridge: no ipcRenderer, event object or page-chosen channel is reachable from the page', async () => {
    const answer = { ok: true, data: { marker: 1 } }
    const { exposed, invoked, extraArgs, listeners, ipcRenderer } = runPreload(true, answer)
    const bridge = exposed[BRIDGE_KEY] as Record<string, (...a: unknown[]) => unknown>
    for (const [name, spec] of Object.entries(invokes)) {
      // Extra arguments (a channel name, an event) are never passed on; the channel is the contract's.
      const returned = await bridge[name]!(validSample(spec.request), 'ceremony:record', { sender: 'x' })
      assert.equal(invoked.at(-1)!.channel, spec.channel, name)
      assert.equal(extraArgs.at(-1), 0, `${name} passes nothing beyond its payload`)
      assert.equal(returned, answer, `${name} returns the result itself, not an event or the ipcRenderer`)
    }
    for (const [name, spec] of Object.entries(events)) {
      const got: unknown[][] = []
      const unsubscribe = bridge[name]!((...args: unknown[]) => got.push(args)) as () => unknown
      assert.notEqual(unsubscribe, ipcRenderer, `${name} does not hand out ipcRenderer`)
      const event = { sender: ipcRenderer, ports: [], senderFrame: {} }
      for (const fn of listeners.get(spec.channel)!) fn(event, { n: 1 })
      assert.deepEqual(got, [[{ n: 1 }]], `${name} listeners get the payload only, never the IpcRendererEvent`)
      assert.equal(unsubscribe(), undefined, `${name}'s unsubscribe returns nothing`)
      assert.equal(listeners.get(spec.channel)!.size, 0)
    }
  })
})

describe('IPC wiring in the built bundle', () => {
  test('every contract channel of the built main bundle runs the sender check', async () => {
    const fake = await bootMain()
    const window = fake.windows[0]!
    for (const [name, spec] of Object.entries(invokes)) {
      const handler = fake.handlers.get(spec.channel)!
      for (const event of [
        { sender: window.webContents, senderFrame: null },
        { sender: window.webContents, senderFrame: { url: window.loadedUrl!, parent: {} } },
        { sender: { id: window.webContents.id + 1000 }, senderFrame: { url: window.loadedUrl!, parent: null } },
      ]) {
        const result = await handler(event, validSample(invokes[name as InvokeName].request))
        assert.equal(result.error?.code, 'UNTRUSTED_SENDER', spec.channel)
      }
      const bad = await handler({ sender: window.webContents, senderFrame: { url: window.loadedUrl!, parent: null } }, 'not an object')
      assert.equal(bad.error?.code, 'INVALID_PAYLOAD', `${spec.channel}: the app window gets past the sender check`)
    }
  })
})

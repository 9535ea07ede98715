/**
 * The built main bundle, loaded in Node with a fake `electron`: the window's security settings, the
 * app-wide guards and the IPC boundary, as they ship. Run after `npm run build`.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { RENDERER_CSP } from '../main/app/csp'
import { invokes } from '../preload/contract'
import { createFakeElectron, FakeWebContents, loadMainBundle, MAIN_BUNDLE, type FakeElectron } from './harness/fake-electron'

const dirs: string[] = []
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

async function boot(options: { isPackaged?: boolean; argv?: string[]; singleInstanceLock?: boolean } = {}): Promise<FakeElectron> {
  assert.ok(existsSync(MAIN_BUNDLE), 'run `npm run build` first')
  const userData = mkdtempSync(join(tmpdir(), 'dsm-main-test-'))
  dirs.push(userData)
  const fake = createFakeElectron({ userData, isPackaged: options.isPackaged, singleInstanceLock: options.singleInstanceLock })
  loadMainBundle(fake, options.argv)
  await new Promise((r) => setImmediate(r)) // let app.whenReady() run
  return fake
}

function trustedEvent(fake: FakeElectron) {
  const window = fake.windows[0]!
  return { sender: window.webContents, senderFrame: { url: window.loadedUrl!, parent: null } }
}

describe('the main window', () => {
  test('is created with every webPreferences security flag set explicitly', async () => {
    const fake = await boot()
    assert.equal(fake.windows.length, 1)
    const prefs = fake.windows[0]!.options.webPreferences
    assert.equal(prefs.contextIsolation, true)
    assert.equal(prefs.sandbox, true)
    assert.equal(prefs.nodeIntegration, false)
    assert.equal(prefs.nodeIntegrationInWorker, false)
    assert.equal(prefs.nodeIntegrationInSubFrames, false)
    assert.equal(prefs.webSecurity, true)
    assert.equal(prefs.allowRunningInsecureContent, false)
    assert.equal(prefs.webviewTag, false)
    assert.equal(prefs.experimentalFeatures, false)
    assert.equal(prefs.navigateOnDragDrop, false)
    assert.equal(prefs.disableBlinkFeatures, 'Auxclick')
    assert.equal('enableBlinkFeatures' in prefs, false, 'no enableBlinkFeatures key at all (Electronegativity BLINK_FEATURES_JS_CHECK)')
    assert.equal(prefs.preload, join(MAIN_BUNDLE, '../../preload/index.js'))
    assert.ok(existsSync(prefs.preload), 'the preload bundle exists where main points')
    // Only our own page, from the app's own scheme: never file:// (item 18) and never a remote URL.
    assert.equal(fake.windows[0]!.loadedUrl, 'app://ceremony/index.html')
    assert.equal(fake.windows[0]!.loadedFile, null)
    assert.equal(fake.sandboxEnabled, true, 'app.enableSandbox() is called')
    assert.equal(fake.menuCleared, true, 'no default menu (no reload/devtools accelerators)')
  })

  test('reloads its page when the renderer crashes (the ceremony state lives in main)', async () => {
    const fake = await boot()
    const window = fake.windows[0]!
    assert.equal(window.loads, 1)
    window.webContents.emit('render-process-gone', {}, { reason: 'crashed', exitCode: 139 })
    assert.equal(window.loads, 2)
    assert.equal(window.loadedUrl, 'app://ceremony/index.html')
    window.webContents.emit('render-process-gone', {}, { reason: 'clean-exit', exitCode: 0 })
    assert.equal(window.loads, 2, 'a clean exit (closing) is not a crash')
  })

  test('has devtools only in unpackaged builds', async () => {
    assert.equal((await boot({ isPackaged: false })).windows[0]!.options.webPreferences.devTools, true)
    assert.equal((await boot({ isPackaged: true })).windows[0]!.options.webPreferences.devTools, false)
  })

  test('cannot navigate, redirect, attach a webview or open a window', async () => {
    const fake = await boot()
    const contents = fake.windows[0]!.webContents
    assert.equal(contents.emitPreventable('will-navigate', 'https://evil.example/'), true)
    assert.equal(contents.emitPreventable('will-redirect', 'https://evil.example/'), true)
    assert.equal(contents.emitPreventable('will-attach-webview', {}, {}), true)
    assert.deepEqual(contents.windowOpenHandler?.({ url: 'https://evil.example/' }), { action: 'deny' })
    // Any later web contents (e.g. a devtools or print view) gets the same guards.
    const later = new FakeWebContents()
    fake.appEvents.emit('web-contents-created', {}, later)
    assert.equal(later.emitPreventable('will-navigate', 'file:///etc/passwd'), true)
    assert.deepEqual(later.windowOpenHandler?.({ url: 'about:blank' }), { action: 'deny' })
  })

  test('denies every permission request and check', async () => {
    const fake = await boot()
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'hid', 'serial', 'usb']) {
      let granted: boolean | undefined
      fake.session.permissionRequestHandler!({}, permission, (ok: boolean) => (granted = ok), {})
      assert.equal(granted, false, permission)
      assert.equal(fake.session.permissionCheckHandler!({}, permission, 'file://', {}), false, permission)
    }
    assert.equal(fake.session.devicePermissionHandler!({ deviceType: 'usb' }), false)
  })

  test('cancels every request that is not the app’s own page or an inline image', async () => {
    const fake = await boot()
    const decide = (url: string) => {
      let cancel: boolean | undefined
      fake.session.beforeRequest!({ url }, (r: { cancel: boolean }) => (cancel = r.cancel))
      return cancel
    }
    assert.equal(decide('app://ceremony/index.html'), false)
    assert.equal(decide('app://ceremony/assets/index.js'), false)
    assert.equal(decide('data:image/png;base64,AAAA'), false)
    for (const url of ['https://example.com/', 'http://192.0.2.10/steal', 'file:///etc/passwd', 'ws://127.0.0.1:9229/', 'app://elsewhere/x.js']) {
      assert.equal(decide(url), true, url)
    }
  })

  test('the CSP is exactly the intended string, with connect-src none (H8)', () => {
    assert.equal(
      RENDERER_CSP,
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'none'; " +
        "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    )
  })

  test('sends the strict CSP on every response and writes the same one into index.html', async () => {
    const fake = await boot()
    let headers: Record<string, string[]> | undefined
    fake.session.headersReceived!({ responseHeaders: { 'X-Other': ['1'] } }, (r: { responseHeaders: Record<string, string[]> }) => (headers = r.responseHeaders))
    assert.deepEqual(headers?.['Content-Security-Policy'], [RENDERER_CSP])
    assert.deepEqual(headers?.['X-Other'], ['1'])

    const html = readFileSync(join(MAIN_BUNDLE, '../../renderer/index.html'), 'utf8')
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)
    assert.equal(meta?.[1], RENDERER_CSP)
    const directives = new Map(RENDERER_CSP.split(';').map((d) => { const [name, ...values] = d.trim().split(/\s+/); return [name!, values] }))
    assert.deepEqual(directives.get('default-src'), ["'none'"])
    assert.deepEqual(directives.get('script-src'), ["'self'"])
    assert.deepEqual(directives.get('connect-src'), ["'none'"])
    assert.doesNotMatch(RENDERER_CSP, /unsafe-inline|unsafe-eval|https?:|wss?:|\*/)
    assert.doesNotMatch(html, /<script>(?!<\/script>)/, 'no inline script in index.html')
  })
})

describe('the app:// scheme', () => {
  test('is registered as a standard, secure scheme and serves the built renderer with the CSP', async () => {
    const fake = await boot()
    assert.deepEqual(fake.privilegedSchemes.map((s) => [s.scheme, s.privileges.standard, s.privileges.secure]), [['app', true, true]])
    const serve = fake.protocolHandlers.get('app')!
    const index = await serve(new Request('app://ceremony/index.html'))
    assert.equal(index.status, 200)
    assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8')
    assert.equal(index.headers.get('content-security-policy'), RENDERER_CSP)
    const html = await index.text()
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)![1]!
    const js = await serve(new Request(`app://ceremony/${script}`))
    assert.equal(js.status, 200)
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8')
  })

  test('refuses anything outside the renderer folder, other hosts and other methods', async () => {
    const fake = await boot()
    const serve = fake.protocolHandlers.get('app')!
    for (const url of [
      'app://ceremony/%2e%2e/main/index.js',
      'app://ceremony/..%2fmain%2findex.js',
      'app://ceremony/assets/%2e%2e/%2e%2e/%2e%2e/package.json',
      'app://ceremony//etc/passwd',
      'app://ceremony/%2fetc%2fpasswd',
      'app://ceremony/assets/..%5c..%5cpackage.json',
      'app://ceremony/no-such-file.js',
      'app://other-host/index.html',
    ]) {
      const res = await serve(new Request(url))
      assert.equal(res.status, 404, url)
    }
    assert.equal((await serve(new Request('app://ceremony/index.html', { method: 'POST', body: 'x' }))).status, 404)
  })
})

// Debugging switches in every spelling: test/launch-guard.test.ts.
describe('start-up refusals', () => {
  test('a second instance quits without opening a window', async () => {
    const fake = await boot({ singleInstanceLock: false })
    assert.equal(fake.quitCalled, true)
    assert.equal(fake.windows.length, 0)
  })
})

describe('the IPC boundary in the built bundle', () => {
  test('registers exactly the contract channels and no other listener', async () => {
    const fake = await boot()
    assert.deepEqual([...fake.handlers.keys()].sort(), Object.values(invokes).map((s) => s.channel).sort())
    assert.deepEqual([...fake.onListeners.keys()], [], 'no ipcMain.on listeners (electron-store’s is removed)')
  })

  test('answers the app window and refuses anyone else by name', async () => {
    const fake = await boot()
    const info = fake.handlers.get('app:info')!
    const ok = await info(trustedEvent(fake), {})
    assert.equal(ok.ok, true)
    assert.equal(ok.data.name, 'DSM Key Ceremony')
    assert.equal(ok.data.mode, 'production')

    const window = fake.windows[0]!
    const untrusted = [
      { sender: { id: 9999 }, senderFrame: { url: window.loadedUrl!, parent: null } },
      { sender: window.webContents, senderFrame: { url: window.loadedUrl!, parent: {} } },
      { sender: window.webContents, senderFrame: { url: 'https://evil.example/', parent: null } },
      { sender: window.webContents, senderFrame: { url: pathToFileURL('/tmp/other.html').href, parent: null } },
      { sender: window.webContents, senderFrame: null },
    ]
    for (const event of untrusted) {
      const result = await info(event, {})
      assert.deepEqual(result.ok, false)
      assert.equal(result.error.code, 'UNTRUSTED_SENDER')
    }
  })

  test('refuses bad payloads, extra keys and __proto__ keys with a named error and changes nothing', async () => {
    const fake = await boot()
    const set = fake.handlers.get('settings:set')!
    const get = fake.handlers.get('settings:get')!
    const before = (await get(trustedEvent(fake), {})).data
    for (const payload of [
      { textScale: 999 },
      { textScale: '150' },
      { operatorName: 'x'.repeat(81) },
      { operatorName: 'ok', apiKey: 'secret' },
      JSON.parse('{"__proto__": {"polluted": true}}'),
      JSON.parse('{"operatorName": "a", "__proto__": {"textScale": 200}}'),
      null,
      'settings',
      [],
    ]) {
      const result = await set(trustedEvent(fake), payload)
      assert.equal(result.ok, false, JSON.stringify(payload))
      assert.equal(result.error.code, 'INVALID_PAYLOAD')
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
    assert.deepEqual((await get(trustedEvent(fake), {})).data, before)
  })

  test('settings round-trip into config.json in the user-data folder and notify the window', async () => {
    const fake = await boot()
    const set = fake.handlers.get('settings:set')!
    const result = await set(trustedEvent(fake), { operatorName: 'Dana', textScale: 150 })
    assert.deepEqual(result, { ok: true, data: { operatorName: 'Dana', textScale: 150, highContrast: false } })
    const userData = (fake.module.app as { getPath(n: string): string }).getPath('userData')
    assert.deepEqual(JSON.parse(readFileSync(join(userData, 'config.json'), 'utf8')), { operatorName: 'Dana', textScale: 150, highContrast: false })
    assert.deepEqual(fake.windows[0]!.webContents.sent.at(-1), { channel: 'settings:changed', payload: result.data })
  })
})

/**
 * The browser harness's own boundary: the page, the preload (which holds the token) and the event
 * stream are served only with the per-run token, and the URL it prints carries it; a body too large
 * or not JSON gets a named error; its CSP is the app's except `connect-src 'self'`, which the
 * stand-in IPC (fetch and EventSource from the preload) needs.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { RENDERER_CSP } from '../main/app/csp'
import { HARNESS_CSP } from './harness/harness-csp'
import { MAX_HARNESS_BODY, startHarness, type Harness } from './harness/server'

let harness: Harness
let userData: string
before(async () => {
  userData = mkdtempSync(join(tmpdir(), 'dsm-harness-test-'))
  harness = await startHarness({ userData })
})
after(async () => {
  await harness.close()
  rmSync(userData, { recursive: true, force: true })
})

const base = () => new URL(harness.url).origin

async function ipc(channel: string, body: string | Uint8Array, token = harness.token) {
  const res = await fetch(`${base()}/__ipc/${channel}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-harness-token': token }, body: body as BodyInit })
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() }
}

describe('the harness', () => {
  test('harness: the page, the preload and the event stream need the token, and the URL given out carries it', async () => {
    assert.equal(new URL(harness.url).searchParams.get('token'), harness.token)
    for (const path of ['/', '/index.html', '/__preload.js', '/__preload.js?token=wrong', '/__events', `/__events?token=${harness.token.slice(1)}x`]) {
      const res = await fetch(base() + path)
      assert.equal(res.status, 403, path)
      await res.arrayBuffer()
    }
    const page = await fetch(harness.url)
    assert.equal(page.status, 200)
    const html = await page.text()
    const preloadSrc = /<script src="(\.\/__preload\.js\?token=[0-9a-f]+)"><\/script>/.exec(html)?.[1]
    assert.ok(preloadSrc, 'the page loads the preload with the token')
    const preload = await fetch(new URL(preloadSrc, harness.url))
    assert.equal(preload.status, 200)
    assert.match(await preload.text(), new RegExp(harness.token))
    assert.equal((await ipc('app:info', '{}', 'f'.repeat(harness.token.length))).status, 403, 'IPC with a wrong token')
  })

  test('harness: too large a body answers PAYLOAD_TOO_LARGE, a body that is not JSON INVALID_PAYLOAD, never a bare 500', async () => {
    const big = await ipc('plan:validate', new Uint8Array(MAX_HARNESS_BODY + 1).fill(0x20))
    assert.equal(big.status, 413)
    assert.equal(big.type, 'application/json')
    assert.equal(JSON.parse(big.body).error.code, 'PAYLOAD_TOO_LARGE')
    const notJson = await ipc('app:info', '{not json')
    assert.equal(notJson.status, 400)
    assert.equal(JSON.parse(notJson.body).error.code, 'INVALID_PAYLOAD')
    const ok = await ipc('app:info', '{}')
    assert.equal(JSON.parse(ok.body).ok, true)
  })

  test("harness: its CSP is the app's with connect-src 'self' and nothing else changed, in the header and the page", async () => {
    const app = RENDERER_CSP.split('; ')
    const diff = HARNESS_CSP.split('; ').filter((d) => !app.includes(d))
    assert.deepEqual(diff, ["connect-src 'self'"])
    assert.equal(HARNESS_CSP.split('; ').length, app.length)
    const page = await fetch(harness.url)
    assert.equal(page.headers.get('content-security-policy'), HARNESS_CSP)
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(await page.text())?.[1]
    assert.equal(meta, HARNESS_CSP)
  })

  test('harness: `npm run harness` prints a URL that carries the token', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'harness/serve.ts')], { cwd: join(__dirname, '..'), env: { ...process.env, HARNESS_USERDATA: userData }, stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = ''
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString()
          const m = /harness: (http:\/\/\S+)/.exec(out)
          if (m) resolve(m[1]!)
        })
        child.once('exit', (code) => reject(new Error(`serve.ts exited ${code}: ${out}`)))
      })
      const printed = new URL(line)
      assert.match(printed.searchParams.get('token') ?? '', /^[0-9a-f]{48}$/)
      assert.equal((await fetch(line)).status, 200)
      printed.search = ''
      assert.equal((await fetch(printed)).status, 403)
    } finally {
      child.kill('SIGTERM')
    }
  })
})

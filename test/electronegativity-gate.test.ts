/**
 * The Electronegativity gate itself (security.md §8 B): it fails on a planted finding, on a file the
 * tool cannot parse, on a baseline entry without a reason or one that matches nothing, and the scan
 * form of the shipped main bundle parses. The real gate over sources and out/ is its own step in
 * `npm test` (scripts/test.sh); these runs leave out the one network-bound check to stay fast.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { EXPECTED_CHECKS, evaluate, parseBaseline, scan, scanForm } from '../scripts/electronegativity-gate'
import { MAIN_BUNDLE } from './harness/fake-electron'

const OFFLINE = ['availablesecurityfixesglobalcheck']
const dirs: string[] = []
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

const HTML = `<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'"></head><body></body></html>`

/** A tiny app: guards that clear the global checks, and one window with the given webPreferences. */
function fixture(webPreferences: string, extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'eng-fixture-'))
  dirs.push(dir)
  writeFileSync(join(dir, 'index.html'), HTML)
  writeFileSync(join(dir, 'main.ts'), `import { app, BrowserWindow, session } from 'electron'
app.on('web-contents-created', (_e, c) => { c.on('will-navigate', (ev) => ev.preventDefault()); c.setWindowOpenHandler(() => ({ action: 'deny' })) })
app.whenReady().then(() => {
  session.defaultSession.setPermissionRequestHandler((_wc, _p, cb) => cb(false))
  const w = new BrowserWindow({ webPreferences: { ${webPreferences} } })
  void w.loadURL('app://ceremony/index.html')
})
`)
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text)
  return dir
}

const SAFE = "contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, disableBlinkFeatures: 'Auxclick'"

async function gate(dir: string, baseline: string = '{"findings": []}') {
  const result = await scan('fixture', dir, join(dir, 'out.sarif'), OFFLINE)
  return { result, verdict: evaluate([result], parseBaseline(baseline), EXPECTED_CHECKS - OFFLINE.length) }
}

// Every scan waits about 3 s for the translations it cannot fetch offline: start them all at once.
const CODE_WITH_PRIVATE_FIELD = 'class Session { #token = null; close() { this.#token = null } }\nmodule.exports = Session\n'
const ENTRY = { scan: 'fixture', check: 'WEB_SECURITY_JS_CHECK', file: 'main.ts' }
const plantedDir = fixture(SAFE.replace('contextIsolation: true', 'contextIsolation: false'))
const insecureDir = fixture(SAFE.replace('webSecurity: true', 'webSecurity: false'))
const runs = {
  planted: gate(plantedDir),
  clean: gate(fixture(SAFE)),
  refused: gate(insecureDir),
  admitted: gate(insecureDir, JSON.stringify({ findings: [{ ...ENTRY, reason: 'test: admitted on purpose' }] })),
  broken: gate(fixture(SAFE, { 'bundle.js': CODE_WITH_PRIVATE_FIELD })),
  lowered: scanForm(CODE_WITH_PRIVATE_FIELD).then((code) => gate(fixture(SAFE, { 'bundle.js': code }))),
  stale: gate(fixture(SAFE), JSON.stringify({ findings: [{ ...ENTRY, reason: 'fixed long ago' }] })),
  mainBundle: scanForm(readFileSync(MAIN_BUNDLE, 'utf8')).then(async (form) => {
    const dir = mkdtempSync(join(tmpdir(), 'eng-main-'))
    dirs.push(dir)
    writeFileSync(join(dir, 'index.js'), form)
    return { form, result: await scan('main-bundle', dir, join(dir, 'out.sarif'), OFFLINE) }
  }),
}
// Settled here so a failure surfaces in its own test, never as an unhandled rejection.
for (const p of Object.values(runs)) (p as Promise<unknown>).catch(() => undefined)

describe('the Electronegativity gate', () => {
  test('electronegativity gate: fails on a planted HIGH finding (contextIsolation: false), read from the SARIF', async () => {
    const { verdict } = await runs.planted
    assert.equal(verdict.ok, false)
    assert.ok(verdict.problems.some((p) => /HIGH CONTEXT_ISOLATION_JS_CHECK at main\.ts:5 is not in the baseline/.test(p)), verdict.problems.join('\n'))
    const sarif = JSON.parse(readFileSync(join(plantedDir, 'out.sarif'), 'utf8')) as { runs: { results: { ruleId: string }[] }[] }
    assert.ok(sarif.runs[0]!.results.some((r) => r.ruleId === 'CONTEXT_ISOLATION_JS_CHECK'))
  })

  test('electronegativity gate: passes the same app with safe webPreferences; a reasoned baseline entry admits a finding', async () => {
    assert.deepEqual((await runs.clean).verdict.problems, [])
    const refused = (await runs.refused).verdict
    assert.ok(refused.problems.some((p) => /WEB_SECURITY_JS_CHECK/.test(p)), refused.problems.join('\n'))
    const admitted = (await runs.admitted).verdict
    assert.deepEqual(admitted.problems, [])
    assert.equal(admitted.baselined.length, 1)
  })

  test('electronegativity gate: a file the tool cannot parse fails the gate; its scan form parses', async () => {
    const broken = (await runs.broken).verdict
    assert.ok(broken.problems.some((p) => /parse error, file not checked: .*bundle\.js/.test(p)), broken.problems.join('\n'))
    assert.deepEqual((await runs.lowered).verdict.problems, [])
  })

  test('electronegativity gate: baseline entries need a one-line reason and must match a finding', async () => {
    assert.throws(() => parseBaseline(JSON.stringify({ findings: [ENTRY] })), /keys must be scan, check, file, reason/)
    assert.throws(() => parseBaseline(JSON.stringify({ findings: [{ ...ENTRY, reason: ' ' }] })), /"reason" must be a non-empty string/)
    assert.throws(() => parseBaseline(JSON.stringify({ findings: [{ ...ENTRY, reason: 'one\ntwo' }] })), /one line/)
    assert.ok((await runs.stale).verdict.problems.some((p) => /matches no finding/.test(p)))
    // The committed baseline itself is well-formed.
    assert.ok(parseBaseline(readFileSync(join(__dirname, '../electronegativity.baseline.json'), 'utf8')).length > 0)
  })

  test('electronegativity gate: the scan form of the shipped main bundle parses and shows the window by name', async () => {
    const { form, result } = await runs.mainBundle
    assert.match(form, /new BrowserWindow\(\{/)
    assert.doesNotMatch(form, /import_electron\d*\.BrowserWindow/)
    assert.deepEqual(result.parseErrors, [])
    assert.ok(result.findings.some((f) => f.check === 'PRELOAD_JS_CHECK'), 'the window checks ran on the bundle')
  })
})

/**
 * Packaging, offline: electron-builder validates the whole config and builds `--dir` against a
 * stand-in Electron folder (the real binary cannot be downloaded here). The stand-in carries an
 * Electron-style fuse wire with Electron's defaults, so the test reads back what the build flipped.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'

const run = promisify(execFile)
const ROOT = join(__dirname, '..')
const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX'
// Fuse wire v1 order and Electron's own defaults ('1' on, '0' off).
const FUSES = ['runAsNode', 'enableCookieEncryption', 'enableNodeOptionsEnvironmentVariable', 'enableNodeCliInspectArguments',
  'enableEmbeddedAsarIntegrityValidation', 'onlyLoadAppFromAsar', 'loadBrowserProcessSpecificV8Snapshot', 'grantFileProtocolExtraPrivileges']
const ELECTRON_DEFAULTS = '10110001'

let work: string
let output: string
after(() => work && rmSync(work, { recursive: true, force: true }))

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'dsm-pack-'))
  const dist = join(work, 'electron-dist')
  mkdirSync(join(dist, 'resources'), { recursive: true })
  const wire = Buffer.concat([Buffer.from('#!/bin/sh\necho "stand-in Electron for offline packaging checks" >&2\nexit 1\n'), Buffer.from(SENTINEL), Buffer.from([1, FUSES.length]), Buffer.from(ELECTRON_DEFAULTS)])
  writeFileSync(join(dist, 'electron'), wire)
  chmodSync(join(dist, 'electron'), 0o755)
  writeFileSync(join(dist, 'version'), 'v41.7.1')
  output = join(work, 'dist')
  await run(process.execPath, [join(ROOT, 'node_modules/electron-builder/cli.js'), '--linux', '--dir', `-c.electronDist=${dist}`, `-c.directories.output=${output}`], {
    cwd: ROOT,
    env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' },
    timeout: 120_000,
  })
})

test('every fuse is flipped to the hardened value', () => {
  const binary = readFileSync(join(output, 'linux-unpacked', 'dsm-key-ceremony'))
  const at = binary.indexOf(SENTINEL) + SENTINEL.length
  const states = binary.subarray(at + 2, at + 2 + FUSES.length).toString('latin1')
  const got = Object.fromEntries(FUSES.map((name, i) => [name, states[i] === '1']))
  assert.deepEqual(got, {
    runAsNode: false,
    enableCookieEncryption: true,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
    loadBrowserProcessSpecificV8Snapshot: false,
    grantFileProtocolExtraPrivileges: false,
  })
})

test('app.asar holds the built bundles, the manifest and node-forge, and no sources or tests', async () => {
  const asarFile = join(output, 'linux-unpacked', 'resources', 'app.asar')
  assert.ok(existsSync(asarFile))
  const { listPackage } = await import('@electron/asar')
  const files = listPackage(asarFile, { isPack: false }).map((f: string) => f.replaceAll('\\', '/'))
  for (const required of ['/out/main/index.js', '/out/preload/index.js', '/out/renderer/index.html', '/package.json', '/node_modules/node-forge/package.json']) {
    assert.ok(files.includes(required), `missing ${required}`)
  }
  const forbidden = files.filter((f: string) => /^\/(main|preload|renderer|test|scripts)\/|\.map$|\/node_modules\/(electron|react|zod|vite|playwright)\//.test(f))
  assert.deepEqual(forbidden, [])
})

test('the config names every release target and no devtools or debug switch', () => {
  const yml = readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')
  assert.match(yml, /linux:\n(?:.*\n)*?\s+target: \[AppImage, deb\]/)
  assert.match(yml, /win:\n\s+target: \[nsis\]/)
  assert.match(yml, /npmRebuild: false/)
  assert.match(yml, /asar: true/)
})

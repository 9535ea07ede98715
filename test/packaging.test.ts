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
// Fuse wire v1 order, Electron's own defaults ('1' on, '0' off) and the values security.md §1a
// requires: written out here, independently of scripts/electron-fuses.cjs which flips them.
const REQUIRED: Array<[name: string, electronDefault: boolean, required: boolean]> = [
  ['RunAsNode', true, false],
  ['EnableCookieEncryption', false, true],
  ['EnableNodeOptionsEnvironmentVariable', true, false],
  ['EnableNodeCliInspectArguments', true, false],
  ['EnableEmbeddedAsarIntegrityValidation', false, true],
  ['OnlyLoadAppFromAsar', false, true],
  ['LoadBrowserProcessSpecificV8Snapshot', false, false],
  ['GrantFileProtocolExtraPrivileges', true, false],
  ['WasmTrapHandlers', true, true],
]
const wireOf = (states: boolean[]) => states.map((on) => (on ? '1' : '0')).join('')

/** A stand-in Electron executable: a shell stub followed by a fuse wire (sentinel, version 1, length, states). */
function standInBinary(states: string): Buffer {
  return Buffer.concat([Buffer.from('#!/bin/sh\necho "stand-in Electron for offline packaging checks" >&2\nexit 1\n'), Buffer.from(SENTINEL), Buffer.from([1, states.length]), Buffer.from(states)])
}

function readWire(file: string): string {
  const binary = readFileSync(file)
  const at = binary.indexOf(SENTINEL) + SENTINEL.length
  return binary.subarray(at + 2, at + 2 + binary[at + 1]!).toString('latin1')
}

let work: string
let output: string
after(() => work && rmSync(work, { recursive: true, force: true }))

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'dsm-pack-'))
  const dist = join(work, 'electron-dist')
  mkdirSync(join(dist, 'resources'), { recursive: true })
  writeFileSync(join(dist, 'electron'), standInBinary(wireOf(REQUIRED.map(([, electronDefault]) => electronDefault))))
  chmodSync(join(dist, 'electron'), 0o755)
  writeFileSync(join(dist, 'version'), 'v41.7.1')
  output = join(work, 'dist')
  await run(process.execPath, [join(ROOT, 'node_modules/electron-builder/cli.js'), '--linux', '--dir', `-c.electronDist=${dist}`, `-c.directories.output=${output}`], {
    cwd: ROOT,
    env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' },
    timeout: 120_000,
  })
})

REQUIRED.forEach(([name, , required], i) => {
  test(`fuse FU${i + 1}: ${name} is ${required ? 'on' : 'off'} in the packed binary`, () => {
    const wire = readWire(join(output, 'linux-unpacked', 'dsm-key-ceremony'))
    assert.equal(wire.length, REQUIRED.length, 'a nine-fuse wire')
    assert.equal(wire[i], required ? '1' : '0')
  })
})

test('fuses: strictlyRequireAllFuses fails the build on a fuse the table does not name, or a wire too short for it', async () => {
  const { flipAll, FUSES } = require('../scripts/electron-fuses.cjs') as { flipAll(p: string): Promise<unknown>; FUSES: Record<string, boolean> }
  assert.deepEqual(Object.keys(FUSES), REQUIRED.map(([name]) => name), 'the hook names every fuse, in wire order')
  const file = join(work, 'synthetic-electron')
  writeFileSync(file, standInBinary(wireOf(REQUIRED.map(([, d]) => d)) + '1')) // a future tenth fuse
  await assert.rejects(flipAll(file), /strictlyRequireAllFuses/)
  writeFileSync(file, standInBinary('10110001')) // an Electron without WasmTrapHandlers
  await assert.rejects(flipAll(file), /not long enough/)
  writeFileSync(file, standInBinary(wireOf(REQUIRED.map(([, d]) => d))))
  await flipAll(file)
  assert.equal(readWire(file), wireOf(REQUIRED.map(([, , r]) => r)))
})

test('fuses: one source of truth, the afterPack hook; electron-builder.yml has no partial electronFuses table', () => {
  const yml = readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')
  assert.match(yml, /^afterPack: \.\/scripts\/electron-fuses\.cjs$/m)
  assert.doesNotMatch(yml, /^electronFuses:/m)
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

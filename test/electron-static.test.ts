/**
 * Static checks over every app source and every shipped bundle (security.md §1 items 11, 15, 16 and
 * §1b): things that must not appear anywhere, and the Electron version pin. Run after `npm run build`.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, test } from 'node:test'
import { APP_SOURCES as SOURCES, filesUnder, ROOT } from './support/app-sources'

const PINNED_ELECTRON = '41.7.1'
function shipped(): string[] {
  assert.ok(existsSync(join(ROOT, 'out/main/index.js')), 'run `npm run build` first')
  return filesUnder(join(ROOT, 'out'))
}

/** `file:line` of every match, for a readable failure. */
function hits(files: string[], pattern: RegExp): string[] {
  const found: string[] = []
  for (const file of files) {
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      if (pattern.test(line)) found.push(`${relative(ROOT, file)}:${i + 1}`)
    })
  }
  return found
}

describe('nothing dangerous in any source or shipped file', () => {
  test('no shell.openExternal, openPath or showItemInFolder in any app source (E15)', () => {
    assert.ok(SOURCES.length > 50, 'the walk found the sources')
    assert.deepEqual(hits(SOURCES, /\b(openExternal|openPath|showItemInFolder)\b/), [])
  })

  test('no openExternal in any shipped bundle; the only openPath is electron-store’s openInEditor, which nothing calls (E15)', () => {
    const files = shipped()
    assert.deepEqual(hits(files, /\bopenExternal\b|\bshowItemInFolder\b/), [])
    const main = readFileSync(join(ROOT, 'out/main/index.js'), 'utf8')
    assert.equal(main.match(/\bopenPath\b/g)?.length ?? 0, 1, 'one openPath, inside electron-store')
    assert.match(main, /async openInEditor\(\) \{\s*const \w+ = await shell\.openPath\(this\.path\)/)
    assert.deepEqual(hits(SOURCES, /openInEditor/), [], 'the app never calls it')
  })

  test('no <webview in any source or shipped file, and webviewTag is only ever false (E11)', () => {
    const files = [...SOURCES, ...shipped()]
    assert.deepEqual(hits(files, /<webview/i), [])
    assert.deepEqual(hits(files, /webviewTag\s*:(?!\s*false\b)/), [])
  })

  test('no certificate-error handler and no setCertificateVerifyProc anywhere (H3)', () => {
    const files = [...SOURCES, ...shipped()]
    assert.deepEqual(hits(files, /certificate-error|setCertificateVerifyProc|(process\.env\.|env\[['"])NODE_TLS_REJECT_UNAUTHORIZED['"\]]*\s*=(?!=)|rejectUnauthorized\s*:\s*false|ignore-certificate-errors/), [])
  })
})

describe('the Electron version (E16)', () => {
  test(`Electron is pinned to exactly ${PINNED_ELECTRON}: package.json, the lock file and the installed package agree`, () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string>; dependencies?: Record<string, string> }
    assert.equal(pkg.devDependencies['electron'], PINNED_ELECTRON, 'an exact version, no range')
    assert.equal(pkg.dependencies?.['electron'], undefined, 'not a runtime dependency (the app does not ship a second copy)')
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> }
    assert.equal(lock.packages['node_modules/electron']?.version, PINNED_ELECTRON)
    const installed = JSON.parse(readFileSync(join(ROOT, 'node_modules/electron/package.json'), 'utf8')) as { version: string }
    assert.equal(installed.version, PINNED_ELECTRON)
    // Electron 41 carries the 2026 contextBridge fixes (security.md §3, [15]: 41.2.2 and later).
    const [major, minor] = PINNED_ELECTRON.split('.').map(Number) as [number, number]
    assert.ok(major > 41 || (major === 41 && minor >= 2), 'at or past the 41.2.2 contextBridge fix')
  })
})

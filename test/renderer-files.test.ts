/** The resolver behind app:// (and the harness): nothing outside the renderer folder, whatever the URL says. */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { resolveAppUrl, resolveRendererPath } from '../main/app/renderer-files'

const dir = mkdtempSync(join(tmpdir(), 'dsm-renderer-files-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const root = join(dir, 'renderer')
mkdirSync(join(root, 'assets'), { recursive: true })
writeFileSync(join(root, 'index.html'), '<!doctype html>')
writeFileSync(join(root, 'assets', 'app.js'), '')
writeFileSync(join(dir, 'secret.txt'), 'outside')
symlinkSync(join(dir, 'secret.txt'), join(root, 'assets', 'link.js'))
symlinkSync(join(dir), join(root, 'assets', 'up'))

test('serves files inside the folder, and / as index.html', () => {
  assert.equal(resolveRendererPath(root, '/index.html'), join(root, 'index.html'))
  assert.equal(resolveRendererPath(root, '/'), join(root, 'index.html'))
  assert.equal(resolveRendererPath(root, '/assets/app.js'), join(root, 'assets', 'app.js'))
  assert.equal(resolveAppUrl(root, 'app://ceremony/assets/app.js'), join(root, 'assets', 'app.js'))
})

test('refuses traversal, encodings of it, absolute paths, NUL, backslashes, directories and symlinks out', () => {
  for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/%2E%2E/%2E%2E/secret.txt', '//etc/passwd', '/%2fetc/passwd',
    '/assets\\..\\..\\secret.txt', '/assets/%5c..%5csecret.txt', '/index.html%00.js', '/assets', '/assets/./app.js',
    '/assets/link.js', '/assets/up/secret.txt', '/%zz', '/missing.js']) {
    assert.equal(resolveRendererPath(root, path), null, path)
  }
  assert.equal(resolveAppUrl(root, 'app://elsewhere/index.html'), null)
  assert.equal(resolveAppUrl(root, 'file:///etc/passwd'), null)
  assert.equal(resolveAppUrl(root, 'not a url'), null)
})

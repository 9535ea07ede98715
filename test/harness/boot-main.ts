/**
 * Boots the built main bundle with the fake `electron` in a throw-away user-data folder, for tests
 * of the app as it ships. `cleanupBoots()` removes every folder made (call it from `after`).
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createFakeElectron, loadMainBundle, MAIN_BUNDLE, type FakeElectron, type FakeElectronOptions } from './fake-electron'

const dirs: string[] = []

export async function bootMain(options: Omit<FakeElectronOptions, 'userData'> & { argv?: string[] } = {}): Promise<FakeElectron> {
  assert.ok(existsSync(MAIN_BUNDLE), 'run `npm run build` first')
  const userData = mkdtempSync(join(tmpdir(), 'dsm-main-test-'))
  dirs.push(userData)
  const { argv, ...fakeOptions } = options
  const fake = createFakeElectron({ ...fakeOptions, userData })
  loadMainBundle(fake, argv)
  await new Promise((r) => setImmediate(r)) // let app.whenReady() run
  return fake
}

/** The event Electron would give a call from the app's own window. */
export function trustedEvent(fake: FakeElectron) {
  const window = fake.windows[0]!
  return { sender: window.webContents, senderFrame: { url: window.loadedUrl!, parent: null } }
}

export function cleanupBoots(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
}

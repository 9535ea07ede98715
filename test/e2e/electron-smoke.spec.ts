/**
 * The real app in the real Electron binary. Runs wherever `npm ci` could download Electron; on build
 * machines without it (like CI here) it is reported as skipped, with the reason.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { _electron as electron, expect, test } from '@playwright/test'

const ROOT = join(__dirname, '../..')

function electronBinary(): string | null {
  const pathFile = join(ROOT, 'node_modules/electron/path.txt')
  if (!existsSync(pathFile)) return null
  const binary = join(ROOT, 'node_modules/electron/dist', readFileSync(pathFile, 'utf8').trim())
  return existsSync(binary) ? binary : null
}

test('the packaged-style app opens its hardened window and home screen', async () => {
  const binary = electronBinary()
  test.skip(binary === null, 'No Electron binary on this machine (installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1); the harness tests cover the UI')
  const app = await electron.launch({ executablePath: binary!, args: [ROOT], env: { ...process.env, ELECTRON_ENABLE_LOGGING: '0' } })
  try {
    const page = await app.firstWindow()
    // A production build: no plan open on a fresh start, or the ceremony in progress.
    await expect(page.getByTestId('mode-badge')).toHaveText(/^(NO PLAN OPEN|PRODUCTION)$/)
    // No Node in the page, and the bridge is exactly the contract's names.
    expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined')
    expect(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined')
    expect(await page.evaluate(() => Object.isFrozen(window.ceremony))).toBe(true)
    expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1)
  } finally {
    await app.close()
  }
})

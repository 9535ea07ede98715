/**
 * F24 (security.md §8 D): the renderer crashes in the middle of a step. The page's renderer process
 * is SIGKILLed (as an out-of-memory kill or a fault would end it), then the
 * app is loaded again as main does on `render-process-gone`. Main holds the ceremony, so nothing is
 * lost: the page comes back on the run screen at the same step, in the same state, with the same
 * approval progress and the same audit log, and the ceremony carries on from there.
 *
 * Electron reloads the same window, whose sessionStorage (where the renderer keeps which screen and
 * step it showed) the browser process keeps across the crash. Playwright closes a crashed page, so
 * the test opens a new one carrying that tab's sessionStorage entry, as the reloaded window has it.
 */
import type { Browser, Page } from '@playwright/test'
import { expect, test } from './fixtures'
import { confirmPeople, signAsWitnesses } from './people'

/** What main holds, read through the page's own bridge. */
async function mainState(page: Page) {
  return page.evaluate(async () => {
    const r = await window.ceremony!.status()
    if (!r.ok) throw new Error(r.error.code)
    return { current: r.data.currentStepId, entries: r.data.log.entries, steps: r.data.steps.map((s) => `${s.id}=${s.state}`) }
  })
}

const UI_MEMORY = 'dsm-ceremony.ui'

/** Kills this browser's renderer processes (SIGKILL, as the OOM killer would); the browser lives on. */
async function killRenderers(browser: Browser): Promise<number> {
  const cdp = await browser.newBrowserCDPSession()
  const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo')) as { processInfo: { type: string; id: number }[] }
  await cdp.detach()
  const renderers = processInfo.filter((p) => p.type === 'renderer')
  for (const p of renderers) process.kill(p.id, 'SIGKILL')
  return renderers.length
}

async function crashAndReload(page: Page, url: string, browser: Browser): Promise<Page> {
  const remembered = await page.evaluate((key) => sessionStorage.getItem(key), UI_MEMORY)
  const crashed = page.waitForEvent('crash')
  expect(await killRenderers(browser)).toBeGreaterThan(0)
  await crashed
  // Playwright closes a crashed page: a new one in the same context, carrying the tab's sessionStorage.
  const reloaded = await page.context().newPage()
  if (remembered) await reloaded.addInitScript(([key, value]) => sessionStorage.setItem(key!, value!), [UI_MEMORY, remembered])
  await reloaded.goto(url)
  return reloaded
}

test('F24 a renderer crash during an approval and during a running step: the reloaded page shows the same step and state, and the ceremony goes on', async ({ page: first, harness, browser }) => {
  let page = first
  test.setTimeout(120_000)
  await page.goto(harness.url)
  await page.getByRole('button', { name: 'Start a rehearsal' }).click()
  await expect(page.getByRole('heading', { name: 'Review the ceremony plan' })).toBeVisible({ timeout: 30_000 })
  await page.getByRole('button', { name: 'Continue to session setup' }).click()
  await page.getByRole('button', { name: 'Check connections' }).click()
  for (const state of await page.locator('[data-testid^="conn-state-"]').all()) await expect(state).toContainText('Connected', { timeout: 20_000 })
  await confirmPeople(page)
  await page.getByRole('button', { name: 'Go to the ceremony steps' }).click()
  await page.getByRole('button', { name: 'Begin: run the preflight checks' }).click()

  let detail = page.getByTestId('step-detail')
  await expect(detail).toHaveAttribute('data-state', 'done', { timeout: 30_000 })
  const fingerprint = new Map<string, string>()
  // Run steps until the first approval waits for its quorum.
  for (let guard = 0; guard < 20; guard++) {
    await expect(detail).not.toHaveAttribute('data-state', 'running', { timeout: 30_000 })
    if ((await detail.getAttribute('data-state')) === 'done') {
      if ((await detail.getAttribute('data-kind')) === 'transfer-key') {
        const fp = detail.getByRole('group', { name: 'Transfer-key fingerprint (SPKI SHA-256)' })
        fingerprint.set('t', (await fp.locator('.digest-hex').innerText()).replace(/\s+/g, ''))
      }
      await signAsWitnesses(detail)
      await detail.getByRole('button', { name: /^Next step: / }).click()
      continue
    }
    if ((await detail.getAttribute('data-interaction')) === 'approval') break
    const confirm = detail.locator('input.confirm-input')
    if (await confirm.isVisible()) await confirm.fill(fingerprint.get('t')!.slice(-4))
    await detail.getByRole('button', { name: 'Run step' }).click()
    await expect(detail).toHaveAttribute('data-state', /done|skipped/, { timeout: 30_000 })
  }
  await expect(detail).toHaveAttribute('data-interaction', 'approval')
  await detail.getByRole('button', { name: 'Run step' }).click()
  let panel = detail.getByTestId('approval-panel')
  await expect(panel).toBeVisible({ timeout: 20_000 })
  await expect(detail).toHaveAttribute('data-state', 'waiting')

  // One custodian approves: the step is half-way (1 of 2).
  const row = panel.locator('.rehearsal-creds tbody tr').first()
  const [, user, password] = await row.locator('td').allInnerTexts()
  await panel.getByLabel('Custodian', { exact: true }).selectOption(user!.trim())
  await panel.getByLabel('Password', { exact: true }).fill(password!.trim())
  const typeConfirmation = async () => {
    const box = panel.locator('input.confirm-input')
    if (await box.isVisible()) await box.fill((await panel.locator('.confirm-refers-to .digest-hex').innerText()).replace(/\s+/g, '').slice(-4))
  }
  await typeConfirmation()
  await panel.getByRole('button', { name: 'Approve' }).click()
  await expect(panel.getByTestId('quorum-progress')).toContainText('1 of')

  const stepId = await detail.getAttribute('data-step-id')
  const progress = await panel.getByTestId('quorum-progress').innerText()
  const before = await mainState(page)

  // Crash 1: while the approval waits for its quorum.
  page = await crashAndReload(page, harness.url, browser)
  detail = page.getByTestId('step-detail')
  panel = detail.getByTestId('approval-panel')
  await expect(page.getByRole('heading', { name: 'Ceremony steps' })).toBeVisible({ timeout: 20_000 })
  await expect(detail).toHaveAttribute('data-step-id', stepId!)
  await expect(detail).toHaveAttribute('data-state', 'waiting')
  await expect(panel.getByTestId('quorum-progress')).toHaveText(progress)
  expect(await mainState(page)).toEqual(before)

  // The second custodian completes the quorum after the crash.
  const second = panel.locator('.rehearsal-creds tbody tr').nth(1)
  const [, user2, password2] = await second.locator('td').allInnerTexts()
  await panel.getByLabel('Custodian', { exact: true }).selectOption(user2!.trim())
  await panel.getByLabel('Password', { exact: true }).fill(password2!.trim())
  await typeConfirmation()
  await panel.getByRole('button', { name: 'Approve' }).click()
  await expect(detail).toHaveAttribute('data-state', 'done', { timeout: 20_000 })

  // Crash 2: right after "Run step" of the next step, while main is running it.
  await signAsWitnesses(detail)
  await detail.getByRole('button', { name: /^Next step: / }).click()
  const next = await detail.getAttribute('data-step-id')
  await detail.getByRole('button', { name: 'Run step' }).click()
  page = await crashAndReload(page, harness.url, browser)
  detail = page.getByTestId('step-detail')
  await expect(page.getByRole('heading', { name: 'Ceremony steps' })).toBeVisible({ timeout: 20_000 })
  // Main finished the step whatever happened to the page; the page shows what main holds.
  await expect.poll(async () => (await mainState(page)).steps.find((s) => s.startsWith(`${next}=`)), { timeout: 30_000 }).toBe(`${next}=done`)
  await expect(detail).toHaveAttribute('data-step-id', next!)
  await expect(detail).toHaveAttribute('data-state', 'done')
  const after = await mainState(page)
  expect(after.entries).toBeGreaterThan(before.entries)
  expect(after.steps.filter((s) => s.endsWith('=failed'))).toEqual([])
})

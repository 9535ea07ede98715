/**
 * A link-cluster rehearsal through the UI, in Chromium, against the real main process (harness):
 * the kind chosen on the home screen, the replication it builds on run by main first, the setup
 * screen showing the administrator's sign-in and the verified earlier record, every step run with
 * the group configuration's digest typed to create the group, and the failover drill recorded.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startHarness, type Harness } from '../harness/server'
import { expect, test } from './fixtures'

// Its own harness: the ceremony it leaves loaded must not change what other specs' home screens show.
let harness: Harness
let userData = ''
test.beforeAll(async () => {
  userData = mkdtempSync(join(tmpdir(), 'dsm-ceremony-e2e-cluster-'))
  harness = await startHarness({ userData })
})
test.afterAll(async () => {
  await harness?.close()
  rmSync(userData, { recursive: true, force: true })
})

test('a link-cluster rehearsal from the home screen: replicate first, then link and verify through the UI', async ({ page, networkLog }) => {
  test.setTimeout(180_000)
  await page.goto(harness.url)
  await page.getByLabel('Ceremony to rehearse').selectOption({ label: 'Link the FIPS appliances to the cluster' })
  await page.getByRole('button', { name: 'Start a rehearsal' }).click()
  await expect(page.getByRole('heading', { name: 'Review the ceremony plan' })).toBeVisible({ timeout: 60_000 })
  await expect(page.getByText('Link the FIPS appliances to the cluster').first()).toBeVisible()
  await expect(page.getByTestId('mode-badge')).toHaveText('REHEARSAL')

  await page.getByRole('button', { name: 'Continue to session setup' }).click()
  await expect(page.getByText('✓ Held in memory for this session only.')).toBeVisible()
  await expect(page.getByText(/Opened and verified/)).toBeVisible()
  await page.getByRole('button', { name: 'Check connections' }).click()
  for (const state of await page.locator('[data-testid^="conn-state-"]').all()) await expect(state).toContainText('Connected', { timeout: 20_000 })
  await page.getByLabel('I have checked the identity of everyone taking part').check()
  await page.getByRole('button', { name: 'Confirm participants' }).click()
  await page.getByRole('button', { name: 'Go to the ceremony steps' }).click()

  await page.getByRole('button', { name: /^Begin: / }).click()
  const detail = page.getByTestId('step-detail')
  const ran: string[] = []
  for (let guard = 0; guard < 30; guard++) {
    await expect(detail).not.toHaveAttribute('data-state', 'running', { timeout: 30_000 })
    const kind = (await detail.getAttribute('data-kind'))!
    if ((await detail.getAttribute('data-state')) === 'pending') {
      if (kind === 'close') {
        const panel = detail.locator('section.witness')
        for (const box of await panel.getByRole('checkbox').all()) await box.check()
        await panel.getByLabel('Witness', { exact: true }).selectOption('Witness One')
        await panel.getByRole('button', { name: 'Sign off' }).click()
      }
      const confirm = detail.locator('input.confirm-input')
      if (await confirm.isVisible()) {
        // The digest of the configuration shown at the previous step, as the box says what it refers to.
        const hex = (await detail.locator('.confirm-refers-to .digest-hex').innerText()).replace(/\s+/g, '')
        await confirm.fill(hex.slice(-4))
      }
      await detail.getByRole('button', { name: 'Run step' }).click()
      await expect(detail).toHaveAttribute('data-state', /done|skipped|failed/, { timeout: 60_000 })
      if ((await detail.getAttribute('data-state')) === 'failed') throw new Error(`${kind} failed: ${await detail.locator('.step-error').innerText()}`)
    }
    ran.push(kind)
    if (kind === 'group-config') await expect(detail).toContainText('•••••••• (the API key of')
    if (kind === 'failover-drill') await expect(detail).toContainText('MATCH')
    if (kind === 'close') break
    await detail.getByRole('button', { name: /^Next step: / }).click()
  }
  // The home screen's rehearsal runs three simulated FIPS appliances: one connection test each.
  expect(ran).toEqual(['preflight', 'certificates', 'test-connection', 'test-connection', 'test-connection', 'group-config', 'create-group', 'test-group', 'canary-key', 'canary-crypto', 'failover-drill', 'failover-restore', 'close'])
  await expect(page.getByText('The ceremony is complete.')).toBeVisible()
  const origin = new URL(harness.url).origin
  expect(networkLog.filter((url) => !url.startsWith(origin))).toEqual([])
})

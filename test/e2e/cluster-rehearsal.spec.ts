/**
 * A link-cluster rehearsal through the UI, in Chromium, against the real main process (harness):
 * the kind chosen on the home screen, the replication it builds on run by main first, the script
 * printed by the same ids the run screen reads aloud (P.0, L.k, V.k, C.1), the setup screen showing
 * the administrator's sign-in and the verified earlier record and the people confirmed, every step
 * run with the group configuration's digest typed to create the group and signed by the witnesses
 * present, the failover drill recorded, and the record listing each step's signers by script id.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startHarness, type Harness } from '../harness/server'
import { expect, test } from './fixtures'
import { confirmPeople, signAsWitnesses } from './people'

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

test('a link-cluster rehearsal from the home screen: replicate first, then link and verify through the UI, every step signed', async ({ page, networkLog }) => {
  test.setTimeout(240_000)
  await page.goto(harness.url)
  await page.getByLabel('Ceremony to rehearse').selectOption({ label: 'Link the FIPS appliances to the cluster' })
  await page.getByRole('button', { name: 'Start a rehearsal' }).click()
  await expect(page.getByRole('heading', { name: 'Review the ceremony plan' })).toBeVisible({ timeout: 60_000 })
  await expect(page.getByText('Link the FIPS appliances to the cluster').first()).toBeVisible()
  await expect(page.getByTestId('mode-badge')).toHaveText('REHEARSAL')

  // The ceremony script, from the plan alone: the link's steps L.k, the verification's V.k, each with what witnesses check.
  await page.getByRole('button', { name: 'The ceremony script' }).click()
  const script = page.getByTestId('script')
  for (const id of ['P.0', 'L.1', 'L.7', 'V.1', 'V.4', 'C.1']) await expect(script.getByText(id, { exact: true })).toBeVisible()
  await expect(script).toContainText('The group was created once, with the configuration shown')
  await expect(script).toContainText('initials ________')
  await page.getByRole('button', { name: 'Back to the plan' }).click()

  await page.getByRole('button', { name: 'Continue to session setup' }).click()
  await expect(page.getByText('✓ Held in memory for this session only.')).toBeVisible()
  await expect(page.getByText(/Opened and verified/)).toBeVisible()
  await page.getByRole('button', { name: 'Check connections' }).click()
  for (const state of await page.locator('[data-testid^="conn-state-"]').all()) await expect(state).toContainText('Connected', { timeout: 20_000 })
  await confirmPeople(page)
  await page.getByRole('button', { name: 'Go to the ceremony steps' }).click()

  await page.getByRole('button', { name: /^Begin: / }).click()
  const detail = page.getByTestId('step-detail')
  const ran: string[] = []
  let signoffs = 0
  for (let guard = 0; guard < 30; guard++) {
    await expect(detail).not.toHaveAttribute('data-state', 'running', { timeout: 30_000 })
    const kind = (await detail.getAttribute('data-kind'))!
    if ((await detail.getAttribute('data-state')) === 'pending') {
      // Closing seals the log: the witnesses sign its checklist before it runs.
      if (kind === 'close') signoffs += (await signAsWitnesses(detail)).length
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
    ran.push(`${await detail.locator('.script-id').first().innerText()} ${kind}`)
    if (kind === 'group-config') await expect(detail).toContainText('•••••••• (the API key of')
    if (kind === 'failover-drill') await expect(detail).toContainText('MATCH')
    if (kind === 'close') break
    // Every witness present signs the step's checklist; Next step waits for them.
    const next = detail.getByRole('button', { name: /^Next step: / })
    await expect(next).toBeDisabled()
    signoffs += (await signAsWitnesses(detail)).length
    await next.click()
  }
  // The home screen's rehearsal runs three simulated FIPS appliances: one connection test each.
  expect(ran).toEqual([
    'P.0 preflight', 'L.1 certificates', 'L.2 test-connection', 'L.3 test-connection', 'L.4 test-connection', 'L.5 group-config', 'L.6 create-group', 'L.7 test-group',
    'V.1 canary-key', 'V.2 canary-crypto', 'V.3 failover-drill', 'V.4 failover-restore', 'C.0 appliance-logs', 'C.1 close',
  ])
  expect(signoffs).toBe(2 * ran.length) // both witnesses, every step
  await expect(page.getByText('The ceremony is complete.')).toBeVisible()

  // The record: each step by its script id, with who signed it, and who was in the room.
  await page.getByRole('button', { name: 'View the ceremony record' }).click()
  const steps = page.locator('.record-steps')
  await expect(steps).toBeVisible()
  for (const id of ['P.0', 'L.6', 'V.3', 'C.1']) await expect(steps.getByRole('rowheader', { name: id, exact: true })).toBeVisible()
  await expect(steps.getByText('not signed')).toHaveCount(0)
  const recordText = await page.locator('.record-page').innerText()
  for (const expected of ['Who was in the room', 'Witness One', 'Witness Two']) expect(recordText).toContain(expected)
  const origin = new URL(harness.url).origin
  expect(networkLog.filter((url) => !url.startsWith(origin))).toEqual([])
})

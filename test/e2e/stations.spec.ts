/**
 * A rehearsal across two sites through the UI, in Chromium, against the real main process
 * (harness): the trips in the plan review, choosing the station at setup, site B's leg, the
 * hand-off screen (checklist, words, safe to remove), switching to site A as the operator carrying
 * the drive would, the receive screen (a wrong word refused by name, then the right words), and
 * the run screen showing that site A holds the ceremony. Each new screen is checked with axe.
 */
import AxeBuilder from '@axe-core/playwright'
import type { Page } from '@playwright/test'
import { expect, test } from './fixtures'
import { signAsWitnesses } from './people'

async function noSeriousAxeViolations(page: Page, screen: string): Promise<void> {
  const result = await new AxeBuilder({ page }).analyze()
  const serious = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  expect(serious, `axe on the ${screen} screen`).toEqual([])
}

async function setUpStation(page: Page, station: string, operator: string, witness: string): Promise<void> {
  // The radio follows main's answer (a controlled input), so click and wait for it to be checked.
  const radio = page.getByRole('radio', { name: new RegExp(`^${station}`) })
  await radio.click()
  await expect(radio).toBeChecked()
  await expect(page.getByTestId('media-chosen')).toContainText('Rehearsal media folder')
  await page.getByRole('button', { name: 'Check connections' }).click()
  const states = page.locator('[data-testid^="conn-state-"]')
  await expect(states).toHaveCount(1) // a station reaches only its own appliance
  await expect(states.first()).toContainText('Connected', { timeout: 20_000 })
  await expect(page.getByText(`At this station the plan names ${operator} as the operator, and ${witness} as witnesses.`)).toBeVisible()
  // The people at this station are in the room; the other station's are not.
  const people = page.getByRole('group', { name: 'Tick everyone in the room, as the plan names them' })
  await people.getByRole('checkbox', { name: new RegExp(`^${operator} `) }).check()
  await people.getByRole('checkbox', { name: new RegExp(`^${witness} `) }).check()
  await page.getByLabel('I have checked the identity of everyone taking part').check()
  await page.getByRole('button', { name: 'Confirm participants' }).click()
  await expect(page.getByText('✓ Participants confirmed')).toBeVisible()
}

test('two sites through the UI: site B hands off, site A receives with the words', async ({ page, harness }) => {
  test.setTimeout(180_000)
  await page.goto(harness.url)
  await page.getByRole('button', { name: 'Rehearse across two sites' }).click()
  await expect(page.getByRole('heading', { name: 'Review the ceremony plan' })).toBeVisible({ timeout: 30_000 })
  await expect(page.getByTestId('trips')).toContainText('Leg 1 at Site B')
  await expect(page.getByTestId('trips')).toContainText('hand-off 2: the drive goes to Site B')
  await noSeriousAxeViolations(page, 'plan review (trips)')

  await page.getByRole('button', { name: 'Continue to session setup' }).click()
  await setUpStation(page, 'Site B', 'Operator at Site B', 'Witness at Site B')
  await noSeriousAxeViolations(page, 'setup (station)')
  await page.getByRole('button', { name: 'Go to the ceremony steps' }).click()
  await page.getByRole('button', { name: 'Begin: run the preflight checks' }).click()
  const detail = page.getByTestId('step-detail')
  await expect(page.getByTestId('holder')).toHaveText('Site B')
  for (let guard = 0; guard < 6; guard++) {
    await expect(detail).toHaveAttribute('data-state', /done|skipped/, { timeout: 30_000 })
    // Site B's witness signs each step of the leg; nothing goes on, or leaves, unsigned.
    if ((await detail.getByTestId('signoff-status').count()) > 0) expect(await signAsWitnesses(detail)).toEqual(['Witness at Site B'])
    const handOff = page.getByRole('button', { name: 'Hand off to Site A' })
    if (await handOff.isVisible()) break
    await detail.getByRole('button', { name: /^Next step: / }).click()
    await detail.getByRole('button', { name: 'Run step' }).click()
  }
  await noSeriousAxeViolations(page, 'run (leg done, hand-off offered)')
  await page.getByRole('button', { name: 'Hand off to Site A' }).click()

  // The hand-off: what to carry, the media checklist, then the words large and safe to remove.
  await expect(page.getByRole('heading', { name: 'Hand-off 1 to Site A' })).toBeVisible()
  await expect(page.getByTestId('carry-list')).toContainText('transfer public key (PEM)')
  await noSeriousAxeViolations(page, 'hand-off (checklist)')
  await page.getByLabel('Media label or serial').fill('USB-0042')
  await page.getByLabel('Tamper-evident bag number').fill('TEB-1001')
  for (const box of await page.getByRole('checkbox').all()) await box.check()
  await page.getByRole('button', { name: 'Write the hand-off to the drive' }).click()
  const words = page.getByRole('group', { name: 'Hand-off digest' })
  await expect(words).toBeVisible({ timeout: 20_000 })
  await expect(page.getByTestId('safe-to-remove')).toContainText('safe to remove')
  const spoken = (await words.locator('.digest-words').innerText()).trim()
  expect(spoken.split(' ')).toHaveLength(32)
  await noSeriousAxeViolations(page, 'hand-off (words)')

  // The drive is carried to site A; in a rehearsal the same app plays it, with site A's own state folder.
  await page.getByRole('button', { name: 'Back to setup' }).click()
  await setUpStation(page, 'Site A', 'Operator at Site A', 'Witness at Site A')
  await page.getByRole('button', { name: 'Receive the media' }).click()
  await expect(page.getByRole('heading', { name: 'Receive hand-off 1 from Site B' })).toBeVisible()
  await noSeriousAxeViolations(page, 'receive')
  await page.getByLabel(/Media label or serial/).fill('USB-0042')
  await page.getByLabel(/Tamper-evident bag number/).fill('TEB-1001')
  const list = spoken.split(' ')
  const misheard = [...list.slice(0, 4), list[6]!, ...list.slice(5)]
  await page.getByLabel(/The words read out by Site B/).fill(misheard.join(' '))
  await page.getByRole('button', { name: 'Check the drive and continue' }).click()
  await expect(page.getByTestId('receive-refused')).toContainText('HANDOFF_WORDS_MISMATCH')
  await noSeriousAxeViolations(page, 'receive (refused)')
  await page.getByLabel(/The words read out by Site B/).fill(spoken)
  await page.getByRole('button', { name: 'Check the drive and continue' }).click()
  await expect(page.getByTestId('receive-result')).toContainText('Hand-off 1 from Site B checked', { timeout: 20_000 })
  await noSeriousAxeViolations(page, 'receive (checked)')
  await page.getByRole('button', { name: 'Go to the ceremony steps' }).click()
  await expect(page.getByTestId('holder')).toHaveText('Site A')
  await noSeriousAxeViolations(page, 'run (site A)')
})

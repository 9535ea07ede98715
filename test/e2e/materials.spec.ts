/**
 * A rehearsal with a materials manifest, through the real preload and main handlers: the operator
 * types each chassis's serial and tamper labels into the form; a serial that differs from the plan
 * is refused and named (a reference), and stands only once a witness records an exception naming
 * it; the bags then come out with the numbers the simulated bags show.
 */
import type { Locator } from '@playwright/test'
import { expect, test } from './fixtures'
import { confirmPeople, signAsWitnesses, startRehearsal } from './people'

/** Types into every box what the simulated item shows (a second typing repeats the first). */
async function typeWhatItShows(form: Locator): Promise<void> {
  let last = ''
  for (const box of await form.locator('.text-field').all()) {
    const shows = box.locator('.hint strong')
    last = (await shows.count()) > 0 ? await shows.innerText() : last
    await box.locator('input').fill(last)
  }
}

test('materials: a chassis serial that differs from the plan is named, and stands once a witness names it', async ({ page, harness }) => {
  test.setTimeout(180_000)
  await page.goto(harness.url)
  await page.getByLabel(/Rehearse the materials too/).check()
  await startRehearsal(page)
  await page.getByRole('button', { name: 'The ceremony script' }).click()
  for (const id of ['M.1', 'M.2', 'M.3']) await expect(page.getByTestId('script').getByText(id, { exact: true })).toBeVisible()
  await page.getByRole('button', { name: 'Back to the plan' }).click()
  await page.getByRole('button', { name: 'Continue to session setup' }).click()
  await page.getByRole('button', { name: 'Check connections' }).click()
  for (const state of await page.locator('[data-testid^="conn-state-"]').all()) await expect(state).toContainText('Connected', { timeout: 20_000 })
  await confirmPeople(page)
  await page.getByRole('button', { name: 'Go to the ceremony steps' }).click()
  await page.getByRole('button', { name: 'Begin: run the preflight checks' }).click()
  const detail = page.getByTestId('step-detail')
  await expect(detail).toHaveAttribute('data-state', 'done', { timeout: 30_000 })
  await signAsWitnesses(detail)
  await detail.getByRole('button', { name: /^Next step: M\.1/ }).click()

  // M.1: every box typed from the chassis, but the second appliance's serial misread.
  await expect(detail).toHaveAttribute('data-kind', 'materials-appliances')
  const form = detail.getByTestId('step-input')
  const run = detail.getByRole('button', { name: 'Run step' })
  await expect(run).toBeDisabled()
  await typeWhatItShows(form)
  await form.getByLabel('Serial number', { exact: true }).nth(1).fill('fx2200-sim-9999')
  await run.click()
  await expect(detail).toHaveAttribute('data-state', 'failed', { timeout: 30_000 })
  const error = detail.locator('.step-error')
  await expect(error).toContainText('APPLIANCE_SERIAL_MISMATCH')
  await expect(error).toContainText('"FX2200-SIM-9999"')
  const ref = (await error.innerText()).match(/CHS-[0-9a-f]{8}/)![0]
  await expect(detail.getByRole('region', { name: 'Values typed before' })).toContainText('FX2200-SIM-9999')

  await detail.getByText('Record an exception').click()
  await detail.getByLabel('Recorded by').selectOption('Witness One')
  await detail.getByLabel('What happened').fill(`${ref}: the chassis label was replaced under RMA; the vendor's letter is with the paper record.`)
  await detail.getByRole('button', { name: 'Record exception' }).click()
  await run.click()
  await expect(detail).toHaveAttribute('data-state', 'done', { timeout: 30_000 })
  await expect(detail.locator('dl.evidence')).toContainText(`Mismatch ${ref}`)
  await signAsWitnesses(detail)
  await detail.getByRole('button', { name: /^Next step: M\.2/ }).click()

  // M.2: the bags show the numbers the plan expects.
  await expect(detail).toHaveAttribute('data-kind', 'materials-unseal')
  await typeWhatItShows(detail.getByTestId('step-input'))
  await run.click()
  await expect(detail).toHaveAttribute('data-state', 'done', { timeout: 30_000 })
  await expect(detail.locator('dl.evidence')).toContainText('bag TEB-100001')
})

/**
 * Times carry their zone: every time on screen and on the record is UTC with "UTC" written, and where
 * the workstation's clock is in another zone (New York here) its local time is shown beside it, with
 * the offset — never a bare local time that could be read as another date than the log's.
 */
import { expect, test } from './fixtures'
import { confirmPeople, startRehearsal } from './people'

for (const [zone, local] of [['America/New_York', /\(\d{2}:\d{2}:\d{2} local, UTC−05:00\)|\(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} local, UTC−05:00\)/], ['UTC', null]] as const) {
  test.describe(`a workstation in ${zone}`, () => {
    test.use({ timezoneId: zone })
    test(`shows UTC with the zone written${local ? ', and the local time beside it' : ' and nothing else'}`, async ({ page, harness }) => {
      test.setTimeout(120_000)
      await page.goto(harness.url)
      await startRehearsal(page)
      await page.getByRole('button', { name: 'Continue to session setup' }).click()
      await page.getByRole('button', { name: 'Check connections' }).click()
      for (const state of await page.locator('[data-testid^="conn-state-"]').all()) await expect(state).toContainText('Connected', { timeout: 20_000 })
      await confirmPeople(page)
      await page.getByRole('button', { name: 'Go to the ceremony steps' }).click()
      await page.getByRole('button', { name: 'Begin: run the preflight checks' }).click()
      const status = page.getByTestId('step-detail').locator('.step-status')
      await expect(page.getByTestId('step-detail')).toHaveAttribute('data-state', 'done', { timeout: 30_000 })
      const text = await status.innerText()
      const utc = await page.evaluate(() => window.ceremony!.status())
      expect(utc.ok).toBe(true)
      if (!utc.ok) return
      const finished = utc.data.steps[0]!.finishedAt!
      // The UTC date and time, exactly as the log has them.
      expect(text).toContain(`${finished.slice(0, 10)} ${finished.slice(11, 19)} UTC`)
      if (local) expect(text).toMatch(local)
      else expect(text).not.toContain('local')

      // The clock in the top bar (issue 14 part 5): UTC whatever the workstation's zone, to the
      // second, with the current step's id, and still in view when the page is scrolled.
      const clock = page.getByTestId('ceremony-clock')
      const current = utc.data.steps.find((s) => s.id === utc.data.currentStepId)!
      // P.0 has run and stays on screen for its sign-offs: the clock says so, not that P.0 is running.
      await expect(page.getByTestId('clock-step')).toHaveText(`Step ${current.scriptId} (viewing P.0)`)
      const shown = clock.locator('time')
      const iso = (await shown.getAttribute('datetime'))!
      expect(Math.abs(Date.parse(iso) - Date.now())).toBeLessThan(5_000)
      expect(await shown.innerText()).toBe(iso.slice(11, 19))
      await page.mouse.wheel(0, 5_000)
      await expect(clock).toBeInViewport()
      // The simulated plan names the cameras a real ceremony would have.
      await expect(page.getByRole('region', { name: 'Filmed by' })).toContainText('Screen camera')
    })
  })
}

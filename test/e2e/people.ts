/** What the people in the room do in the e2e tests: start (leaving a ceremony in progress), confirm who is here, sign. */
import type { Locator, Page } from '@playwright/test'
import { expect } from './fixtures'

/** Initials as a plan with plain witness names has them: the first letter of each word. */
export const initialsOf = (name: string) => name.split(/\s+/).map((w) => w[0]!.toUpperCase()).join('')

/** Clicks "Start a rehearsal"; if a ceremony is in progress, the app asks first, and we leave it. */
export async function startRehearsal(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Start a rehearsal' }).click()
  const ask = page.getByTestId('confirm-leave')
  const plan = page.getByRole('heading', { name: 'Review the ceremony plan' })
  await expect(ask.or(plan)).toBeVisible({ timeout: 30_000 })
  if (await ask.isVisible()) await ask.getByRole('button', { name: 'Leave it and start a rehearsal' }).click()
  await expect(plan).toBeVisible({ timeout: 30_000 })
}

/** Ticks the operator and every witness as present, confirms identities, and confirms. */
export async function confirmPeople(page: Page): Promise<void> {
  const people = page.getByRole('group', { name: 'Tick everyone in the room, as the plan names them' })
  for (const box of await people.getByRole('checkbox').all()) {
    const label = await box.evaluate((el) => (el as HTMLInputElement).labels?.[0]?.textContent ?? '')
    if (/\((operator|witness)\)/.test(label)) await box.check()
  }
  await page.getByLabel('I have checked the identity of everyone taking part').check()
  await page.getByRole('button', { name: 'Confirm participants' }).click()
  await expect(page.getByText('✓ Participants confirmed')).toBeVisible()
}

/** Every witness offered signs the whole checklist with their initials, until the step's sign-offs are complete. */
export async function signAsWitnesses(detail: Locator): Promise<string[]> {
  const panel = detail.locator('section.witness')
  const signed: string[] = []
  for (let guard = 0; guard < 4; guard++) {
    const status = panel.getByTestId('signoff-status')
    if ((await status.count()) > 0 && /^(✓|Passed)/.test(await status.innerText())) break
    const select = panel.getByLabel('Witness', { exact: true })
    const options = (await select.locator('option').allInnerTexts()).filter((o) => !o.startsWith('Choose'))
    if (options.length === 0) break
    for (const box of await panel.getByRole('checkbox').all()) await box.check()
    await select.selectOption(options[0]!)
    await panel.getByLabel('Your initials').fill(initialsOf(options[0]!))
    await panel.getByRole('button', { name: 'Sign off' }).click()
    await expect(panel.getByRole('list', { name: 'Signed off' })).toContainText(options[0]!)
    signed.push(options[0]!)
  }
  return signed
}

/**
 * The internal witness resolves every open line of the deviation register, as the room agrees it:
 * the resolution, who allowed going on, and the initials of every witness present. Returns the ids.
 */
export async function resolveDeviations(page: Page, resolution: string): Promise<string[]> {
  const register = page.getByTestId('deviation-register')
  const resolved: string[] = []
  for (let guard = 0; guard < 12; guard++) {
    const button = register.getByRole('button', { name: /^Resolve D-\d+$/ }).first()
    if ((await button.count()) === 0) break
    const id = (await button.innerText()).replace('Resolve ', '')
    const form = register.getByRole('form', { name: `Resolve ${id}` })
    await form.getByLabel('Resolution: what was done about it').fill(resolution)
    const allowed = form.getByLabel('Allowed to go on by')
    await allowed.selectOption({ index: 1 })
    for (const input of await form.locator('input.initials-input').all()) {
      const label = await input.evaluate((el) => (el as HTMLInputElement).labels?.[0]?.textContent ?? '')
      await input.fill(initialsOf(label.replace(/^Initials of /, '')))
    }
    await button.click()
    await expect(register.getByTestId(`deviation-${id}`)).toContainText('✓ Resolved')
    resolved.push(id)
  }
  return resolved
}

/**
 * The simulated custodians shown in the approval panel (rehearsal only) approve one after another,
 * each with the typed confirmation read off the box beside it, until the step is done.
 */
export async function approveAsCustodians(detail: Locator): Promise<string[]> {
  const panel = detail.getByTestId('approval-panel')
  await expect(panel).toBeVisible({ timeout: 20_000 })
  await expect(panel.getByTestId('approval-check-failed')).toHaveCount(0)
  const approved: string[] = []
  for (const row of await panel.locator('.rehearsal-creds tbody tr').all()) {
    if ((await detail.getAttribute('data-state')) === 'done') break
    const [, user, password] = (await row.locator('td').allInnerTexts()).map((c) => c.trim())
    const select = panel.getByLabel('Custodian', { exact: true })
    if ((await select.locator('option').allInnerTexts()).includes(user!)) await select.selectOption(user!)
    else {
      await select.selectOption('__other__')
      await panel.getByLabel('DSM user name').fill(user!)
    }
    await panel.getByLabel('Password', { exact: true }).fill(password!)
    const confirm = panel.locator('input.confirm-input')
    if (await confirm.isVisible()) await confirm.fill(await lastOf(panel.locator('.confirm-refers-to'), 4))
    await panel.getByRole('button', { name: 'Approve' }).click()
    approved.push(user!)
    await expect(async () => {
      const decided = await panel.locator('.decisions').innerText().catch(() => '')
      expect((await detail.getAttribute('data-state')) === 'done' || decided.includes(user!)).toBe(true)
    }).toPass({ timeout: 15_000 })
  }
  await expect(detail).toHaveAttribute('data-state', 'done', { timeout: 20_000 })
  return approved
}

/** The last `n` characters of the digest shown in a box (what typed confirmations ask for). */
export async function lastOf(box: Locator, n: number): Promise<string> {
  return (await box.locator('.digest-hex').first().innerText()).replace(/\s+/g, '').slice(-n)
}

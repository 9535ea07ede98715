/**
 * Keyboard alone (visible focus, logical order, no traps) and 200 % zoom (the same layout at half the
 * CSS width: 640 × 400) on the screens a rehearsal passes through, with axe on each.
 */
import type { Page } from '@playwright/test'
import { expect, test } from './fixtures'
import { axeClean } from './screen-checks'
import { confirmPeople, signAsWitnesses, startRehearsal } from './people'

/** The accessible-ish name of the focused element: its label for form fields, its text otherwise. */
async function focusedName(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null
    if (!el || el === document.body) return ''
    const labelled = (el as HTMLInputElement).labels?.[0]?.textContent
    return (el.getAttribute('aria-label') ?? labelled ?? el.textContent ?? '').trim()
  })
}

/** Presses Tab until the focused element's name matches; fails if it is never reached. */
async function tabTo(page: Page, name: string | RegExp, max = 80): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab')
    const current = await focusedName(page)
    if (typeof name === 'string' ? current === name : name.test(current)) return
  }
  throw new Error(`Tab never reached "${String(name)}"`)
}

async function focusIsVisible(page: Page): Promise<void> {
  const outline = await page.evaluate(() => {
    const style = getComputedStyle(document.activeElement!)
    return { style: style.outlineStyle, width: parseFloat(style.outlineWidth) }
  })
  expect(outline.style).not.toBe('none')
  expect(outline.width).toBeGreaterThanOrEqual(2)
}

async function noHorizontalScroll(page: Page, screen: string): Promise<void> {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
  const wide = overflow > 0 ? await page.evaluate(() => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).slice(-5).map((e) => `${e.tagName}.${e.className}: ${(e.textContent ?? '').slice(0, 60)}`)) : []
  expect(overflow, `horizontal overflow on ${screen}: ${wide.join(' | ')}`).toBeLessThanOrEqual(0)
}

test('a rehearsal can be set up and begun with the keyboard alone, with focus always visible', async ({ page, harness }) => {
  test.setTimeout(120_000)
  await page.goto(harness.url)
  await expect(page.getByRole('button', { name: 'Open ceremony plan…' })).toBeVisible()

  // Logical order: the entry points come first, in reading order.
  const order: string[] = []
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press('Tab')
    order.push(await focusedName(page))
  }
  expect(order.indexOf('Open ceremony plan…')).toBeLessThan(order.indexOf('Start a rehearsal'))
  await tabTo(page, 'Start a rehearsal')
  await focusIsVisible(page)
  await page.keyboard.press('Enter')

  // A new screen puts focus on its heading.
  await expect(page.getByRole('heading', { name: 'Review the ceremony plan' })).toBeFocused({ timeout: 30_000 })
  await tabTo(page, 'Continue to session setup')
  await focusIsVisible(page)
  await page.keyboard.press('Enter')

  await expect(page.getByRole('heading', { name: 'Session setup' })).toBeFocused()
  await tabTo(page, 'Check connections')
  await page.keyboard.press('Enter')
  for (const state of await page.locator('[data-testid^="conn-state-"]').all()) await expect(state).toContainText('Connected', { timeout: 20_000 })
  // Who is here: the operator and the two witnesses, ticked by keyboard.
  for (const person of ['Rehearsal operator (operator)', 'Witness One (witness)', 'Witness Two (witness)']) {
    await tabTo(page, person)
    await page.keyboard.press('Space')
  }
  await tabTo(page, 'I have checked the identity of everyone taking part')
  await focusIsVisible(page)
  await page.keyboard.press('Space')
  await tabTo(page, 'Confirm participants')
  await page.keyboard.press('Enter')
  await expect(page.getByText('✓ Participants confirmed')).toBeVisible()
  await tabTo(page, 'Go to the ceremony steps')
  await page.keyboard.press('Enter')

  await tabTo(page, 'Begin: run the preflight checks')
  await focusIsVisible(page)
  await page.keyboard.press('Enter')
  const detail = page.getByTestId('step-detail')
  await expect(detail).toHaveAttribute('data-state', 'done', { timeout: 30_000 })

  // A witness signs off by keyboard: tick the items, choose a name, sign.
  const items = await detail.locator('section.witness').getByRole('checkbox').count()
  for (let i = 0; i < items; i++) {
    await tabTo(page, /./)
    // Move to the next checkbox in the witness list.
    while ((await page.evaluate(() => (document.activeElement as HTMLInputElement).type)) !== 'checkbox') await page.keyboard.press('Tab')
    await page.keyboard.press('Space')
  }
  await tabTo(page, /^Witness$/)
  await page.keyboard.press('ArrowDown')
  await tabTo(page, 'Your initials')
  await page.keyboard.type('WO')
  await tabTo(page, 'Sign off')
  await page.keyboard.press('Enter')
  await expect(detail.locator('section.witness').getByRole('list', { name: 'Signed off' })).toContainText('Witness One')

  // No trap: Tab keeps moving through the whole page and comes back around.
  const seen = new Set<string>()
  let wrapped = false
  for (let i = 0; i < 400 && !wrapped; i++) {
    await page.keyboard.press('Tab')
    const key = await page.evaluate(() => {
      const el = document.activeElement
      if (!el || el === document.body) return 'body'
      return `${el.tagName}#${el.id}:${(el.textContent ?? '').trim().slice(0, 40)}:${Array.from(el.parentElement?.children ?? []).indexOf(el)}`
    })
    if (key === 'body' || seen.has(key)) wrapped = seen.size > 10
    seen.add(key)
  }
  expect(wrapped).toBe(true)
})

test('every screen stays readable at 200 % zoom (640 × 400 CSS pixels) with no sideways scrolling', async ({ page, harness }) => {
  test.setTimeout(120_000)
  await page.setViewportSize({ width: 640, height: 400 })
  await page.goto(harness.url)
  await expect(page.getByRole('button', { name: 'Start a rehearsal' })).toBeVisible()
  await noHorizontalScroll(page, 'home')
  await axeClean(page, 'home at 200%')
  await startRehearsal(page)
  await noHorizontalScroll(page, 'plan review')
  await page.screenshot({ path: 'test-results/screens/zoom-plan-review.png' })
  await page.getByRole('button', { name: 'Continue to session setup' }).click()
  await page.getByRole('button', { name: 'Check connections' }).click()
  for (const state of await page.locator('[data-testid^="conn-state-"]').all()) await expect(state).toContainText('Connected', { timeout: 20_000 })
  await noHorizontalScroll(page, 'setup')
  await axeClean(page, 'setup at 200%')
  await confirmPeople(page)
  await page.getByRole('button', { name: 'Go to the ceremony steps' }).click()
  await page.getByRole('button', { name: 'Begin: run the preflight checks' }).click()
  const detail = page.getByTestId('step-detail')
  await expect(detail).toHaveAttribute('data-state', 'done', { timeout: 30_000 })
  await signAsWitnesses(detail)
  await page.getByRole('button', { name: /^Next step: / }).click()
  await expect(detail).toHaveAttribute('data-kind', 'transfer-key')
  await noHorizontalScroll(page, 'run')
  await axeClean(page, 'run at 200%')
  await detail.getByRole('button', { name: 'Run step' }).scrollIntoViewIfNeeded()
  await expect(detail.getByRole('button', { name: 'Run step' })).toBeInViewport()
  await page.screenshot({ path: 'test-results/screens/zoom-run.png' })
  await page.getByRole('button', { name: 'Back to start' }).count()

  // The plan editor too.
  await page.goto(harness.url)
  await page.getByRole('button', { name: 'Write or edit a plan' }).click()
  await expect(page.getByLabel('Plan (JSON)')).toBeVisible()
  await expect(page.getByRole('status').filter({ hasText: /problem|valid/ })).toBeVisible({ timeout: 10_000 })
  await noHorizontalScroll(page, 'plan editor')
  await axeClean(page, 'plan editor at 200%')
  await page.screenshot({ path: 'test-results/screens/zoom-plan-editor.png' })
})

test("the app's own 200 % text size: every screen reflows with nothing cut off", async ({ page, harness }) => {
  test.setTimeout(120_000)
  await page.goto(harness.url)
  await page.evaluate(() => window.ceremony!.updateSettings({ textScale: 200 }))
  await page.reload()
  await expect(page.locator('html')).toHaveCSS('font-size', '32px')
  try {
    await noHorizontalScroll(page, 'home at 200 % text')
    await startRehearsal(page)
    await noHorizontalScroll(page, 'plan review at 200 % text')
    await axeClean(page, 'plan review at 200 % text')
    await page.getByRole('button', { name: 'The ceremony script' }).click()
    await expect(page.getByTestId('script')).toContainText('P.0')
    await noHorizontalScroll(page, 'script at 200 % text')
    await page.getByRole('button', { name: 'Back to the plan' }).click()
    await page.getByRole('button', { name: 'Continue to session setup' }).click()
    await page.getByRole('button', { name: 'Check connections' }).click()
    for (const state of await page.locator('[data-testid^="conn-state-"]').all()) await expect(state).toContainText('Connected', { timeout: 20_000 })
    await noHorizontalScroll(page, 'setup at 200 % text')
    await axeClean(page, 'setup at 200 % text')
    await confirmPeople(page)
    await page.getByRole('button', { name: 'Go to the ceremony steps' }).click()
    await expect(page.getByTestId('ceremony-overview')).toBeVisible()
    await noHorizontalScroll(page, 'overview at 200 % text')
    await page.getByRole('button', { name: 'Begin: run the preflight checks' }).click()
    const detail = page.getByTestId('step-detail')
    await expect(detail).toHaveAttribute('data-state', 'done', { timeout: 30_000 })
    await noHorizontalScroll(page, 'run at 200 % text')
    await axeClean(page, 'run at 200 % text')
    // Every piece of text keeps inside the screen: nothing is clipped at the right edge.
    const clipped = await page.evaluate(() => [...document.querySelectorAll('.step-detail *')].filter((e) => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'hidden').length)
    expect(clipped).toBe(0)
  } finally {
    await page.evaluate(() => window.ceremony!.updateSettings({ textScale: 100 }))
  }
})

/** Checks the e2e specs make of any screen: axe (serious and critical findings) and a plan fact by its label. */
import AxeBuilder from '@axe-core/playwright'
import type { Locator, Page } from '@playwright/test'
import { expect } from './fixtures'

/** No serious or critical axe finding on the page as it is now; each named with where and why. */
export async function axeClean(page: Page, screen: string): Promise<void> {
  const result = await new AxeBuilder({ page }).analyze()
  const serious = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => `${n.target.join(' ')} ${n.failureSummary ?? ''}`).join(' | ')}`)
  expect(serious, `axe on ${screen}`).toEqual([])
}

/** The value shown beside a plan fact, by its label. */
export const fact = (page: Page, label: string): Locator => page.locator('dl.facts dt', { hasText: label }).first().locator('xpath=following-sibling::dd[1]')

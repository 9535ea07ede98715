/**
 * The plan path against the real main process: write a plan in the editor (checked in main as it is
 * typed, problems named by field), save it through main's dialog, open it, review its digest, and
 * enter a production API key (masked, cleared, never echoed back).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from '@playwright/test'
import { expect, test } from './fixtures'
import { axeClean } from './screen-checks'

const PLAN = {
  format: 'dsm-key-ceremony/plan',
  version: 1,
  id: 'cmk-dc2-2026',
  title: 'CMK replication to the second data centre',
  mode: 'production',
  appliances: [
    { id: 'dsm-a', label: 'DSM A (primary)', host: '127.0.0.1', port: 1, trust: { spkiSha256: 'ab'.repeat(32) } },
    { id: 'dsm-b', label: 'DSM B (second site)', host: '127.0.0.1', port: 2, trust: { spkiSha256: 'cd'.repeat(32) } },
  ],
  source: 'dsm-a',
  targets: ['dsm-b'],
  groupName: 'CMK quorum',
  cmk: { name: 'cluster-master-key', create: false },
  wrapMode: 'RSA-OAEP-SHA256',
  participants: { operator: 'Olivia Operator', custodians: { 'dsm-a': ['alice@example.test', 'anne@example.test'], 'dsm-b': ['bob@example.test', 'bea@example.test'] }, witnesses: ['Wendy Witness'] },
}

test('a plan is written with problems named by field, saved, opened and reviewed; an API key is entered masked', async ({ page, harness }) => {
  await page.goto(harness.url)
  await page.getByRole('button', { name: 'Write or edit a plan' }).click()
  const editor = page.getByLabel('Plan (JSON)')
  await expect(editor).toBeVisible()

  // The template is checked in main: its empty pins and people are named by field.
  const issues = page.getByRole('list', { name: 'Problems by field' })
  await expect(issues).toContainText('appliances.0.trust.spkiSha256', { timeout: 10_000 })
  await expect(page.getByRole('button', { name: 'Save plan…' })).toBeDisabled()
  await axeClean(page, 'plan editor')
  await page.screenshot({ path: 'test-results/screens/plan-editor.png', fullPage: true })

  // A broken reference is named by its field as soon as typing pauses.
  await editor.fill(JSON.stringify({ ...PLAN, source: 'dsm-x' }, null, 2))
  await expect(issues).toContainText('source')
  await expect(issues).toContainText('no appliance with id "dsm-x"')

  // Fixed: valid, with its digest; saved through main's dialog.
  await editor.fill(JSON.stringify(PLAN, null, 2))
  await expect(page.getByText('The plan is valid.')).toBeVisible()
  const editorDigest = await page.getByRole('group', { name: 'Plan digest' }).locator('.digest-hex').innerText()
  const planPath = join(harness.userData, 'cmk-dc2-2026.plan.json')
  harness.fake.dialogAnswers.push(planPath)
  await page.getByRole('button', { name: 'Save plan…' }).click()
  await expect(page.getByText('Saved. Digest of the saved file:')).toBeVisible()
  expect(JSON.parse(readFileSync(planPath, 'utf8'))).toMatchObject({ id: 'cmk-dc2-2026', mode: 'production' })

  // Opened through main's dialog: the renderer never sees the path.
  await page.getByRole('button', { name: 'Back to start' }).click()
  harness.fake.dialogAnswers.push(planPath)
  await page.getByRole('button', { name: 'Open ceremony plan…' }).click()
  // A ceremony an earlier test began is left only after the app asked.
  const ask = page.getByTestId('confirm-leave')
  const review = page.getByRole('heading', { name: 'Review the ceremony plan' })
  await expect(ask.or(review)).toBeVisible()
  if (await ask.isVisible()) await ask.getByRole('button', { name: 'Leave it and open another plan' }).click()
  await expect(review).toBeVisible()
  await expect(page.getByTestId('mode-badge')).toHaveText('PRODUCTION')
  await expect(page.getByRole('group', { name: 'Plan digest' }).locator('.digest-hex')).toHaveText(editorDigest)
  await expect(page.getByText('DSM B (second site)').first()).toBeVisible()
  await axeClean(page, 'plan review (production)')

  // Setup: the key field is a password field, cleared at once, and the key never comes back.
  await page.getByRole('button', { name: 'Continue to session setup' }).click()
  const key = page.getByLabel('API key for DSM A (primary)')
  await expect(key).toHaveAttribute('type', 'password')
  const secret = 'Zm9vLWJhci1hcGkta2V5LWZvci10ZXN0cw=='
  await key.fill(secret)
  await key.press('Enter')
  await expect(key).toHaveValue('')
  await expect(page.getByText('✓ A key is held in memory for this session.')).toBeVisible()
  expect(await page.content()).not.toContain(secret)
  const status = await page.evaluate(() => window.ceremony!.status())
  expect(JSON.stringify(status)).not.toContain(secret)

  // The participants are the plan's: the operator it names must be ticked, and a witness, before confirming.
  await page.getByLabel('I have checked the identity of everyone taking part').check()
  const confirm = page.getByRole('button', { name: 'Confirm participants' })
  await expect(confirm).toBeDisabled()
  await expect(page.getByText(/as the operator: they must be present/)).toBeVisible()
  await axeClean(page, 'setup (production)')
})

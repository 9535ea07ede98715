/**
 * The one-time reveal of the API key a replacement's onboarding made, through the screens, in
 * Chromium, against the real main process (harness). A replace-appliance rehearsal chosen on the
 * home screen replaces the failed fips-1 with a fresh spare (its own simulator: a system
 * administrator and the custodians' accounts, no group, no app, no key): setup asks no key for it,
 * P.1 makes its quorum group and P.2 its app through the API. The operator asks to see the key once,
 * with the witnesses in the room: it is shown in the app's API-key format with the words that it is
 * typed nowhere and not shown again; hidden, it is not offered again, and a second request — as a
 * compromised renderer would send it — is refused by name (KEY_ALREADY_SHOWN). The ceremony is then
 * stopped, and its sealed record says the key was shown once (`api-key-shown`), never the key.
 * The full replacement to the seal is membership-rehearsal.spec.ts; this stops after P.2 (runtime).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from '@playwright/test'
import { startHarness, type Harness } from '../harness/server'
import { expect, test } from './fixtures'
import { axeClean, fact } from './screen-checks'
import { confirmPeople, signAsWitnesses } from './people'

// Its own harness: the ceremony it leaves stopped must not change what other specs' home screens show.
let harness: Harness
let userData = ''
test.beforeAll(async () => {
  userData = mkdtempSync(join(tmpdir(), 'dsm-ceremony-e2e-reveal-'))
  harness = await startHarness({ userData })
})
test.afterAll(async () => {
  await harness?.close()
  rmSync(userData, { recursive: true, force: true })
})

test('a replace-appliance rehearsal onboards the fresh spare through the API and shows the key P.2 made once: a second reveal is refused by name, the record says it was shown, never the key', async ({ page, networkLog }) => {
  test.setTimeout(120_000)
  page.setDefaultTimeout(30_000)
  await page.goto(harness.url)
  await page.getByLabel('Ceremony to rehearse').selectOption({ label: 'Replace a failed FIPS appliance' })
  await page.getByRole('button', { name: 'Start a rehearsal' }).click()
  await expect(page.getByRole('heading', { name: 'Review the ceremony plan' })).toBeVisible({ timeout: 60_000 })
  // What the custodians approve: the spare is onboarded through the API, by its system administrator.
  const spare = (await fact(page, 'New appliance').innerText()).match(/\((fips-\d+)\) at 127\.0\.0\.1:\d+$/)?.[1]
  expect(spare).toBeTruthy()
  await expect(fact(page, 'System administrator who signs in')).toHaveText(new RegExp(`^sysadmin@${spare}\\.dsm-sim\\.test$`))
  await expect(fact(page, 'Made through the API')).toContainText('its API key shown once to the operator, typed nowhere')

  await page.getByRole('button', { name: 'Continue to session setup' }).click()
  await expect(page.getByText(/Opened and verified/).first()).toBeVisible()
  // No API key is asked for the spare: the ceremony makes it.
  await expect(page.getByTestId(`key-made-here-${spare}`)).toContainText('No API key is entered for it: this ceremony makes its app and key (P.2)')
  await expect(page.getByLabel(new RegExp(`^API key for .*\\(${spare}\\)$`))).toHaveCount(0)
  await page.getByRole('button', { name: 'Check connections' }).click()
  await expect(page.getByTestId(`conn-state-${spare}`)).toContainText('Connected', { timeout: 20_000 })
  await confirmPeople(page)
  await page.getByRole('button', { name: 'Go to the ceremony steps' }).click()

  // P.0 the witnessed checklist, P.1 the quorum group, P.2 the app: each run, signed by both witnesses, and the next one begun.
  await page.getByRole('button', { name: /^Begin: / }).click()
  const detail = page.getByTestId('step-detail')
  for (const expected of ['P.0 onboarding', 'P.1 onboard-group', 'P.2 onboard-app']) {
    await expect(detail).toHaveAttribute('data-kind', expected.split(' ')[1]!)
    expect(`${await detail.locator('.script-id').first().innerText()} ${await detail.getAttribute('data-kind')}`).toBe(expected)
    if (expected.startsWith('P.2')) await expect(detail.getByTestId('key-reveal')).toHaveCount(0) // nothing is offered before the app is made
    await expect(detail).not.toHaveAttribute('data-state', 'running', { timeout: 30_000 })
    // "Begin" runs the first step itself; the later ones wait for "Run step".
    if ((await detail.getAttribute('data-state')) === 'pending') await detail.getByRole('button', { name: 'Run step' }).click()
    await expect(detail).toHaveAttribute('data-state', /done|failed/, { timeout: 30_000 })
    if ((await detail.getAttribute('data-state')) === 'failed') throw new Error(`${expected} failed: ${await detail.locator('.step-error').innerText()}`)
    if (expected.startsWith('P.2')) break
    await signAsWitnesses(detail)
    await detail.getByRole('button', { name: /^Next step: / }).click()
  }

  // P.2 is done: the key is offered, on this step, once.
  const reveal = detail.getByTestId('key-reveal')
  await expect(reveal).toHaveAttribute('data-state', 'offered')
  await expect(reveal.getByRole('heading', { name: new RegExp(`^API key of the app made on .*\\(${spare}\\)$`) })).toBeVisible()
  await reveal.getByRole('button', { name: 'Show the API key once' }).click()
  await expect(reveal).toHaveAttribute('data-state', 'showing')
  const shown = reveal.getByTestId('revealed-key')
  await expect(shown).toHaveAttribute('aria-label', 'The API key')
  const key = (await shown.innerText()).trim()
  // DSM's API key: base64 of the app's id and its secret.
  expect(key).toMatch(/^[A-Za-z0-9+/]{40,}={0,2}$/)
  expect(Buffer.from(key, 'base64').toString('latin1')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:\S+$/)
  await expect(reveal).toContainText('It is not typed anywhere: the ceremony already holds it in this workstation\'s memory and wipes it at the seal.')
  await expect(reveal).toContainText('Do not write it down or photograph it. It will not be shown again.')
  await axeClean(page, 'the key shown once')

  // Hidden: not offered again on the screen, and the page holds it nowhere.
  await reveal.getByRole('button', { name: 'Hide the key' }).click()
  await expect(reveal).toHaveAttribute('data-state', 'shown')
  await expect(reveal).toContainText('The API key was shown once at')
  await expect(reveal.getByRole('button', { name: 'Show the API key once' })).toHaveCount(0)
  expect(await page.content()).not.toContain(key)
  await axeClean(page, 'the key hidden')
  // Asked again as a compromised renderer would, past the screen: main refuses it by name.
  const again = await page.evaluate((id) => window.ceremony!.revealApiKey({ applianceId: id }), spare!)
  expect(again).toMatchObject({ ok: false, error: { code: 'KEY_ALREADY_SHOWN' } })
  expect(JSON.stringify(again)).not.toContain(key)

  // The ceremony stops here (this spec is about the reveal): the sealed record says the key was shown once, never the key.
  await page.locator('details.abort summary').click()
  await page.getByLabel('Why the ceremony stops').fill('Rehearsal of the key reveal: stopped after P.2')
  await page.getByRole('button', { name: 'Stop the ceremony and seal the record' }).click()
  await page.getByRole('button', { name: 'View the ceremony record' }).click()
  const record = page.locator('.record-page')
  await expect(record.locator('.record-final .digest-hex')).toBeVisible()
  await expect(record).toContainText(`the API key the ceremony made for ${spare} was shown once to Rehearsal operator, at their request (never recorded)`)
  const logKinds = await record.locator('table.record-log tr td:nth-child(4)').allInnerTexts()
  expect(logKinds.filter((k) => k === 'api-key-shown')).toHaveLength(1)
  expect(await record.innerText()).not.toContain(key)
  expect(await page.content()).not.toContain(key)
  const origin = new URL(harness.url).origin
  expect(networkLog.filter((url) => !url.startsWith(origin))).toEqual([])
})

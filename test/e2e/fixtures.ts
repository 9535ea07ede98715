import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test as base, expect } from '@playwright/test'
import { startHarness, type Harness } from '../harness/server'

/** One harness per worker, with its own user-data folder, removed afterwards. */
export const test = base.extend<{ networkLog: string[] }, { harness: Harness }>({
  harness: [
    async ({}, use) => {
      const userData = mkdtempSync(join(tmpdir(), 'dsm-ceremony-e2e-'))
      const harness = await startHarness({ userData })
      await use(harness)
      await harness.close()
      rmSync(userData, { recursive: true, force: true })
    },
    { scope: 'worker' },
  ],
  // Every request the page makes, so tests can assert the renderer never leaves the harness origin.
  networkLog: async ({ page }, use) => {
    const log: string[] = []
    page.on('request', (request) => log.push(request.url()))
    await use(log)
  },
})

export { expect }

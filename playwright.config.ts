import { defineConfig } from '@playwright/test'

// The renderer in Debian's Chromium, through the harness (real preload, real main handlers).
// Each worker starts its own harness with its own user-data folder (see test/e2e/fixtures.ts).
export default defineConfig({
  testDir: 'test/e2e',
  outputDir: 'test-results/e2e',
  workers: 1,
  timeout: 60_000,
  reporter: [['list'], ['./test/support/playwright-summary-reporter.ts']],
  use: {
    headless: true,
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
})

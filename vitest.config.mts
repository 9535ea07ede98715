import { defineConfig } from 'vitest/config'
import react from '@vitejs/plugin-react'

// Renderer stores and components with a fake bridge; node:test covers main, Playwright the real page.
export default defineConfig({
  plugins: [react()],
  test: {
    include: ['test/renderer/**/*.test.{ts,tsx}'],
    environment: 'happy-dom',
    reporters: ['default', './test/support/vitest-summary-reporter.ts'],
  },
})

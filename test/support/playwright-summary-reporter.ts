// Prints one plain closing line, `N passed, N failed, N skipped`, which CI reads as the test count.
import type { Reporter, TestCase, TestResult } from '@playwright/test/reporter'

export default class SummaryReporter implements Reporter {
  private passed = 0
  private failed = 0
  private skipped = 0
  onTestEnd(test: TestCase, result: TestResult): void {
    if (result.retry < test.retries && result.status !== 'passed' && result.status !== 'skipped') return
    const outcome = test.outcome()
    if (outcome === 'skipped') this.skipped++
    else if (outcome === 'expected' || outcome === 'flaky') this.passed++
    else this.failed++
  }
  onEnd(): void {
    console.log(`${this.passed} passed, ${this.failed} failed, ${this.skipped} skipped`)
  }
}

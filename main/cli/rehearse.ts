// `ceremony rehearse [--targets N] [--state DIR]`: the whole ceremony against in-process simulated
// appliances in one command; the record is verified before the summary line is printed.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { planForAppliances, parseCredentials } from '../ceremony/simulated-plan'
import { verifyRecord } from '../evidence'
import { startSimulator } from '../simulator'
import { runHeadless } from './headless'
import { rehearseSites } from './rehearse-sites'

const USAGE = 'usage: ceremony rehearse [--targets N] [--sites N] [--state DIR]\n'

export async function run(argv: string[]): Promise<number> {
  let values
  try {
    ;({ values } = parseArgs({ args: argv, options: { targets: { type: 'string' }, sites: { type: 'string' }, state: { type: 'string' } }, strict: true }))
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`)
    return 2
  }
  const targets = values.targets === undefined ? 1 : Number(values.targets)
  if (!Number.isInteger(targets) || targets < 1 || targets > 10) {
    process.stderr.write(`--targets must be a whole number from 1 to 10\n${USAGE}`)
    return 2
  }
  const sites = values.sites === undefined ? 1 : Number(values.sites)
  if (!Number.isInteger(sites) || sites < 1 || sites > Math.min(8, targets + 1)) {
    process.stderr.write(`--sites must be a whole number from 1 to ${Math.min(8, targets + 1)} (the source's site and one per target at most)\n${USAGE}`)
    return 2
  }
  if (sites > 1) {
    // Each site its own state folder; they share only the media folder (and the words, read out).
    const summary = await rehearseSites({ sites, targets, ...(values.state ? { state: values.state } : {}) })
    process.stdout.write(`${JSON.stringify(summary)}\n`)
    return summary.ok ? 0 : 1
  }
  const sim = await startSimulator({ appliances: targets + 1 })
  try {
    const credentials = parseCredentials(sim.readyLine())
    // The simulated room holds a materials manifest: chassis, bags and safes, typed by the simulated operator.
    const plan = planForAppliances(credentials, { materials: true })
    const stateDir = values.state ?? mkdtempSync(join(tmpdir(), `dsm-rehearsal-`))
    process.stderr.write(`REHEARSAL against ${targets + 1} simulated appliances; state in ${stateDir}\n`)
    const summary = await runHeadless({ plan, credentials, stateDir, confirm: true, witnessing: { kind: 'simulated' }, progress: (line) => process.stderr.write(`${line}\n`) })
    if (summary.ok && summary.record) {
      const verified = verifyRecord(JSON.parse(readFileSync(summary.record, 'utf8')), { artifactsDir: join(stateDir, 'media') })
      if (!verified.ok) {
        summary.ok = false
        summary.error = { code: 'RECORD_INVALID', message: `the record does not verify: entry ${verified.firstBadEntry}: ${verified.reason}` }
      } else {
        process.stderr.write(`record verified: ${verified.entries} entries, final digest ${verified.finalWords.join(' ')}\n`)
      }
    }
    process.stdout.write(`${JSON.stringify(summary)}\n`)
    return summary.ok ? 0 : 1
  } finally {
    await sim.close()
  }
}

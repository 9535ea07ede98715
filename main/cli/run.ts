// `ceremony run --plan PLAN --credentials CREDS [--state DIR] [--media DIR] [--yes]`: a whole
// ceremony from the terminal. API keys (and, for a rehearsal, custodian passwords) come from CREDS,
// which has the shape of `ceremony simulate`'s appliances.json. Without custodians in CREDS it waits
// for approvals made in the DSM UI. The last line is a JSON summary. Rerun after a crash to resume.
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { readCappedTextSync, readPlanFileSync } from '../ceremony/plan-file'
import { parseCredentials } from '../ceremony/simulated-plan'
import { runHeadless } from './headless'

const USAGE = 'usage: ceremony run --plan PLAN --credentials CREDS [--state DIR] [--media DIR] [--yes]\n'

export async function run(argv: string[]): Promise<number> {
  let values
  try {
    ;({ values } = parseArgs({ args: argv, options: { plan: { type: 'string' }, credentials: { type: 'string' }, state: { type: 'string' }, media: { type: 'string' }, yes: { type: 'boolean' } }, strict: true }))
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`)
    return 2
  }
  if (!values.plan || !values.credentials) {
    process.stderr.write(USAGE)
    return 2
  }
  const plan = readPlanFileSync(values.plan)
  const credentials = parseCredentials(readCappedTextSync(values.credentials))
  if (plan.mode === 'production' && credentials.appliances.some((a) => (a.custodians ?? []).length > 0)) {
    // A production quorum is custodians approving for themselves, never a file of their passwords.
    process.stderr.write('This is a production plan, but the credentials file holds custodian passwords. Remove them: custodians approve in the app or in the DSM UI.\n')
    return 2
  }
  if (plan.mode === 'production' && !values.yes) {
    process.stderr.write('This is a production plan. Irreversible steps need typed confirmations: run it in the app, or pass --yes to confirm them all from the terminal.\n')
    return 2
  }
  const summary = await runHeadless({
    plan,
    credentials,
    stateDir: values.state ?? join('ceremony-state', plan.id),
    ...(values.media ? { mediaDir: values.media } : {}),
    confirm: true,
    progress: (line) => process.stderr.write(`${line}\n`),
  })
  process.stdout.write(`${JSON.stringify(summary)}\n`)
  return summary.ok ? 0 : 1
}

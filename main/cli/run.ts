// `ceremony run --plan PLAN --credentials CREDS [--state DIR] [--media DIR] [--yes]`: a whole
// ceremony from the terminal. API keys (and, for a rehearsal, custodian passwords) come from CREDS,
// which has the shape of `ceremony simulate`'s appliances.json. Without custodians in CREDS it waits
// for approvals made in the DSM UI. The last line is a JSON summary. Rerun after a crash to resume.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { parsePlanText } from '../ceremony/plan'
import { parseCredentials } from '../ceremony/simulated-plan'
import { runHeadless } from './headless'
import { terminalAsker } from './terminal'

const USAGE = 'usage: ceremony run --plan PLAN --credentials CREDS [--state DIR] [--media DIR] [--yes] [--present "NAME,NAME…"]\n'

export async function run(argv: string[]): Promise<number> {
  let values
  try {
    ;({ values } = parseArgs({ args: argv, options: { plan: { type: 'string' }, credentials: { type: 'string' }, state: { type: 'string' }, media: { type: 'string' }, yes: { type: 'boolean' }, present: { type: 'string' } }, strict: true }))
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`)
    return 2
  }
  if (!values.plan || !values.credentials) {
    process.stderr.write(USAGE)
    return 2
  }
  const plan = parsePlanText(readFileSync(values.plan, 'utf8'))
  const credentials = parseCredentials(readFileSync(values.credentials, 'utf8'))
  if (plan.mode === 'production' && credentials.appliances.some((a) => (a.custodians ?? []).length > 0)) {
    // A production quorum is custodians approving for themselves, never a file of their passwords.
    process.stderr.write('This is a production plan, but the credentials file holds custodian passwords. Remove them: custodians approve in the app or in the DSM UI.\n')
    return 2
  }
  if (plan.mode === 'production' && !values.yes) {
    process.stderr.write('This is a production plan. Irreversible steps need typed confirmations: run it in the app, or pass --yes to confirm them all from the terminal.\n')
    return 2
  }
  // A rehearsal's witnesses are simulated; in production each witness signs at this terminal, with
  // their name and initials, and --present names who is in the room when the run starts.
  const terminal = plan.mode === 'production' ? terminalAsker() : null
  const present = (values.present ?? plan.participants.operator).split(',').map((p) => p.trim()).filter(Boolean)
  try {
    const summary = await runHeadless({
      plan,
      credentials,
      stateDir: values.state ?? join('ceremony-state', plan.id),
      ...(values.media ? { mediaDir: values.media } : {}),
      confirm: true,
      witnessing: terminal ? { kind: 'ask', present, ask: terminal.ask } : { kind: 'simulated' },
      progress: (line) => process.stderr.write(`${line}\n`),
    })
    process.stdout.write(`${JSON.stringify(summary)}\n`)
    return summary.ok ? 0 : 1
  } finally {
    terminal?.close()
  }
}

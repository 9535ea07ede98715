// `ceremony run --plan PLAN --credentials CREDS [--state DIR] [--media DIR] [--yes]`: a whole
// ceremony from the terminal. API keys (and, for a rehearsal, custodian passwords) come from CREDS,
// which has the shape of `ceremony simulate`'s appliances.json. Without custodians in CREDS it waits
// for approvals made in the DSM UI. The last line is a JSON summary. Rerun after a crash to resume.
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { type Plan } from '../ceremony/plan'
import { readCappedTextSync, readPlanFileSync } from '../ceremony/plan-file'
import { parseCredentials, type Credentials } from '../ceremony/simulated-plan'
import { runHeadless } from './headless'
import type { Witnessing } from '../ceremony/driver'
import { runStation } from './station-run'
import { terminalAsker } from './terminal'

const USAGE = 'usage: ceremony run --plan PLAN --credentials CREDS [--state DIR] [--media DIR] [--yes] [--present "NAME,NAME…"]\n' +
  '       ceremony run --plan PLAN --credentials CREDS --station ID --media DIR [--state DIR] [--handoff-words "W1 W2 …"]\n' +
  '                    [--media-label LABEL] [--bag NUMBER] [--received-media-label LABEL] [--received-bag NUMBER]\n' +
  '                    [--media-exception WHY] [--yes] [--present "NAME,NAME…"]\n'

export async function run(argv: string[]): Promise<number> {
  let values
  try {
    ;({ values } = parseArgs({ args: argv, options: {
      plan: { type: 'string' }, credentials: { type: 'string' }, state: { type: 'string' }, media: { type: 'string' }, yes: { type: 'boolean' }, present: { type: 'string' },
      station: { type: 'string' }, 'handoff-words': { type: 'string' }, 'media-label': { type: 'string' }, bag: { type: 'string' }, 'received-media-label': { type: 'string' }, 'received-bag': { type: 'string' }, 'media-exception': { type: 'string' },
    }, strict: true }))
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
  // A rehearsal's witnesses are simulated; in production each witness signs at this terminal, with
  // their name and initials, and --present names who is in the room when the run starts. What is read
  // in the room (a materials manifest's serials, tamper labels and bags) is typed here too in
  // production; a rehearsal types what the simulated room shows.
  const terminal = plan.mode === 'production' ? terminalAsker() : null
  const present = (values.present ?? plan.participants.operator).split(',').map((p) => p.trim()).filter(Boolean)
  const witnessing: Witnessing = terminal ? { kind: 'ask', present, ask: terminal.ask } : { kind: 'simulated' }
  try {
    if (values.station !== undefined) return await runAtStation(plan, credentials, values, witnessing)
    const summary = await runHeadless({
      plan,
      credentials,
      stateDir: values.state ?? join('ceremony-state', plan.id),
      ...(values.media ? { mediaDir: values.media } : {}),
      confirm: true,
      witnessing,
      progress: (line) => process.stderr.write(`${line}\n`),
    })
    process.stdout.write(`${JSON.stringify(summary)}\n`)
    return summary.ok ? 0 : 1
  } finally {
    terminal?.close()
  }
}

/** One station of a ceremony across sites (station-run.ts): until the next hand-off, or the close. */
async function runAtStation(plan: Plan, credentials: Credentials, values: Record<string, string | boolean | undefined>, witnessing: Witnessing): Promise<number> {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined)
  if (!str('media')) {
    process.stderr.write(`--station needs --media DIR: the folder of the removable drive that carries the files between stations\n${USAGE}`)
    return 2
  }
  // Production: the media is identified at every hand-off and receipt; a rehearsal names it for the operator.
  if (plan.mode === 'production' && (!str('media-label') || !str('bag'))) {
    process.stderr.write("A production ceremony across sites logs the media's label and the tamper-evident bag number at each hand-off: give --media-label and --bag\n")
    return 2
  }
  if (plan.mode === 'production' && str('handoff-words') !== undefined && (!str('received-media-label') || !str('received-bag'))) {
    process.stderr.write('Receiving the media in production checks its label and the bag it came in: give --received-media-label and --received-bag as read from them\n')
    return 2
  }
  const rehearsalTag = plan.mode === 'rehearsal' ? { label: 'REHEARSAL MEDIA', bag: 'REHEARSAL BAG' } : {}
  const summary = await runStation({
    plan, credentials, station: str('station')!, mediaDir: str('media')!, witnessing,
    stateDir: str('state') ?? join('ceremony-state', `${plan.id}-${str('station')!}`),
    ...(str('handoff-words') !== undefined ? { words: str('handoff-words')! } : {}),
    // At a hand-off the tag is logged (a rehearsal's default names it); at a receipt what was read is checked.
    media: { ...rehearsalTag, ...(str('media-label') ? { label: str('media-label')! } : {}), ...(str('bag') ? { bag: str('bag')! } : {}) },
    receivedMedia: { ...(str('received-media-label') ? { label: str('received-media-label')! } : {}), ...(str('received-bag') ? { bag: str('received-bag')! } : {}) },
    ...(str('media-exception') ? { mediaException: str('media-exception')! } : {}),
    confirm: true,
    progress: (line) => process.stderr.write(`${line}\n`),
  })
  process.stdout.write(`${JSON.stringify(summary)}\n`)
  return summary.ok ? 0 : 1
}

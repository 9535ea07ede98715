// `ceremony run --plan PLAN --credentials FILE [--credentials FILE…] [--record RECORD…] [--state DIR]
// [--media DIR] [--yes] [--present NAMES]`: a whole ceremony from the terminal. API keys (and, for a rehearsal,
// custodian and cluster passwords) come from the credentials files: appliances.json, cluster.json,
// load-balancer.json, as `ceremony simulate` writes them. A production plan refuses passwords in a
// file: a user who signs in (the cluster administrator) types their password at the terminal, and
// custodians approve in the app or the DSM UI. --record gives the sealed records the plan builds
// on. Witnesses sign every step: simulated in a rehearsal, at this terminal in production (--present
// names who is in the room). --station runs one station's legs of a ceremony across sites. The last
// line is a JSON summary. Rerun the same command after a crash to resume.
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { processOutage, type ApplianceOutage } from '../ceremony/outage'
import { type Plan } from '../ceremony/plan'
import { RECORD_MAX_BYTES, readCappedTextSync, readPlanFileSync } from '../ceremony/plan-file'
import { kindOf } from '../ceremony/registry'
import { clusterPasswordFor, holdsPasswords, readCredentialFiles, type CredentialSet } from '../ceremony/simulated-cluster-plan'
import { CeremonyError } from '../errors'
import type { Credentials } from '../ceremony/simulated-plan'
import type { Witnessing } from '../ceremony/driver'
import { runHeadless } from './headless'
import { promptPassword } from './prompt-password'
import { runStation } from './station-run'
import { terminalAsker } from './terminal'

const USAGE = 'usage: ceremony run --plan PLAN --credentials FILE [--credentials FILE…] [--record RECORD…] [--state DIR] [--media DIR] [--yes] [--present "NAME,NAME…"]\n' +
  '       ceremony run --plan PLAN --credentials CREDS --station ID --media DIR [--state DIR] [--handoff-words "W1 W2 …"]\n' +
  '                    [--media-label LABEL] [--bag NUMBER] [--received-media-label LABEL] [--received-bag NUMBER]\n' +
  '                    [--media-exception WHY] [--yes] [--present "NAME,NAME…"]\n'

/** Rehearsal only: appliances each in their own simulator process (pid in the credentials) can be taken down for the drill. */
function outageFor(plan: Plan, set: CredentialSet): ApplianceOutage | undefined {
  if (plan.mode !== 'rehearsal') return undefined
  const procs = set.credentials.appliances.filter((a) => a.pid !== undefined && a.host && a.port)
  if (procs.length === 0) return undefined
  if (new Set(procs.map((a) => a.pid)).size < procs.length) {
    process.stderr.write('The simulated appliances share a process: the failover drill cannot take one down alone (run each with `ceremony simulate --appliances 1 --id ID`, or plan with --no-failover-drill).\n')
    return undefined
  }
  return processOutage(procs.map((a) => ({ id: a.id, pid: a.pid!, host: a.host!, port: a.port! })))
}

/**
 * An API key the ceremony made (replace-appliance's onboarding) is shown once, on the operator's
 * terminal only: with stderr not a terminal (a pipe, a log file) it is held in memory and not shown.
 */
export function showOnTerminal(plan: Plan): (applianceId: string, key: Buffer) => boolean {
  return (applianceId, key) => {
    if (!process.stderr.isTTY) return false
    const label = plan.appliances.find((a) => a.id === applianceId)?.label ?? applianceId
    process.stderr.write(`\nThe API key of the app made on ${label}, shown once (held in memory for this run; do not write it down):\n${key.toString('utf8')}\n\n`)
    return true
  }
}

/** Each sign-in's password: from a rehearsal cluster file, else typed at the terminal by its owner. */
async function passwordsFor(plan: Plan, set: CredentialSet): Promise<Map<string, Buffer>> {
  const fromFile = plan.mode === 'rehearsal' ? clusterPasswordFor(set, plan) : new Map<string, string>()
  const out = new Map<string, Buffer>()
  for (const signIn of kindOf(plan).signIns?.(plan) ?? []) {
    const given = fromFile.get(signIn.id)
    out.set(signIn.id, given !== undefined ? Buffer.from(given, 'utf8') : await promptPassword(`DSM password of ${signIn.user} on ${signIn.label}`))
  }
  return out
}

export async function run(argv: string[]): Promise<number> {
  let values
  try {
    ;({ values } = parseArgs({ args: argv, strict: true, options: {
      plan: { type: 'string' }, credentials: { type: 'string', multiple: true }, record: { type: 'string', multiple: true }, state: { type: 'string' }, media: { type: 'string' },
      yes: { type: 'boolean' }, present: { type: 'string' },
      station: { type: 'string' }, 'handoff-words': { type: 'string' }, 'media-label': { type: 'string' }, bag: { type: 'string' }, 'received-media-label': { type: 'string' }, 'received-bag': { type: 'string' }, 'media-exception': { type: 'string' },
    } }))
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`)
    return 2
  }
  if (!values.plan || !values.credentials?.length) {
    process.stderr.write(USAGE)
    return 2
  }
  const plan = readPlanFileSync(values.plan)
  const set = readCredentialFiles(values.credentials.map((f) => ({ name: f, text: readCappedTextSync(f) })))
  if (set.credentials.appliances.length === 0) {
    process.stderr.write('The credentials files name no appliance (give appliances.json as one --credentials).\n')
    return 2
  }
  if (plan.mode === 'production' && holdsPasswords(set)) {
    // A production quorum is custodians approving for themselves, and an administrator signing in as
    // themselves: never a file of their passwords.
    process.stderr.write('This is a production plan, but a credentials file holds custodian passwords or a cluster user password. Remove them: custodians approve in the app or in the DSM UI, and the cluster administrator types their password when asked.\n')
    return 2
  }
  if (plan.mode === 'production' && !values.yes) {
    process.stderr.write('This is a production plan. Irreversible steps need typed confirmations: run it in the app, or pass --yes to confirm them all from the terminal.\n')
    return 2
  }
  // Read before any password is typed: a wrong record file stops the run with nothing yet in memory.
  const records = (values.record ?? []).map((f) => {
    const text = readCappedTextSync(f, RECORD_MAX_BYTES) // capped, never through a link; a refusal names the file
    try {
      return JSON.parse(text) as unknown
    } catch {
      throw new CeremonyError('RECORD_INVALID', `${f} is not a JSON ceremony record`)
    }
  })
  let passwords: Map<string, Buffer>
  try {
    passwords = await passwordsFor(plan, set)
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
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
    if (values.station !== undefined) return await runAtStation(plan, set.credentials, values, witnessing)
    const outage = outageFor(plan, set)
    const summary = await runHeadless({
      plan,
      credentials: set.credentials,
      stateDir: values.state ?? join('ceremony-state', plan.id),
      ...(values.media ? { mediaDir: values.media } : {}),
      confirm: true,
      witnessing,
      progress: (line) => process.stderr.write(`${line}\n`),
      passwords, records, ...(outage ? { outage } : {}),
      showApiKey: showOnTerminal(plan),
    })
    process.stdout.write(`${JSON.stringify(summary)}\n`)
    return summary.ok ? 0 : 1
  } finally {
    terminal?.close()
    for (const p of passwords.values()) p.fill(0)
  }
}

/** One station of a ceremony across sites (station-run.ts): until the next hand-off, or the close. */
async function runAtStation(plan: Plan, credentials: Credentials, values: Record<string, string | string[] | boolean | undefined>, witnessing: Witnessing): Promise<number> {
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

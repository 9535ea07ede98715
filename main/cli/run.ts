// `ceremony run --plan PLAN --credentials FILE [--credentials FILE…] [--record RECORD…] [--state DIR]
// [--media DIR] [--yes]`: a whole ceremony from the terminal. API keys (and, for a rehearsal,
// custodian and cluster passwords) come from the credentials files: appliances.json, cluster.json,
// load-balancer.json, as `ceremony simulate` writes them. A production plan refuses passwords in a
// file: a user who signs in (the cluster administrator) types their password at the terminal, and
// custodians approve in the app or the DSM UI. --record gives the sealed records the plan builds
// on. The last line is a JSON summary. Rerun the same command after a crash to resume.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { processOutage, type ApplianceOutage } from '../ceremony/outage'
import { parsePlanText, type Plan } from '../ceremony/plan'
import { kindOf } from '../ceremony/registry'
import { clusterPasswordFor, holdsPasswords, readCredentialFiles, type CredentialSet } from '../ceremony/simulated-cluster-plan'
import { CeremonyError } from '../errors'
import { runHeadless } from './headless'
import { promptPassword } from './prompt-password'

const USAGE = 'usage: ceremony run --plan PLAN --credentials FILE [--credentials FILE…] [--record RECORD…] [--state DIR] [--media DIR] [--yes]\n'

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
    ;({ values } = parseArgs({
      args: argv, strict: true,
      options: { plan: { type: 'string' }, credentials: { type: 'string', multiple: true }, record: { type: 'string', multiple: true }, state: { type: 'string' }, media: { type: 'string' }, yes: { type: 'boolean' } },
    }))
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`)
    return 2
  }
  if (!values.plan || !values.credentials?.length) {
    process.stderr.write(USAGE)
    return 2
  }
  const plan = parsePlanText(readFileSync(values.plan, 'utf8'))
  const set = readCredentialFiles(values.credentials.map((f) => ({ name: f, text: readFileSync(f, 'utf8') })))
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
  let passwords: Map<string, Buffer>
  try {
    passwords = await passwordsFor(plan, set)
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
    return 2
  }
  const records = (values.record ?? []).map((f) => {
    try {
      return JSON.parse(readFileSync(f, 'utf8')) as unknown
    } catch {
      throw new CeremonyError('RECORD_INVALID', `${f} is not a JSON ceremony record`)
    }
  })
  try {
    const outage = outageFor(plan, set)
    const summary = await runHeadless({
      plan,
      credentials: set.credentials,
      stateDir: values.state ?? join('ceremony-state', plan.id),
      ...(values.media ? { mediaDir: values.media } : {}),
      confirm: true,
      progress: (line) => process.stderr.write(`${line}\n`),
      passwords, records, ...(outage ? { outage } : {}),
    })
    process.stdout.write(`${JSON.stringify(summary)}\n`)
    return summary.ok ? 0 : 1
  } finally {
    for (const p of passwords.values()) p.fill(0)
  }
}

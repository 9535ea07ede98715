/**
 * A production link-cluster from the command line, at a real (pseudo-)terminal: the cluster
 * administrator types their password unechoed, then Witness One signs every step at the same
 * terminal by its script id (P.0, L.1 … L.6, V.1, V.2, C.1), with their name and initials. The
 * sign-offs in the record are theirs, not simulated; nothing typed or held as a secret reaches the
 * output. util-linux `script` gives the child its terminal (a password is never read from a pipe).
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { clusterPlanFor, readCredentialFiles } from '../main/ceremony/simulated-cluster-plan'
import { parseCredentials, planForAppliances } from '../main/ceremony/simulated-plan'
import { runHeadless } from '../main/cli/headless'
import { startClusterSimulator, startSimulator, type RunningCluster, type RunningSimulator } from '../main/simulator'
import { assertCliOutputClean, CEREMONY_BIN } from './support/cli-output'

const dir = mkdtempSync(join(tmpdir(), 'dsm-cluster-terminal-'))
const started: (RunningSimulator | RunningCluster)[] = []
after(async () => {
  for (const s of started) await s.close()
  rmSync(dir, { recursive: true, force: true })
})

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0
const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`

/**
 * Runs `ceremony ARGS` under `script` and answers at its terminal: the password once asked, then
 * for every sign-off the witness's name and initials. Resolves with everything the terminal showed.
 */
function atTerminal(args: string[], password: string): Promise<{ status: number | null; screen: string }> {
  const command = [process.execPath, CEREMONY_BIN, ...args].map(quote).join(' ')
  const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let screen = ''
  const answered = { password: 0, names: 0, initials: 0 }
  const count = (re: RegExp) => screen.match(re)?.length ?? 0
  child.stdout.on('data', (chunk: Buffer) => {
    screen += chunk.toString()
    // Answer each question once, in the order the run asks them; Enter is a carriage return, as on a keyboard.
    if (count(/DSM password of /g) > answered.password) {
      answered.password++
      child.stdin.write(`${password}\r`)
    }
    if (count(/witness name: /g) > answered.names) {
      answered.names++
      child.stdin.write('Witness One\r')
    }
    if (count(/initials of Witness One: /g) > answered.initials) {
      answered.initials++
      child.stdin.write('WO\r')
    }
  })
  child.stderr.on('data', (chunk: Buffer) => { screen += chunk.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
  return new Promise((resolve) => child.on('close', (status) => {
    clearTimeout(timer)
    resolve({ status, screen })
  }))
}

test('production link-cluster at a terminal: the administrator types the password, Witness One signs each step by its script id', { skip: hasScript ? false : 'util-linux script(1) is not installed: no terminal to type at' }, async () => {
  const sim = await startSimulator({ appliances: 2 })
  const cluster = await startClusterSimulator({ fipsConnectTimeoutMs: 1000, fipsResponseTimeoutMs: 4000 })
  started.push(sim, cluster)
  const creds = parseCredentials(sim.readyLine())
  // The production replication this link builds on (Witness One signs it too, here in-process).
  const replication = await runHeadless({
    plan: planForAppliances(creds, { id: 'term-rep', mode: 'production' }), credentials: creds, stateDir: join(dir, 'term-rep'), confirm: true,
    witnessing: { kind: 'ask', present: ['Rehearsal operator', 'Witness One'], ask: async (q) => (/witness name: $/.test(q) ? 'Witness One' : 'WO') },
  })
  assert.equal(replication.ok, true, JSON.stringify(replication.error))
  const set = readCredentialFiles([{ name: 'a', text: sim.readyLine() }, { name: 'c', text: cluster.readyLine() }])
  // The drill is left out by the plan: in production it waits for someone to pull a cable.
  const plan = clusterPlanFor(set, { kind: 'link-cluster', id: 'term-link', mode: 'production', buildsOn: [replication.finalDigest!], groupName: 'G terminal', failoverDrill: false })
  writeFileSync(join(dir, 'link.plan.json'), JSON.stringify(plan))
  // A production credentials file: API keys only.
  writeFileSync(join(dir, 'keys.json'), JSON.stringify({ appliances: creds.appliances.map(({ custodians: _c, ...a }) => a) }))
  const password = cluster.users.find((u) => u.role === 'account-admin')!.password

  const run = await atTerminal([
    'run', '--plan', join(dir, 'link.plan.json'), '--credentials', join(dir, 'keys.json'), '--record', replication.record!,
    '--state', join(dir, 'term-link'), '--yes', '--present', 'Rehearsal operator,Witness One',
  ], password)
  const summaryLine = run.screen.split(/\r?\n/).filter((l) => l.startsWith('{"ok"')).at(-1)
  assert.ok(summaryLine, run.screen.slice(-2000))
  const summary = JSON.parse(summaryLine)
  assert.equal(summary.ok, true, run.screen.slice(-2000))
  assert.equal(run.status, 0)
  for (const id of ['P.0', 'L.1', 'L.5', 'V.2', 'C.1']) assert.match(run.screen, new RegExp(`${id.replace('.', '\\.')} witness name: `))
  assertCliOutputClean('ceremony run at a terminal', { stdout: run.screen }, [password, ...creds.appliances.map((a) => a.apiKey)])

  const record = JSON.parse(readFileSync(summary.record, 'utf8')) as { entries: { kind: string; facts: Record<string, unknown> }[] }
  const signoffs = record.entries.filter((e) => e.kind === 'witness-signoff')
  assert.deepEqual(signoffs.map((e) => e.facts['scriptId']), ['P.0', 'L.1', 'L.2', 'L.3', 'L.4', 'L.5', 'L.6', 'V.1', 'V.2', 'C.0', 'C.1'], 'the drill and the restore were left out by the plan: nothing to sign')
  assert.ok(signoffs.every((e) => e.facts['witness'] === 'Witness One' && e.facts['initials'] === 'WO' && e.facts['simulated'] === undefined), 'the witness signed, not a simulation')
})

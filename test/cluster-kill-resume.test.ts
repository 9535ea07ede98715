/**
 * Crash safety of link-cluster, for real: `ceremony run` is SIGKILLed at every step boundary (and
 * after the certificate files reached the media), and in the middle of the two requests that create
 * something on the cluster (applied there, answer never read), then the same command is run again.
 * Every resumed run must end with exactly one group, linked as planned, exactly one canary, fips-1
 * back up after the drill, and a record that verifies. The FIPS appliances run in their own
 * processes (the drill takes fips-1's down); the cluster too, except where a request must stall.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { accepting } from '../main/ceremony/outage'
import { KINDS } from '../main/ceremony/registry'
import { clusterPlanFor, readCredentialFiles } from '../main/ceremony/simulated-cluster-plan'
import { DsmConnection, UserSession } from '../main/dsm'
import { verifyRecord } from '../main/evidence'
import { startClusterSimulator, type FaultRule, type RunningCluster } from '../main/simulator'
import { CEREMONY_BIN, assertCliOutputClean } from './support/cli-output'
import { adminOf, clusterProcess, fipsProcess, groupsNamed, keysNamed, replicate, secretsOf, type ClusterProcess, type FipsProcess } from './support/cluster-fixture'
import { stopAllSimulators } from './support/sim-processes'

const dir = mkdtempSync(join(tmpdir(), 'dsm-cluster-kill-'))
let f1: FipsProcess
let f2: FipsProcess
let cluster: ClusterProcess
let recordFile = ''
let digest = ''
let canaries: string[] = []

before(async () => {
  ;[f1, f2, cluster] = await Promise.all([fipsProcess(dir, 'fips-1'), fipsProcess(dir, 'fips-2', { cmk: false }), clusterProcess(dir)])
  const r = await replicate(join(dir, 'state'), [f1, f2], 'replicate-kill')
  ;[recordFile, digest] = [r.file, r.summary.finalDigest!]
  canaries = secretsOf([f1, f2], cluster)
})
after(async () => {
  await stopAllSimulators()
  rmSync(dir, { recursive: true, force: true })
})

function runCli(args: string[], env: Record<string, string> = {}, onSpawn?: (kill: () => void) => void): Promise<{ signal: NodeJS.Signals | null; code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CEREMONY_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }))
    onSpawn?.(() => child.kill('SIGKILL'))
  })
}

let n = 0
/** One link ceremony, killed once as `kill` says, then resumed; checks the cluster and the record. */
async function scenario(kill: { at?: string; cluster?: RunningCluster; rule?: FaultRule }) {
  const id = `kill-${++n}`
  const group = `G ${id}`
  const clusterFile = kill.cluster ? join(dir, `${id}-cluster.json`) : cluster.file
  if (kill.cluster) writeFileSync(clusterFile, kill.cluster.readyLine())
  const set = readCredentialFiles([f1, f2].map((a) => ({ name: a.id, text: readFileSync(a.file, 'utf8') })).concat([{ name: 'cluster', text: readFileSync(clusterFile, 'utf8') }]))
  writeFileSync(join(dir, `${id}.plan.json`), JSON.stringify(clusterPlanFor(set, { kind: 'link-cluster', id, buildsOn: [digest], groupName: group })))
  const args = ['run', '--plan', join(dir, `${id}.plan.json`), '--credentials', f1.file, '--credentials', f2.file, '--credentials', clusterFile, '--record', recordFile, '--state', join(dir, 'state', id)]
  let first
  if (kill.at) first = await runCli(args, { CEREMONY_KILL_AT: kill.at })
  else {
    const handle = kill.cluster!.faults.add({ ...kill.rule!, times: 1 })
    first = await runCli(args, {}, (k) => void handle.hit.then(() => setTimeout(k, 50)))
    kill.cluster!.faults.releaseStalled()
  }
  assert.equal(first.signal, 'SIGKILL', `the first run was killed (exit ${first.code}): ${first.stderr.slice(-800)}`)
  const second = await runCli(args)
  assertCliOutputClean(id, second, canaries)
  assert.equal(second.code, 0, `the resumed run succeeds: ${second.stderr.slice(-1500)}${second.stdout.slice(-600)}`)
  const summary = JSON.parse(second.stdout.trim().split('\n').at(-1)!)
  assert.equal(summary.ok, true)

  const admin = kill.cluster ? await login(kill.cluster) : await adminOf(cluster)
  try {
    const groups = await groupsNamed(admin, group)
    assert.equal(groups.length, 1, 'exactly one group')
    const configs = Object.values(groups[0]!.hmg ?? {}).sort((a, b) => (a.hsm_order ?? 0) - (b.hsm_order ?? 0))
    assert.deepEqual(configs.map((c) => [c.url, c.hsm_order]), [[`127.0.0.1:${f1.entry.port}`, 0], [`127.0.0.1:${f2.entry.port}`, 1]], 'linked as planned')
    assert.equal(groups[0]!.description?.includes(`DSM Key Ceremony ${id}`), true)
    assert.equal((await keysNamed(admin, `${id}-recovery-canary`)).length, 1, 'exactly one canary')
  } finally {
    await admin.logout()
  }
  assert.equal(await accepting('127.0.0.1', f1.entry.port), true, 'fips-1 is back up')
  const record = JSON.parse(readFileSync(summary.record, 'utf8'))
  assert.equal(verifyRecord(record, { artifactsDir: join(dir, 'state', id, 'media') }).ok, true)
  return { record, second }
}

async function login(c: RunningCluster): Promise<UserSession> {
  const u = c.users.find((x) => x.role === 'account-admin')!
  return UserSession.login(new DsmConnection({ host: c.host, port: c.port, trust: { spkiSha256: c.spkiSha256 } }), { username: u.user, password: Buffer.from(u.password), accountId: c.accountId })
}

const probe = KINDS['link-cluster'].schema.parse({
  kind: 'link-cluster', format: 'dsm-key-ceremony/plan', version: 1, id: 'probe', title: 'probe', mode: 'rehearsal',
  appliances: [{ id: 'fips-1', label: 'F1', host: 'a', trust: { spkiSha256: '0'.repeat(64) } }, { id: 'fips-2', label: 'F2', host: 'b', trust: { spkiSha256: '1'.repeat(64) } }],
  cluster: { host: 'c', trust: { spkiSha256: '2'.repeat(64) }, accountId: '00000000-0000-4000-8000-000000000000', admin: 'admin@example' },
  fips: ['fips-1', 'fips-2'], buildsOn: ['3'.repeat(64)], participants: { operator: 'O', custodians: {}, witnesses: ['W'] },
})
const STEPS = KINDS['link-cluster'].steps(probe).map((s) => s.id)

describe('link-cluster: SIGKILL at every step boundary, then resume', () => {
  for (const step of STEPS) {
    for (const phase of ['after-intent', 'after-done']) {
      test(`${step} @ ${phase}`, async () => {
        await scenario({ at: `${step}@${phase}` })
      })
    }
  }
  test('certificates @ after-artifact: the first certificate file adopted byte for byte', async () => {
    const { record } = await scenario({ at: 'certificates@after-artifact' })
    assert.ok(record.entries.some((e: { kind: string; facts: { finding?: string } }) => e.kind === 'reconcile' && /certificate\.pem written before the interruption/.test(e.facts.finding ?? '')))
  })
})

describe('link-cluster: SIGKILL in the middle of a request that creates something on the cluster (applied, answer lost)', () => {
  let inProcess: RunningCluster
  before(async () => { inProcess = await startClusterSimulator({ fipsConnectTimeoutMs: 1000, fipsResponseTimeoutMs: 4000 }) })
  after(async () => { await inProcess?.close() })

  test('creating the group: the resumed run finds it by its nonce and adopts it', async () => {
    const { record } = await scenario({ cluster: inProcess, rule: { method: 'POST', path: '/sys/v1/groups', kind: 'stall', after: 'after-apply' } })
    assert.ok(record.entries.some((e: { kind: string; step: string }) => e.kind === 'reconcile' && e.step === 'create-group'))
  })
  test('generating the canary: the resumed run adopts the key it made', async () => {
    const { record } = await scenario({ cluster: inProcess, rule: { method: 'POST', path: '/crypto/v1/keys', kind: 'stall', after: 'after-apply' } })
    assert.ok(record.entries.some((e: { kind: string; step: string }) => e.kind === 'reconcile' && e.step === 'canary-key'))
  })
})

/**
 * Issue 12, add-appliance: every FIPS appliance and the cluster in its own simulator process. The
 * CMK is replicated fips-1 → fips-2 and both are linked; then `ceremony plan --kind add-appliance`
 * and `ceremony run` bring fips-3 into the group: the CMK replicated to it by replicate-cmk's steps,
 * its config added at the next priority, and the canary made by the link decrypted with fips-1 and
 * fips-2 taken down, so fips-3 alone served it. A new appliance whose quorum policy is weaker than
 * the records show, and a record that does not verify, are refused by name.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { UserSession } from '../main/dsm'
import { verifyRecord } from '../main/evidence'
import { runCeremonyAsync } from './support/cli-output'
import { adminOf, clusterProcess, fipsProcess, groupsNamed, replicate, secretsOf, type ClusterProcess, type FipsProcess } from './support/cluster-fixture'
import { spawnSimulator, stopAllSimulators } from './support/sim-processes'

const dir = mkdtempSync(join(tmpdir(), 'dsm-add-'))
let f1: FipsProcess
let f2: FipsProcess
let f3: FipsProcess
let weak: FipsProcess
let cluster: ClusterProcess
let admin: UserSession
let canaries: string[]
let replicationFile = ''
let linkFile = ''

const last = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!)

async function planAndRun(name: string, args: string[], records: string[], creds: string[]) {
  const planOut = await runCeremonyAsync(['plan', ...args, '--cluster', cluster.file, ...records.flatMap((r) => ['--record', r]), '--id', name], { canaries })
  assert.equal(planOut.status, 0, planOut.stderr)
  writeFileSync(join(dir, `${name}.plan.json`), planOut.stdout)
  const run = await runCeremonyAsync(['run', '--plan', join(dir, `${name}.plan.json`), ...[...creds, cluster.file].flatMap((c) => ['--credentials', c]), ...records.flatMap((r) => ['--record', r]), '--state', join(dir, 'state', name)], { canaries })
  return { plan: JSON.parse(planOut.stdout), run, summary: last(run.stdout) }
}

before(async () => {
  const weakProc = spawnSimulator(['--appliances', '1', '--id', 'fips-9', '--no-cmk', '--quorum', '1', '--write-config', dir, '--config-name', 'fips-9.json'])
  ;[f1, f2, f3, cluster] = await Promise.all([fipsProcess(dir, 'fips-1'), fipsProcess(dir, 'fips-2', { cmk: false }), fipsProcess(dir, 'fips-3', { cmk: false }), clusterProcess(dir)])
  const w = await weakProc
  weak = { id: 'fips-9', process: w, entry: w.ready.appliances[0], file: join(dir, 'fips-9.json') }
  canaries = secretsOf([f1, f2, f3, weak], cluster)
  admin = await adminOf(cluster)
  replicationFile = (await replicate(join(dir, 'state'), [f1, f2], 'replicate-add')).file
  const planOut = await runCeremonyAsync(['plan', '--kind', 'link-cluster', '--appliances', `${f1.file},${f2.file}`, '--cluster', cluster.file, '--record', replicationFile, '--no-failover-drill', '--id', 'link-add'], { canaries })
  assert.equal(planOut.status, 0, planOut.stderr)
  writeFileSync(join(dir, 'link.plan.json'), planOut.stdout)
  const link = await runCeremonyAsync(['run', '--plan', join(dir, 'link.plan.json'), '--credentials', f1.file, '--credentials', f2.file, '--credentials', cluster.file, '--record', replicationFile, '--state', join(dir, 'state', 'link-add')], { canaries })
  assert.equal(link.status, 0, link.stderr.slice(-2000))
  linkFile = last(link.stdout).record
})
after(async () => {
  await admin?.logout().catch(() => undefined)
  await stopAllSimulators()
  rmSync(dir, { recursive: true, force: true })
})

describe('add-appliance, every system in its own process', () => {
  test('a new appliance whose quorum policy is weaker than the records show is refused at preflight, the difference named', async () => {
    const { run, summary } = await planAndRun('add-weak', ['--kind', 'add-appliance', '--appliances', `${f1.file},${f2.file},${weak.file}`, '--added', 'fips-9'], [replicationFile, linkFile], [f1.file, f2.file, weak.file])
    assert.equal(run.status, 1)
    assert.equal(summary.error.code, 'QUORUM_WEAKER', summary.error.message)
    assert.match(summary.error.message, /quorum 1 where the records show 2/)
    const configs = Object.values((await groupsNamed(admin, 'FIPS GROUP'))[0]!.hmg ?? {})
    assert.equal(configs.length, 2, 'the group was not changed')
  })

  test('a record that does not verify is refused by name, before anything changes', async () => {
    const tampered = JSON.parse(readFileSync(linkFile, 'utf8'))
    const done = tampered.entries.find((e: { kind: string; step: string }) => e.kind === 'step-done' && e.step === 'canary-crypto')
    done.facts.result.cipher = Buffer.from('someone else\'s ciphertext').toString('base64')
    const file = join(dir, 'tampered-link.json')
    writeFileSync(file, JSON.stringify(tampered))
    // The plan names the genuine record's digest; the file offered at the run is the tampered one.
    const planOut = await runCeremonyAsync(['plan', '--kind', 'add-appliance', '--appliances', `${f1.file},${f2.file},${f3.file}`, '--added', 'fips-3', '--cluster', cluster.file, '--record', replicationFile, '--record', linkFile, '--id', 'add-tampered'], { canaries })
    writeFileSync(join(dir, 'tampered.plan.json'), planOut.stdout)
    const run = await runCeremonyAsync(['run', '--plan', join(dir, 'tampered.plan.json'), ...[f1.file, f2.file, f3.file, cluster.file].flatMap((c) => ['--credentials', c]), '--record', replicationFile, '--record', file, '--state', join(dir, 'state', 'add-tampered')], { canaries })
    assert.equal(run.status, 1)
    const summary = last(run.stdout)
    assert.equal(summary.error.code, 'RECORD_INVALID', summary.error.message)
    const plan = await runCeremonyAsync(['plan', '--kind', 'add-appliance', '--appliances', `${f1.file},${f2.file},${f3.file}`, '--added', 'fips-3', '--cluster', cluster.file, '--record', file], { canaries })
    assert.equal(plan.status, 1, 'ceremony plan refuses to name a record that does not verify')
  })

  test('fips-3 added: the CMK replicated to it, its config at the next priority, the canary decrypted with fips-1 and fips-2 down', async () => {
    const { plan, run, summary } = await planAndRun('add-proc', ['--kind', 'add-appliance', '--appliances', `${f1.file},${f2.file},${f3.file}`, '--added', 'fips-3'], [replicationFile, linkFile], [f1.file, f2.file, f3.file])
    assert.deepEqual(plan.fips, ['fips-1', 'fips-2', 'fips-3'])
    assert.equal(run.status, 0, run.stderr.slice(-2500) + run.stdout.slice(-1500))
    assert.equal(summary.ok, true)
    assert.equal(summary.outcome.addedKcv, summary.outcome.kcv, 'the CMK on fips-3 has the records\' KCV')
    assert.equal(summary.outcome.provedAlone, true, 'fips-1 and fips-2 were down when the canary decrypted')
    assert.equal(summary.outcome.canaryMatch, true)
    assert.deepEqual(summary.outcome.members, ['fips-1', 'fips-2', 'fips-3'])
    const groups = await groupsNamed(admin, 'FIPS GROUP')
    assert.equal(groups.length, 1)
    const configs = Object.values(groups[0]!.hmg ?? {}).sort((a, b) => (a.hsm_order ?? 0) - (b.hsm_order ?? 0))
    assert.deepEqual(configs.map((c) => [c.url, c.hsm_order]), [[`127.0.0.1:${f1.entry.port}`, 0], [`127.0.0.1:${f2.entry.port}`, 1], [`127.0.0.1:${f3.entry.port}`, 2]])
    await admin.groups.checkHmg(groups[0]!.group_id) // the others were brought back
    const record = JSON.parse(readFileSync(summary.record, 'utf8'))
    assert.equal(verifyRecord(record, { artifactsDir: join(dir, 'state', 'add-proc', 'media') }).ok, true)
    const pre = record.entries.find((e: { kind: string; step: string }) => e.kind === 'step-done' && e.step === 'appliance-preflight')
    assert.deepEqual(pre.facts.result.records.map((r: { kind: string }) => r.kind), ['replicate-cmk', 'link-cluster'], 'the record links back to both')
    const ids = record.entries.filter((e: { kind: string }) => e.kind === 'step-done').map((e: { facts: { scriptId: string } }) => e.facts.scriptId)
    assert.deepEqual(ids, ['P.0', 'R.1', 'R.2', 'R.3', 'R.4', 'R.5', 'R.6', 'R.7', 'R.8', 'R.9', 'R.10', 'R.11', 'R.12', 'J.1', 'J.2', 'J.3', 'V.1', 'V.2', 'C.1', 'C.0', 'C.2'])
    // C.0: the cluster's and every FIPS appliance's own log, and this ceremony's changes all found in them.
    const logs = record.entries.find((e: { kind: string; step: string }) => e.kind === 'step-done' && e.step === 'appliance-logs').facts.result
    assert.deepEqual(Object.keys(logs.appliances).sort(), ['cluster', 'fips-1', 'fips-2', 'fips-3'])
    assert.deepEqual([logs.findings, logs.corroborated], [[], logs.ceremonyCalls])
    assert.ok(logs.ceremonyCalls >= 10, 'the replication, the approvals, the group changed and the canary decrypted')
  })
})

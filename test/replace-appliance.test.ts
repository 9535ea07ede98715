/**
 * Issue 12, replace-appliance: every FIPS appliance and the cluster in its own simulator process.
 * fips-1 → fips-2 replicated and linked; fips-1's process is killed for good; `ceremony plan --kind
 * replace-appliance` and `ceremony run` replace it with fips-4: the group then names fips-2 and
 * fips-4 and no longer fips-1, the destruction record holds the serial and the evidence's digest,
 * and with fips-2 killed too the canary made before the failure decrypts through fips-4 alone.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { CANARY_MESSAGE } from '../main/ceremony/cluster-plan'
import type { UserSession } from '../main/dsm'
import { verifyRecord } from '../main/evidence'
import { runCeremonyAsync } from './support/cli-output'
import { adminOf, clusterProcess, fipsProcess, groupsNamed, replicate, secretsOf, type ClusterProcess, type FipsProcess } from './support/cluster-fixture'
import { stopAllSimulators } from './support/sim-processes'

const dir = mkdtempSync(join(tmpdir(), 'dsm-replace-'))
let f1: FipsProcess
let f2: FipsProcess
let f4: FipsProcess
let cluster: ClusterProcess
let admin: UserSession
let canaries: string[]
const last = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!)

before(async () => {
  ;[f1, f2, f4, cluster] = await Promise.all([fipsProcess(dir, 'fips-1'), fipsProcess(dir, 'fips-2', { cmk: false }), fipsProcess(dir, 'fips-4', { cmk: false }), clusterProcess(dir)])
  canaries = secretsOf([f1, f2, f4], cluster)
  admin = await adminOf(cluster)
})
after(async () => {
  await admin?.logout().catch(() => undefined)
  await stopAllSimulators()
  rmSync(dir, { recursive: true, force: true })
})

test('fips-1 fails for good and is replaced by fips-4: the group names fips-2 and fips-4, the canary made before decrypts through fips-4 alone', async () => {
  const replication = await replicate(join(dir, 'state'), [f1, f2], 'replicate-rp')
  const linkPlan = await runCeremonyAsync(['plan', '--kind', 'link-cluster', '--appliances', `${f1.file},${f2.file}`, '--cluster', cluster.file, '--record', replication.file, '--no-failover-drill', '--id', 'link-rp'], { canaries })
  writeFileSync(join(dir, 'link.plan.json'), linkPlan.stdout)
  const link = await runCeremonyAsync(['run', '--plan', join(dir, 'link.plan.json'), '--credentials', f1.file, '--credentials', f2.file, '--credentials', cluster.file, '--record', replication.file, '--state', join(dir, 'state', 'link-rp')], { canaries })
  assert.equal(link.status, 0, link.stderr.slice(-2000))
  const linkFile = last(link.stdout).record as string
  const linkRecord = JSON.parse(readFileSync(linkFile, 'utf8'))
  const crypto = linkRecord.entries.find((e: { kind: string; step: string }) => e.kind === 'step-done' && e.step === 'canary-crypto').facts.result

  await f1.process.kill() // for good
  const records = ['--record', replication.file, '--record', linkFile]
  const planOut = await runCeremonyAsync(['plan', '--kind', 'replace-appliance', '--appliances', `${f1.file},${f2.file},${f4.file}`, '--cluster', cluster.file, ...records,
    '--added', 'fips-4', '--failed', 'fips-1', '--failed-serial', 'FX2200-SIM-0001', '--disposition', 'zeroised', '--evidence-file', 'fips-1-zeroisation.txt', '--id', 'replace-rp'], { canaries })
  assert.equal(planOut.status, 0, planOut.stderr)
  const plan = JSON.parse(planOut.stdout)
  assert.deepEqual([plan.fips, plan.source, plan.failed.id], [['fips-2', 'fips-4'], 'fips-2', 'fips-1'])
  writeFileSync(join(dir, 'replace.plan.json'), planOut.stdout)
  const state = join(dir, 'state', 'replace-rp')
  const runArgs = ['run', '--plan', join(dir, 'replace.plan.json'), ...[f1.file, f2.file, f4.file, cluster.file].flatMap((c) => ['--credentials', c]), ...records, '--state', state]

  // The evidence of the zeroisation is put on the media by the operator before the destruction record.
  const evidence = 'REHEARSAL: zeroisation report of FX2200-SIM-0001, signed by Witness One and Witness Two\n'
  mkdirSync(join(state, 'media'), { recursive: true })
  writeFileSync(join(state, 'media', 'fips-1-zeroisation.txt'), evidence)
  const run = await runCeremonyAsync(runArgs, { canaries })
  assert.equal(run.status, 0, run.stderr.slice(-2500) + run.stdout.slice(-1500))
  const summary = last(run.stdout)
  assert.deepEqual([summary.outcome.members, summary.outcome.removed, summary.outcome.disposition, summary.outcome.provedAlone], [['fips-2', 'fips-4'], 'fips-1', 'zeroised', true])
  assert.equal(summary.outcome.addedKcv, summary.outcome.kcv)

  const groups = await groupsNamed(admin, 'FIPS GROUP')
  assert.equal(groups.length, 1)
  const configs = Object.values(groups[0]!.hmg ?? {}).sort((a, b) => (a.hsm_order ?? 0) - (b.hsm_order ?? 0))
  assert.deepEqual(configs.map((c) => c.url), [`127.0.0.1:${f2.entry.port}`, `127.0.0.1:${f4.entry.port}`], 'fips-2 and fips-4, and no longer fips-1')

  const record = JSON.parse(readFileSync(summary.record, 'utf8'))
  assert.equal(verifyRecord(record, { artifactsDir: join(state, 'media') }).ok, true)
  const destruction = record.entries.find((e: { kind: string; step: string }) => e.kind === 'step-done' && e.step === 'destruction-record').facts.result
  assert.deepEqual([destruction.serial, destruction.disposition, destruction.evidenceSha256], ['FX2200-SIM-0001', 'zeroised', createHash('sha256').update(evidence).digest('hex')])
  const ids = record.entries.filter((e: { kind: string }) => e.kind === 'step-done').map((e: { facts: { scriptId: string } }) => e.facts.scriptId)
  assert.deepEqual(ids, ['P.0', 'P.1', 'R.1', 'R.2', 'R.3', 'R.4', 'R.5', 'R.6', 'R.7', 'R.8', 'R.9', 'R.10', 'R.11', 'R.12', 'J.1', 'J.2', 'J.3', 'V.1', 'V.2', 'X.1', 'X.2', 'D.1', 'C.0', 'C.1'])
  // C.0: the cluster's and every FIPS appliance's own log, and this ceremony's changes all found in them.
  const logs = record.entries.find((e: { kind: string; step: string }) => e.kind === 'step-done' && e.step === 'appliance-logs').facts.result
  assert.deepEqual(Object.keys(logs.appliances).sort(), ['cluster', 'fips-2', 'fips-4'])
  assert.deepEqual([logs.findings, logs.corroborated], [[], logs.ceremonyCalls])
  assert.ok(logs.ceremonyCalls >= 10, 'the replication, the approvals, the group changed and the canary decrypted')
  assert.equal(record.entries.filter((e: { kind: string; step: string }) => e.kind === 'step-done' && e.step === 'remove-failed').length, 1, 'removed once')

  await f2.process.kill()
  const plain = await admin.crypto.decrypt({ key: { kid: crypto.kid }, mode: 'GCM', cipher: Buffer.from(crypto.cipher, 'base64'), iv: Buffer.from(crypto.iv, 'base64'), tag: Buffer.from(crypto.tag, 'base64') })
  assert.equal(plain.toString('utf8'), CANARY_MESSAGE, 'the canary made before the failure decrypts through fips-4 alone')
})

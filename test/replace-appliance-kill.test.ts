/**
 * Crash safety of replace-appliance (issue 12), for real: every FIPS appliance and the cluster in its
 * own simulator process; fips-1 → fips-2 replicated and linked; fips-1's process killed for good;
 * then one replace-appliance ceremony (fips-4 in, fips-1 out) is SIGKILLed at every boundary of
 * every step of its step list, one death after another, each followed by a resume. What it leaves
 * is read from the appliances and the cluster (support/membership-kill.ts): the failed appliance's
 * config removed by one group update in the cluster's own audit log.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { UserSession } from '../main/dsm'
import { runCeremonyAsync } from './support/cli-output'
import { adminOf, clusterProcess, fipsProcess, replicate, secretsOf, type ClusterProcess, type FipsProcess } from './support/cluster-fixture'
import { killAtEveryBoundary, linked } from './support/membership-kill'
import { stopAllSimulators } from './support/sim-processes'

const dir = mkdtempSync(join(tmpdir(), 'dsm-replace-kill-'))
let f1: FipsProcess
let f2: FipsProcess
let f4: FipsProcess
let cluster: ClusterProcess
let admin: UserSession
let canaries: string[]
let records: string[]

before(async () => {
  ;[f1, f2, f4, cluster] = await Promise.all([fipsProcess(dir, 'fips-1'), fipsProcess(dir, 'fips-2', { cmk: false }), fipsProcess(dir, 'fips-4', { cmk: false }), clusterProcess(dir)])
  canaries = secretsOf([f1, f2, f4], cluster)
  admin = await adminOf(cluster)
  const replication = (await replicate(join(dir, 'state'), [f1, f2], 'replicate-rpk')).file
  records = [replication, await linked(dir, [f1, f2], cluster, replication, 'link-rpk', canaries)]
  await f1.process.kill() // for good
})
after(async () => {
  await admin?.logout().catch(() => undefined)
  await stopAllSimulators()
  rmSync(dir, { recursive: true, force: true })
})

test('replace-appliance: SIGKILL at every step boundary, then resume: one CMK on fips-4, one config for it, fips-1 removed once, no transfer key, the record verifies', async () => {
  const planOut = await runCeremonyAsync(['plan', '--kind', 'replace-appliance', '--appliances', [f1, f2, f4].map((f) => f.file).join(','), '--cluster', cluster.file, ...records.flatMap((r) => ['--record', r]),
    '--added', 'fips-4', '--failed', 'fips-1', '--failed-serial', 'FX2200-SIM-0001', '--disposition', 'zeroised', '--evidence-file', 'fips-1-zeroisation.txt', '--id', 'replace-kill'], { canaries })
  assert.equal(planOut.status, 0, planOut.stderr)
  const planFile = join(dir, 'replace-kill.plan.json')
  writeFileSync(planFile, planOut.stdout)
  mkdirSync(join(dir, 'state', 'replace-kill', 'media'), { recursive: true })
  writeFileSync(join(dir, 'state', 'replace-kill', 'media', 'fips-1-zeroisation.txt'), 'REHEARSAL: zeroisation report of FX2200-SIM-0001\n')
  const outcome = await killAtEveryBoundary({
    dir, kind: 'replace-appliance', plan: JSON.parse(planOut.stdout), planFile, live: [f2, f4], failed: f1, cluster, admin,
    credentials: [f1.file, f2.file, f4.file, cluster.file], records, canaries,
  })
  console.log(`replace-appliance: ${outcome.killedAt.length} kills, ${outcome.runs} runs, ${outcome.seconds.toFixed(1)} s; passed: ${outcome.passed.join(' ')}`)
})

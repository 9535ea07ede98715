/**
 * Crash safety of add-appliance (issue 12), for real: every FIPS appliance and the cluster in its own
 * simulator process; fips-1 → fips-2 replicated and linked; then one add-appliance ceremony bringing
 * fips-3 in is SIGKILLed at every boundary of every step of its step list (before the intent, after
 * it, during and after a file write, after the act, after the result), one death after another,
 * each followed by a resume. What it leaves is read from the appliances and the cluster
 * (support/membership-kill.ts).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { UserSession } from '../main/dsm'
import { runCeremonyAsync } from './support/cli-output'
import { adminOf, clusterProcess, fipsProcess, replicate, secretsOf, type ClusterProcess, type FipsProcess } from './support/cluster-fixture'
import { killAtEveryBoundary, linked } from './support/membership-kill'
import { stopAllSimulators } from './support/sim-processes'

const dir = mkdtempSync(join(tmpdir(), 'dsm-add-kill-'))
let f1: FipsProcess
let f2: FipsProcess
let f3: FipsProcess
let cluster: ClusterProcess
let admin: UserSession
let canaries: string[]
let records: string[]

before(async () => {
  ;[f1, f2, f3, cluster] = await Promise.all([fipsProcess(dir, 'fips-1'), fipsProcess(dir, 'fips-2', { cmk: false }), fipsProcess(dir, 'fips-3', { cmk: false }), clusterProcess(dir)])
  canaries = secretsOf([f1, f2, f3], cluster)
  admin = await adminOf(cluster)
  const replication = (await replicate(join(dir, 'state'), [f1, f2], 'replicate-addk')).file
  records = [replication, await linked(dir, [f1, f2], cluster, replication, 'link-addk', canaries)]
})
after(async () => {
  await admin?.logout().catch(() => undefined)
  await stopAllSimulators()
  rmSync(dir, { recursive: true, force: true })
})

test('add-appliance: SIGKILL at every step boundary, then resume: one CMK on fips-3, one config for it, no transfer key, the record verifies', async () => {
  const planOut = await runCeremonyAsync(['plan', '--kind', 'add-appliance', '--appliances', [f1, f2, f3].map((f) => f.file).join(','), '--added', 'fips-3', '--cluster', cluster.file, ...records.flatMap((r) => ['--record', r]), '--id', 'add-kill'], { canaries })
  assert.equal(planOut.status, 0, planOut.stderr)
  const planFile = join(dir, 'add-kill.plan.json')
  writeFileSync(planFile, planOut.stdout)
  const outcome = await killAtEveryBoundary({
    dir, kind: 'add-appliance', plan: JSON.parse(planOut.stdout), planFile, live: [f1, f2, f3], cluster, admin,
    credentials: [f1.file, f2.file, f3.file, cluster.file], records, canaries,
  })
  console.log(`add-appliance: ${outcome.killedAt.length} kills, ${outcome.runs} runs, ${outcome.seconds.toFixed(1)} s; passed: ${outcome.passed.join(' ')}`)
})

/**
 * The failover drill outside the simulator's reach, and the one-command rehearsal. In production
 * the engine is never given a way to take an appliance down (an outage control passed anyway is
 * not used): the drill waits for the operator to disconnect the first FIPS appliance, refuses by
 * name while it still answers, and may be left out only with an exception recorded at the step,
 * which the record keeps; the restore step waits for the appliance to answer again.
 * `ceremony rehearse --kind link-cluster` runs replicate → link → verify in one go.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { CeremonyEngine } from '../main/ceremony/engine'
import { inProcessOutage, type ApplianceOutage } from '../main/ceremony/outage'
import { clusterPasswordFor, clusterPlanFor, readCredentialFiles, type CredentialSet } from '../main/ceremony/simulated-cluster-plan'
import { planForAppliances, parseCredentials } from '../main/ceremony/simulated-plan'
import { runHeadless } from '../main/cli/headless'
import { startClusterSimulator, startSimulator, type RunningCluster, type RunningSimulator } from '../main/simulator'
import { engineOptions, resolveOpenDeviations, signWhatIsDue } from './support/ceremony-fixture'
import { runCeremonyAsync } from './support/cli-output'

const dir = mkdtempSync(join(tmpdir(), 'dsm-cluster-drill-'))
let sim: RunningSimulator
let cluster: RunningCluster
let set: CredentialSet

before(async () => {
  sim = await startSimulator({ appliances: 2 })
  cluster = await startClusterSimulator({ fipsConnectTimeoutMs: 1000, fipsResponseTimeoutMs: 4000 })
  const creds = parseCredentials(sim.readyLine())
  const rep = await runHeadless({ plan: planForAppliances(creds, { id: 'drill-rep' }), credentials: creds, stateDir: join(dir, 'rep'), confirm: true, witnessing: { kind: 'simulated' } })
  set = readCredentialFiles([{ name: 'a', text: sim.readyLine() }, { name: 'c', text: cluster.readyLine() }])
  const link = clusterPlanFor(set, { kind: 'link-cluster', id: 'drill-link', buildsOn: [rep.finalDigest!] })
  const linked = await runHeadless({
    plan: link, credentials: set.credentials, stateDir: join(dir, 'link'), confirm: true, witnessing: { kind: 'simulated' }, records: [JSON.parse(readFileSync(rep.record!, 'utf8'))], outage: inProcessOutage([sim]),
    passwords: new Map([...clusterPasswordFor(set, link)].map(([k, v]) => [k, Buffer.from(v)])),
  })
  assert.equal(linked.ok, true, JSON.stringify(linked.error))
})
after(async () => {
  await cluster?.close()
  await sim?.close()
  rmSync(dir, { recursive: true, force: true })
})

/** A production check of the linked group, with an outage control the engine must not use. */
async function productionCheck(id: string) {
  // C.0 reads each log from two seconds before the check opened (log times are whole seconds): the
  // earlier ceremonies' last changes are left out of that window, as between real ceremonies.
  await new Promise((r) => setTimeout(r, 3000))
  const plan = clusterPlanFor(set, { kind: 'verify-cluster', id, buildsOn: [], mode: 'production' })
  const stateDir = join(dir, id)
  mkdirSync(join(stateDir, 'media'), { recursive: true })
  const calls: string[] = []
  const outage: ApplianceOutage = { how: 'spy', takeDown: async (a) => void calls.push(`down ${a}`), bringBack: async (a) => void calls.push(`up ${a}`) }
  const [password] = [...clusterPasswordFor(set, plan).values()]
  const engine = await CeremonyEngine.open({ ...engineOptions(plan, set.credentials, stateDir, join(stateDir, 'media')), password: () => Buffer.from(password!), outage })
  // The witnesses sign each step before the next one runs (as they would at the terminal).
  for (const step of ['cluster-check', 'canary-key', 'canary-crypto']) {
    await engine.runStep(step)
    await signWhatIsDue(engine)
  }
  return { engine, calls }
}

const code = (e: unknown) => (e as { code?: string }).code

describe('the failover drill in production', () => {
  test('fips-1 still answers: FAILOVER_DRILL_NOT_READY; with an exception recorded at the step, left out and recorded; the restore skipped', async () => {
    const { engine, calls } = await productionCheck('prod-check-1')
    try {
      await assert.rejects(engine.runStep('failover-drill'), (e) => code(e) === 'FAILOVER_DRILL_NOT_READY')
      await engine.recordException('failover-drill', 'Operator', 'The appliance room is closed today; the drill is done at the next check.')
      await engine.runStep('failover-drill')
      await signWhatIsDue(engine)
      const drill = engine.evidence('failover-drill')!.items.map((i) => `${i.label}: ${i.value}`)
      assert.ok(drill.some((l) => /^Failover drill: left out/.test(l)), drill.join('\n'))
      assert.equal(engine.record('failover-restore').state, 'skipped')
      // C.0: the cluster's and the FIPS appliances' own logs show this check and nothing else.
      await engine.runStep('appliance-logs')
      await signWhatIsDue(engine)
      // The refused drill and the exception that left it out are in the register: resolved before the seal.
      await assert.rejects(engine.runStep('close'), (e) => code(e) === 'DEVIATION_UNRESOLVED')
      assert.ok((await resolveOpenDeviations(engine, 'The drill is scheduled for the next check; the group was otherwise proved')).length >= 2)
      await engine.runStep('close')
      assert.match(engine.evidence('close')!.items.find((i) => i.label === 'Failover')!.value, /left out with the exception at entry \d+/)
      assert.deepEqual(calls, [], 'a production engine never takes an appliance down')
    } finally {
      await engine.shutdown()
    }
  })

  test('the operator disconnects fips-1: the canary decrypts through fips-2; the restore waits until fips-1 answers again', async () => {
    const { engine, calls } = await productionCheck('prod-check-2')
    try {
      await sim.appliances[0]!.down() // the operator pulls the cable
      await engine.runStep('failover-drill')
      const items = engine.evidence('failover-drill')!.items.map((i) => `${i.label}: ${i.value}`)
      assert.ok(items.includes('Taken down: FIPS appliance 1 (fips-1): the operator disconnected it'), items.join('\n'))
      assert.ok(items.includes('Canary decrypted through the group: MATCH'))
      await signWhatIsDue(engine)
      await assert.rejects(engine.runStep('failover-restore'), (e) => code(e) === 'FAILOVER_RESTORE_NOT_READY')
      await sim.appliances[0]!.up() // … and plugs it back in
      await engine.runStep('failover-restore')
      await signWhatIsDue(engine)
      // The restore refused while fips-1 was still disconnected is a line of the register.
      assert.equal((await resolveOpenDeviations(engine, 'fips-1 was plugged back in; the restore then ran')).length, 1)
      await engine.runStep('appliance-logs')
      await signWhatIsDue(engine)
      await engine.runStep('close')
      assert.deepEqual(calls, [])
    } finally {
      await sim.appliances[0]!.up()
      await engine.shutdown()
    }
  })
})

test('`ceremony rehearse --kind link-cluster`: replicate, link and verify in one go, both records verified; a bad kind is a usage error', async () => {
  const r = await runCeremonyAsync(['rehearse', '--kind', 'link-cluster', '--state', join(dir, 'rehearse')])
  assert.equal(r.status, 0, r.stderr.slice(-1500))
  const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!)
  assert.equal(summary.kind, 'link-cluster')
  assert.deepEqual(summary.earlier.map((s: { kind: string; ok: boolean }) => [s.kind, s.ok]), [['replicate-cmk', true]])
  assert.equal(summary.outcome.failover, true)
  assert.match(r.stderr, /replicate-cmk record verified[\s\S]*link-cluster record verified/)
  const bad = await runCeremonyAsync(['rehearse', '--kind', 'rotate-cmk'])
  assert.equal(bad.status, 2)
  assert.match(bad.stderr, /--kind must be one of replicate-cmk, link-cluster, verify-cluster, add-appliance, replace-appliance/)
})

/**
 * C.0 of the cluster kinds (issue 14 part 6): the link's record holds the cluster's and every FIPS
 * appliance's own audit log for the ceremony window, and corroborates them. An extra key created in
 * the ceremony's group on the cluster by another session during the link is a finding the step will
 * not pass until a witness's exception names it; the FIPS appliances' entries the cluster made for
 * that key are accounted for by it (one finding, named where it was made). Someone using the FIPS
 * appliance's API key directly, outside anything the cluster logged, is a finding on that appliance.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { CeremonyEngine } from '../main/ceremony/engine'
import { runToCompletion } from '../main/ceremony/driver'
import { inProcessOutage } from '../main/ceremony/outage'
import { clusterPasswordFor, clusterPlanFor, readCredentialFiles, type CredentialSet } from '../main/ceremony/simulated-cluster-plan'
import { planForAppliances, parseCredentials } from '../main/ceremony/simulated-plan'
import { runHeadless } from '../main/cli/headless'
import { AppSession, DsmConnection, UserSession } from '../main/dsm'
import { verifyRecord } from '../main/evidence'
import { startClusterSimulator, startSimulator, type RunningCluster, type RunningSimulator } from '../main/simulator'
import { engineOptions, signWhatIsDue } from './support/ceremony-fixture'

const STEP = 'appliance-logs'
const python = spawnSync('python3', ['--version']).status === 0
const dir = mkdtempSync(join(tmpdir(), 'dsm-cluster-logs-'))
let sim: RunningSimulator
let cluster: RunningCluster
let set: CredentialSet
let replication: { digest: string; record: unknown }

before(async () => {
  sim = await startSimulator({ appliances: 2 })
  cluster = await startClusterSimulator({ fipsConnectTimeoutMs: 1000, fipsResponseTimeoutMs: 4000 })
  const creds = parseCredentials(sim.readyLine())
  const rep = await runHeadless({ plan: planForAppliances(creds, { id: 'logs-rep' }), credentials: creds, stateDir: join(dir, 'rep'), confirm: true, witnessing: { kind: 'simulated' } })
  assert.equal(rep.ok, true, JSON.stringify(rep.error))
  replication = { digest: rep.finalDigest!, record: JSON.parse(readFileSync(rep.record!, 'utf8')) }
  set = readCredentialFiles([{ name: 'a', text: sim.readyLine() }, { name: 'c', text: cluster.readyLine() }])
})
after(async () => {
  await cluster?.close()
  await sim?.close()
  rmSync(dir, { recursive: true, force: true })
})

const refsIn = (message: string) => [...new Set(message.match(/AL-[0-9a-f]{8}/g) ?? [])]
const connect = (a: { host: string; port: number; spkiSha256: string }) => new DsmConnection({ host: a.host, port: a.port, trust: { spkiSha256: a.spkiSha256 } })

async function refusal(engine: CeremonyEngine): Promise<{ code: string; message: string }> {
  const err = await engine.runStep(STEP).then(() => null, (e: { code: string; message: string }) => e)
  assert.ok(err, 'C.0 refused to finish')
  return err
}

/** A link of the two FIPS appliances, run up to C.0 (group "name"). */
async function linkUpTo(id: string, groupName: string) {
  const plan = clusterPlanFor(set, { kind: 'link-cluster', id, buildsOn: [replication.digest], groupName })
  const stateDir = join(dir, id)
  const mediaDir = join(stateDir, 'media')
  mkdirSync(mediaDir, { recursive: true })
  const [password] = [...clusterPasswordFor(set, plan).values()]
  const engine = await CeremonyEngine.open({
    ...engineOptions(plan, set.credentials, stateDir, mediaDir), password: () => Buffer.from(password!), outage: inProcessOutage([sim]), records: () => [replication.record],
  })
  while (engine.currentStep() && engine.currentStep()!.id !== STEP) {
    await signWhatIsDue(engine)
    const step = engine.currentStep()!
    await engine.runStep(step.id, { confirmation: engine.expectedConfirmation(step.id) ?? undefined })
  }
  await signWhatIsDue(engine)
  const groupId = (engine.record('create-group').result as { groupId: string }).groupId
  return { engine, mediaDir, groupId }
}

async function seal(engine: CeremonyEngine, mediaDir: string) {
  await runToCompletion(engine, { credentials: set.credentials, confirm: true, witnessing: { kind: 'simulated' } })
  const { path, record } = await engine.sealRecord()
  await engine.shutdown()
  assert.equal(verifyRecord(JSON.parse(readFileSync(path, 'utf8')), { artifactsDir: mediaDir }).ok, true)
  if (python) {
    const py = spawnSync('python3', [join(__dirname, '../docs/verify_record.py'), path, mediaDir], { encoding: 'utf8' })
    assert.equal(py.stdout.trim().split('\n')[0], `OK ${record.entries.length} ${record.finalDigest}`, py.stderr)
  }
  return record
}

interface Result { findings: { ref: string; appliance: string; kind: string; actor: string; object: string; message: string }[]; acknowledged: Record<string, number>; appliances: Record<string, { file: string; entries: number; relevant: number }>; corroborated: number; ceremonyCalls: number }

test('link-cluster: the cluster\'s and both FIPS appliances\' logs are on the record, and every change of the link is found in them', async () => {
  await new Promise((r) => setTimeout(r, 3000)) // out of the replication's last seconds (log times are whole seconds)
  const { engine, mediaDir } = await linkUpTo('logs-clean', 'CLEAN GROUP')
  await engine.runStep(STEP)
  const result = engine.record(STEP).result as unknown as Result
  assert.deepEqual(Object.keys(result.appliances).sort(), ['cluster', 'fips-1', 'fips-2'])
  assert.deepEqual(result.findings, [])
  // The group, the canary, its encryption, its decryption and the drill's decryption: all on the cluster's log.
  assert.equal(result.ceremonyCalls, 5)
  assert.equal(result.corroborated, 5)
  assert.ok(result.appliances['fips-1']!.relevant > 0, 'the cluster\'s work on fips-1 (the canary wrapped under the CMK) is in scope, and accounted for')
  assert.equal(readdirSync(mediaDir).filter((n) => n.includes('-appliance-log-')).length, 3)
  const record = await seal(engine, mediaDir)
  assert.equal(record.artifacts.filter((a) => a.name.includes('-appliance-log-')).length, 3)
  assert.equal(record.entries.find((e) => e.kind === 'step-done' && e.step === STEP)!.facts['scriptId'], 'C.0')
})

test('link-cluster: an extra key created in the cluster group by another session during the link is a finding that must be acknowledged; the FIPS API key used on its own is one too', async () => {
  await new Promise((r) => setTimeout(r, 3000))
  const { engine, mediaDir, groupId } = await linkUpTo('logs-extra', 'EXTRA GROUP')
  // Another session on the cluster (the administrator's user, signed in again elsewhere) makes a key in the ceremony's group.
  const admin = set.cluster!.users.find((u) => u.role === 'account-admin')!
  const session = await UserSession.login(connect(cluster), { username: admin.user, password: Buffer.from(admin.password), accountId: cluster.accountId })
  const extra = await session.keys.generate({ name: 'made-during-the-link', obj_type: 'AES', key_size: 256, key_ops: ['ENCRYPT', 'DECRYPT'], group_id: groupId })
  await session.logout()

  const first = await refusal(engine)
  assert.equal(first.code, 'APPLIANCE_LOG_FINDINGS')
  const refs = refsIn(first.message)
  assert.equal(refs.length, 1, `exactly one finding (the FIPS side of the extra key is the cluster's doing): ${first.message}`)
  assert.match(first.message, new RegExp(`${refs[0]} \\(cluster [^,]+, User [0-9a-f-]+: ADMINISTRATIVE on ${extra.kid}`))
  assert.match(first.message, /made-during-the-link/)

  // Someone uses fips-2's API key directly (not through the cluster) while the step is refused.
  await new Promise((r) => setTimeout(r, 8000)) // well after anything the cluster logged (4 s margins, and the cluster's own answer time)
  const f2 = sim.appliances[1]!
  const direct = await AppSession.open(connect(f2), Buffer.from(f2.apiKey))
  const stray = await direct.keys.generate({ name: 'made-with-the-fips-key', obj_type: 'AES', key_size: 256, key_ops: ['ENCRYPT'], group_id: f2.groupId })
  await direct.logout()
  // The logs first captured are judged again: the direct use is after them, so a fresh capture is needed to see it.
  const firstCapture = readdirSync(mediaDir).filter((x) => x.includes('-appliance-log-'))
  for (const n of firstCapture) renameSync(join(mediaDir, n), join(mediaDir, `${n}.aside`))
  const second = await refusal(engine)
  const refs2 = refsIn(second.message)
  assert.equal(refs2.length, 2, second.message)
  assert.ok(refs2.includes(refs[0]!), 'the same extra key is the same finding on another reading')
  assert.match(second.message, new RegExp(`\\(fips-2 [^,]+, App ${f2.appId}: ADMINISTRATIVE on ${stray.kid}`))

  await engine.recordException(STEP, 'Witness One', `${refs[0]}: the group administrator made a test key in the group during the link; it is deleted after the ceremony.`)
  assert.equal((await refusal(engine)).code, 'APPLIANCE_LOG_FINDINGS', 'one finding is still not acknowledged')
  const strayRef = refs2.find((r) => r !== refs[0])!
  await engine.recordException(STEP, 'Witness Two', `${strayRef}: the fips-2 API key was used from the operator's laptop to test it; the key it made is deleted.`)
  await engine.runStep(STEP)
  const result = engine.record(STEP).result as unknown as Result
  assert.deepEqual(result.findings.map((f) => f.ref).sort(), [...refs2].sort())
  assert.deepEqual(Object.keys(result.acknowledged).sort(), [...refs2].sort())
  assert.equal(result.corroborated, result.ceremonyCalls, 'every change of the link itself is on the cluster')
  // The first capture is on the record too (its artifacts): back on the media for the verifiers.
  for (const n of firstCapture) renameSync(join(mediaDir, `${n}.aside`), join(mediaDir, n))
  const record = await seal(engine, mediaDir)
  const done = record.entries.find((e) => e.kind === 'step-done' && e.step === STEP)!
  assert.equal((done.facts['result'] as Result).findings.length, 2)
})

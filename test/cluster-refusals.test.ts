/**
 * link-cluster refuses what is wrong before anything is created on the cluster, each by name and
 * at a named step, against FIPS appliances and a cluster in separate simulator processes: a wrong
 * TLS pin and a wrong API key (the workstation's own preflight contact), a non-FIPS appliance named
 * as a FIPS one and a certificate that is not the one read (the cluster's connection test), a
 * group of the plan's name linked otherwise, a missing or altered replication record. A group that
 * is already linked exactly as planned is recognised and verified, not created again. A production
 * plan takes no password from a file, and asks for it only at a terminal.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { CeremonyEngine } from '../main/ceremony/engine'
import { processOutage } from '../main/ceremony/outage'
import type { Plan } from '../main/ceremony/plan'
import { clusterPasswordFor, clusterPlanFor, readCredentialFiles, type CredentialSet } from '../main/ceremony/simulated-cluster-plan'
import { runHeadless } from '../main/cli/headless'
import { buildFipsClusterConfig, type UserSession } from '../main/dsm'
import { engineOptions, signWhatIsDue } from './support/ceremony-fixture'
import { runCeremonyAsync } from './support/cli-output'
import { adminOf, clusterProcess, failedStep, fipsProcess, groupsNamed, keysNamed, replicate, secretsOf, type ClusterProcess, type FipsProcess } from './support/cluster-fixture'
import { stopAllSimulators } from './support/sim-processes'

const dir = mkdtempSync(join(tmpdir(), 'dsm-cluster-refuse-'))
let f1: FipsProcess
let f2: FipsProcess
let f9: FipsProcess
let cluster: ClusterProcess
let admin: UserSession
let record: unknown
let record9: unknown
let digest = ''
let digest9 = ''

before(async () => {
  ;[f1, f2, f9, cluster] = await Promise.all([
    fipsProcess(dir, 'fips-1'), fipsProcess(dir, 'fips-2', { cmk: false }), fipsProcess(dir, 'fips-9', { cmk: false, fips: false }), clusterProcess(dir),
  ])
  admin = await adminOf(cluster)
  const r = await replicate(join(dir, 'state'), [f1, f2], 'replicate-1-2')
  // fips-1 is the source of both: appliance log times are whole seconds, and the first replication's
  // changes must fall before the second's window at C.0 (2 s margin), or they would be its findings.
  await new Promise((resolve) => setTimeout(resolve, 3100))
  const r9 = await replicate(join(dir, 'state'), [f1, f9], 'replicate-1-9')
  ;[record, digest, record9, digest9] = [r.record, r.summary.finalDigest!, r9.record, r9.summary.finalDigest!]
})
after(async () => {
  await admin?.logout().catch(() => undefined)
  await stopAllSimulators()
  rmSync(dir, { recursive: true, force: true })
})

function credentialSet(appliances: FipsProcess[]): CredentialSet {
  return readCredentialFiles([...appliances.map((a) => ({ name: a.id, text: JSON.stringify({ appliances: [a.entry] }) })), { name: 'cluster', text: JSON.stringify({ cluster: cluster.ready }) }])
}

async function link(id: string, o: { appliances?: FipsProcess[]; group: string; buildsOn?: string[]; records?: unknown[]; tweak?: (plan: Plan & Record<string, unknown>, set: CredentialSet) => void }) {
  const set = credentialSet(o.appliances ?? [f1, f2])
  const plan = clusterPlanFor(set, { kind: 'link-cluster', id, buildsOn: o.buildsOn ?? [digest], groupName: o.group }) as Plan & Record<string, unknown>
  o.tweak?.(plan, set)
  const stateDir = join(dir, 'state', id)
  const summary = await runHeadless({
    plan, credentials: set.credentials, stateDir, confirm: true, witnessing: { kind: 'simulated' }, records: o.records ?? [record],
    passwords: new Map([...clusterPasswordFor(set, plan)].map(([k, v]) => [k, Buffer.from(v)])),
    outage: processOutage((o.appliances ?? [f1, f2]).map((a) => ({ id: a.id, pid: a.entry.pid, host: a.entry.host, port: a.entry.port }))),
  })
  return { summary, failed: failedStep(stateDir), groups: await groupsNamed(admin, o.group) }
}

describe('link-cluster refuses by name, and creates nothing on the cluster', () => {
  test('a wrong TLS pin for fips-2: TLS_PIN_MISMATCH at the preflight, before any request reaches it', async () => {
    const r = await link('refuse-pin', { group: 'G pin', tweak: (plan) => { plan.appliances[1]!.trust = { spkiSha256: randomBytes(32).toString('hex') } } })
    assert.deepEqual(r.failed, { step: 'preflight', code: 'TLS_PIN_MISMATCH' })
    assert.equal(r.summary.error?.code, 'TLS_PIN_MISMATCH')
    assert.deepEqual(r.groups, [])
  })

  test('a wrong API key for fips-2 (fips-1\'s): refused at the preflight sign-in, never sent to the cluster', async () => {
    const r = await link('refuse-key', { group: 'G key', tweak: (_plan, set) => { set.credentials.appliances[1]!.apiKey = f1.entry.apiKey } })
    assert.deepEqual(r.failed, { step: 'preflight', code: 'UNAUTHORIZED' })
    assert.deepEqual(r.groups, [])
  })

  test('a non-FIPS appliance named as a FIPS one (holding the CMK): NOT_FIPS_APPLIANCE at its connection test', async () => {
    const r = await link('refuse-nonfips', { appliances: [f1, f9], group: 'G nonfips', buildsOn: [digest9], records: [record9] })
    assert.deepEqual(r.failed, { step: 'test-connection:fips-9', code: 'NOT_FIPS_APPLIANCE' })
    assert.match(r.summary.error?.message ?? '', /not a FIPS appliance/)
    assert.deepEqual(r.groups, [])
  })

  test('a group of the plan\'s name, linked otherwise: GROUP_CONFLICT at the preflight; the group is left as it was', async () => {
    const other = await admin.groups.create({ name: 'G other', add_hmg: [buildFipsClusterConfig({ address: `127.0.0.1:${f1.entry.port}`, certificates: [Buffer.from(f1.process.ready.appliances[0].certDer, 'base64')], apiKey: Buffer.from(f1.entry.apiKey) })] })
    const r = await link('refuse-conflict', { group: 'G other' })
    assert.deepEqual(r.failed, { step: 'preflight', code: 'GROUP_CONFLICT' })
    assert.equal(r.groups.length, 1)
    assert.deepEqual(Object.keys(r.groups[0]!.hmg ?? {}), Object.keys(other.hmg ?? {}), 'unchanged')
  })

  test('the replication record missing, or altered: RECORD_MISSING, RECORD_INVALID', async () => {
    const missing = await link('refuse-norecord', { group: 'G norecord', records: [] })
    assert.deepEqual(missing.failed, { step: 'preflight', code: 'RECORD_MISSING' })
    const altered = structuredClone(record) as { entries: { facts: Record<string, unknown> }[] }
    altered.entries[3]!.facts['tampered'] = true
    const bad = await link('refuse-badrecord', { group: 'G badrecord', records: [altered] })
    assert.deepEqual(bad.failed, { step: 'preflight', code: 'RECORD_INVALID' })
    assert.deepEqual([...missing.groups, ...bad.groups], [])
  })

  test('a group already linked exactly as planned: the preflight says so, linking is skipped, the group is verified', async () => {
    // Out of the last seconds of the replications before (log times are whole seconds): each C.0 sees
    // only its own ceremony's changes on the appliances, as between real ceremonies.
    await new Promise((r) => setTimeout(r, 3000))
    const first = await link('link-once', { group: 'G twice' })
    assert.equal(first.summary.ok, true, JSON.stringify(first.summary.error))
    await new Promise((r) => setTimeout(r, 3000)) // out of link-once's last seconds in the same group
    const again = await link('link-again', { group: 'G twice' })
    assert.equal(again.summary.ok, true, JSON.stringify(again.summary.error))
    assert.equal((again.summary.outcome['group'] as { alreadyLinked: boolean }).alreadyLinked, true)
    assert.equal(again.groups.length, 1, 'still one group')
    assert.equal((await keysNamed(admin, 'link-again-recovery-canary')).length, 1, 'verified with its own canary')
  })

  test('fips-2 replaced after its certificate was read: the cluster sees a certificate that is not pinned, HMG_CERT_NOT_PINNED at its connection test', async () => {
    const set = credentialSet([f1, f2])
    const plan = clusterPlanFor(set, { kind: 'link-cluster', id: 'refuse-cert', buildsOn: [digest], groupName: 'G cert' })
    const stateDir = join(dir, 'state', 'refuse-cert')
    mkdirSync(join(stateDir, 'media'), { recursive: true })
    const engine = await CeremonyEngine.open({
      ...engineOptions(plan, set.credentials, stateDir, join(stateDir, 'media')),
      password: () => Buffer.from(cluster.ready.users.find((u) => u.role === 'account-admin')!.password), records: () => [record],
    })
    try {
      await engine.runStep('preflight')
      await signWhatIsDue(engine)
      await engine.runStep('certificates')
      await signWhatIsDue(engine)
      // The same address, another appliance: a fresh process (and certificate) on fips-2's port.
      await f2.process.kill()
      await fipsProcess(join(dir, 'again'), 'fips-2', { cmk: false, port: f2.entry.port })
      await engine.runStep('test-connection:fips-1')
      await signWhatIsDue(engine)
      await assert.rejects(engine.runStep('test-connection:fips-2'), (e: unknown) => (e as { code?: string }).code === 'HMG_CERT_NOT_PINNED' && /not pinned/.test((e as Error).message))
    } finally {
      await engine.shutdown()
    }
    assert.deepEqual(await groupsNamed(admin, 'G cert'), [])
  })
})

describe('passwords of a production cluster ceremony', () => {
  test('never from a file: a production plan with a cluster file is refused before anything runs; without a terminal, PASSWORD_MISSING', async () => {
    const set = credentialSet([f1, f2])
    const plan = clusterPlanFor(set, { kind: 'link-cluster', id: 'prod-link', buildsOn: [digest], mode: 'production' })
    writeFileSync(join(dir, 'prod.plan.json'), JSON.stringify(plan))
    const canaries = secretsOf([f1, f2], cluster)
    // API keys only (a production credentials file names no custodian password).
    const keys = join(dir, 'prod-keys.json')
    writeFileSync(keys, JSON.stringify({ appliances: [f1, f2].map(({ entry: { custodians: _c, pid: _p, ...a } }) => a) }))
    const withFile = await runCeremonyAsync(['run', '--plan', join(dir, 'prod.plan.json'), '--credentials', keys, '--credentials', cluster.file, '--yes', '--state', join(dir, 'state', 'prod')], { canaries })
    assert.equal(withFile.status, 2)
    assert.match(withFile.stderr, /holds custodian passwords or a cluster user password/)
    const noTty = await runCeremonyAsync(['run', '--plan', join(dir, 'prod.plan.json'), '--credentials', keys, '--yes', '--state', join(dir, 'state', 'prod')], { canaries })
    assert.equal(noTty.status, 2)
    assert.match(noTty.stderr, /no terminal to type it at/)
    assert.deepEqual(await groupsNamed(admin, 'FIPS GROUP'), [])
  })
})

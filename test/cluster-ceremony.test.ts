/**
 * Issue 11, "done when": the FIPS appliances and the non-FIPS cluster each in their own simulator
 * process, over TLS. The CMK is replicated fips-1 → fips-2 by the replication ceremony; then
 * `ceremony plan --kind link-cluster` and `ceremony run` with three credentials files and the
 * replication record link both appliances to a group and verify it (the failover drill takes
 * fips-1's process down and brings it back); then verify-cluster runs on its own. Killing fips-1's
 * process, the canary still decrypts through fips-2; killing both, a named error. Every command's
 * stdout and stderr, and every file the ceremonies wrote, are scanned for the API keys and passwords.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { CANARY_MESSAGE } from '../main/ceremony/cluster-plan'
import { inGroup } from '../main/ceremony/cluster-steps'
import type { UserSession } from '../main/dsm'
import { verifyRecord } from '../main/evidence'
import { canaryForms, runCeremonyAsync, secretShapesIn } from './support/cli-output'
import { adminOf, clusterProcess, filesUnder, fipsProcess, groupsNamed, keysNamed, replicate, secretsOf, type ClusterProcess, type FipsProcess } from './support/cluster-fixture'
import { stopAllSimulators } from './support/sim-processes'

const dir = mkdtempSync(join(tmpdir(), 'dsm-cluster-'))
let f1: FipsProcess
let f2: FipsProcess
let cluster: ClusterProcess
let admin: UserSession
let canaries: string[]
let linkRecordFile = ''
/** The replication's record: handed to the verification too, as the chain it builds on (the link builds on it). */
let replicationFile = ''
let linkRecord: { entries: { kind: string; step: string; facts: Record<string, unknown> }[] }

before(async () => {
  ;[f1, f2, cluster] = await Promise.all([fipsProcess(dir, 'fips-1'), fipsProcess(dir, 'fips-2', { cmk: false }), clusterProcess(dir)])
  canaries = secretsOf([f1, f2], cluster)
  admin = await adminOf(cluster)
})
after(async () => {
  await admin?.logout().catch(() => undefined)
  await stopAllSimulators()
  rmSync(dir, { recursive: true, force: true })
})

const last = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!)

function scanFiles(root: string): number {
  const files = filesUnder(root)
  for (const file of files) {
    const text = readFileSync(file, 'latin1')
    for (const c of canaryForms(canaries)) assert.ok(!text.includes(c), `${file} holds a secret`)
    assert.deepEqual(secretShapesIn(text).filter((s) => !(/wrapped_master_key\.out$/.test(file) && s.startsWith('key bytes'))), [], file)
  }
  return files.length
}

/** The script ids of the steps that ran, after checking each was signed, and only by simulated witnesses. */
function scriptIdsSigned(record: { entries: { kind: string; step: string; facts: Record<string, unknown> }[] }): string[] {
  const done = record.entries.filter((e) => e.kind === 'step-done').map((e) => String(e.facts['scriptId']))
  const signoffs = record.entries.filter((e) => e.kind === 'witness-signoff')
  assert.deepEqual([...new Set(signoffs.map((e) => String(e.facts['scriptId'])))].sort(), [...done].sort(), 'every step that ran was signed')
  assert.ok(signoffs.every((e) => e.facts['simulated'] === true), 'a rehearsal\'s sign-offs are the simulated witnesses\'')
  return done
}

describe('replicate, link and verify, every system in its own process', () => {
  test('the CMK replicated fips-1 → fips-2, then link-cluster from the command line: one group, linked as planned, one canary, failover proved', async () => {
    const t0 = Date.now()
    const replication = await replicate(join(dir, 'state'), [f1, f2], 'replicate-proc')
    replicationFile = replication.file
    const planOut = await runCeremonyAsync(['plan', '--kind', 'link-cluster', '--appliances', `${f1.file},${f2.file}`, '--cluster', cluster.file, '--record', replication.file, '--id', 'link-proc'], { canaries })
    assert.equal(planOut.status, 0, planOut.stderr)
    const plan = JSON.parse(planOut.stdout)
    assert.deepEqual(plan.buildsOn, [replication.summary.finalDigest])
    assert.deepEqual(plan.fips, ['fips-1', 'fips-2'])
    assert.ok(!planOut.stdout.includes('password') && !planOut.stdout.includes('apiKey'), 'the plan holds no secret')
    writeFileSync(join(dir, 'link.plan.json'), planOut.stdout)
    const run = await runCeremonyAsync(['run', '--plan', join(dir, 'link.plan.json'), '--credentials', f1.file, '--credentials', f2.file, '--credentials', cluster.file, '--record', replication.file, '--state', join(dir, 'state', 'link-proc')], { canaries })
    assert.equal(run.status, 0, run.stderr.slice(-2000) + run.stdout.slice(-1500))
    const summary = last(run.stdout)
    process.stderr.write(`# replicate + link + verify with 3 simulator processes: ${Date.now() - t0} ms, ${summary.requests} requests by the link run\n`)
    assert.equal(summary.ok, true)
    assert.equal(summary.outcome.kcvMatches, true)
    assert.equal(summary.outcome.kcv, replication.summary.outcome['sourceKcv'])
    assert.equal(summary.outcome.failover, true, 'the drill took fips-1 down and decrypted through fips-2')
    assert.equal(summary.outcome.canary.match, true)
    assert.equal(summary.outcome.canary.virtual, true)

    const groups = await groupsNamed(admin, 'FIPS GROUP')
    assert.equal(groups.length, 1, 'exactly one group')
    const configs = Object.values(groups[0]!.hmg ?? {}).sort((a, b) => (a.hsm_order ?? 0) - (b.hsm_order ?? 0))
    assert.deepEqual(configs.map((c) => [c.url, c.hsm_order]), [[`127.0.0.1:${f1.entry.port}`, 0], [`127.0.0.1:${f2.entry.port}`, 1]])
    assert.equal(groups[0]!.hmg_redundancy, 'PriorityFailover')
    const canary = await keysNamed(admin, 'link-proc-recovery-canary')
    assert.equal(canary.length, 1, 'exactly one canary')
    assert.equal(canary[0]!.external?.hsm_group_id, groups[0]!.group_id)
    await admin.groups.checkHmg(groups[0]!.group_id) // fips-1 was brought back: the whole group passes

    linkRecordFile = summary.record
    linkRecord = JSON.parse(readFileSync(linkRecordFile, 'utf8'))
    assert.equal(verifyRecord(linkRecord, { artifactsDir: join(dir, 'state', 'link-proc', 'media') }).ok, true)
    const pre = linkRecord.entries.find((e) => e.kind === 'step-done' && e.step === 'preflight')!
    assert.equal((pre.facts['result'] as { replication: { finalDigest: string }[] }).replication[0]!.finalDigest, replication.summary.finalDigest, 'the record links back')
    const drill = linkRecord.entries.find((e) => e.kind === 'step-done' && e.step === 'failover-drill')!
    assert.equal((drill.facts['result'] as { workstationSaw: string }).workstationSaw, 'UNREACHABLE')
    // Every step by its script id, signed by the rehearsal's simulated witnesses (and marked so).
    assert.deepEqual(scriptIdsSigned(linkRecord), ['P.0', 'L.1', 'L.2', 'L.3', 'L.4', 'L.5', 'L.6', 'V.1', 'V.2', 'V.3', 'V.4', 'C.0', 'C.1'])
    assert.ok(scanFiles(join(dir, 'state')) >= 8, 'journals, logs, records and media files were scanned')
  })

  test('verify-cluster on its own, building on the link record: a second canary, the drill again', async () => {
    const planOut = await runCeremonyAsync(['plan', '--kind', 'verify-cluster', '--appliances', `${f1.file},${f2.file}`, '--cluster', cluster.file, '--record', linkRecordFile, '--id', 'verify-proc'], { canaries })
    assert.equal(planOut.status, 0, planOut.stderr)
    writeFileSync(join(dir, 'verify.plan.json'), planOut.stdout)
    const run = await runCeremonyAsync(['run', '--plan', join(dir, 'verify.plan.json'), '--credentials', f1.file, '--credentials', f2.file, '--credentials', cluster.file, '--record', linkRecordFile, '--record', replicationFile, '--state', join(dir, 'state', 'verify-proc')], { canaries })
    assert.equal(run.status, 0, run.stderr.slice(-2000) + run.stdout.slice(-1500))
    const summary = last(run.stdout)
    assert.equal(summary.outcome.canary.match, true)
    assert.equal(summary.outcome.failover, true)
    assert.equal((await keysNamed(admin, 'verify-proc-recovery-canary')).length, 1)
    assert.equal((await groupsNamed(admin, 'FIPS GROUP')).length, 1, 'still one group')
    assert.deepEqual(scriptIdsSigned(JSON.parse(readFileSync(summary.record, 'utf8'))), ['P.0', 'V.1', 'V.2', 'V.3', 'V.4', 'C.0', 'C.1'])
    scanFiles(join(dir, 'state', 'verify-proc'))
  })

  test('fips-1\'s process killed: the canary\'s test ciphertext from the record still decrypts, through fips-2', async () => {
    const crypto = linkRecord.entries.find((e) => e.kind === 'step-done' && e.step === 'canary-crypto')!.facts['result'] as { kid: string; cipher: string; iv: string; tag: string }
    await f1.process.kill()
    const t0 = Date.now()
    const plain = await admin.crypto.decrypt({ key: { kid: crypto.kid }, mode: 'GCM', cipher: Buffer.from(crypto.cipher, 'base64'), iv: Buffer.from(crypto.iv, 'base64'), tag: Buffer.from(crypto.tag, 'base64') })
    process.stderr.write(`# decryption with fips-1 dead: ${Date.now() - t0} ms\n`)
    assert.equal(plain.toString('utf8'), CANARY_MESSAGE)
  })

  test('both killed: decryption in the group is FIPS_UNREACHABLE, and a verify-cluster run stops by name', async () => {
    const crypto = linkRecord.entries.find((e) => e.kind === 'step-done' && e.step === 'canary-crypto')!.facts['result'] as { kid: string; cipher: string; iv: string; tag: string }
    await f2.process.kill()
    await assert.rejects(
      inGroup('FIPS GROUP', () => admin.crypto.decrypt({ key: { kid: crypto.kid }, mode: 'GCM', cipher: Buffer.from(crypto.cipher, 'base64'), iv: Buffer.from(crypto.iv, 'base64'), tag: Buffer.from(crypto.tag, 'base64') })),
      (e: unknown) => (e as { code?: string }).code === 'FIPS_UNREACHABLE' && /No FIPS appliance/.test((e as Error).message),
    )
    const run = await runCeremonyAsync(['run', '--plan', join(dir, 'verify.plan.json'), '--credentials', f1.file, '--credentials', f2.file, '--credentials', cluster.file, '--record', linkRecordFile, '--state', join(dir, 'state', 'verify-dead')], { canaries })
    assert.equal(run.status, 1)
    const summary = last(run.stdout)
    assert.equal(summary.ok, false)
    assert.equal(summary.error.code, 'HMG_UNREACHABLE', summary.error.message)
  })
})

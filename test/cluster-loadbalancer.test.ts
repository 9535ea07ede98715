/**
 * The load-balancer variant (guide §4.0), every system in its own simulator process: the group gets
 * one config at the balancer's address holding both appliances' API keys and both certificates, no
 * priority failover. The balancer lists a dead backend from the start; the link, the saved group's
 * test and the failover drill (fips-1's port closed) all pass through it, and once fips-1's process
 * is killed the canary still decrypts through the balancer.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { CANARY_MESSAGE } from '../main/ceremony/cluster-plan'
import type { UserSession } from '../main/dsm'
import { runCeremonyAsync } from './support/cli-output'
import { adminOf, clusterProcess, fipsProcess, groupsNamed, replicate, secretsOf, type ClusterProcess, type FipsProcess } from './support/cluster-fixture'
import { spawnSimulator, stopAllSimulators } from './support/sim-processes'

const dir = mkdtempSync(join(tmpdir(), 'dsm-cluster-lb-'))
let f1: FipsProcess
let f2: FipsProcess
let cluster: ClusterProcess
let admin: UserSession
let lbFile = ''
let lbAddress = ''

/** A loopback port nothing listens on. */
function deadPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

before(async () => {
  ;[f1, f2, cluster] = await Promise.all([fipsProcess(dir, 'fips-1'), fipsProcess(dir, 'fips-2', { cmk: false }), clusterProcess(dir)])
  const dead = await deadPort()
  const lb = await spawnSimulator(['--role', 'load-balancer', '--backends', `127.0.0.1:${f1.entry.port},127.0.0.1:${dead},127.0.0.1:${f2.entry.port}`, '--write-config', dir])
  lbFile = join(dir, 'load-balancer.json')
  lbAddress = lb.ready.loadBalancer.address
  admin = await adminOf(cluster)
})
after(async () => {
  await admin?.logout().catch(() => undefined)
  await stopAllSimulators()
  rmSync(dir, { recursive: true, force: true })
})

test('linked through a load balancer with a dead backend: one config with every API key; failover proved; fips-1 killed, the canary still decrypts', async () => {
  const canaries = secretsOf([f1, f2], cluster)
  const replication = await replicate(join(dir, 'state'), [f1, f2], 'replicate-lb')
  const planOut = await runCeremonyAsync(['plan', '--kind', 'link-cluster', '--appliances', `${f1.file},${f2.file}`, '--cluster', cluster.file, '--load-balancer', lbFile, '--record', replication.file, '--id', 'link-lb'], { canaries })
  assert.equal(planOut.status, 0, planOut.stderr)
  assert.equal(`${JSON.parse(planOut.stdout).loadBalancer.host}:${JSON.parse(planOut.stdout).loadBalancer.port}`, lbAddress)
  writeFileSync(join(dir, 'plan.json'), planOut.stdout)
  const run = await runCeremonyAsync(['run', '--plan', join(dir, 'plan.json'), '--credentials', f1.file, '--credentials', f2.file, '--credentials', cluster.file, '--record', replication.file, '--state', join(dir, 'state', 'link-lb')], { canaries })
  assert.equal(run.status, 0, run.stderr.slice(-1500) + run.stdout.slice(-800))
  const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!)
  assert.equal(summary.outcome.failover, true)
  assert.match(run.stderr, /test-connection:load-balancer: done/)

  const [group] = await groupsNamed(admin, 'FIPS GROUP')
  const configs = Object.values(group!.hmg ?? {})
  assert.equal(configs.length, 1, 'one config, at the balancer')
  assert.equal(configs[0]!.url, lbAddress)
  assert.equal(configs[0]!.hsm_order ?? null, null)
  assert.equal(((configs[0]!.tls?.['ca'] as { pinned: string[] }).pinned).length, 2, 'both appliances\' certificates pinned')
  assert.equal(group!.hmg_redundancy ?? null, null)

  const record = JSON.parse(readFileSync(summary.record, 'utf8')) as { entries: { kind: string; step: string; facts: Record<string, unknown> }[] }
  const crypto = record.entries.find((e) => e.kind === 'step-done' && e.step === 'canary-crypto')!.facts['result'] as { kid: string; cipher: string; iv: string; tag: string }
  await f1.process.kill()
  const plain = await admin.crypto.decrypt({ key: { kid: crypto.kid }, mode: 'GCM', cipher: Buffer.from(crypto.cipher, 'base64'), iv: Buffer.from(crypto.iv, 'base64'), tag: Buffer.from(crypto.tag, 'base64') })
  assert.equal(plain.toString('utf8'), CANARY_MESSAGE)
})

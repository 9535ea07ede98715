/**
 * Crash safety (design §6), for real: the headless runner is SIGKILLed at every step boundary and
 * in the middle of every state-changing request, then the same command is run again. Every run must
 * end with exactly one CMK per target with the source's KCV, no transfer key anywhere, and a
 * record that verifies.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { planForAppliances } from '../main/ceremony/simulated-plan'
import { KINDS } from '../main/ceremony/registry'
import { verifyRecord } from '../main/evidence'
import { startSimulator, type FaultRule, type RunningSimulator, type SimulatorOptions } from '../main/simulator'
import { credentialsOf } from './support/ceremony-fixture'

const CLI = join(__dirname, '../bin/ceremony.cjs')

interface Outcome {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

function runCli(args: string[], env: Record<string, string> = {}, onSpawn?: (kill: () => void) => void): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }))
    onSpawn?.(() => child.kill('SIGKILL'))
  })
}

async function scenario(options: { kill?: string; fault?: { appliance: number; rule: FaultRule }; sim?: Partial<SimulatorOptions> }) {
  const sim: RunningSimulator = await startSimulator({ appliances: 2, ...options.sim })
  const dir = mkdtempSync(join(tmpdir(), 'dsm-kill-'))
  try {
    const creds = credentialsOf(sim)
    const plan = planForAppliances(creds, { id: 'kill-test' })
    writeFileSync(join(dir, 'appliances.json'), JSON.stringify(creds))
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan))
    const args = ['run', '--plan', join(dir, 'plan.json'), '--credentials', join(dir, 'appliances.json'), '--state', join(dir, 'state')]

    let first: Outcome
    if (options.kill) {
      first = await runCli(args, { CEREMONY_KILL_AT: options.kill })
    } else {
      const handle = sim.appliances[options.fault!.appliance]!.faults.add({ ...options.fault!.rule, times: 1 })
      first = await runCli(args, {}, (kill) => void handle.hit.then(() => setTimeout(kill, 50)))
      sim.appliances.forEach((a) => a.faults.releaseStalled())
    }
    assert.equal(first.signal, 'SIGKILL', `the first run was killed (exit ${first.code}): ${first.stderr.slice(-800)}`)

    const second = await runCli(args)
    const summary = JSON.parse(second.stdout.trim().split('\n').at(-1) ?? '{}')
    assert.equal(second.code, 0, `the resumed run succeeds: ${second.stderr.slice(-1500)}`)
    assert.equal(summary.ok, true)

    const sourceKcv = sim.appliances[0]!.state.sobjects().find((o) => o.name === plan.cmk.name)!.kcv
    for (const appliance of sim.appliances) {
      const objects = appliance.state.sobjects()
      const cmks = objects.filter((o) => o.name === plan.cmk.name)
      assert.equal(cmks.length, 1, `exactly one CMK on ${appliance.id}`)
      assert.equal(cmks[0]!.kcv, sourceKcv)
      assert.deepEqual(objects.filter((o) => o.name?.includes('transfer')).map((o) => o.name), [], `no transfer key on ${appliance.id}`)
    }
    assert.equal(summary.outcome.targets['fips-2'].kcv.toLowerCase(), sourceKcv!.toLowerCase())
    assert.equal(summary.outcome.targets['fips-2'].transferKeysDeleted, true)
    const record = JSON.parse(readFileSync(summary.record, 'utf8'))
    const verified = verifyRecord(record, { artifactsDir: join(dir, 'state', 'media') })
    assert.equal(verified.ok, true, JSON.stringify(verified))
    // At most one export and one import ever executed per target, however often requests were made.
    const executions = (i: number, op: string) => sim.appliances[i]!.state.approvalRequests().filter((r) => r.operation === op && r.executions > 0).length
    assert.ok(executions(1, '/crypto/v1/unwrapkey') === 1, 'the CMK was unwrapped exactly once on the target')
    return { record, summary, second }
  } finally {
    await sim.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

const probe = planForAppliances({ appliances: [
  { id: 'fips-1', apiKey: 'x', host: '127.0.0.1', port: 1, spkiSha256: '0'.repeat(64) },
  { id: 'fips-2', apiKey: 'x', host: '127.0.0.1', port: 2, spkiSha256: '1'.repeat(64) },
] }, { id: 'kill-test' })
const STEPS = KINDS['replicate-cmk'].steps(probe).map((s) => s.id)

describe('SIGKILL at every step boundary, then resume', { concurrency: 2 }, () => {
  for (const step of STEPS) {
    for (const phase of ['after-intent', 'after-done']) {
      test(`${step} @ ${phase}`, async () => {
        await scenario({ kill: `${step}@${phase}` })
      })
    }
  }
})

describe('SIGKILL in the middle of each state-changing request (applied, answer never sent), then resume', { concurrency: 2 }, () => {
  const requests: Array<[string, number, FaultRule]> = [
    ['generate the transfer key', 1, { method: 'POST', path: '/crypto/v1/keys', kind: 'stall', after: 'after-apply' }],
    ['import the public key', 0, { method: 'PUT', path: '/crypto/v1/keys', kind: 'stall', after: 'after-apply' }],
    ['open the wrap approval request', 0, { method: 'POST', path: '/sys/v1/approval_requests', kind: 'stall', after: 'after-apply' }],
    ['a custodian approves the export', 0, { method: 'POST', path: /\/approve$/, kind: 'stall', after: 'after-apply' }],
    ['the quorum-completing approval of the export', 0, { method: 'POST', path: /\/approve$/, kind: 'stall', after: 'after-apply', skip: 1 }],
    ['fetch the wrapped key', 0, { method: 'POST', path: /\/result$/, kind: 'stall', after: 'after-apply' }],
    ['open the unwrap approval request', 1, { method: 'POST', path: '/sys/v1/approval_requests', kind: 'stall', after: 'after-apply' }],
    ['the quorum-completing approval of the import', 1, { method: 'POST', path: /\/approve$/, kind: 'stall', after: 'after-apply', skip: 1 }],
    ['fetch the unwrapped key', 1, { method: 'POST', path: /\/result$/, kind: 'stall', after: 'after-apply' }],
    ['delete the transfer key on the target', 1, { method: 'DELETE', path: /^\/crypto\/v1\/keys\//, kind: 'stall', after: 'after-apply' }],
    ['delete the imported key on the source', 0, { method: 'DELETE', path: /^\/crypto\/v1\/keys\//, kind: 'stall', after: 'after-apply' }],
  ]
  for (const [name, appliance, rule] of requests) {
    test(name, async () => {
      await scenario({ fault: { appliance, rule } })
    })
  }

  test('fetch the wrapped key on an appliance that gives a result only once: a fresh approval, recorded as an exception', async () => {
    const { record } = await scenario({
      fault: { appliance: 0, rule: { method: 'POST', path: /\/result$/, kind: 'stall', after: 'after-apply' } },
      sim: { vendor: { approvalResultRereadable: false } },
    })
    assert.ok(record.exceptions.some((e: { facts: { note: string } }) => /fresh approval request/.test(e.facts.note)))
  })
})

describe('SIGKILL after a file reached the media but before the journal knew', { concurrency: 2 }, () => {
  test('the transfer public key: adopted byte for byte on resume', async () => {
    await scenario({ kill: 'export-pubkey:fips-2@after-artifact' })
  })
  test('the wrapped key written, its manifest not yet: the manifest is written for it on resume', async () => {
    await scenario({ kill: 'wrap-result:fips-2@after-artifact' })
  })
  test('the first appliance log written at C.0, the others not: the logs are captured again under new names, and the record lists every file', async () => {
    const { record } = await scenario({ kill: 'appliance-logs@after-artifact' })
    const logs = record.artifacts.filter((a: { name: string }) => a.name.includes('-appliance-log-'))
    assert.equal(logs.length, 3, 'the interrupted capture\'s one file, and a fresh one per appliance')
    const done = record.entries.find((e: { kind: string; step: string }) => e.kind === 'step-done' && e.step === 'appliance-logs')
    assert.deepEqual(done.facts.result.findings, [])
  })
  test('the same on an appliance that gives a result only once: no fresh approval is needed', async () => {
    const { record } = await scenario({ kill: 'wrap-result:fips-2@after-artifact', sim: { vendor: { approvalResultRereadable: false } } })
    assert.equal(record.entries.filter((e: { kind: string }) => e.kind === 'approval-restart').length, 0)
  })
})

/**
 * Crash safety of the materials steps: the headless run is SIGKILLed right after a materials step
 * recorded what was typed (its intent), and right after it recorded its result; the same command
 * then resumes. What was typed is recorded once and judged again, never typed or logged twice, and
 * the record verifies with the storage allocation in it.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { MATERIALS_STEP } from '../main/ceremony/materials'
import { planForAppliances } from '../main/ceremony/simulated-plan'
import { verifyRecord } from '../main/evidence'
import { startSimulator } from '../main/simulator'
import { credentialsOf } from './support/ceremony-fixture'

const CLI = join(__dirname, '../bin/ceremony.cjs')

function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

describe('SIGKILL at a materials step, then resume', { concurrency: 2 }, () => {
  for (const step of Object.values(MATERIALS_STEP)) {
    for (const phase of ['after-intent', 'after-done']) {
      test(`${step} @ ${phase}`, async () => {
        const sim = await startSimulator({ appliances: 2 })
        const dir = mkdtempSync(join(tmpdir(), 'dsm-materials-kill-'))
        try {
          const creds = credentialsOf(sim)
          const plan = planForAppliances(creds, { id: 'materials-kill', materials: true })
          writeFileSync(join(dir, 'appliances.json'), JSON.stringify(creds))
          writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan))
          const args = ['run', '--plan', join(dir, 'plan.json'), '--credentials', join(dir, 'appliances.json'), '--state', join(dir, 'state')]
          const first = await runCli(args, { CEREMONY_KILL_AT: `${step}@${phase}` })
          assert.equal(first.signal, 'SIGKILL', `the first run was killed (exit ${first.code}): ${first.stderr.slice(-800)}`)
          const second = await runCli(args)
          assert.equal(second.code, 0, `the resumed run succeeds: ${second.stderr.slice(-1500)}`)
          const summary = JSON.parse(second.stdout.trim().split('\n').at(-1)!)
          const record = JSON.parse(readFileSync(summary.record, 'utf8'))
          assert.equal(verifyRecord(record, { artifactsDir: join(dir, 'state', 'media') }).ok, true)
          const entries = record.entries as { kind: string; step: string; facts: Record<string, unknown> }[]
          for (const id of Object.values(MATERIALS_STEP)) {
            assert.equal(entries.filter((e) => e.kind === 'step-intent' && e.step === id).length, 1, `${id}: what was typed is recorded once`)
            assert.equal(entries.filter((e) => e.kind === 'step-done' && e.step === id).length, 1, `${id}: one result`)
          }
          assert.equal(entries.filter((e) => e.kind === 'materials-mismatch').length, 0)
          const allocation = (entries.find((e) => e.kind === 'step-done' && e.step === MATERIALS_STEP.storage)!.facts['result'] as { allocation: { item: string; bag: string }[] }).allocation
          assert.deepEqual(allocation.map((a) => a.item), ['ceremony-laptop', 'ceremony-media', 'archive-media'])
        } finally {
          await sim.close()
          rmSync(dir, { recursive: true, force: true })
        }
      })
    }
  }
})

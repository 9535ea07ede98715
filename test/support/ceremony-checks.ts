/**
 * What every fault and bad-input test asserts once the cause is dealt with (security.md §8 D, E):
 * the ceremony converges (exactly one CMK per appliance, with the source's KCV, no transfer key
 * left), no remote action ran twice, the audit chain and the record verify, and no secret is in
 * any file the ceremony wrote.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { CeremonyEngine } from '../../main/ceremony/engine'
import type { Credentials } from '../../main/ceremony/simulated-plan'
import { runToCompletion } from '../../main/ceremony/driver'
import { verifyRecord } from '../../main/evidence'
import type { RunningSimulator } from '../../main/simulator'
import { canaryForms, secretShapesIn } from './cli-output'
import { decide, signWhatIsDue, type Fixture } from './ceremony-fixture'

/** Runs steps in order (approving with the simulated custodians) until `stepId` is next. */
export async function runUntil(f: Fixture, engine: CeremonyEngine, stepId: string): Promise<void> {
  while (engine.currentStep() && engine.currentStep()!.id !== stepId) {
    // The simulated witnesses sign each step before the next runs (STEP_NOT_SIGNED otherwise).
    await signWhatIsDue(engine)
    const step = engine.currentStep()!
    if (step.interaction === 'approval') {
      await engine.runStep(step.id)
      const custodians = f.creds.appliances.find((a) => a.id === step.approval!.appliance)!.custodians!
      for (const c of custodians.slice(0, 2)) await decide(engine, step.id, c, 'approve', { confirmation: engine.expectedConfirmation(step.id) ?? undefined })
    } else {
      await engine.runStep(step.id, { confirmation: engine.expectedConfirmation(step.id) ?? undefined })
    }
  }
  await signWhatIsDue(engine)
}

/** Every file under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => readdirSync(d).forEach((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : out.push(join(d, n))))
  walk(dir)
  return out
}

/** No API key (in any form), custodian password or secret shape in any file under `dir`. */
export function assertNoSecretInFiles(dir: string, creds: Credentials): void {
  const canaries = canaryForms(creds.appliances.flatMap((a) => [a.apiKey, ...(a.custodians ?? []).map((c) => c.password)]))
  const files = filesUnder(dir)
  assert.ok(files.length > 0, 'files were scanned')
  for (const file of files) {
    const text = readFileSync(file, 'latin1')
    for (const c of canaries) assert.equal(text.includes(c), false, `${file} holds a secret (${c.slice(0, 4)}…)`)
    assert.deepEqual(secretShapesIn(text), [], file)
  }
}

/** Converged: one CMK per appliance with one KCV, no transfer key anywhere, each unwrap executed once per target. */
export function assertConverged(sim: RunningSimulator, cmkName: string): void {
  const kcvs = sim.appliances.map((a) => a.state.sobjects().filter((o) => o.name === cmkName).map((o) => o.kcv))
  assert.deepEqual(kcvs, sim.appliances.map(() => [kcvs[0]![0]]), 'exactly one CMK on each appliance, with one KCV')
  for (const a of sim.appliances) assert.deepEqual(a.state.sobjects().filter((o) => o.name?.includes('transfer')).map((o) => o.name), [], `no transfer key on ${a.id}`)
  for (const a of sim.appliances.slice(1)) {
    const unwraps = a.state.approvalRequests().filter((r) => r.operation === '/crypto/v1/unwrapkey' && r.executions > 0)
    assert.equal(unwraps.length, 1, `the CMK was unwrapped exactly once on ${a.id}`)
    assert.equal(unwraps[0]!.executions, 1)
  }
  const exports = sim.appliances[0]!.state.approvalRequests().filter((r) => r.operation === '/crypto/v1/wrapkey')
  assert.ok(exports.every((r) => r.executions <= 1), 'no export executed twice')
}

/** Runs the rest of the ceremony, seals it, and checks convergence, the record, and that no file holds a secret. */
export async function finishAndCheck(f: Fixture, engine: CeremonyEngine): Promise<{ entries: { kind: string; step: string; facts: Record<string, unknown> }[]; exceptions: unknown[] }> {
  const current = engine.currentStep()
  if (current && engine.record(current.id).state === 'failed' && current.interaction !== 'approval') {
    await engine.runStep(current.id, { confirmation: engine.expectedConfirmation(current.id) ?? undefined })
  }
  await runToCompletion(engine, { credentials: f.creds, confirm: true, witnessing: { kind: 'simulated' } })
  const { path } = await engine.sealRecord()
  await engine.shutdown()
  const record = JSON.parse(readFileSync(path, 'utf8'))
  const verified = verifyRecord(record, { artifactsDir: f.mediaDir })
  assert.equal(verified.ok, true, JSON.stringify(verified))
  assertConverged(f.sim, f.plan.cmk.name)
  assertNoSecretInFiles(f.dir, f.creds)
  return record
}

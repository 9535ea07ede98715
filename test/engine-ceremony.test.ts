/** The whole ceremony, engine against simulated appliances over real TLS. */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { runToCompletion } from '../main/ceremony/driver'
import { verifyRecord } from '../main/evidence'
import { ceremonyFixture, signWhatIsDue } from './support/ceremony-fixture'

for (const targets of [1, 3]) {
  test(`a full ceremony to ${targets} target(s) leaves the CMK with the source KCV on each and no transfer key anywhere`, async () => {
    const f = await ceremonyFixture({ targets })
    try {
      const engine = await f.open()
      await runToCompletion(engine, { credentials: f.creds, confirm: true, witnessing: { kind: 'simulated' } })
      assert.equal(engine.isComplete(), true)
      const { record, path } = await engine.sealRecord()
      // Sealed: the digest read aloud stays the record's digest.
      await assert.rejects(engine.signOff('close', { witness: 'Witness One', initials: 'WO', items: ['late'] }), { code: 'CEREMONY_CLOSED' })
      await assert.rejects(engine.recordException('close', 'Witness One', 'late'), { code: 'CEREMONY_CLOSED' })
      assert.equal(engine.logHead(), record.finalDigest)
      await engine.shutdown()

      const sourceCmk = f.sim.appliances[0]!.state.sobjects().filter((o) => o.name === f.plan.cmk.name)
      assert.equal(sourceCmk.length, 1)
      for (const appliance of f.sim.appliances) {
        const objects = appliance.state.sobjects()
        const cmks = objects.filter((o) => o.name === f.plan.cmk.name)
        assert.equal(cmks.length, 1, `exactly one CMK on ${appliance.id}`)
        assert.equal(cmks[0]!.kcv, sourceCmk[0]!.kcv, `KCV on ${appliance.id}`)
        assert.deepEqual(objects.filter((o) => /transfer/.test(o.name ?? '')), [], `no transfer key left on ${appliance.id}`)
      }
      const verified = verifyRecord(JSON.parse(readFileSync(path, 'utf8')), { artifactsDir: f.mediaDir })
      assert.equal(verified.ok, true, JSON.stringify(verified))
      assert.equal(record.watermark, 'REHEARSAL')
      assert.equal(record.artifacts.length, targets * 3 + targets + 1, 'public key, wrapped key and manifest per target, and each appliance\'s own audit log')
      // C.0: every appliance's log shows every change this ceremony made, and nothing else in its group.
      const logs = engine.record('appliance-logs').result as { appliances: Record<string, { sha256: string }>; ceremonyCalls: number; corroborated: number; findings: unknown[] }
      assert.deepEqual(Object.keys(logs.appliances).sort(), f.sim.appliances.map((a) => a.id).sort())
      assert.deepEqual(logs.findings, [])
      assert.equal(logs.corroborated, logs.ceremonyCalls)
      assert.ok(logs.ceremonyCalls >= targets * 9, `keys made and deleted, requests, approvals, executed operations (${logs.ceremonyCalls})`)
      for (const a of Object.values(logs.appliances)) assert.ok(record.artifacts.some((x) => x.sha256 === a.sha256), 'each log file is an artifact of the record')
      assert.equal(record.approvals.length >= targets * 2, true)
    } finally {
      await f.cleanup()
    }
  })
}

test('`ceremony rehearse` then `ceremony verify`: the record verifies, and a tampered entry is named', async () => {
  const { spawnSync } = await import('node:child_process')
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const cli = join(__dirname, '../bin/ceremony.cjs')
  const dir = mkdtempSync(join(tmpdir(), 'dsm-rehearse-'))
  try {
    const rehearse = spawnSync(process.execPath, [cli, 'rehearse', '--targets', '2', '--state', join(dir, 'state')], { encoding: 'utf8', timeout: 120_000 })
    assert.equal(rehearse.status, 0, rehearse.stderr)
    const summary = JSON.parse(rehearse.stdout.trim().split('\n').at(-1)!)
    assert.equal(summary.ok, true)
    assert.equal(summary.kind, 'replicate-cmk')
    assert.deepEqual(Object.keys(summary.outcome.targets), ['fips-2', 'fips-3'])
    for (const t of Object.values(summary.outcome.targets) as { kcv: string; kcvMatches: boolean; transferKeysDeleted: boolean }[]) {
      assert.match(t.kcv, /^[0-9a-f]{6}$/i)
      assert.equal(t.kcvMatches, true)
      assert.equal(t.transferKeysDeleted, true)
    }
    assert.ok(summary.requests > 0)

    const ok = spawnSync(process.execPath, [cli, 'verify', summary.record, '--artifacts', join(dir, 'state', 'media')], { encoding: 'utf8' })
    assert.equal(ok.status, 0, ok.stdout + ok.stderr)
    assert.match(ok.stdout, /REHEARSAL/)

    const record = JSON.parse(readFileSync(summary.record, 'utf8'))
    record.entries[9].facts.tampered = true
    const bad = join(dir, 'tampered.json')
    writeFileSync(bad, JSON.stringify(record))
    const failed = spawnSync(process.execPath, [cli, 'verify', bad], { encoding: 'utf8' })
    assert.equal(failed.status, 1)
    assert.match(failed.stdout + failed.stderr, /FAILED at entry 10\b/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('the first ceremony creates the CMK on the source (typed confirmation), then replicates it', async () => {
  const { CeremonyEngine } = await import('../main/ceremony/engine')
  const { parsePlan } = await import('../main/ceremony/plan')
  const { engineOptions } = await import('./support/ceremony-fixture')
  const f = await ceremonyFixture({ targets: 1, sim: { createCmk: false } })
  try {
    const plan = parsePlan({ ...f.plan, cmk: { name: 'cluster-master-key', create: true } })
    const engine = await CeremonyEngine.open(engineOptions(plan, f.creds, f.stateDir, f.mediaDir))
    await engine.runStep('preflight')
    await signWhatIsDue(engine)
    assert.equal(engine.currentStep()?.id, 'create-cmk')
    await assert.rejects(engine.runStep('create-cmk'), { code: 'CONFIRMATION_REQUIRED' })
    await assert.rejects(engine.runStep('create-cmk', { confirmation: 'XXXX' }), { code: 'CONFIRMATION_WRONG' })
    assert.equal(f.sim.appliances[0]!.state.sobjects().filter((o) => o.name === 'cluster-master-key').length, 0, 'nothing created on a wrong confirmation')
    await engine.runStep('create-cmk', { confirmation: engine.expectedConfirmation('create-cmk')!.toLowerCase() })
    await runToCompletion(engine, { credentials: f.creds, confirm: true, witnessing: { kind: 'simulated' } })
    await engine.shutdown()
    const kcvs = f.sim.appliances.map((a) => a.state.sobjects().filter((o) => o.name === 'cluster-master-key').map((o) => o.kcv))
    assert.equal(kcvs[0]!.length, 1)
    assert.deepEqual(kcvs[1], kcvs[0])
  } finally {
    await f.cleanup()
  }
})

test('a second ceremony to an already replicated target skips its steps after preflight', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    await runToCompletion(await f.open(), { credentials: f.creds, confirm: true, witnessing: { kind: 'simulated' } })
    // The second ceremony comes later: appliance log times are whole seconds, and the first one's
    // changes must fall before the second's window (2 s margin), or they would be its findings.
    await new Promise((r) => setTimeout(r, 3100))
    const { CeremonyEngine } = await import('../main/ceremony/engine')
    const { parsePlan } = await import('../main/ceremony/plan')
    const { engineOptions } = await import('./support/ceremony-fixture')
    const { mkdirSync } = await import('node:fs')
    const again = parsePlan({ ...f.plan, id: 'second-ceremony' })
    mkdirSync(join(f.dir, 'state2'))
    const engine = await CeremonyEngine.open(engineOptions(again, f.creds, join(f.dir, 'state2'), f.mediaDir))
    await runToCompletion(engine, { credentials: f.creds, confirm: true, witnessing: { kind: 'simulated' } })
    assert.equal(engine.record('transfer-key:fips-2').state, 'skipped')
    assert.equal(engine.isComplete(), true)
    assert.equal(f.sim.appliances[1]!.state.sobjects().filter((o) => o.name === f.plan.cmk.name).length, 1)
    await engine.shutdown()
  } finally {
    await f.cleanup()
  }
})

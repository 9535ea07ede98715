/**
 * F9 and F10 (security.md §8 D), with real SIGKILLs of `ceremony run`:
 *  - F9: at least 40 kills during state writes (journal saves and media writes, the kill landing a
 *    random number of microseconds after the write began): after every kill the journal parses,
 *    every file on the media is exactly what was journaled for it, and the temp files a kill left
 *    are gone after the next start (the removal logged);
 *  - F10: a kill in the middle of an audit append leaves a torn last line; the next run refuses it
 *    (AUDIT_LOG_TORN, nothing sent), `ceremony repair-log` removes it after verifying the chain, and
 *    the ceremony resumes to completion.
 * Each ends converged: one CMK per appliance with the source's KCV, no transfer key, no remote
 * action twice, a record that verifies, and no secret in any file or in the CLI's output.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileJournalStore } from '../main/ceremony/journal-file'
import { planDigest } from '../main/ceremony/plan'
import { planForAppliances } from '../main/ceremony/simulated-plan'
import { AUDIT_LOG_FILE } from '../main/ceremony/state-files'
import { AuditLog, verifyRecord } from '../main/evidence'
import { isStaleTempName } from '../main/media'
import { startSimulator, type RunningSimulator } from '../main/simulator'
import { assertConverged, assertNoSecretInFiles } from './support/ceremony-checks'
import { credentialsOf } from './support/ceremony-fixture'
import { runCeremonyAsync } from './support/cli-output'

/** A small seeded generator, so a failing sequence of kill points can be replayed. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = seed
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

async function setup(id: string) {
  const sim: RunningSimulator = await startSimulator({ appliances: 2 })
  const dir = mkdtempSync(join(tmpdir(), 'dsm-kill-writes-'))
  const creds = credentialsOf(sim)
  const plan = planForAppliances(creds, { id })
  writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan))
  writeFileSync(join(dir, 'creds.json'), JSON.stringify(creds))
  const stateDir = join(dir, 'state')
  const mediaDir = join(stateDir, 'media')
  const canaries = creds.appliances.flatMap((a) => [a.apiKey, ...(a.custodians ?? []).map((c) => c.password)])
  const run = (kill?: string) =>
    runCeremonyAsync(['run', '--plan', join(dir, 'plan.json'), '--credentials', join(dir, 'creds.json'), '--state', stateDir], {
      canaries, env: kill ? { ...process.env, CEREMONY_KILL_AT: kill } : { ...process.env, CEREMONY_KILL_AT: '' },
    })
  const repair = () => runCeremonyAsync(['repair-log', '--plan', join(dir, 'plan.json'), '--state', stateDir], { canaries })
  const summaryOf = (r: { stdout: string }) => JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}')
  const requests = () => sim.appliances.reduce((n, a) => n + a.state.requestLog().length, 0)
  const finish = () => {
    const record = JSON.parse(readFileSync(join(stateDir, `${plan.id}-REHEARSAL-record.json`), 'utf8'))
    assert.equal(verifyRecord(record, { artifactsDir: mediaDir }).ok, true)
    assertConverged(sim, plan.cmk.name)
    assertNoSecretInFiles(stateDir, creds) // everything the ceremony wrote (the credentials file is the test's input)
    return record as { entries: { kind: string; step: string; facts: Record<string, unknown> }[] }
  }
  const cleanup = async () => {
    await sim.close()
    rmSync(dir, { recursive: true, force: true })
  }
  return { sim, plan, dir, stateDir, mediaDir, run, repair, summaryOf, requests, finish, cleanup }
}

describe('F9 a kill loop during state writes', () => {
  test('F9 40+ SIGKILLs during journal saves and media writes: 0 corrupt files, stale temp files removed at the next start, then converged', { timeout: 600_000 }, async (t) => {
    const s = await setup('kill-writes')
    const random = mulberry32(0x5eed)
    const stats = { kills: 0, runs: 0, tempsSeen: 0, tornRepaired: 0 }
    try {
      let pendingTemps: string[] = []
      while (stats.kills < 40) {
        const n = 1 + Math.floor(random() * 3) // one of the next three state writes
        const us = Math.floor(random() * 2000) // 0–2 ms after it began: inside it, or just after
        const r = await s.run(`state-write#${n}+${us}`)
        stats.runs++
        assert.ok(stats.runs < 200, 'the loop makes progress')
        // Whatever this run did, the temp files the previous kill left are gone now.
        for (const path of pendingTemps) assert.equal(readdirSync(join(path, '..')).includes(path.split('/').pop()!), false, `${path} was removed at start`)
        pendingTemps = []
        if (r.signal !== 'SIGKILL') {
          const summary = s.summaryOf(r)
          if (summary.error?.code === 'AUDIT_LOG_TORN') {
            // A kill that landed inside an audit append (F10's case) is repaired explicitly, never silently.
            assert.equal((await s.repair()).status, 0)
            stats.tornRepaired++
            continue
          }
          assert.equal(summary.ok, true, `run ${stats.runs}: ${JSON.stringify(summary.error)} ${r.stderr.slice(-400)}`)
          continue // the ceremony was already complete: the next run is killed at its first save
        }
        stats.kills++
        // 0 corrupt: the journal parses as a journal, and every file on the media is what was journaled for it.
        const journal = fileJournalStore(s.stateDir).store as { version?: number; steps?: Record<string, { artifacts: Record<string, string> }> }
        assert.equal(journal.version, 2, `kill ${stats.kills}: the journal is whole`)
        const journaled = new Set(Object.values(journal.steps ?? {}).flatMap((step) => Object.entries(step.artifacts).map(([name, sha]) => `${name}:${sha}`)))
        for (const name of readdirSync(s.mediaDir)) {
          if (isStaleTempName(name)) continue
          const sha = createHash('sha256').update(readFileSync(join(s.mediaDir, name))).digest('hex')
          assert.ok(journaled.has(`${name}:${sha}`), `kill ${stats.kills}: ${name} on the media is exactly what was journaled for it`)
        }
        for (const dir of [s.stateDir, s.mediaDir]) pendingTemps.push(...readdirSync(dir).filter(isStaleTempName).map((name) => join(dir, name)))
        stats.tempsSeen += pendingTemps.length
      }
      const last = await s.run()
      assert.equal(s.summaryOf(last).ok, true, last.stderr.slice(-800))
      for (const dir of [s.stateDir, s.mediaDir]) assert.deepEqual(readdirSync(dir).filter(isStaleTempName), [], 'no temp file left at the end')
      const record = s.finish()
      t.diagnostic(`${stats.kills} kills in ${stats.runs} runs; ${stats.tempsSeen} temp files left by kills, each removed at the next start; ${stats.tornRepaired} torn audit lines repaired`)
      assert.ok(stats.tempsSeen > 0, 'some kills landed between a temp write and its rename (the loop hit writes, not just the gaps)')
      assert.ok(record.entries.some((e) => e.kind === 'reconcile' && /temporary file/.test(String(e.facts['finding']))), 'the removals are logged')
    } finally {
      await s.cleanup()
    }
  })
})

describe('F10 a kill during an audit append', { concurrency: 2 }, () => {
  for (const [kind, step, what] of [
    ['step-intent', 'wrap-request:fips-2', 'the intent of opening the export request (nothing sent yet)'],
    ['step-done', 'unwrap-result:fips-2', 'the entry recording the import done (journaled, not yet logged)'],
  ] as const) {
    test(`F10 ${what}: torn line refused, repaired by repair-log, chain verified, resumed to completion`, { timeout: 300_000 }, async () => {
      const s = await setup(`torn-${kind}`)
      try {
        const killed = await s.run(`audit-append:${kind}:${step}`)
        assert.equal(killed.signal, 'SIGKILL')
        const log = join(s.stateDir, AUDIT_LOG_FILE)
        assert.equal(readFileSync(log, 'utf8').endsWith('\n'), false, 'the last line is torn')

        const sent = s.requests()
        const refused = await s.run()
        assert.equal(refused.status, 1)
        assert.equal(s.summaryOf(refused).error.code, 'AUDIT_LOG_TORN')
        assert.equal(s.requests(), sent, 'nothing was sent while the log was torn')

        const repaired = await s.repair()
        assert.equal(repaired.status, 0, repaired.stdout)
        const result = JSON.parse(repaired.stdout.trim())
        assert.ok(result.repaired.removedBytes > 0)
        const reopened = await AuditLog.open(log, { planDigest: planDigest(s.plan) }) // verifies the whole chain
        assert.equal(reopened.entries().at(-1)!.kind, 'log-repair')
        await reopened.close()

        const resumed = await s.run()
        assert.equal(s.summaryOf(resumed).ok, true, resumed.stderr.slice(-800))
        const record = s.finish()
        assert.equal(record.entries.filter((e) => e.kind === 'log-repair').length, 1)
        if (kind === 'step-done') {
          assert.ok(record.entries.some((e) => e.kind === 'step-done' && e.step === step && (e.facts['result'] as Record<string, unknown>)['recovered'] === true), 'the lost entry is written again from the journal')
        }
        assert.equal(s.sim.appliances[0]!.state.approvalRequests().filter((r) => r.operation === '/crypto/v1/wrapkey').length, 1, 'one export request, never a second')
      } finally {
        await s.cleanup()
      }
    })
  }
})

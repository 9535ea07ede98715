/**
 * State integrity (design §6): one runner per state folder, a journal that is gone is never taken for
 * a new ceremony, a torn last log line is repaired only explicitly (and the repair is in the log), and
 * temp files a killed write left behind are removed at start.
 */
import assert from 'node:assert/strict'
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { runToCompletion } from '../main/ceremony/driver'
import { LOCK_FILE } from '../main/ceremony/state-lock'
import { verifyRecord } from '../main/evidence'
import { runCeremony, runCeremonyAsync } from './support/cli-output'
import { ceremonyFixture, signWhatIsDue } from './support/ceremony-fixture'

test('two runners on one state folder: the second is refused (STATE_LOCKED); a lock left by a dead process is taken over', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const first = await f.open()
    await first.runStep('preflight')
    await assert.rejects(f.open(), { code: 'STATE_LOCKED' })
    const entries = first.logEntries().length
    await first.shutdown()
    assert.equal(existsSync(join(f.stateDir, LOCK_FILE)), false, 'released on shutdown')

    // A runner killed without releasing: its lock names a process that no longer exists.
    writeFileSync(join(f.stateDir, LOCK_FILE), JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname(), token: 'dead', since: new Date().toISOString() }))
    const second = await f.open()
    assert.equal(second.logEntries().length, entries + 1, 'one log, continued (a resume entry), not forked')
    await runToCompletion(second, { credentials: f.creds, confirm: true, witnessing: { kind: 'simulated' } })
    await second.shutdown()
  } finally {
    await f.cleanup()
  }
})

test('two `ceremony run` on one --state at once: one runs, the other ends with STATE_LOCKED and the chain stays one', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const planFile = join(f.dir, 'plan.json')
    const credsFile = join(f.dir, 'creds.json')
    writeFileSync(planFile, JSON.stringify(f.plan))
    writeFileSync(credsFile, JSON.stringify(f.creds))
    const args = ['run', '--plan', planFile, '--credentials', credsFile, '--state', f.stateDir, '--media', f.mediaDir]
    const canaries = f.creds.appliances.map((a) => a.apiKey)
    const [a, b] = await Promise.all([runCeremonyAsync(args, { canaries, timeoutMs: 120_000 }), runCeremonyAsync(args, { canaries, timeoutMs: 120_000 })])
    const summaries = [a, b].map((r) => JSON.parse(r.stdout.trim().split('\n').at(-1)!))
    const locked = summaries.filter((s) => s.error?.code === 'STATE_LOCKED')
    const finished = summaries.filter((s) => s.ok)
    assert.equal(locked.length, 1, `one run is refused: ${JSON.stringify(summaries.map((x) => x.error ?? 'ok'))}`)
    assert.equal(finished.length, 1, 'the other completes')
    const record = JSON.parse(readFileSync(finished[0].record, 'utf8'))
    assert.equal(verifyRecord(record, { artifactsDir: f.mediaDir }).ok, true)
    assert.equal(record.entries.filter((e: { kind: string }) => e.kind === 'ceremony-open').length, 1)
  } finally {
    await f.cleanup()
  }
})

test('a deleted or emptied journal while the audit log has entries is refused (JOURNAL_MISSING), never a new ceremony', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  const journal = join(f.stateDir, 'journal.json')
  try {
    const engine = await f.open()
    await engine.runStep('preflight')
    await signWhatIsDue(engine)
    await engine.runStep('transfer-key:fips-2')
    await engine.shutdown()
    const log = readFileSync(join(f.stateDir, 'audit-log.jsonl'), 'utf8')
    const saved = readFileSync(journal, 'utf8')

    rmSync(journal)
    await assert.rejects(f.open(), { code: 'JOURNAL_MISSING' })
    writeFileSync(journal, '{}')
    await assert.rejects(f.open(), { code: 'JOURNAL_MISSING' })
    assert.equal(readFileSync(join(f.stateDir, 'audit-log.jsonl'), 'utf8'), log, 'the log was not touched')
    assert.equal(f.sim.appliances[1]!.state.sobjects().filter((o) => o.name?.includes('transfer')).length, 1, 'no second transfer key was made')
    assert.equal(existsSync(join(f.stateDir, LOCK_FILE)), false, 'a refused open leaves no lock behind')

    writeFileSync(journal, saved)
    const resumed = await f.open()
    await runToCompletion(resumed, { credentials: f.creds, confirm: true, witnessing: { kind: 'simulated' } })
    await resumed.shutdown()
  } finally {
    await f.cleanup()
  }
})

test('a torn last line of the audit log is refused by name; `ceremony repair-log` verifies the chain, removes it and logs the repair', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  const logFile = join(f.stateDir, 'audit-log.jsonl')
  try {
    const engine = await f.open()
    await engine.runStep('preflight')
    await engine.shutdown()
    // A power cut in the middle of an append.
    const torn = '{"actor":"Test operator","facts":{"title":"Generate the tr'
    appendFileSync(logFile, torn)
    await assert.rejects(f.open(), { code: 'AUDIT_LOG_TORN', message: /repair-log/ })

    const planFile = join(f.dir, 'plan.json')
    writeFileSync(planFile, JSON.stringify(f.plan))
    const repaired = runCeremony(['repair-log', '--plan', planFile, '--state', f.stateDir, '--by', 'Witness One'])
    assert.equal(repaired.status, 0, repaired.stdout + repaired.stderr)
    const answer = JSON.parse(repaired.stdout.trim())
    assert.equal(answer.repaired.removedBytes, Buffer.byteLength(torn))
    assert.equal(readFileSync(logFile, 'utf8').includes(torn), false)
    const again = runCeremony(['repair-log', '--plan', planFile, '--state', f.stateDir])
    assert.equal(again.status, 1)
    assert.equal(JSON.parse(again.stdout.trim()).error.code, 'NOTHING_TO_REPAIR')

    const resumed = await f.open()
    await runToCompletion(resumed, { credentials: f.creds, confirm: true, witnessing: { kind: 'simulated' } })
    const { path } = await resumed.sealRecord()
    await resumed.shutdown()
    const record = JSON.parse(readFileSync(path, 'utf8'))
    assert.equal(verifyRecord(record, { artifactsDir: f.mediaDir }).ok, true)
    const repair = record.entries.find((e: { kind: string }) => e.kind === 'log-repair')
    assert.equal(repair.actor, 'Witness One')
    assert.equal(repair.facts.removedBytes, Buffer.byteLength(torn))
  } finally {
    await f.cleanup()
  }
})

test('a torn line after a damaged entry is not repaired: the chain before it must verify first', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  const logFile = join(f.stateDir, 'audit-log.jsonl')
  try {
    const engine = await f.open()
    await engine.runStep('preflight')
    await engine.shutdown()
    const text = readFileSync(logFile, 'utf8')
    writeFileSync(logFile, text.replace('"ceremony-open"', '"ceremony-opem"') + '{"torn')
    const planFile = join(f.dir, 'plan.json')
    writeFileSync(planFile, JSON.stringify(f.plan))
    const out = runCeremony(['repair-log', '--plan', planFile, '--state', f.stateDir])
    assert.equal(out.status, 1)
    assert.equal(JSON.parse(out.stdout.trim()).error.code, 'BROKEN_CHAIN')
    assert.ok(readFileSync(logFile, 'utf8').endsWith('{"torn'), 'nothing was truncated')
  } finally {
    await f.cleanup()
  }
})

test('temp files a killed write left in the state and media folders are removed at start, and the removal is logged', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    await engine.runStep('preflight')
    await engine.shutdown()
    const strays = [join(f.mediaDir, '.test-ceremony-fips-2-transfer-key.pub.pem.0123456789ab.tmp'), join(f.stateDir, 'journal.json.tmp-1733112233a1b2c3')]
    for (const s of strays) writeFileSync(s, 'half a write')
    const keep = join(f.mediaDir, 'operator-notes.txt')
    writeFileSync(keep, 'not ours to remove')
    const resumed = await f.open()
    for (const s of strays) assert.equal(existsSync(s), false)
    assert.equal(existsSync(keep), true)
    const logged = resumed.logEntries().filter((e) => e.kind === 'reconcile' && /temporary file/.test(String(e.facts['finding'])))
    assert.equal(logged.length, 2)
    await resumed.shutdown()
  } finally {
    await f.cleanup()
  }
})

test('a shutdown whose audit log fails to close still lets go of the state folder', async () => {
  const { open } = await import('node:fs/promises')
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open({
      stateFaults: {
        openLogForAppend: async (path) => {
          const handle = await open(path, 'a', 0o600)
          return { write: (b, o, l) => handle.write(b, o, l), sync: () => handle.sync(), close: async () => { await handle.close(); throw Object.assign(new Error('EIO: i/o error, close'), { code: 'EIO' }) } }
        },
      },
    })
    await engine.shutdown().catch(() => undefined)
    const again = await f.open()
    assert.equal(again.currentStep()?.id, 'preflight', 'opened again, not STATE_LOCKED')
    await again.shutdown()
  } finally {
    await f.cleanup()
  }
})

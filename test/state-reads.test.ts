/**
 * State and operator-named files (security.md §6 17, 27; §8 F26): the journal, the audit log, plan,
 * credentials and record files are read capped and never through a link, each refusal named and
 * nothing changed; and an audit log that cannot be written stops the step with a message that names
 * the file, never a folder of this workstation, on the screen (through the IPC boundary) or in the log.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { CeremonyService } from '../main/ceremony/ceremony-service'
import { fileJournalStore, JOURNAL_FILE, JOURNAL_MAX_BYTES } from '../main/ceremony/journal-file'
import { planForAppliances } from '../main/ceremony/simulated-plan'
import { AUDIT_LOG_FILE } from '../main/ceremony/state-files'
import { toIpcError } from '../main/ipc/register'
import { startSimulator } from '../main/simulator'
import { ceremonyFixture, credentialsOf } from './support/ceremony-fixture'
import { runCeremony } from './support/cli-output'

test('E27 E17 a journal that is a link, or larger than any journal, is refused by name (JOURNAL_CORRUPT), left as it is, nothing sent', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    await engine.runStep('preflight')
    await engine.shutdown()
    const journal = join(f.stateDir, JOURNAL_FILE)
    const moved = join(f.dir, 'elsewhere.json')
    renameSync(journal, moved)
    symlinkSync(moved, journal)
    const sent = f.sim.appliances.map((a) => a.state.requestLog().length)
    await assert.rejects(f.open(), (e: { code?: string; message?: string }) => e.code === 'JOURNAL_CORRUPT' && /symbolic link/.test(e.message!) && !e.message!.includes(f.dir))
    rmSync(journal)
    writeFileSync(journal, Buffer.alloc(JOURNAL_MAX_BYTES + 1, 0x20))
    await assert.rejects(f.open(), (e: { code?: string; message?: string }) => e.code === 'JOURNAL_CORRUPT' && /larger than any/.test(e.message!))
    assert.equal(readFileSync(journal).length, JOURNAL_MAX_BYTES + 1, 'left as it was')
    assert.deepEqual(f.sim.appliances.map((a) => a.state.requestLog().length), sent, 'nothing was sent')
    renameSync(moved, journal)
    const resumed = await f.open()
    assert.equal(resumed.record('preflight').state, 'done')
    await resumed.shutdown()
  } finally {
    await f.cleanup()
  }
})

test('E27 an audit log that is a link is refused by name and not followed', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    await engine.runStep('preflight')
    await engine.shutdown()
    const log = join(f.stateDir, AUDIT_LOG_FILE)
    const moved = join(f.dir, 'log-elsewhere.jsonl')
    renameSync(log, moved)
    symlinkSync(moved, log)
    const before = readFileSync(moved)
    await assert.rejects(f.open(), (e: { code?: string; message?: string }) => e.code === 'SYMLINK' && !e.message!.includes(f.dir))
    assert.deepEqual(readFileSync(moved), before, 'nothing appended through the link')
  } finally {
    await f.cleanup()
  }
})

test('E17 E27 plan, credentials and record files: capped, never through a link or from a FIFO, refused by name (app dialog and CLI)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsm-reads-'))
  try {
    const plan = planForAppliances({ appliances: [
      { id: 'fips-1', apiKey: 'x', host: '127.0.0.1', port: 1, spkiSha256: '0'.repeat(64) },
      { id: 'fips-2', apiKey: 'x', host: '127.0.0.1', port: 2, spkiSha256: '1'.repeat(64) },
    ] }, { id: 'reads-test', mode: 'production' })
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan))
    symlinkSync(join(dir, 'plan.json'), join(dir, 'linked.json'))
    writeFileSync(join(dir, 'huge.json'), Buffer.alloc(3 * 1024 * 1024, 0x20))
    const fifo = spawnSync('mkfifo', [join(dir, 'fifo.json')]).status === 0
    const answers = ['linked.json', 'huge.json', ...(fifo ? ['fifo.json'] : []), 'missing.json', 'plan.json'].map((n) => join(dir, n))
    const service = new CeremonyService({
      stateRoot: join(dir, 'state'),
      dialogs: { openPlanFile: async () => answers.shift() ?? null, savePlanFile: async () => null, saveRecordFile: async () => null },
      journalStore: fileJournalStore,
      startSimulator: () => Promise.reject(new Error('not in this test')),
      onChange: () => undefined,
    })
    for (const code of ['SYMLINK_REFUSED', 'FILE_TOO_LARGE', ...(fifo ? ['NOT_A_FILE'] : []), 'FILE_NOT_FOUND']) {
      const err = await service.openPlan().then(() => null, (e: unknown) => e)
      const shown = toIpcError(err)
      assert.equal(shown.code, code)
      assert.equal(shown.message.includes(dir), false, `${code}: no folder reaches the screen`)
      assert.equal(service.snapshot().plan, null, `${code}: no plan was loaded`)
    }
    assert.equal((await service.openPlan()).snapshot.plan?.id, 'reads-test', 'the real file opens')

    // The CLI: a linked plan or credentials file, and a linked or oversized record, are refused by name.
    writeFileSync(join(dir, 'creds.json'), JSON.stringify({ appliances: [] }))
    symlinkSync(join(dir, 'creds.json'), join(dir, 'creds-link.json'))
    const run = (plan: string, creds: string) => runCeremony(['run', '--plan', join(dir, plan), '--credentials', join(dir, creds), '--state', join(dir, 's'), '--yes'])
    for (const r of [run('linked.json', 'creds.json'), run('plan.json', 'creds-link.json'), run('huge.json', 'creds.json')]) {
      assert.equal(r.status, 1)
      assert.match(r.stderr, /symbolic link|bytes; at most/)
    }
    mkdirSync(join(dir, 'rec'))
    writeFileSync(join(dir, 'rec', 'record.json'), '{}')
    symlinkSync(join(dir, 'rec', 'record.json'), join(dir, 'rec', 'link.json'))
    const verified = runCeremony(['verify', join(dir, 'rec', 'link.json')])
    assert.equal(verified.status, 2)
    assert.match(verified.stderr, /SYMLINK_REFUSED/)
    await service.shutdown()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

/** chattr +i makes a file unwritable even for root (CI runs as root). */
const immutable = (path: string, on: boolean) => spawnSync('chattr', [on ? '+i' : '-i', path]).status === 0

test('F26 an unwritable audit log: the step halts, and no workstation folder reaches the screen (IPC) or the log, nor when the app reopens it', async (t) => {
  const sim = await startSimulator({ appliances: 2 })
  const dir = mkdtempSync(join(tmpdir(), 'dsm-unwritable-'))
  const stateRoot = join(dir, 'ceremonies')
  let log = ''
  try {
    const creds = credentialsOf(sim)
    const plan = planForAppliances(creds, { id: 'unwritable-log', mode: 'production', operator: 'Olga Operator' })
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan))
    const open = () => {
      const s = new CeremonyService({
        stateRoot, journalStore: fileJournalStore, onChange: () => undefined,
        dialogs: { openPlanFile: async () => join(dir, 'plan.json'), savePlanFile: async () => null, saveRecordFile: async () => null },
        startSimulator: () => Promise.reject(new Error('not in this test')),
      })
      return s
    }
    const service = open()
    await service.openPlan()
    await service.confirmParticipants(['Olga Operator', 'Witness One'])
    for (const a of creds.appliances) service.setApiKey(a.id, a.apiKey)
    await service.runStep('preflight')
    // The witness signs the preflight while the log can still be written.
    const preflight = service.snapshot().steps.find((x) => x.id === 'preflight')!
    await service.signOff('preflight', 'Witness One', 'WO', preflight.witnessItems)
    log = join(stateRoot, plan.id, AUDIT_LOG_FILE)
    if (!immutable(log, true)) return t.skip('chattr is not available here')
    const shown = [
      toIpcError(await service.runStep('transfer-key:fips-2').then(() => null, (e: unknown) => e)),
      toIpcError(await service.signOff('transfer-key:fips-2', 'Witness One', 'WO', ['checked']).then(() => null, (e: unknown) => e)),
      toIpcError(await service.recordException('ceremony', 'Olga Operator', 'a note').then(() => null, (e: unknown) => e)),
    ]
    assert.equal(shown[0]!.code, 'AUDIT_LOG_WRITE_FAILED')
    for (const e of shown) assert.equal(e.message.includes(dir), false, `shown: ${e.message}`)
    const step = service.snapshot().steps.find((s) => s.id === 'transfer-key:fips-2')!
    assert.notEqual(step.state, 'done', 'the step halted')
    assert.equal(JSON.stringify(service.snapshot()).includes(dir), false, 'no folder in anything the screen gets')
    assert.equal(sim.appliances[1]!.state.sobjects().filter((o) => o.name?.includes('transfer')).length, 0, 'nothing was created')
    await service.shutdown()

    // The app restarts with the log still unwritable: opening the ceremony is refused by name, no folder shown.
    const again = open()
    await again.openPlan()
    await again.confirmParticipants(['Olga Operator', 'Witness One'])
    for (const a of creds.appliances) again.setApiKey(a.id, a.apiKey)
    const reopened = toIpcError(await again.runStep('transfer-key:fips-2').then(() => null, (e: unknown) => e))
    assert.equal(reopened.code, 'STATE_UNAVAILABLE', reopened.message)
    assert.equal(reopened.message.includes(dir), false, reopened.message)
    immutable(log, false)
    assert.equal(readFileSync(log, 'utf8').includes(dir), false, 'no folder in the audit log')
    await again.shutdown()
  } finally {
    if (log) immutable(log, false)
    await sim.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

/**
 * F23 (security.md §8 D): the disk fills up in the middle of a write. On a small tmpfs the test
 * mounts (root; CI runs as root) and, where mounting is not allowed, with an injected ENOSPC half-way
 * through the write: the step is refused by name (STATE_DISK_FULL, MEDIA_FULL), the ceremony does
 * not advance (in memory or on disk), no partial or temporary file is left, no request is sent, and
 * once space is freed the ceremony converges with a record that verifies. A full disk when the
 * engine opens ends `ceremony run` with its JSON summary line naming STATE_DISK_FULL.
 */
import assert from 'node:assert/strict'
import { promises as fsp, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import type { JournalStore } from '../main/ceremony/journal'
import { JOURNAL_FILE } from '../main/ceremony/state-files'
import { isStaleTempName } from '../main/media'
import { ceremonyFixture, type Fixture } from './support/ceremony-fixture'
import { finishAndCheck, runUntil } from './support/ceremony-checks'
import { runCeremonyAsync } from './support/cli-output'
import { mountSmallFs, PAGE } from './support/small-fs'

const requestsTo = (f: Fixture) => f.sim.appliances.reduce((n, a) => n + a.state.requestLog().length, 0)
const ceremonyFiles = (dir: string) => readdirSync(dir).filter((n) => !n.startsWith('filler-'))

test('F23 ENOSPC in the middle of a journal save (state on a small tmpfs): STATE_DISK_FULL, no advance, journal unchanged, nothing sent; freed, it converges', async (t) => {
  const f = await ceremonyFixture({ targets: 2 })
  const small = mountSmallFs(f.stateDir, 1024)
  try {
    if (!small) return t.skip('mounting a tmpfs needs root on Linux; the injected-error test covers this case here')
    const engine = await f.open()
    await runUntil(f, engine, 'load-blob:fips-3')
    const journal = readFileSync(join(f.stateDir, JOURNAL_FILE))
    assert.ok(journal.length > 3 * PAGE, `the journal (${journal.length} bytes) needs more pages than will be free, so its save fails part-way`)
    small.fill()
    small.free(2) // room for the audit entry, not for the journal's temp copy
    const sent = requestsTo(f)
    await assert.rejects(engine.runStep('load-blob:fips-3'), (e: { code?: string; message?: string }) => {
      assert.equal(e.code, 'STATE_DISK_FULL', e.message)
      assert.equal(e.message!.includes(f.dir), false, 'no folder in the message')
      return true
    })
    assert.equal(requestsTo(f), sent, 'nothing was sent to any appliance')
    assert.equal(engine.record('load-blob:fips-3').state, 'pending', 'the journal in memory did not advance')
    assert.equal(engine.currentStep()?.id, 'load-blob:fips-3')
    assert.deepEqual(readFileSync(join(f.stateDir, JOURNAL_FILE)), journal, 'the journal on disk is the one before, whole')
    assert.deepEqual(ceremonyFiles(f.stateDir).filter(isStaleTempName), [], 'no partial temp file left')
    small.free()
    await finishAndCheck(f, engine)
  } finally {
    small?.unmount()
    await f.cleanup()
  }
})

test('F23 the media fills up (a small tmpfs): MEDIA_FULL, no file and no temp file on the media, no advance; freed, it converges', async (t) => {
  const f = await ceremonyFixture({ targets: 1 })
  const small = mountSmallFs(f.mediaDir, 64)
  try {
    if (!small) return t.skip('mounting a tmpfs needs root on Linux; the injected-error test covers this case here')
    const engine = await f.open()
    await runUntil(f, engine, 'export-pubkey:fips-2')
    small.fill()
    await assert.rejects(engine.runStep('export-pubkey:fips-2'), (e: { code?: string; message?: string }) => {
      assert.equal(e.code, 'MEDIA_FULL', e.message)
      assert.equal(e.message!.includes(f.dir), false)
      return true
    })
    assert.deepEqual(ceremonyFiles(f.mediaDir), [], 'no partial or temporary file on the media')
    assert.equal(engine.record('export-pubkey:fips-2').error?.code, 'MEDIA_FULL')
    assert.equal(engine.currentStep()?.id, 'export-pubkey:fips-2', 'the ceremony did not advance')
    small.free()
    await finishAndCheck(f, engine)
  } finally {
    small?.unmount()
    await f.cleanup()
  }
})

test('F23 injected: a media write that fails half-way with ENOSPC, and a journal save that fails, leave nothing partial and do not advance', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  let failJournal = false
  const open = fsp.open
  try {
    const inner = (await import('./support/ceremony-fixture')).engineOptions(f.plan, f.creds, f.stateDir, f.mediaDir).openJournalStore
    const engine = await f.open({
      openJournalStore: () => {
        const store = inner()
        return {
          get store() { return store.store },
          set store(value) {
            if (failJournal) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' })
            store.store = value
          },
        } satisfies JournalStore
      },
    })
    await runUntil(f, engine, 'wrap-result:fips-2')
    // The blob's temp file gets half its bytes, then the disk is full.
    fsp.open = (async (...args: Parameters<typeof fsp.open>) => {
      const fh = await open(...args)
      if (String(args[0]).startsWith(f.mediaDir) && isStaleTempName(String(args[0]).split('/').pop()!)) {
        fh.writeFile = async (data: unknown) => {
          const bytes = data as Buffer
          await fh.write(bytes, 0, bytes.length >> 1)
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
        }
      }
      return fh
    }) as typeof fsp.open
    await assert.rejects(engine.runStep('wrap-result:fips-2'), { code: 'MEDIA_FULL' })
    fsp.open = open
    assert.deepEqual(readdirSync(f.mediaDir).filter((n) => n.includes('wrapped_master_key')), [], 'no partial blob or temp file')
    assert.equal(engine.currentStep()?.id, 'wrap-result:fips-2')

    const journal = readFileSync(join(f.stateDir, JOURNAL_FILE))
    failJournal = true
    await assert.rejects(engine.runStep('wrap-result:fips-2'), { code: 'STATE_DISK_FULL' })
    assert.deepEqual(readFileSync(join(f.stateDir, JOURNAL_FILE)), journal, 'the journal on disk is untouched')
    assert.equal(engine.record('wrap-result:fips-2').state, 'failed', 'memory kept what the disk holds')
    failJournal = false
    await finishAndCheck(f, engine)
  } finally {
    fsp.open = open
    await f.cleanup()
  }
})

test('F23 a full disk when the engine opens: `ceremony run` ends with the JSON summary naming STATE_DISK_FULL, not a raw ENOSPC; freed, it resumes', async (t) => {
  const f = await ceremonyFixture({ targets: 1 })
  const small = mountSmallFs(f.stateDir, 1024)
  try {
    if (!small) return t.skip('mounting a tmpfs needs root on Linux')
    const planFile = join(f.dir, 'plan.json')
    const credsFile = join(f.dir, 'creds.json')
    writeFileSync(planFile, JSON.stringify(f.plan))
    writeFileSync(credsFile, JSON.stringify(f.creds))
    const args = ['run', '--plan', planFile, '--credentials', credsFile, '--state', f.stateDir, '--media', f.mediaDir]
    const canaries = f.creds.appliances.map((a) => a.apiKey)
    const summaryOf = (r: { stdout: string }) => JSON.parse(r.stdout.trim().split('\n').at(-1)!)

    // A fresh ceremony on a full disk, then one interrupted after its preflight and resumed on a full disk.
    for (const when of ['fresh', 'resuming']) {
      if (when === 'resuming') {
        small.free()
        const killed = await runCeremonyAsync(args, { canaries, env: { ...process.env, CEREMONY_KILL_AT: 'preflight@after-done' } })
        assert.equal(killed.signal, 'SIGKILL')
      }
      small.fill()
      const sent = requestsTo(f)
      const r = await runCeremonyAsync(args, { canaries })
      assert.equal(r.status, 1, `${when}: ${r.stderr.slice(-500)}`)
      const summary = summaryOf(r)
      assert.equal(summary.ok, false)
      assert.equal(summary.error.code, 'STATE_DISK_FULL', `${when}: ${JSON.stringify(summary.error)}`)
      assert.equal(summary.error.message.includes('/'), false, `${when}: no path in the message`)
      assert.equal(requestsTo(f), sent, `${when}: nothing was sent`)
    }
    small.free()
    const done = await runCeremonyAsync(args, { canaries })
    assert.equal(summaryOf(done).ok, true, done.stderr.slice(-800))
  } finally {
    small?.unmount()
    await f.cleanup()
  }
})

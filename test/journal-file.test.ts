/**
 * The journal's own file store (main/ceremony/journal-file.ts), and why it exists: conf's and
 * electron-store's writer (atomically) does not check for a short write, so a disk that fills up in
 * the middle of a save leaves the journal truncated. Ours raises ENOSPC and keeps the previous
 * journal whole; it reads and writes the same format as conf, never through a link, capped.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import Conf from 'conf'
import { fileJournalStore, JOURNAL_FILE, JOURNAL_MAX_BYTES } from '../main/ceremony/journal-file'
import { isStaleTempName } from '../main/media'
import { mountSmallFs } from './support/small-fs'

const root = mkdtempSync(join(tmpdir(), 'journal-file-'))
after(() => rmSync(root, { recursive: true, force: true }))
let n = 0
const freshDir = () => mkdtempSync(join(root, `d${n++}-`))
const big = (kib: number) => ({ version: 2, ceremonyId: 'c', planDigest: 'd', steps: { s: { note: 'x'.repeat(kib * 1024) } } })

test('F23 a save that runs out of space half-way: ENOSPC, the previous journal whole, no temp file (conf’s writer truncates instead)', async (t) => {
  const dir = freshDir()
  const small = mountSmallFs(dir, 256)
  if (!small) return t.skip('mounting a tmpfs needs root on Linux')
  try {
    const store = fileJournalStore(dir)
    store.store = big(4)
    const before = readFileSync(join(dir, JOURNAL_FILE))
    small.fill()
    small.free(2) // 8 KiB free, the save needs ~20
    assert.throws(() => { store.store = big(20) }, { code: 'ENOSPC' })
    assert.deepEqual(readFileSync(join(dir, JOURNAL_FILE)), before, 'the previous journal, whole')
    assert.deepEqual(readdirSync(dir).filter(isStaleTempName), [], 'no temp file left')
    assert.deepEqual(store.store, big(4))

    // The same save through conf: no error, and a journal that no longer parses.
    const conf = new Conf({ cwd: dir, configName: 'journal', projectName: 'x' })
    let threw = false
    try {
      conf.store = big(20)
    } catch {
      threw = true
    }
    const after = readFileSync(join(dir, JOURNAL_FILE), 'utf8')
    let parses = true
    try {
      JSON.parse(after)
    } catch {
      parses = false
    }
    assert.ok(threw || !parses, 'conf either refused the save or left a truncated journal')
    if (!threw) t.diagnostic(`conf reported success and left ${after.length} of ${JSON.stringify(big(20), undefined, '\t').length} bytes`)
  } finally {
    small.unmount()
  }
})

test('the same file format as conf: a journal either writes, the other reads', () => {
  const dir = freshDir()
  const conf = new Conf({ cwd: dir, configName: 'journal', projectName: 'x' })
  conf.store = { version: 2, steps: { a: { state: 'done' } } }
  const ours = fileJournalStore(dir)
  assert.deepEqual(ours.store, { version: 2, steps: { a: { state: 'done' } } })
  ours.store = { version: 2, steps: { a: { state: 'intent' } } }
  assert.deepEqual(JSON.parse(JSON.stringify(conf.store)), { version: 2, steps: { a: { state: 'intent' } } })
  assert.equal(readFileSync(join(dir, JOURNAL_FILE), 'utf8'), JSON.stringify({ version: 2, steps: { a: { state: 'intent' } } }, undefined, '\t'))
})

test('a missing journal reads as empty; a link or an oversized file is refused by name, a link never written through; not JSON is a SyntaxError', () => {
  const dir = freshDir()
  const store = fileJournalStore(dir)
  assert.deepEqual(store.store, {})
  const elsewhere = join(freshDir(), 'journal.json')
  writeFileSync(elsewhere, '{"version":2}')
  symlinkSync(elsewhere, join(dir, JOURNAL_FILE))
  assert.throws(() => fileJournalStore(dir), { code: 'SYMLINK_REFUSED' }, 'refused on opening')
  assert.throws(() => store.store, { code: 'SYMLINK_REFUSED' }, 'and on every read')
  store.store = { version: 3 } // a save replaces the link itself, never what it points to
  assert.equal(readFileSync(elsewhere, 'utf8'), '{"version":2}', 'never written through the link')
  assert.deepEqual(fileJournalStore(dir).store, { version: 3 })

  const other = freshDir()
  writeFileSync(join(other, JOURNAL_FILE), Buffer.alloc(JOURNAL_MAX_BYTES + 1, 0x20))
  assert.throws(() => fileJournalStore(other), { code: 'FILE_TOO_LARGE' })
  writeFileSync(join(other, JOURNAL_FILE), '{"version":')
  assert.throws(() => fileJournalStore(other), SyntaxError)
  writeFileSync(join(other, JOURNAL_FILE), '[1,2]')
  assert.throws(() => fileJournalStore(other), SyntaxError)
})

test('a save leaves only journal.json (mode 0600); its temp name is one the start-up sweep removes', () => {
  const dir = freshDir()
  const store = fileJournalStore(dir)
  store.store = { version: 2 }
  store.store = { version: 2, more: true }
  assert.deepEqual(readdirSync(dir), [JOURNAL_FILE])
  const { statSync } = require('node:fs') as typeof import('node:fs')
  assert.equal(statSync(join(dir, JOURNAL_FILE)).mode & 0o777, 0o600)
  assert.ok(isStaleTempName(`.${JOURNAL_FILE}.0123456789ab.tmp`))
})

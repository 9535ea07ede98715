/**
 * F6 (security.md §8 D): a real SIGKILL of a child process between the temp write and the rename
 * (and, for good measure, before the temp file is flushed). Afterwards the target is absent, or the
 * previous file still whole; the only leftover is the temp file, which the start-up sweep
 * (removeStaleTempFiles) removes, and then the write succeeds.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { isStaleTempName, removeStaleTempFiles, writeFileAtomic } from '../main/media'

const dirs: string[] = []
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'dsm-kill-write-'))
  dirs.push(d)
  return d
}

const CHILD = join(__dirname, 'support/kill-mid-write.ts')
const NEW_BLOB = Buffer.from('A'.repeat(344)) // a wrapped-key file's size
const OLD_BLOB = Buffer.from('B'.repeat(344))

function killedWrite(target: string, point: string, overwrite = false) {
  const data = join(freshDir(), 'data')
  writeFileSync(data, NEW_BLOB)
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, target, data, point, ...(overwrite ? ['overwrite'] : [])], { encoding: 'utf8', timeout: 30_000 })
  assert.equal(r.signal, 'SIGKILL', `the child died by SIGKILL at ${point} (status ${r.status}, ${r.stderr})`)
}

describe('F6 kill between the temp write and the rename', () => {
  test('F6 a kill before the rename: a new target is absent, the temp file is whole, the sweep removes it, the write then succeeds', async () => {
    const dir = freshDir()
    writeFileSync(join(dir, 'notes.tmp'), 'not ours')
    writeFileSync(join(dir, '.hidden'), 'not ours either')
    const target = join(dir, 'REHEARSAL-fips-2-cmk.wrapped.b64')
    killedWrite(target, 'before-rename')
    assert.equal(existsSync(target), false, 'no target: never a partial one')
    const temps = readdirSync(dir).filter(isStaleTempName)
    assert.equal(temps.length, 1)
    assert.deepEqual(readFileSync(join(dir, temps[0]!)), NEW_BLOB, 'the temp file was complete (fsynced) when the kill came')
    assert.deepEqual(await removeStaleTempFiles(dir), temps)
    assert.deepEqual(readdirSync(dir).sort(), ['.hidden', 'notes.tmp'], 'only the temp file went')
    assert.equal((await writeFileAtomic(target, NEW_BLOB)).bytes, NEW_BLOB.length)
    assert.deepEqual(readFileSync(target), NEW_BLOB)
  })

  test('F6 a kill before the rename of an overwrite leaves the previous file whole', async () => {
    const dir = freshDir()
    const target = join(dir, 'journal.json')
    writeFileSync(target, OLD_BLOB)
    killedWrite(target, 'before-rename', true)
    assert.deepEqual(readFileSync(target), OLD_BLOB)
    assert.equal((await removeStaleTempFiles(dir)).length, 1)
    assert.deepEqual(readdirSync(dir), ['journal.json'])
  })

  test('F6 a kill before the temp file is flushed: target absent, the partial temp file swept', async () => {
    const dir = freshDir()
    const target = join(dir, 'transfer-key.pub.pem')
    killedWrite(target, 'before-fsync')
    assert.equal(existsSync(target), false)
    assert.equal((await removeStaleTempFiles(dir)).length, 1)
    assert.deepEqual(readdirSync(dir), [])
  })
})

describe('the start-up sweep', () => {
  test('removes our and atomically’s temp names only, removes a link without following it, leaves folders alone', async () => {
    const dir = freshDir()
    const outside = join(freshDir(), 'precious')
    writeFileSync(outside, 'keep me')
    const names = {
      ours: '.cmk.wrapped.b64.0123456789ab.tmp',
      conf: 'journal.json.tmp-1767225600a1b2c3',
      link: '.journal.json.aaaaaaaaaaaa.tmp',
      folder: '.x.bbbbbbbbbbbb.tmp',
      keep: ['journal.json', 'audit.jsonl', 'x.tmp', '.tmp', 'journal.json.tmp-123', '.a.0123456789AB.tmp'],
    }
    writeFileSync(join(dir, names.ours), 'x')
    writeFileSync(join(dir, names.conf), 'x')
    symlinkSync(outside, join(dir, names.link))
    mkdirSync(join(dir, names.folder))
    for (const k of names.keep) writeFileSync(join(dir, k), 'x')
    assert.deepEqual(await removeStaleTempFiles(dir), [names.link, names.ours, names.conf].sort())
    assert.equal(readFileSync(outside, 'utf8'), 'keep me')
    assert.deepEqual(readdirSync(dir).sort(), [names.folder, ...names.keep].sort())
    assert.deepEqual(await removeStaleTempFiles(dir), [], 'nothing left to sweep')
  })
})

// Atomic artifact writes with real files: success, refusal to overwrite, symlinks, an unwritable
// directory (nothing half-written left behind), read-back mismatch, verified reads.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, symlinkSync, statSync, chmodSync, rmSync, mkdirSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import {
  writeFileAtomic, readFileVerified, TargetExistsError, SymlinkRefusedError, MediaWriteError, ReadBackMismatchError,
  DigestMismatchError, FileTooLargeError,
} from '../main/media'
import { io } from '../main/media/atomic-write'

const root = mkdtempSync(join(tmpdir(), 'media-test-'))
after(() => rmSync(root, { recursive: true, force: true }))
let n = 0
const freshDir = () => { const d = join(root, `d${n++}`); mkdirSync(d); return d }
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')

test('writes the file, returns its digest and size, leaves no temp file, mode 0600 by default', async () => {
  const dir = freshDir()
  const target = join(dir, 'wrapped_master_key.out')
  const data = Buffer.from([1, 2, 3, 250])
  const r = await writeFileAtomic(target, data)
  assert.deepEqual(r, { sha256: sha(data), bytes: 4 })
  assert.deepEqual(readFileSync(target), data)
  assert.deepEqual(readdirSync(dir), ['wrapped_master_key.out'])
  if (process.platform !== 'win32') assert.equal(statSync(target).mode & 0o777, 0o600)
})

test('strings are written as UTF-8; a custom mode is honoured', async () => {
  const target = join(freshDir(), 'transfer.pub.pem')
  const r = await writeFileAtomic(target, 'héllo\n', { mode: 0o644 })
  assert.equal(r.bytes, 7)
  assert.equal(readFileSync(target, 'utf8'), 'héllo\n')
  if (process.platform !== 'win32') assert.equal(statSync(target).mode & 0o777, 0o644)
})

test('refuses to overwrite an existing file unless asked; the existing file is untouched', async () => {
  const dir = freshDir()
  const target = join(dir, 'manifest.json')
  writeFileSync(target, 'original')
  await assert.rejects(writeFileAtomic(target, 'new'), TargetExistsError)
  assert.equal(readFileSync(target, 'utf8'), 'original')
  assert.deepEqual(readdirSync(dir), ['manifest.json'])
  const r = await writeFileAtomic(target, 'new', { overwrite: true })
  assert.equal(r.sha256, sha('new'))
  assert.equal(readFileSync(target, 'utf8'), 'new')
})

test('refuses to write through a symlink, even with overwrite', async () => {
  const dir = freshDir()
  writeFileSync(join(dir, 'real'), 'keep')
  symlinkSync(join(dir, 'real'), join(dir, 'link'))
  await assert.rejects(writeFileAtomic(join(dir, 'link'), 'x', { overwrite: true }), SymlinkRefusedError)
  assert.equal(readFileSync(join(dir, 'real'), 'utf8'), 'keep')
})

test('a missing directory is a named error', async () => {
  await assert.rejects(writeFileAtomic(join(root, 'no-such-dir', 'f'), 'x'), (e: unknown) =>
    e instanceof MediaWriteError && e.osCode === 'ENOENT')
})

// Root ignores mode bits, so as root the directory is made immutable (chattr +i) instead.
function makeUnwritable(dir: string): (() => void) | undefined {
  if (process.platform === 'win32') return undefined
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o555)
    return () => chmodSync(dir, 0o755)
  }
  try {
    execFileSync('chattr', ['+i', dir], { stdio: 'ignore' })
    return () => execFileSync('chattr', ['-i', dir], { stdio: 'ignore' })
  } catch {
    return undefined
  }
}

test('an unwritable directory gives a named error and leaves nothing behind', async (t) => {
  const dir = freshDir()
  const restore = makeUnwritable(dir)
  if (!restore) return t.skip('cannot make a directory unwritable here (needs non-root, or root with chattr)')
  try {
    await assert.rejects(writeFileAtomic(join(dir, 'wrapped_master_key.out'), Buffer.alloc(256, 7)), (e: unknown) => {
      assert.ok(e instanceof MediaWriteError)
      assert.ok(e.osCode === 'EACCES' || e.osCode === 'EPERM', String(e.osCode))
      return true
    })
  } finally {
    restore()
  }
  assert.deepEqual(readdirSync(dir), [])
})

test('a read-back that differs from what was written is a named error, and the bad file is removed', async () => {
  const dir = freshDir()
  const target = join(dir, 'wrapped_master_key.out')
  const original = io.readBack
  io.readBack = async (p) => { const b = await original(p); b[0] = b[0]! ^ 1; return b }
  try {
    await assert.rejects(writeFileAtomic(target, Buffer.from('blob')), (e: unknown) =>
      e instanceof ReadBackMismatchError && e.expectedSha256 === sha('blob') && e.actualSha256 !== sha('blob'))
  } finally {
    io.readBack = original
  }
  assert.deepEqual(readdirSync(dir), [])
})

test('readFileVerified returns the bytes when the digest matches (any hex case)', async () => {
  const target = join(freshDir(), 'a')
  writeFileSync(target, 'payload')
  assert.equal((await readFileVerified(target, sha('payload'))).toString(), 'payload')
  assert.equal((await readFileVerified(target, sha('payload').toUpperCase())).toString(), 'payload')
})

test('readFileVerified: wrong digest, symlink and oversize are named errors', async () => {
  const dir = freshDir()
  const target = join(dir, 'a')
  writeFileSync(target, 'payload')
  await assert.rejects(readFileVerified(target, sha('other')), (e: unknown) =>
    e instanceof DigestMismatchError && e.actualSha256 === sha('payload'))
  symlinkSync(target, join(dir, 'l'))
  await assert.rejects(readFileVerified(join(dir, 'l'), sha('payload')), SymlinkRefusedError)
  await assert.rejects(readFileVerified(target, sha('payload'), { maxBytes: 3 }), FileTooLargeError)
})

/**
 * Bad inputs on the media and in the state folder (security.md §6 17, 24, 27, 28): every read is
 * capped and refuses links, FIFOs and folders by name before reading; a file that appears between
 * the existence check and the move into place is never replaced (no-clobber hard link); messages
 * name the file, never the folder it is in.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, promises as fsp, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import {
  FileTooLargeError, NotAFileError, SymlinkRefusedError, TargetExistsError, readFileCapped, readFileCappedSync, readFileVerified, sha256Hex, writeFileAtomic,
} from '../main/media'

const root = mkdtempSync(join(tmpdir(), 'media-safe-'))
after(() => rmSync(root, { recursive: true, force: true }))
let n = 0
const freshDir = () => {
  const d = join(root, `d${n++}`)
  mkdirSync(d)
  return d
}

/** Runs `fn` with fs.promises.link replaced, as a racing writer or a FAT file system would behave. */
async function withLink(replacement: typeof fsp.link, fn: () => Promise<void>): Promise<void> {
  const original = fsp.link
  fsp.link = replacement
  try {
    await fn()
  } finally {
    fsp.link = original
  }
}

describe('no-clobber: a file that appears between the check and the move into place is never replaced', () => {
  test('E28 a file planted after the existence check: TARGET_EXISTS, the planted file untouched, no temp file left', async () => {
    const dir = freshDir()
    const target = join(dir, 'c-fips-2-wrapped_master_key.out')
    const original = fsp.link
    await withLink(async (from, to) => {
      writeFileSync(to, 'planted by someone else') // appears after writeFileAtomic checked the name
      return original(from, to)
    }, async () => {
      await assert.rejects(writeFileAtomic(target, Buffer.alloc(256, 1)), (e: unknown) => e instanceof TargetExistsError && e.code === 'TARGET_EXISTS')
    })
    assert.equal(readFileSync(target, 'utf8'), 'planted by someone else')
    assert.deepEqual(readdirSync(dir), ['c-fips-2-wrapped_master_key.out'])
  })

  test('E27 a link planted after the check is neither followed nor replaced', async () => {
    const dir = freshDir()
    const outside = join(freshDir(), 'precious')
    writeFileSync(outside, 'keep me')
    const target = join(dir, 'transfer.pub.pem')
    const original = fsp.link
    await withLink(async (from, to) => {
      symlinkSync(outside, to)
      return original(from, to)
    }, async () => {
      await assert.rejects(writeFileAtomic(target, 'pem'), TargetExistsError)
    })
    assert.equal(readFileSync(outside, 'utf8'), 'keep me')
    assert.deepEqual(readdirSync(dir), ['transfer.pub.pem'])
  })

  test('on a file system without hard links (FAT: EPERM) the write still lands, after a second check', async () => {
    const dir = freshDir()
    const target = join(dir, 'manifest.json')
    await withLink(async () => {
      throw Object.assign(new Error('operation not permitted'), { code: 'EPERM' })
    }, async () => {
      const r = await writeFileAtomic(target, '{"ok":true}')
      assert.equal(r.sha256, sha256Hex(Buffer.from('{"ok":true}')))
    })
    assert.deepEqual(readdirSync(dir), ['manifest.json'])
  })

  test('a new file is made by a hard link: the temp name is gone afterwards, the file is whole and 0600', async () => {
    const dir = freshDir()
    let linked = 0
    const original = fsp.link
    await withLink(async (from, to) => {
      linked++
      return original(from, to)
    }, async () => {
      await writeFileAtomic(join(dir, 'a.out'), Buffer.alloc(256, 9))
    })
    assert.equal(linked, 1)
    assert.deepEqual(readdirSync(dir), ['a.out'])
    assert.deepEqual(readFileSync(join(dir, 'a.out')), Buffer.alloc(256, 9))
  })
})

describe('capped reads that refuse links and special files', () => {
  for (const [name, read] of [['async', readFileCapped], ['sync', async (p: string, max: number) => readFileCappedSync(p, max)]] as const) {
    test(`${name}: E17/E24 a file over the cap is refused before it is read; exactly the cap is read whole`, async () => {
      const dir = freshDir()
      writeFileSync(join(dir, 'big'), Buffer.alloc(257, 1))
      writeFileSync(join(dir, 'fits'), Buffer.alloc(256, 1))
      await assert.rejects(read(join(dir, 'big'), 256), (e: unknown) => e instanceof FileTooLargeError && e.bytes === 257 && e.maxBytes === 256)
      assert.equal((await read(join(dir, 'fits'), 256)).length, 256)
      assert.equal((await read(join(dir, 'fits'), 10_000)).length, 256)
    })

    test(`${name}: E27 a link is refused (SYMLINK_REFUSED), even to a good file`, async () => {
      const dir = freshDir()
      writeFileSync(join(dir, 'real'), 'x')
      symlinkSync(join(dir, 'real'), join(dir, 'link'))
      await assert.rejects(read(join(dir, 'link'), 100), (e: unknown) => e instanceof SymlinkRefusedError && e.code === 'SYMLINK_REFUSED')
    })

    test(`${name}: a folder and a FIFO are refused as NOT_A_FILE, without blocking`, async (t) => {
      const dir = freshDir()
      mkdirSync(join(dir, 'folder'))
      await assert.rejects(read(join(dir, 'folder'), 100), NotAFileError)
      try {
        execFileSync('mkfifo', [join(dir, 'fifo')])
      } catch {
        return t.skip('mkfifo is not available here')
      }
      await assert.rejects(read(join(dir, 'fifo'), 100), (e: unknown) => e instanceof NotAFileError && e.code === 'NOT_A_FILE')
    })
  }

  test('readFileVerified reads through the same capped, no-follow path (a link to the right bytes is still refused)', async () => {
    const dir = freshDir()
    writeFileSync(join(dir, 'blob'), 'payload')
    symlinkSync(join(dir, 'blob'), join(dir, 'link'))
    await assert.rejects(readFileVerified(join(dir, 'link'), sha256Hex(Buffer.from('payload'))), SymlinkRefusedError)
  })

  test('every refusal names the file and never the folder it is in', async () => {
    const dir = freshDir()
    writeFileSync(join(dir, 'big'), Buffer.alloc(300))
    symlinkSync(join(dir, 'big'), join(dir, 'link'))
    writeFileSync(join(dir, 'exists'), 'x')
    const errors = await Promise.all([
      readFileCapped(join(dir, 'big'), 10).catch((e: Error) => e),
      readFileCapped(join(dir, 'link'), 10).catch((e: Error) => e),
      readFileCapped(dir, 10).catch((e: Error) => e),
      writeFileAtomic(join(dir, 'exists'), 'y').catch((e: Error) => e),
      writeFileAtomic(join(dir, 'no-such', 'f'), 'y').catch((e: Error) => e),
      readFileVerified(join(dir, 'exists'), '0'.repeat(64)).catch((e: Error) => e),
    ])
    for (const e of errors) {
      assert.ok(e instanceof Error, String(e))
      assert.equal(e.message.includes(root), false, e.message)
      assert.equal(e.message.includes('/'), false, e.message)
    }
  })
})

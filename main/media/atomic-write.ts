// Durable, atomic artifact writes (security.md §5.3). Removable media is often FAT/exFAT with
// no journal, so: write a temp file in the same directory (O_EXCL), fsync it, move it into place,
// fsync the directory (the move is only durable after that), then read the file back and compare
// its SHA-256 with what we meant to write. On any failure the temp file is removed, and the target
// is either the complete new file or untouched (or absent).
//
// A new file is moved into place without ever replacing one (no-clobber): the temp file is
// hard-linked to the target name, which fails with EEXIST if anything (a file, a link) appeared
// there since the check, and only then is the temp name removed. Node has no renameat2
// (RENAME_NOREPLACE). Where the file system has no hard links (FAT, exFAT: EPERM, ENOTSUP …), the
// target is checked again just before a plain rename; that narrow window is the only one left.

import { createHash, randomBytes } from 'node:crypto'
import { promises as fsp, constants as C } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { MediaWriteError, DigestMismatchError, ReadBackMismatchError, SymlinkRefusedError, TargetExistsError } from './errors'
import { readFileCapped } from './safe-read'

export interface WriteResult { sha256: string; bytes: number }
export interface WriteOptions {
  /** File mode for a new file; default 0o600 (artifacts are for custodians, not other users). */
  mode?: number
  /** Replace an existing file. Off by default: the operator must confirm an overwrite. */
  overwrite?: boolean
}

/**
 * The read-back step, swappable only by tests (to simulate media returning other bytes than were
 * written, which a real disk in a test cannot be made to do). Not exported from the module index.
 */
export const io = { readBack: (path: string): Promise<Buffer> => fsp.readFile(path) }

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

export async function writeFileAtomic(path: string, data: Buffer | string, opts: WriteOptions = {}): Promise<WriteResult> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data)
  const expected = sha256Hex(bytes)
  const dir = dirname(path)

  await refuseExistingOrSymlink(path, opts.overwrite === true)

  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  let stage = 'creating a temporary file'
  try {
    // O_EXCL: never reuse a file someone else created; O_NOFOLLOW: never write through a link.
    const fh = await fsp.open(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | (C.O_NOFOLLOW ?? 0), opts.mode ?? 0o600)
    try {
      stage = 'writing'
      await fh.writeFile(bytes)
      stage = 'flushing to the media (fsync)'
      await fh.sync()
    } finally {
      await fh.close()
    }
    stage = 'moving into place'
    if (opts.overwrite === true) {
      await refuseExistingOrSymlink(path, true)
      await fsp.rename(tmp, path)
    } else {
      await commitNoClobber(tmp, path)
    }
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined)
    if (err instanceof TargetExistsError || err instanceof SymlinkRefusedError) throw err
    throw new MediaWriteError(path, stage, err)
  }

  try {
    await fsyncDirectory(dir)
  } catch (err) {
    throw new MediaWriteError(path, 'flushing the directory (fsync)', err)
  }

  let readBack: Buffer
  try {
    readBack = await io.readBack(path)
  } catch (err) {
    throw new MediaWriteError(path, 'reading back', err)
  }
  const actual = sha256Hex(readBack)
  if (actual !== expected) {
    // A file under the artifact's name that is not the artifact must not be carried away.
    await fsp.rm(path, { force: true }).catch(() => undefined)
    throw new ReadBackMismatchError(path, expected, actual)
  }
  return { sha256: expected, bytes: bytes.length }
}

/** Without a cap of the caller's, no artifact read is larger than this. */
export const DEFAULT_READ_CAP = 16 * 1024 * 1024

/** Read a file and check it is the one recorded (SHA-256, lowercase or upper-case hex); never a link, never over the cap. */
export async function readFileVerified(path: string, expectedSha256: string, opts: { maxBytes?: number } = {}): Promise<Buffer> {
  const data = await readFileCapped(path, opts.maxBytes ?? DEFAULT_READ_CAP)
  const actual = sha256Hex(data)
  const expected = expectedSha256.trim().toLowerCase()
  if (actual !== expected) throw new DigestMismatchError(path, expected, actual)
  return data
}

/** Links the temp file to the target name (EEXIST if anything is there), then drops the temp name. */
async function commitNoClobber(tmp: string, path: string): Promise<void> {
  await refuseExistingOrSymlink(path, false)
  try {
    await fsp.link(tmp, path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') throw new TargetExistsError(path)
    if (!NO_HARD_LINKS.has(code ?? '')) throw err
    // No hard links on this file system: check again just before the rename.
    await refuseExistingOrSymlink(path, false)
    await fsp.rename(tmp, path)
    return
  }
  await fsp.unlink(tmp)
}

/** What link() answers on file systems without hard links (FAT, exFAT, some network shares). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK', 'EXDEV'])

async function refuseExistingOrSymlink(path: string, overwrite: boolean): Promise<void> {
  let st
  try {
    st = await fsp.lstat(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw new MediaWriteError(path, 'checking the target', err)
  }
  if (st.isSymbolicLink()) throw new SymlinkRefusedError(path)
  if (!overwrite) throw new TargetExistsError(path)
  if (!st.isFile()) throw new MediaWriteError(path, 'checking the target', Object.assign(new Error('not a regular file'), { code: 'EISDIR' }))
}

// Windows cannot open a directory for fsync (EPERM/EISDIR); there, NTFS/FAT metadata is flushed by
// the rename itself as far as user space can tell, so only that platform tolerates it.
async function fsyncDirectory(dir: string): Promise<void> {
  let fh
  try {
    fh = await fsp.open(dir, 'r')
    await fh.sync()
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (process.platform === 'win32' && (code === 'EPERM' || code === 'EISDIR' || code === 'EACCES')) return
    throw err
  } finally {
    await fh?.close()
  }
}

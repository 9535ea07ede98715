// Reading a file from the media or the state folder (security.md §5.3, §6 17/24/27): the file is
// opened without following a link (O_NOFOLLOW), checked to be a regular file and no larger than the
// caller's cap on the open descriptor (no window between the check and the read), and read through
// that descriptor, never more than the cap. A FIFO or device opened by mistake does not block
// (O_NONBLOCK, refused as not a regular file before any read).
import { closeSync, constants as C, fstatSync, lstatSync, openSync, readSync, promises as fsp } from 'node:fs'
import { FileTooLargeError, NotAFileError, SymlinkRefusedError } from './errors'

const FLAGS = C.O_RDONLY | (C.O_NOFOLLOW ?? 0) | (C.O_NONBLOCK ?? 0)

function refused(path: string, err: unknown): Error {
  // O_NOFOLLOW on a link: ELOOP on Linux and macOS, EMLINK on FreeBSD.
  const code = (err as NodeJS.ErrnoException).code
  return code === 'ELOOP' || code === 'EMLINK' ? new SymlinkRefusedError(path) : (err as Error)
}

/** Where O_NOFOLLOW does not exist (Windows), a link is refused by lstat before opening. */
function lstatFirst(path: string): void {
  if (C.O_NOFOLLOW === undefined && lstatSync(path).isSymbolicLink()) throw new SymlinkRefusedError(path)
}

export function readFileCappedSync(path: string, maxBytes: number): Buffer {
  lstatFirst(path)
  let fd: number
  try {
    fd = openSync(path, FLAGS)
  } catch (err) {
    throw refused(path, err)
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) throw new NotAFileError(path)
    if (st.size > maxBytes) throw new FileTooLargeError(path, st.size, maxBytes)
    // One byte more than the cap: a file that grew since fstat is refused, never read in full.
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1)
    let off = 0
    for (;;) {
      const n = readSync(fd, buf, off, buf.length - off, off)
      if (n === 0) break
      off += n
      if (off > maxBytes) throw new FileTooLargeError(path, off, maxBytes)
      if (off === buf.length) break
    }
    return buf.subarray(0, off)
  } finally {
    closeSync(fd)
  }
}

export async function readFileCapped(path: string, maxBytes: number): Promise<Buffer> {
  lstatFirst(path)
  let fh: fsp.FileHandle
  try {
    fh = await fsp.open(path, FLAGS)
  } catch (err) {
    throw refused(path, err)
  }
  try {
    const st = await fh.stat()
    if (!st.isFile()) throw new NotAFileError(path)
    if (st.size > maxBytes) throw new FileTooLargeError(path, st.size, maxBytes)
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1)
    let off = 0
    for (;;) {
      const { bytesRead } = await fh.read(buf, off, buf.length - off, off)
      if (bytesRead === 0) break
      off += bytesRead
      if (off > maxBytes) throw new FileTooLargeError(path, off, maxBytes)
      if (off === buf.length) break
    }
    return buf.subarray(0, off)
  } finally {
    await fh.close()
  }
}

// The SHA-256 and size of a file too large to read into memory (a camera's video is gigabytes): read
// in chunks through one descriptor opened without following a link (O_NOFOLLOW) and checked to be a
// regular file, so what is hashed is the file named, never what a link points to. A file that grows
// or shrinks while it is read is refused: the digest would describe no state the file was ever in.
import { createHash } from 'node:crypto'
import { constants as C, promises as fsp } from 'node:fs'
import { FileChangedError, NotAFileError, SymlinkRefusedError } from './errors'

const FLAGS = C.O_RDONLY | (C.O_NOFOLLOW ?? 0) | (C.O_NONBLOCK ?? 0)
/** 4 MiB reads: large enough that a 4 GB video is ~1000 reads, small enough to keep memory flat. */
const CHUNK = 4 * 1024 * 1024

export interface FileDigest {
  sha256: string
  bytes: number
  /** The file's modification time when it was hashed (ISO), to notice a change before it is used. */
  modifiedAt: string
}

export async function digestFile(path: string): Promise<FileDigest> {
  if (C.O_NOFOLLOW === undefined && (await fsp.lstat(path)).isSymbolicLink()) throw new SymlinkRefusedError(path)
  let fh: fsp.FileHandle
  try {
    fh = await fsp.open(path, FLAGS)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ELOOP' || code === 'EMLINK') throw new SymlinkRefusedError(path)
    throw err
  }
  try {
    const before = await fh.stat()
    if (!before.isFile()) throw new NotAFileError(path)
    const hash = createHash('sha256')
    const buf = Buffer.alloc(Math.min(CHUNK, Math.max(1, before.size)))
    let bytes = 0
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, bytes)
      if (bytesRead === 0) break
      hash.update(buf.subarray(0, bytesRead))
      bytes += bytesRead
    }
    const after = await fh.stat()
    if (bytes !== before.size || after.size !== before.size || after.mtimeMs !== before.mtimeMs) throw new FileChangedError(path)
    return { sha256: hash.digest('hex'), bytes, modifiedAt: new Date(before.mtimeMs).toISOString() }
  } finally {
    await fh.close()
  }
}

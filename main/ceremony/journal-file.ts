/**
 * The journal's own file store (security.md §5.3, §5.4, §8 F9/F23). It replaces conf and
 * electron-store for the journal because their writer (atomically 2.x) does one write() and does
 * not check how many bytes it took: on a disk that fills up in the middle of the save, a short write
 * is fsynced and renamed over the journal, leaving it truncated (shown by
 * test/journal-file.test.ts on a full tmpfs). This store writes the same file (journal.json,
 * tab-indented JSON, so a journal either wrote is read by the other) the safe way:
 *
 *   temp file in the same folder (O_EXCL, O_NOFOLLOW, 0600) -> every byte written, looping on short
 *   writes, so a full disk raises ENOSPC -> fsync -> rename over journal.json -> fsync the folder
 *
 * On any failure the temp file is removed and journal.json is the previous whole file. A kill
 * leaves at most the temp file, which the start-up sweep removes (its name is one it knows).
 * Reads are capped and never through a link.
 */
import { randomBytes } from 'node:crypto'
import { closeSync, constants as C, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { readFileCappedSync } from '../media'
import type { JournalStore } from './journal'

export const JOURNAL_FILE = 'journal.json'
/** A journal holds a few kilobytes per step; a larger file is refused before it is parsed. */
export const JOURNAL_MAX_BYTES = 8 * 1024 * 1024

/** fsync a folder, so the renames into it (journal, media files) survive a power cut. */
export function syncDir(dir: string): void {
  if (process.platform === 'win32') return // folders cannot be opened for fsync there
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Writes every byte of `data` to a new file at `path` (never an existing one, never through a link) and fsyncs it. */
export function writeNewFileSync(path: string, data: Buffer, mode = 0o600): void {
  const fd = openSync(path, C.O_WRONLY | C.O_CREAT | C.O_EXCL | (C.O_NOFOLLOW ?? 0), mode)
  try {
    let off = 0
    while (off < data.length) {
      // A short write is not an error: the next call writes the rest, or says why it cannot (ENOSPC).
      const n = writeSync(fd, data, off, data.length - off)
      if (n <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' })
      off += n
    }
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Opens the journal's store; like conf, it reads the file once here, so a damaged file is found on opening. */
export function fileJournalStore(stateDir: string): JournalStore {
  const path = join(stateDir, JOURNAL_FILE)
  const store: JournalStore = {
    syncsFolder: true,
    get store(): Record<string, unknown> {
      let text: string
      try {
        text = readFileCappedSync(path, JOURNAL_MAX_BYTES).toString('utf8')
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
        throw err
      }
      const value = JSON.parse(text) as unknown
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new SyntaxError('the journal is not a JSON object')
      return value as Record<string, unknown>
    },
    set store(value: Record<string, unknown>) {
      const tmp = join(stateDir, `.${JOURNAL_FILE}.${randomBytes(6).toString('hex')}.tmp`)
      try {
        writeNewFileSync(tmp, Buffer.from(JSON.stringify(value, undefined, '\t'), 'utf8'))
        renameSync(tmp, path)
      } catch (err) {
        rmSync(tmp, { force: true })
        throw err
      }
      syncDir(stateDir)
    },
  }
  void store.store
  return store
}

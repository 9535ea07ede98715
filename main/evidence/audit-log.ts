// The append-only, hash-chained ceremony audit log (design §7, security.md §4.5).
// One JSON line per entry (format in entry.ts). Each append is written with a single write() on a
// file opened O_APPEND and then fsync()ed; append() resolves only once the entry is durable, and
// rejects with AuditLogWriteError otherwise, so the engine can refuse to run the step.
// Appends are serialised: concurrent callers get consecutive seq numbers, never a forked chain.

import { promises as fsp, constants as C } from 'node:fs'
import { basename, dirname } from 'node:path'
import { FileTooLargeError, readFileCapped, SymlinkRefusedError } from '../media'
import { canonicalJson, CanonicalJsonError, sha256Hex } from './canonical-json'
import { GENESIS_PREV, ENTRY_KINDS, entryInputProblem, sealEntry, verifyChain, type EntryInput, type LogEntry } from './entry'
import { AuditLogCorruptError, AuditLogWriteError, InvalidEntryError } from './errors'
import { assertNoSecrets } from './secrets'

/** The subset of fs.promises.FileHandle the log uses; injectable so tests can fail write/fsync. */
export interface LogFileHandle {
  write(buffer: Buffer, offset: number, length: number): Promise<{ bytesWritten: number }>
  sync(): Promise<void>
  close(): Promise<void>
}

export interface AuditLogOptions {
  /** SHA-256 of the canonical plan (planDigestOf). Every entry carries it; a log for another plan is refused. */
  planDigest: string
  /** Source of entry timestamps; defaults to the workstation clock. */
  clock?: () => Date
  /** Opens the file for appending; tests inject failures here. Default: O_WRONLY|O_APPEND|O_CREAT|O_NOFOLLOW, 0600. */
  openForAppend?: (path: string) => Promise<LogFileHandle>
}

const defaultOpenForAppend = (path: string): Promise<LogFileHandle> =>
  fsp.open(path, C.O_WRONLY | C.O_APPEND | C.O_CREAT | (C.O_NOFOLLOW ?? 0), 0o600)

export class AuditLog {
  private readonly list: LogEntry[]
  private lastLine: string | undefined
  private queue: Promise<unknown> = Promise.resolve()
  private failed: AuditLogWriteError | undefined
  private closed = false
  private frozenUpTo = 0

  private constructor(
    readonly path: string,
    readonly planDigest: string,
    private readonly clock: () => Date,
    private readonly fh: LogFileHandle,
    existing: { entries: LogEntry[]; lastLine: string | undefined },
  ) {
    this.list = existing.entries
    this.lastLine = existing.lastLine
  }

  /** Open (or create) the log at `path`. An existing log is verified end to end and continued. */
  static async open(path: string, opts: AuditLogOptions): Promise<AuditLog> {
    if (!/^[0-9a-f]{64}$/.test(opts.planDigest)) throw new InvalidEntryError('planDigest must be a lowercase SHA-256 hex digest')
    const existing = await readExisting(path, opts.planDigest)
    let fh: LogFileHandle
    try {
      fh = await (opts.openForAppend ?? defaultOpenForAppend)(path)
      if (!existing.existed) await fsyncDir(dirname(path))
    } catch (err) {
      throw new AuditLogWriteError(`Cannot open the audit log ${basename(path)} for writing (${(err as NodeJS.ErrnoException).code ?? String(err)}). No step can run without it.`, err)
    }
    return new AuditLog(path, opts.planDigest, opts.clock ?? (() => new Date()), fh, existing)
  }

  /** Append one entry; resolves with it once it is on disk (written and fsynced). */
  append(input: EntryInput): Promise<LogEntry> {
    // Validation happens synchronously, before queueing, so a refused entry never holds up others.
    const problem = entryInputProblem(input)
    if (problem) return Promise.reject(new InvalidEntryError(`Refused audit entry: ${problem}`))
    try {
      assertNoSecrets(input.facts)
      canonicalJson(input.facts)
    } catch (err) {
      if (err instanceof CanonicalJsonError) return Promise.reject(new InvalidEntryError(`Refused audit entry: ${err.message}`))
      return Promise.reject(err)
    }
    // Copy now: the caller may mutate its object after calling append.
    const facts = JSON.parse(canonicalJson(input.facts)) as Record<string, unknown>
    const run = this.queue.then(() => this.write({ actor: input.actor, step: input.step, kind: input.kind, facts }))
    this.queue = run.catch(() => undefined)
    return run
  }

  /** A witness confirms one or more checklist items. */
  appendWitnessSignoff(witness: string, items: string[], step: string): Promise<LogEntry> {
    return this.append({ actor: witness, step, kind: ENTRY_KINDS.witnessSignoff, facts: { witness, items } })
  }

  /** A recorded deviation from the script, by whoever noted it. */
  appendException(by: string, note: string, step: string): Promise<LogEntry> {
    return this.append({ actor: by, step, kind: ENTRY_KINDS.exception, facts: { by, note } })
  }

  /**
   * Every entry, oldest first, in a new array. The entries themselves are deep-frozen, not copied:
   * they are the record, and the engine reads them on every step (witness sign-offs, aborts, the
   * step view), so a deep copy of the whole log per read made a ceremony's CPU time grow with the
   * square of its length (31 s of a 10-target rehearsal). Frozen lazily, so opening a long log
   * costs nothing extra until it is read.
   */
  entries(): LogEntry[] {
    for (; this.frozenUpTo < this.list.length; this.frozenUpTo++) deepFreeze(this.list[this.frozenUpTo])
    return this.list.slice()
  }

  /** How many entries the log holds (cheap; the log only grows, so this identifies its content). */
  get length(): number {
    return this.list.length
  }

  /** The last entry's hash (commits to the whole log so far); 64 zeros while empty. */
  head(): string {
    return this.list.at(-1)?.hash ?? GENESIS_PREV
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.queue
    await this.fh.close()
  }

  private async write(input: EntryInput): Promise<LogEntry> {
    if (this.closed) throw new AuditLogWriteError('The audit log is closed.')
    if (this.failed) throw new AuditLogWriteError(`The audit log failed earlier (${this.failed.osCode ?? this.failed.message}) and accepts no more entries; re-open it.`, this.failed)
    const { entry, line } = sealEntry({
      seq: this.list.length + 1,
      ts: this.clock().toISOString(),
      prev: this.lastLine === undefined ? GENESIS_PREV : sha256Hex(this.lastLine),
      planDigest: this.planDigest,
      ...input,
    })
    const bytes = Buffer.from(line + '\n', 'utf8')
    try {
      // One write call for the whole line (O_APPEND puts it at the end atomically w.r.t. other
      // appenders on local disks); loop only in case the OS reports a short write.
      let off = 0
      while (off < bytes.length) {
        const { bytesWritten } = await this.fh.write(bytes, off, bytes.length - off)
        if (bytesWritten <= 0) throw new Error('write made no progress')
        off += bytesWritten
      }
      await this.fh.sync()
    } catch (err) {
      this.failed = new AuditLogWriteError(`Could not write audit entry ${entry.seq} to ${basename(this.path)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). The step must not run.`, err)
      throw this.failed
    }
    this.list.push(entry)
    this.lastLine = line
    return structuredClone(entry)
  }
}

/**
 * No ceremony's log comes near this (100k entries are ~40 MB); a larger file is refused before it is
 * read rather than parsed into memory.
 */
export const AUDIT_LOG_MAX_BYTES = 256 * 1024 * 1024

async function readExisting(path: string, planDigest: string): Promise<{ entries: LogEntry[]; lastLine: string | undefined; existed: boolean }> {
  let text: string
  try {
    // Read through a descriptor opened without following links, capped: never a link, never unbounded.
    text = (await readFileCapped(path, AUDIT_LOG_MAX_BYTES)).toString('utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], lastLine: undefined, existed: false }
    if (err instanceof SymlinkRefusedError) throw new AuditLogCorruptError('SYMLINK', 0, `${basename(path)} is a symbolic link; the audit log must be a real file`)
    if (err instanceof FileTooLargeError) throw new AuditLogCorruptError('TOO_LARGE', 0, `${basename(path)} is ${err.bytes} bytes, more than any ceremony's log (${AUDIT_LOG_MAX_BYTES}); it is not read`)
    if ((err as { code?: string }).code === 'NOT_A_FILE') throw new AuditLogCorruptError('NOT_A_FILE', 0, `${basename(path)} is not a regular file`)
    throw err
  }
  if (text === '') return { entries: [], lastLine: undefined, existed: true }
  const lines = text.split('\n')
  const tail = lines.pop()
  if (tail !== '') {
    throw new AuditLogCorruptError('TORN_TAIL', lines.length + 1, 'the last line is incomplete (a write was interrupted); the log is kept as evidence and not continued')
  }
  const entries: unknown[] = []
  for (let i = 0; i < lines.length; i++) {
    try {
      entries.push(JSON.parse(lines[i]!))
    } catch {
      throw new AuditLogCorruptError('NOT_JSON', i + 1, 'the line is not valid JSON')
    }
  }
  const first = entries[0] as { planDigest?: unknown } | undefined
  if (first && first.planDigest !== planDigest) {
    throw new AuditLogCorruptError('PLAN_MISMATCH', 1, `this log belongs to plan ${String(first.planDigest)}, not to the loaded plan ${planDigest}`)
  }
  const failure = verifyChain(entries, planDigest, lines)
  if (failure) throw new AuditLogCorruptError('BROKEN_CHAIN', failure.seq, failure.reason)
  return { entries: entries as LogEntry[], lastLine: lines.at(-1), existed: true }
}

async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return // directories cannot be opened for fsync there
  const d = await fsp.open(dir, 'r')
  try {
    await d.sync()
  } finally {
    await d.close()
  }
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return
  Object.freeze(value)
  for (const v of Object.values(value)) deepFreeze(v)
}

/**
 * One runner per state folder (design §6). Two runners on one journal and audit log would fork the
 * hash chain and could each act on the appliances. The app and the CLI take the same lock: a file
 * created with O_EXCL holding the owner's pid and host. A lock whose process is gone (a crash, a
 * power cut, SIGKILL) is stale and taken over; a live one is refused with STATE_LOCKED. The lock is
 * written whole to a temp file and hard-linked into place (no-clobber), so it is never half written.
 */
import { randomBytes } from 'node:crypto'
import { closeSync, constants as C, fsyncSync, linkSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { CeremonyError } from '../errors'

export const LOCK_FILE = 'ceremony.lock'

interface LockOwner {
  pid: number
  host: string
  token: string
  since: string
}

export class StateLockedError extends CeremonyError {
  constructor(owner: LockOwner | null) {
    super('STATE_LOCKED', owner
      ? `Another run of this ceremony holds its state folder (process ${owner.pid} on ${owner.host}, since ${owner.since}). Close it first; two runners would fork the audit log.`
      : 'Another run of this ceremony holds its state folder. Close it first; two runners would fork the audit log.')
    this.name = 'StateLockedError'
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists but belongs to someone else, which still makes it a live owner.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function readOwner(path: string): LockOwner | null {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>
    return typeof owner.pid === 'number' && typeof owner.host === 'string' && typeof owner.token === 'string' ? (owner as LockOwner) : null
  } catch {
    return null
  }
}

export class StateLock {
  private released = false

  private constructor(private readonly path: string, private readonly token: string) {}

  /** Takes the lock on `stateDir`, taking over a stale one; STATE_LOCKED if a live process holds it. */
  static acquire(stateDir: string, now: () => Date = () => new Date()): StateLock {
    const path = join(stateDir, LOCK_FILE)
    const owner: LockOwner = { pid: process.pid, host: hostname(), token: randomBytes(8).toString('hex'), since: now().toISOString() }
    const tmp = `${path}.${owner.token}.tmp`
    const fd = openSync(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | (C.O_NOFOLLOW ?? 0), 0o600)
    try {
      writeSync(fd, JSON.stringify(owner))
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          linkSync(tmp, path)
          return new StateLock(path, owner.token)
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
        }
        const held = readOwner(path)
        // Another host's lock (a shared folder) cannot be checked for liveness: never taken over.
        const stale = held !== null && held.host === owner.host && held.pid !== process.pid && !alive(held.pid)
        if (!stale) throw new StateLockedError(held)
        rmSync(path, { force: true })
      }
    } finally {
      rmSync(tmp, { force: true })
    }
    throw new StateLockedError(readOwner(path))
  }

  /** Releases the lock if it is still ours. */
  release(): void {
    if (this.released) return
    this.released = true
    if (readOwner(this.path)?.token === this.token) rmSync(this.path, { force: true })
  }
}

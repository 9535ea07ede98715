// Repairing a torn last line of the audit log (a power cut or a full disk in the middle of an
// append). Never automatic: the operator runs it explicitly (`ceremony repair-log`). The complete
// lines before the tear are verified as a chain first; only then is the file truncated to the end
// of the last complete line (fsynced), and the repair itself is appended as an entry that names
// how many bytes were removed and their SHA-256, so the record shows it happened.

import { promises as fsp } from 'node:fs'
import { basename } from 'node:path'
import { readFileCapped, SymlinkRefusedError } from '../media'
import { AUDIT_LOG_MAX_BYTES, AuditLog } from './audit-log'
import { sha256Hex } from './canonical-json'
import { verifyChain } from './entry'
import { AuditLogCorruptError } from './errors'

export interface RepairResult {
  removedBytes: number
  removedSha256: string
  entriesKept: number
}

export class NothingToRepairError extends Error {
  override readonly name = 'NothingToRepairError'
  readonly code = 'NOTHING_TO_REPAIR' as const
}

export async function repairTornTail(path: string, opts: { planDigest: string; actor: string; kind: string; clock?: () => Date }): Promise<RepairResult> {
  const bytes = await readFileCapped(path, AUDIT_LOG_MAX_BYTES).catch((err: unknown) => {
    if (err instanceof SymlinkRefusedError) throw new AuditLogCorruptError('SYMLINK', 0, `${basename(path)} is a symbolic link; the audit log must be a real file`)
    throw err
  })
  const end = bytes.lastIndexOf(0x0a) + 1 // just after the last complete line ("\n"), or 0
  if (end === bytes.length) throw new NothingToRepairError('The audit log ends with a complete entry; there is nothing to repair.')
  const lines = bytes.subarray(0, end).toString('utf8').split('\n').slice(0, -1)
  const entries: unknown[] = []
  for (let i = 0; i < lines.length; i++) {
    try {
      entries.push(JSON.parse(lines[i]!))
    } catch {
      throw new AuditLogCorruptError('NOT_JSON', i + 1, 'a complete line before the torn one is not valid JSON; the log is not repaired')
    }
  }
  const failure = verifyChain(entries, opts.planDigest, lines)
  if (failure) throw new AuditLogCorruptError('BROKEN_CHAIN', failure.seq, `${failure.reason}; the log is not repaired`)
  const removed = bytes.subarray(end)
  const fh = await fsp.open(path, 'r+')  // the same file: the lock is held and it was just read as a real file
  try {
    await fh.truncate(end)
    await fh.sync()
  } finally {
    await fh.close()
  }
  const result = { removedBytes: removed.length, removedSha256: sha256Hex(removed), entriesKept: entries.length }
  const log = await AuditLog.open(path, { planDigest: opts.planDigest, ...(opts.clock ? { clock: opts.clock } : {}) })
  try {
    await log.append({ actor: opts.actor, step: 'ceremony', kind: opts.kind, facts: { ...result, reason: 'the last line was torn (an append was interrupted); it was removed after the entries before it verified' } })
  } finally {
    await log.close()
  }
  return result
}

// The files the addendum, verify and archive commands share: the record read and verified, and the
// addenda kept beside it. Addenda live in the record's folder under their own names
// (`<ceremony>[-REHEARSAL]-addendum-<n>.json`), so `ceremony verify RECORD` finds every one without
// being told: an addendum nobody passes on the command line is still checked, and one removed from
// the chain is named (ADDENDUM_MISSING) rather than silently left out.
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { CeremonyError, errorCode } from '../errors'
import { addendumFileName, verifyRecord, type CeremonyRecord } from '../evidence'
import { readFileCappedSync } from '../media'

/** A record of 100k entries is ~40 MB (verify.ts); refuse absurd files before reading them. */
export const MAX_RECORD_BYTES = 512 * 1024 * 1024
/** An addendum lists at most 64 videos and 50 action items: a few hundred KB at most. */
const MAX_ADDENDUM_BYTES = 4 * 1024 * 1024

export interface AddendumFile {
  path: string
  value: unknown
}

/** The record as JSON; unreadable is RECORD_UNREADABLE, a record that does not verify RECORD_INVALID. */
export function readVerifiedRecord(path: string): CeremonyRecord {
  let value: unknown
  try {
    value = JSON.parse(readFileCappedSync(path, MAX_RECORD_BYTES).toString('utf8'))
  } catch (err) {
    throw new CeremonyError('RECORD_UNREADABLE', `The record ${path} cannot be read as JSON (${errorCode(err, err instanceof Error ? err.message : 'unreadable')})`)
  }
  const verdict = verifyRecord(value)
  if (!verdict.ok) throw new CeremonyError('RECORD_INVALID', `The record does not verify (entry ${verdict.firstBadEntry}: ${verdict.reason}); nothing can be added to it`)
  return value as CeremonyRecord
}

/** The ceremony id and mode an addendum's file name is made from. */
export function addendumNameParts(record: unknown): { id: string; mode: 'production' | 'rehearsal' } | null {
  const r = record as { plan?: { id?: unknown }; mode?: unknown } | null
  const id = r?.plan?.id
  if (typeof id !== 'string' || (r?.mode !== 'production' && r?.mode !== 'rehearsal')) return null
  return { id, mode: r.mode }
}

/** Every addendum of this ceremony in `dir`, by file name, read as JSON (the chain is checked by verifyAddenda). */
export function findAddenda(dir: string, id: string, mode: 'production' | 'rehearsal'): AddendumFile[] {
  const prefix = addendumFileName(id, mode, 0).replace(/0\.json$/, '')
  const names = readdirSync(dir).filter((name) => name.startsWith(prefix) && /^[1-9]\d{0,3}\.json$/.test(name.slice(prefix.length)))
  return names.map((name) => readAddendumFile(join(dir, name)))
}

/** One addendum file as JSON; a file that cannot be read or parsed is ADDENDUM_FORMAT_INVALID, by name. */
export function readAddendumFile(path: string): AddendumFile {
  try {
    return { path, value: JSON.parse(readFileCappedSync(path, MAX_ADDENDUM_BYTES).toString('utf8')) as unknown }
  } catch (err) {
    throw new CeremonyError('ADDENDUM_FORMAT_INVALID', `The addendum ${path} cannot be read as JSON (${errorCode(err, 'not JSON')})`)
  }
}

/** The addenda beside a record. */
export function addendaBeside(recordPath: string, record: unknown): AddendumFile[] {
  const parts = addendumNameParts(record)
  return parts ? findAddenda(dirname(recordPath), parts.id, parts.mode) : []
}

/** One JSON line for scripts: the outcome, or the named error. */
export function printOutcome(result: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ok: true, ...result })}\n`)
}

export function printRefusal(err: unknown): number {
  process.stdout.write(`${JSON.stringify({ ok: false, error: { code: errorCode(err, 'INTERNAL'), message: err instanceof Error ? err.message : String(err) } })}\n`)
  return 1
}

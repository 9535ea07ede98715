/**
 * What goes into the archive (issue 14 part 8), gathered and checked before a byte is written: the
 * record (it must verify), the audit log (entry for entry the record's), the addenda (a chain that
 * verifies against the record), and every artifact the record lists, from the media folder, each
 * with the digest and size the record logged. A missing file is ARCHIVE_INCOMPLETE, a changed one
 * ARTIFACT_DIGEST_MISMATCH, and both are named before either destination is touched.
 */
import { basename, join } from 'node:path'
import { errorCode } from '../errors'
import {
  ARCHIVED_LOG_NAME, ARTIFACTS_FOLDER, AddendumSchema, addendumFileName, canonicalJson, recordFileName, verifyAddenda, verifyRecord,
  type Addendum, type CeremonyRecord, type ManifestFile,
} from '../evidence'
import { describeMediaFile, digestFile, readFileCapped, sha256Hex } from '../media'
import { CeremonyError } from '../errors'

/** A record of 100k entries is ~40 MB (cli/verify.ts); its log a little less. */
const MAX_RECORD_BYTES = 512 * 1024 * 1024
const MAX_ADDENDUM_BYTES = 4 * 1024 * 1024

export interface ArchiveSourcePaths {
  record: string
  /** The state folder's audit log (audit-log.jsonl). */
  log: string
  /** The media folder holding the artifacts the record lists. */
  mediaDir: string
  /** The addenda sealed so far, in any order. */
  addenda: string[]
}

/** One file of the bundle: where it is read from, its path in the archive, and what the record says it is. */
export interface SourceFile extends ManifestFile {
  from: string
}

export interface ArchiveSources {
  record: CeremonyRecord
  addenda: Addendum[]
  files: SourceFile[]
}

const named = (code: string, message: string) => new CeremonyError(code, message)

async function readJson(path: string, cap: number, code: string, what: string): Promise<{ value: unknown; data: Buffer }> {
  let data: Buffer
  try {
    data = await readFileCapped(path, cap)
  } catch (err) {
    throw named(code, `${what} ${basename(path)} cannot be read (${errorCode(err, 'unreadable')})`)
  }
  try {
    return { value: JSON.parse(data.toString('utf8')) as unknown, data }
  } catch {
    throw named(code, `${what} ${basename(path)} is not JSON`)
  }
}

const fileOf = (from: string, name: string, role: ManifestFile['role'], what: string, data: Buffer): SourceFile => ({ from, name, role, what, sha256: sha256Hex(data), bytes: data.length })

export async function gatherArchiveSources(paths: ArchiveSourcePaths): Promise<ArchiveSources> {
  const { value, data: recordData } = await readJson(paths.record, MAX_RECORD_BYTES, 'RECORD_UNREADABLE', 'The record')
  const verdict = verifyRecord(value)
  if (!verdict.ok) throw named('RECORD_INVALID', `The record does not verify (entry ${verdict.firstBadEntry}: ${verdict.reason}); it cannot be archived as evidence`)
  const record = value as CeremonyRecord
  const id = String((record.plan as { id?: unknown }).id)
  const files: SourceFile[] = [fileOf(paths.record, recordFileName(id, record.mode), 'record', 'the ceremony record', recordData)]

  // The log the state folder holds must be the one the record sealed, entry for entry.
  let logData: Buffer
  try {
    logData = await readFileCapped(paths.log, MAX_RECORD_BYTES)
  } catch (err) {
    throw named('ARCHIVE_INCOMPLETE', `The audit log ${basename(paths.log)} cannot be read (${errorCode(err, 'unreadable')})`)
  }
  const lines = logData.toString('utf8').split('\n').filter((l) => l !== '')
  const same = lines.length === record.entries.length && lines.every((line, i) => {
    try {
      return canonicalJson(JSON.parse(line)) === canonicalJson(record.entries[i])
    } catch {
      return false
    }
  })
  if (!same) throw named('ARCHIVE_LOG_MISMATCH', `The audit log in the state folder is not the log the record sealed (${lines.length} lines; the record holds ${record.entries.length} entries)`)
  files.push(fileOf(paths.log, ARCHIVED_LOG_NAME, 'audit-log', 'the audit log (JSON lines, hash-chained)', logData))

  const addendaRead = await Promise.all(paths.addenda.map((p) => readJson(p, MAX_ADDENDUM_BYTES, 'ADDENDUM_FORMAT_INVALID', 'The addendum').then((r) => ({ ...r, from: p }))))
  const chain = verifyAddenda(record, addendaRead.map((a) => a.value))
  if (!chain.ok) throw named(chain.code, `Addendum ${chain.n}: ${chain.reason}`)
  for (const a of addendaRead) {
    const parsed = AddendumSchema.parse(a.value)
    files.push(fileOf(a.from, addendumFileName(id, record.mode, parsed.n), 'addendum', parsed.kind === 'video' ? 'video addendum (videos, action items)' : 'archive receipt', a.data))
  }

  // Every artifact the record lists, as logged: all missing ones named at once, then the first changed one.
  const missing: string[] = []
  const seen = new Set<string>()
  for (const a of record.artifacts) {
    if (a.name === '.' || a.name === '..' || /[/\\\0]/.test(a.name)) throw named('ARTIFACT_NAME_INVALID', `The record lists ${JSON.stringify(a.name)}, which is not a plain file name`)
    let found
    try {
      found = await digestFile(join(paths.mediaDir, a.name))
    } catch (err) {
      const code = errorCode(err, 'unreadable')
      if (code === 'ENOENT') {
        missing.push(a.name)
        continue
      }
      throw named('ARTIFACT_DIGEST_MISMATCH', `${a.name} cannot be read as the file the record lists (${code})`)
    }
    if (found.sha256 !== a.sha256 || found.bytes !== a.bytes) {
      throw named('ARTIFACT_DIGEST_MISMATCH', `${a.name} on the media has SHA-256 ${found.sha256} (${found.bytes} bytes); the record lists ${a.sha256} (${a.bytes} bytes). It is not the file the ceremony wrote; nothing was archived`)
    }
    if (seen.has(a.name)) continue
    seen.add(a.name)
    const applianceLog = a.name.includes('-appliance-log-')
    files.push({ from: join(paths.mediaDir, a.name), name: `${ARTIFACTS_FOLDER}/${a.name}`, role: applianceLog ? 'appliance-log' : 'artifact', what: applianceLog ? "an appliance's own audit log for the ceremony window (C.0)" : describeMediaFile(a.name).what, sha256: a.sha256, bytes: a.bytes })
  }
  if (missing.length > 0) throw named('ARCHIVE_INCOMPLETE', `The media folder lacks ${missing.length} file(s) the record lists: ${missing.join(', ')}. Nothing was archived`)
  return { record, addenda: chain.addenda, files }
}

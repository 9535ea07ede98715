/**
 * The archive (issue 14 part 8): the ceremony bundle written to two media, each in a folder
 * `<ceremony>[-REHEARSAL]-archive/` holding MANIFEST.json, the record, the audit log, the addenda and
 * artifacts/ (every file the record lists, the appliances' own logs among them).
 *
 * Everything is checked before a byte is written (archive-sources.ts). Each file is then read again
 * against the record's digest, written atomically (temp file, fsync, rename, folder fsync, read back),
 * into a partial folder on each medium; both folders are re-read in full against the manifest
 * (completeness: every file the record lists, with its digest); only then is the receipt — an
 * addendum of kind "archive", chained to the record's final digest, naming both media by label —
 * sealed, written into both, and each folder renamed into place. A failure removes the partial
 * folders: a medium holds a complete, checked archive or none.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, promises as fsp } from 'node:fs'
import { join } from 'node:path'
import { CeremonyError, errorCode } from '../errors'
import {
  MANIFEST_NAME, addendumFileName, buildArchiveAddendum, checkArchiveFolder, renderManifest,
  type ArchiveAddendum, type Attestation, type Manifest,
} from '../evidence'
import { checkMediaFolder, readFileVerified, syncVolume, systemVolumeDeps, writeFileAtomic, type VolumeDeps } from '../media'
import { skeleton, spokenTextProblem } from './plan-names'
import { syncDir } from './journal-file'
import { gatherArchiveSources, type ArchiveSourcePaths } from './archive-sources'

export interface ArchiveDestination {
  /** A folder on the medium (main's dialog chose it, or the CLI's --to). */
  dir: string
  /** The label or serial written on the medium and its bag. */
  label: string
}

export interface ArchiveInput extends ArchiveSourcePaths {
  destinations: ArchiveDestination[]
  /** Production: why a destination that is not a removable drive is used (recorded in the receipt). */
  exception?: string
  preparedBy: string
  attestedBy?: Attestation[]
  now?: () => Date
  volumes?: VolumeDeps
  /**
   * Where the receipt is also kept (the record's folder): a later addendum continues the chain after
   * it, so it must sit beside the record and the addenda before it, not only on the media.
   */
  receiptDir?: string
  /** The atomic writer (tests watch it; it is writeFileAtomic everywhere else). */
  write?: typeof writeFileAtomic
}

export interface ArchiveOutcome {
  receipt: ArchiveAddendum
  receiptName: string
  /** The folder made on each medium. */
  folder: string
  media: { label: string; dir: string; files: number; bytes: number; removable: boolean; exception: string | null; flushed: 'volume' | 'files' }[]
}

const named = (code: string, message: string) => new CeremonyError(code, message)

/** The folder's name on each medium: marked as the record is. */
export function archiveFolderName(ceremonyId: string, mode: 'production' | 'rehearsal'): string {
  return `${ceremonyId}${mode === 'rehearsal' ? '-REHEARSAL' : ''}-archive`
}

/** Two media, told apart by label, each a folder that exists; production ones removable unless excepted. */
async function checkDestinations(input: ArchiveInput, mode: 'production' | 'rehearsal', folder: string, bytes: number) {
  if (input.destinations.length !== 2) throw named('ARCHIVE_NEEDS_TWO_MEDIA', `The bundle goes to two media; ${input.destinations.length} given`)
  const [a, b] = input.destinations as [ArchiveDestination, ArchiveDestination]
  for (const [i, d] of [a, b].entries()) {
    const problem = d.label.trim() === '' ? 'is empty' : d.label.length > 120 ? 'is longer than 120 characters' : spokenTextProblem(d.label)
    if (problem) throw named('ARCHIVE_LABEL_INVALID', `The label of medium ${i + 1} ${problem}`)
  }
  if (skeleton(a.label) === skeleton(b.label)) throw named('ARCHIVE_LABELS_SAME', `Both media are labelled "${a.label}"; give each medium its own label or serial, as written on it`)
  const real: string[] = []
  for (const [i, d] of [a, b].entries()) {
    const st = await fsp.stat(d.dir).catch(() => null)
    if (!st?.isDirectory()) throw named('ARCHIVE_DESTINATION_MISSING', `Medium ${i + 1} (${d.label}): the folder is not there or is not a folder`)
    real.push(await fsp.realpath(d.dir))
  }
  const inside = (x: string, y: string) => x === y || x.startsWith(y.endsWith('/') ? y : `${y}/`)
  if (inside(real[0]!, real[1]!) || inside(real[1]!, real[0]!)) throw named('ARCHIVE_SAME_MEDIUM', 'Both destinations are the same folder (or one is inside the other): the bundle goes to two separate media')
  const checked = []
  for (const [i, d] of [a, b].entries()) {
    const media = await checkMediaFolder(d.dir, { mode, ...(input.exception ? { exception: input.exception } : {}), ...(input.volumes ? { deps: input.volumes } : {}) }).catch((err: unknown) => {
      throw named(errorCode(err, 'MEDIA_NOT_REMOVABLE'), `Medium ${i + 1} (${d.label}): ${err instanceof Error ? err.message : String(err)}`)
    })
    if (existsSync(join(d.dir, folder))) throw named('ARCHIVE_EXISTS', `Medium ${i + 1} (${d.label}) already holds ${folder}; archive to a fresh medium (nothing on it is overwritten)`)
    const space = await fsp.statfs(d.dir).catch(() => null)
    // The bundle plus room for the manifest and the receipt.
    if (space && Number(space.bavail) * Number(space.bsize) < bytes + 1024 * 1024) throw named('ARCHIVE_MEDIA_TOO_SMALL', `Medium ${i + 1} (${d.label}) has ${Number(space.bavail) * Number(space.bsize)} bytes free; the bundle needs ${bytes}`)
    checked.push(media)
  }
  if (checked[0]!.removable && checked[0]!.removable.mountPoint === checked[1]!.removable?.mountPoint) throw named('ARCHIVE_SAME_MEDIUM', 'Both destinations are on the same drive: the bundle goes to two separate media')
  return checked
}

export async function writeArchive(input: ArchiveInput): Promise<ArchiveOutcome> {
  const now = input.now ?? (() => new Date())
  const write = input.write ?? writeFileAtomic
  const sources = await gatherArchiveSources(input)
  const { record, addenda, files } = sources
  const id = String((record.plan as { id?: unknown }).id)
  const folder = archiveFolderName(id, record.mode)
  const total = files.reduce((n, f) => n + f.bytes, 0)
  const media = await checkDestinations(input, record.mode, folder, total)
  const dests = input.destinations as [ArchiveDestination, ArchiveDestination]

  const manifest: Manifest = {
    format: 'dsm-key-ceremony/archive-manifest', version: 1, ceremonyId: id, mode: record.mode, recordFinalDigest: record.finalDigest,
    addenda: addenda.map((a) => ({ n: a.n, digest: a.digest })),
    media: dests.map((d, i) => ({ n: i + 1, label: d.label.trim() })),
    writtenAt: now().toISOString(),
    files: files.map(({ from: _from, ...f }) => f),
  }
  const manifestText = renderManifest(manifest)
  const partial = dests.map((d) => join(d.dir, `.${folder}.partial-${randomBytes(6).toString('hex')}`))
  let kept: string | null = null
  try {
    for (const p of partial) {
      await fsp.mkdir(join(p, 'artifacts'), { recursive: true, mode: 0o700 })
    }
    for (const f of files) {
      // Read again against the digest just checked: what is written is what the record lists.
      const data = await readFileVerified(f.from, f.sha256, { maxBytes: f.bytes })
      for (const p of partial) {
        const written = await write(join(p, ...f.name.split('/')), data)
        if (written.sha256 !== f.sha256) throw named('ARTIFACT_DIGEST_MISMATCH', `${f.name} read back with another digest than the record lists`)
      }
    }
    const manifestWritten = await Promise.all(partial.map((p) => write(join(p, MANIFEST_NAME), manifestText)))
    for (const p of partial) syncDir(join(p, 'artifacts'))

    const receipt = buildArchiveAddendum({
      record, previous: addenda, preparedBy: input.preparedBy, preparedAt: now().toISOString(), attestedBy: input.attestedBy ?? [],
      archive: {
        folder, manifest: { name: MANIFEST_NAME, sha256: manifestWritten[0]!.sha256, bytes: manifestWritten[0]!.bytes }, files: files.length, bytes: total,
        media: dests.map((d, i) => ({ n: i + 1, label: d.label.trim(), removable: media[i]!.removable !== null, exception: media[i]!.exception })),
      },
    })
    // Completeness, on each medium as written: every file re-read against the manifest the receipt vouches for.
    const checks = []
    for (const [i, p] of partial.entries()) {
      const check = await checkArchiveFolder(p, record, receipt, addenda)
      if (!check.ok) throw named(check.code, `Medium ${i + 1} (${dests[i]!.label}): ${check.reason}`)
      checks.push(check)
    }
    const receiptName = addendumFileName(id, record.mode, receipt.n)
    const receiptText = `${JSON.stringify(receipt, null, 2)}\n`
    for (const p of partial) await write(join(p, receiptName), receiptText)
    if (input.receiptDir !== undefined) {
      kept = join(input.receiptDir, receiptName)
      await write(kept, receiptText)
    }
    const out: ArchiveOutcome['media'] = []
    for (const [i, d] of dests.entries()) {
      await fsp.rename(partial[i]!, join(d.dir, folder))
      syncDir(d.dir)
      out.push({ label: d.label.trim(), dir: join(d.dir, folder), files: checks[i]!.files, bytes: checks[i]!.bytes, removable: media[i]!.removable !== null, exception: media[i]!.exception, flushed: await syncVolume(d.dir, input.volumes ?? systemVolumeDeps) })
    }
    return { receipt, receiptName, folder, media: out }
  } catch (err) {
    // A medium holds a complete, checked archive or none: the partial folders go.
    await Promise.all(partial.map((p) => fsp.rm(p, { recursive: true, force: true }).catch(() => undefined)))
    // A receipt beside the record vouches for archives that exist: without them it goes too.
    if (kept !== null && !existsSync(join(dests[0].dir, folder))) await fsp.rm(kept, { force: true }).catch(() => undefined)
    throw err
  }
}

// The archive's manifest (issue 14 part 8): written identically to both media, it lists every file of
// the bundle — the record, the audit log, the addenda, every artifact the record lists (the
// appliances' own logs among them) — with its SHA-256 and size, and names both media by label. The
// archive receipt (an addendum of kind "archive") carries the manifest's digest, so the receipt,
// chained to the record, vouches for each medium's folder; `checkArchiveFolder` re-reads one.
import { join } from 'node:path'
import { z } from 'zod'
import { readFileCapped } from '../media/safe-read'
import { sha256Hex } from './canonical-json'
import type { Addendum } from './addendum-format'
import type { CeremonyRecord } from './record'

export const MANIFEST_NAME = 'MANIFEST.json'
export const MANIFEST_FORMAT = 'dsm-key-ceremony/archive-manifest'
/** The audit log's name in the archive, whatever the station's folder called it. */
export const ARCHIVED_LOG_NAME = 'audit-log.jsonl'
/** Artifacts keep their media names, in a folder of their own: `ceremony verify --artifacts <folder>/artifacts`. */
export const ARTIFACTS_FOLDER = 'artifacts'

const hex64 = z.string().regex(/^[0-9a-f]{64}$/)
export const ManifestFileSchema = z.strictObject({
  /** The path inside the archive folder: a plain name, or artifacts/<plain name>. */
  name: z.string(),
  role: z.enum(['record', 'audit-log', 'addendum', 'artifact', 'appliance-log']),
  what: z.string(),
  sha256: hex64,
  bytes: z.number().int().min(0),
})
export type ManifestFile = z.infer<typeof ManifestFileSchema>

export const ManifestSchema = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  version: z.literal(1),
  ceremonyId: z.string(),
  mode: z.enum(['production', 'rehearsal']),
  recordFinalDigest: hex64,
  /** The addenda archived (before the receipt), by number and digest. */
  addenda: z.array(z.strictObject({ n: z.number().int().min(1), digest: hex64 })),
  /** The two media, by the label or serial written on each (and on its bag). */
  media: z.array(z.strictObject({ n: z.number().int().min(1).max(2), label: z.string() })).length(2),
  writtenAt: z.string(),
  files: z.array(ManifestFileSchema),
})
export type Manifest = z.infer<typeof ManifestSchema>

/** The same text for both media: two-space JSON, a newline at the end. */
export function renderManifest(m: Manifest): string {
  return `${JSON.stringify(m, null, 2)}\n`
}

/** A manifest path: a plain file name, or one inside artifacts/ — never anything that leaves the folder. */
export function isArchivePath(name: string): boolean {
  const parts = name.split('/')
  const plain = (p: string) => p !== '' && p !== '.' && p !== '..' && !/[\\\0]/.test(p)
  return parts.length === 1 ? plain(parts[0]!) : parts.length === 2 && parts[0] === ARTIFACTS_FOLDER && plain(parts[1]!)
}

export type FolderCheck = { ok: true; files: number; bytes: number } | { ok: false; code: string; reason: string }

/**
 * Re-reads one medium's archive folder: its manifest is the one the receipt vouches for; every file
 * it lists is there with its digest and size; and it is complete — the record's final digest, every
 * artifact the record lists, and every addendum before the receipt (ARCHIVE_INCOMPLETE otherwise).
 */
export async function checkArchiveFolder(dir: string, record: CeremonyRecord, receipt: Addendum & { kind: 'archive' }, addenda: readonly Addendum[]): Promise<FolderCheck> {
  const fail = (code: string, reason: string): FolderCheck => ({ ok: false, code, reason })
  let text: Buffer
  try {
    text = await readFileCapped(join(dir, MANIFEST_NAME), 64 * 1024 * 1024)
  } catch (err) {
    return fail('ARCHIVE_MANIFEST_MISSING', `${MANIFEST_NAME} cannot be read in the archive folder (${(err as { code?: string }).code ?? 'unreadable'})`)
  }
  if (sha256Hex(text) !== receipt.archive.manifest.sha256) return fail('ARCHIVE_MANIFEST_MISMATCH', `${MANIFEST_NAME} is not the manifest receipt ${receipt.n} vouches for (its SHA-256 differs)`)
  const manifest = ManifestSchema.parse(JSON.parse(text.toString('utf8')))
  if (manifest.recordFinalDigest !== record.finalDigest) return fail('ARCHIVE_INCOMPLETE', 'the archived record is not this record (final digests differ)')
  if (manifest.media.map((m) => m.label).join('\n') !== receipt.archive.media.map((m) => m.label).join('\n')) return fail('ARCHIVE_MANIFEST_MISMATCH', `${MANIFEST_NAME} names other media than receipt ${receipt.n}`)
  let bytes = 0
  for (const f of manifest.files) {
    if (!isArchivePath(f.name)) return fail('ARCHIVE_FILE_MISMATCH', `${JSON.stringify(f.name)} is not a path inside the archive folder`)
    let data: Buffer
    try {
      data = await readFileCapped(join(dir, ...f.name.split('/')), f.bytes + 1)
    } catch (err) {
      const code = (err as { code?: string }).code
      return fail(code === 'ENOENT' ? 'ARCHIVE_FILE_MISSING' : 'ARCHIVE_FILE_MISMATCH', `${f.name} ${code === 'ENOENT' ? 'is missing' : `cannot be read (${code ?? 'unreadable'})`}`)
    }
    const digest = sha256Hex(data)
    if (digest !== f.sha256 || data.length !== f.bytes) return fail('ARCHIVE_FILE_MISMATCH', `${f.name} has SHA-256 ${digest} (${data.length} bytes); the manifest lists ${f.sha256} (${f.bytes} bytes)`)
    bytes += data.length
  }
  const listed = new Map(manifest.files.map((f) => [f.name, f]))
  const missing = [
    ...(manifest.files.some((f) => f.role === 'record') ? [] : ['the record']),
    ...(listed.has(ARCHIVED_LOG_NAME) ? [] : ['the audit log']),
    ...record.artifacts.filter((a) => listed.get(`${ARTIFACTS_FOLDER}/${a.name}`)?.sha256 !== a.sha256).map((a) => a.name),
    ...addenda.filter((a) => a.n < receipt.n && !manifest.addenda.some((m) => m.n === a.n && m.digest === a.digest)).map((a) => `addendum ${a.n}`),
  ]
  if (missing.length > 0) return fail('ARCHIVE_INCOMPLETE', `the archive lacks ${missing.join(', ')}`)
  return { ok: true, files: manifest.files.length, bytes }
}

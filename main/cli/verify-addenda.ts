// `ceremony verify` with the addenda (issue 14 parts 5 and 8): after the record verifies, the chain
// record → addendum 1 → 2 … is checked (each digest, each link, the rules), each video present in
// --videos is re-hashed, and an archive folder (a MANIFEST.json beside the record) is re-read against
// the receipt that vouches for it. The first failure is named with its addendum's number and code.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { MANIFEST_NAME, checkArchiveFolder, checkVideoFiles, verifyAddenda, type Addendum, type CeremonyRecord } from '../evidence'
import { hexGroups } from '../keys'
import { errorCode } from '../errors'
import { addendaBeside, readAddendumFile, type AddendumFile } from './addenda-files'

export type AddendaVerdict = { ok: true; lines: string[] } | { ok: false; failure: string }

const failed = (n: number | string, code: string, reason: string): AddendaVerdict => ({ ok: false, failure: `FAILED at addendum ${n}: ${code}: ${reason}` })

export async function verifyRecordAddenda(recordPath: string, record: CeremonyRecord, opts: { addenda?: string[]; videosDir?: string }): Promise<AddendaVerdict> {
  let files: AddendumFile[]
  try {
    files = opts.addenda && opts.addenda.length > 0 ? opts.addenda.map(readAddendumFile) : addendaBeside(recordPath, record)
  } catch (err) {
    return failed('file', errorCode(err, 'ADDENDUM_FORMAT_INVALID'), err instanceof Error ? err.message : String(err))
  }
  if (files.length === 0) return { ok: true, lines: ['  addenda:       none beside the record'] }
  const chain = verifyAddenda(record, files.map((f) => f.value))
  if (!chain.ok) return failed(chain.n, chain.code, chain.reason)

  const lines = [`  addenda:       ${chain.addenda.length} (chained to the final digest and to one another; each digest verified)`]
  for (const a of chain.addenda) lines.push(`    addendum ${a.n}: ${a.kind}, prepared by ${a.preparedBy} at ${a.preparedAt}, attested by ${a.attestedBy.map((w) => `${w.name} (${w.initials})`).join(', ') || 'nobody'}; ${hexGroups(a.digest).slice(0, 19)}…`)

  const videos = chain.addenda.filter((a): a is Extract<Addendum, { kind: 'video' }> => a.kind === 'video')
  const listed = videos.reduce((n, a) => n + a.videos.length, 0)
  if (videos.length > 0) {
    if (opts.videosDir === undefined) {
      lines.push(`  videos:        ${listed} listed (files not checked; pass --videos DIR)`)
    } else {
      let checked = 0
      const missing: string[] = []
      for (const a of videos) {
        const r = await checkVideoFiles(a, opts.videosDir, { missingOk: true })
        if (!r.ok) return failed(a.n, r.code, r.reason)
        checked += r.checked.length
        missing.push(...r.missing)
      }
      lines.push(`  videos:        ${listed} listed, ${checked} re-hashed OK${missing.length ? `, not found: ${missing.join(', ')}` : ''}`)
    }
    lines.push(`  action items:  ${videos.reduce((n, a) => n + a.actionItems.length, 0)}`)
  }

  // Verifying the record inside an archive folder: the folder is re-read against its receipt's manifest.
  const here = dirname(recordPath)
  for (const receipt of chain.addenda) {
    if (receipt.kind !== 'archive') continue
    const labels = receipt.archive.media.map((m) => m.label).join(', ')
    if (!existsSync(join(here, MANIFEST_NAME))) {
      lines.push(`  archive:       ${labels} (receipt ${receipt.n}; ${receipt.archive.files} files)`)
      continue
    }
    const folder = await checkArchiveFolder(here, record, receipt, chain.addenda)
    if (!folder.ok) return failed(receipt.n, folder.code, folder.reason)
    lines.push(`  archive:       ${labels}; this folder: ${folder.files} files re-read against the manifest (receipt ${receipt.n})`)
  }
  return { ok: true, lines }
}

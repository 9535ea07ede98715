// `ceremony addendum RECORD …`: seal an addendum to a closed record (issue 14 part 5) — the cameras'
// video files with their start and stop times, the debrief's action items, and the witnesses who
// checked them. The tool hashes each video itself (an operator never types a digest), checks the
// record and every addendum before this one, and writes `<ceremony>[-REHEARSAL]-addendum-<n>.json`
// beside the record (never over an existing file). Refused input writes nothing.
// Prints one JSON line. Exit 0: sealed. Exit 1: refused (a named error). Exit 2: usage.
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { CeremonyError, errorCode } from '../errors'
import { addendumFileName, buildVideoAddendum, verifyAddenda, type ActionItem, type AddendumVideo, type Attestation } from '../evidence'
import { digestFile, writeFileAtomic } from '../media'
import { findAddenda, printOutcome, printRefusal, readVerifiedRecord } from './addenda-files'

const USAGE = `usage: ceremony addendum RECORD --by NAME --witness "NAME,INITIALS" [--witness …]
    [--videos DIR --video "CAMERA,FILE,START,STOP[,NOTE]" …] [--no-video "CAMERA,WHY" …]
    [--action "DUE,OWNER,TEXT" …] [--out DIR]
  START and STOP are UTC as the recorder shows them (2026-12-02T05:21:37Z); DUE is a date (2027-01-15).
  The NOTE, WHY and TEXT are the rest of the value and may hold commas.
`

/** "a,b,c,rest, with commas": the first `n - 1` fields split on commas, the last one the rest. */
function fields(value: string, n: number, min: number, option: string, shape: string): string[] {
  const parts: string[] = []
  let rest = value
  while (parts.length < n - 1) {
    const i = rest.indexOf(',')
    if (i < 0) break
    parts.push(rest.slice(0, i).trim())
    rest = rest.slice(i + 1)
  }
  parts.push(rest.trim())
  if (parts.length < min) throw new UsageError(`${option} "${value}" is not ${shape}`)
  return parts
}

class UsageError extends Error {}

export async function run(argv: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: {
        by: { type: 'string' }, witness: { type: 'string', multiple: true }, videos: { type: 'string' }, video: { type: 'string', multiple: true },
        'no-video': { type: 'string', multiple: true }, action: { type: 'string', multiple: true }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (err) {
    return usage(err instanceof Error ? err.message : String(err))
  }
  const { values, positionals } = parsed
  if (values.help) {
    process.stdout.write(USAGE)
    return 0
  }
  if (positionals.length !== 1) return usage('give exactly one RECORD')
  if (!values.by) return usage('--by NAME is required (who prepared the addendum)')
  if ((values.video ?? []).length > 0 && !values.videos) return usage('--video needs --videos DIR, the folder holding the files (each is hashed by the tool)')
  let witnesses: Attestation[], videos: Array<Omit<AddendumVideo, 'sha256' | 'bytes'>>, without: { camera: string; note: string }[], actions: ActionItem[]
  try {
    witnesses = (values.witness ?? []).map((w) => fields(w, 2, 2, '--witness', 'NAME,INITIALS')).map(([name, initials]) => ({ name: name!, initials: initials! }))
    videos = (values.video ?? []).map((v) => fields(v, 5, 4, '--video', 'CAMERA,FILE,START,STOP[,NOTE]')).map(([camera, name, startedAt, stoppedAt, note]) => ({ camera: camera!, name: name!, startedAt: startedAt!, stoppedAt: stoppedAt!, ...(note ? { note } : {}) }))
    without = (values['no-video'] ?? []).map((w) => fields(w, 2, 2, '--no-video', 'CAMERA,WHY')).map(([camera, note]) => ({ camera: camera!, note: note! }))
    actions = (values.action ?? []).map((a) => fields(a, 3, 3, '--action', 'DUE,OWNER,TEXT')).map(([due, owner, text]) => ({ due: due!, owner: owner!, text: text! }))
  } catch (err) {
    if (err instanceof UsageError) return usage(err.message)
    throw err
  }

  const recordPath = positionals[0]!
  const outDir = values.out ?? dirname(recordPath)
  try {
    const record = readVerifiedRecord(recordPath)
    const id = String((record.plan as { id?: unknown }).id)
    // The chain so far, checked before anything is added to it.
    const chain = verifyAddenda(record, findAddenda(outDir, id, record.mode).map((a) => a.value))
    if (!chain.ok) throw new CeremonyError(chain.code, `Addendum ${chain.n}: ${chain.reason}. Nothing was added`)
    const hashed: AddendumVideo[] = []
    for (const v of videos) hashed.push({ ...v, ...(await hashVideo(values.videos!, v.name, v.camera)) })
    const addendum = buildVideoAddendum({
      record, previous: chain.addenda, preparedBy: values.by, preparedAt: new Date().toISOString(), attestedBy: witnesses,
      videos: hashed, camerasWithoutVideo: without, actionItems: actions,
    })
    const file = join(outDir, addendumFileName(id, record.mode, addendum.n))
    // Never over an existing file (TARGET_EXISTS): a second run made at the same time cannot replace this one.
    await writeFileAtomic(file, `${JSON.stringify(addendum, null, 2)}\n`)
    printOutcome({ addendum: { n: addendum.n, file, digest: addendum.digest, words: addendum.digestWords, videos: addendum.videos.length, actionItems: addendum.actionItems.length, extends: addendum.extends } })
    return 0
  } catch (err) {
    return printRefusal(err)
  }
}

/** The file's SHA-256 and size, read by the tool from the videos folder; a name with a folder is refused before any read. */
async function hashVideo(dir: string, name: string, camera: string): Promise<{ sha256: string; bytes: number }> {
  if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) throw new CeremonyError('VIDEO_NAME_INVALID', `"${name}" is not a plain file name: give the file's own name and its folder with --videos`)
  try {
    const { sha256, bytes } = await digestFile(join(dir, name))
    return { sha256, bytes }
  } catch (err) {
    const code = errorCode(err, 'VIDEO_UNREADABLE')
    if (code === 'ENOENT') throw new CeremonyError('VIDEO_MISSING', `${name} (${camera}) is not in ${dir}`)
    throw new CeremonyError(code.startsWith('E') ? 'VIDEO_UNREADABLE' : code, `${name} cannot be read: ${err instanceof Error ? err.message : String(err)}`)
  }
}

function usage(why: string): number {
  process.stderr.write(`ceremony addendum: ${why}\n${USAGE}`)
  return 2
}

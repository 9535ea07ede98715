// Sealing and verifying addenda (addendum-format.ts has the file, addendum-rules.ts the rules). An
// addendum is built only on a record that verifies and after the addenda before it, each checked;
// verification reads any number of them, in any order given, and names the first that fails.
import { join } from 'node:path'
import { pgpWords } from '../keys'
import { digestFile } from '../media/file-digest'
import { errorCode } from '../errors'
import type { CeremonyRecord } from './record'
import {
  AddendumSchema, addendumDigest, sealAddendum,
  type ActionItem, type Addendum, type AddendumVideo, type ArchiveAddendum, type Attestation, type UnsealedAddendum, type VideoAddendum,
} from './addendum-format'
import { AddendumError, checkActionItems, checkCommon, checkVideos, checkWitnesses, recordFacts, type RecordFacts } from './addendum-rules'

export interface AddendumBase {
  record: CeremonyRecord
  /** The addenda sealed before this one, in order (verified by the caller with verifyAddenda). */
  previous: readonly Addendum[]
  preparedBy: string
  /** Now, ISO UTC. */
  preparedAt: string
  attestedBy: Attestation[]
}

function header(input: AddendumBase) {
  const mode = input.record.mode
  return {
    format: 'dsm-key-ceremony/addendum' as const,
    version: 1 as const,
    n: input.previous.length + 1,
    ceremonyId: recordFacts(input.record).ceremonyId,
    mode,
    ...(mode === 'rehearsal' ? { watermark: 'REHEARSAL' as const } : {}),
    extends: { recordFinalDigest: input.record.finalDigest, previousDigest: input.previous.at(-1)?.digest ?? null },
    preparedBy: input.preparedBy.trim(),
    preparedAt: input.preparedAt,
    attestedBy: input.attestedBy.map((a) => ({ name: a.name.trim(), initials: a.initials.trim().toUpperCase() })),
  }
}

/** The kind's rules and the shared ones, as sealing and verification both apply them. */
function checkAddendum(a: UnsealedAddendum, facts: RecordFacts, previous: string | null, n: number): void {
  checkCommon(a, facts, previous, n)
  if (a.kind === 'video') {
    checkVideos(a.videos, a.camerasWithoutVideo, facts)
    checkActionItems(a.actionItems)
    checkWitnesses(a.attestedBy, a.preparedBy, facts, true)
  } else {
    checkWitnesses(a.attestedBy, a.preparedBy, facts, false)
  }
}

export function buildVideoAddendum(input: AddendumBase & { videos: AddendumVideo[]; camerasWithoutVideo: { camera: string; note: string }[]; actionItems: ActionItem[] }): VideoAddendum {
  const unsealed = {
    ...header(input),
    kind: 'video' as const,
    videos: input.videos.map((v) => ({ ...v, ...(v.note === undefined ? {} : { note: v.note.trim() }) })),
    camerasWithoutVideo: input.camerasWithoutVideo.map((w) => ({ camera: w.camera, note: w.note.trim() })),
    actionItems: input.actionItems.map((i) => ({ text: i.text.trim(), owner: i.owner.trim(), due: i.due.trim() })),
  }
  checkAddendum(unsealed, recordFacts(input.record), unsealed.extends.previousDigest, unsealed.n)
  return sealAddendum(unsealed) as VideoAddendum
}

export function buildArchiveAddendum(input: AddendumBase & { archive: ArchiveAddendum['archive'] }): ArchiveAddendum {
  const unsealed = { ...header(input), kind: 'archive' as const, archive: input.archive }
  checkAddendum(unsealed, recordFacts(input.record), unsealed.extends.previousDigest, unsealed.n)
  return sealAddendum(unsealed) as ArchiveAddendum
}

export type AddendaResult =
  | { ok: true; addenda: Addendum[] }
  | { ok: false; /** The addendum's number (or its place in the list when it cannot be read). */ n: number; code: string; reason: string }

/**
 * Verifies addenda against a record that verified: each one's shape and digest, that it extends this
 * record's final digest, that they continue one another (1, 2, 3 … with none missing), and the rules.
 */
export function verifyAddenda(record: CeremonyRecord, inputs: readonly unknown[]): AddendaResult {
  const parsed: Addendum[] = []
  for (const [i, input] of inputs.entries()) {
    const r = AddendumSchema.safeParse(input)
    if (!r.success) {
      const issue = r.error.issues[0]!
      return { ok: false, n: i + 1, code: 'ADDENDUM_FORMAT_INVALID', reason: `addendum given ${i + 1} is not an addendum of this format: ${issue.path.join('.') || '(file)'}: ${issue.message}` }
    }
    parsed.push(r.data)
  }
  // Given in any order (a shell glob sorts addendum-10 before addendum-2); checked in the chain's order.
  parsed.sort((a, b) => a.n - b.n)
  const facts = recordFacts(record)
  let previous: string | null = null
  for (const [i, a] of parsed.entries()) {
    if (a.n > i + 1) return { ok: false, n: a.n, code: 'ADDENDUM_MISSING', reason: `addendum ${i + 1} is missing: addendum ${a.n} is the next one given` }
    if (a.n < i + 1) return { ok: false, n: a.n, code: 'ADDENDUM_OUT_OF_ORDER', reason: `two addenda are numbered ${a.n}` }
    const digest = addendumDigest(a as unknown as Record<string, unknown>)
    if (digest !== a.digest) return { ok: false, n: a.n, code: 'ADDENDUM_DIGEST_MISMATCH', reason: `addendum ${a.n} has SHA-256 ${digest} over its canonical JSON, but says ${a.digest}: it was changed after it was sealed` }
    if (a.digestWords.join(' ') !== pgpWords(a.digest).join(' ')) return { ok: false, n: a.n, code: 'ADDENDUM_DIGEST_MISMATCH', reason: `addendum ${a.n}'s words do not spell its digest` }
    try {
      checkAddendum(a, facts, previous, i + 1)
    } catch (err) {
      if (err instanceof AddendumError) return { ok: false, n: a.n, code: err.code, reason: err.message }
      throw err
    }
    previous = a.digest
  }
  return { ok: true, addenda: parsed }
}

export type FileCheck = { ok: true; checked: string[]; missing: string[] } | { ok: false; code: string; reason: string }

/**
 * Each video an addendum lists, in `dir` by its name: its SHA-256 and size, streamed (videos are
 * gigabytes). A missing file is VIDEO_MISSING, unless `missingOk` (an auditor verifying with the
 * videos they were given): then it is listed as missing, and every file present is still checked.
 */
export async function checkVideoFiles(addendum: VideoAddendum, dir: string, opts: { missingOk?: boolean } = {}): Promise<FileCheck> {
  const checked: string[] = []
  const missing: string[] = []
  for (const v of addendum.videos) {
    let found
    try {
      found = await digestFile(join(dir, v.name))
    } catch (err) {
      const code = errorCode(err, 'VIDEO_UNREADABLE')
      if (code === 'ENOENT' && opts.missingOk) {
        missing.push(v.name)
        continue
      }
      if (code === 'ENOENT') return { ok: false, code: 'VIDEO_MISSING', reason: `${v.name} (${v.camera}) is not in the videos folder` }
      return { ok: false, code: code === 'SYMLINK_REFUSED' || code === 'NOT_A_FILE' ? code : 'VIDEO_UNREADABLE', reason: `${v.name} cannot be read: ${err instanceof Error ? err.message : String(err)}` }
    }
    if (found.sha256 !== v.sha256 || found.bytes !== v.bytes) {
      return { ok: false, code: 'VIDEO_DIGEST_MISMATCH', reason: `${v.name} has SHA-256 ${found.sha256} (${found.bytes} bytes); addendum ${addendum.n} recorded ${v.sha256} (${v.bytes} bytes)` }
    }
    checked.push(v.name)
  }
  return { ok: true, checked, missing }
}

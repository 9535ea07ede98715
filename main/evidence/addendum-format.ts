// The sealed addendum (issue 14 parts 5 and 8): what is known only after the record is sealed — the
// cameras' video files, the debrief's action items, and where the bundle was archived — in a file
// of its own, `<ceremony>[-REHEARSAL]-addendum-<n>.json`, because the sealed log takes no more
// entries. Each addendum extends the record's final digest (and the previous addendum's digest when
// n > 1) and carries its own digest over its canonical JSON, so a chain record → 1 → 2 … is checked
// like the log: change, drop or reorder one and verification names it.
import { z } from 'zod'
import { canonicalJson, sha256Hex } from './canonical-json'
import { pgpWords } from '../keys'

export const ADDENDUM_FORMAT = 'dsm-key-ceremony/addendum'
export const ADDENDUM_VERSION = 1

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex characters')
/** Text is checked by the rules (addendum-rules.ts), which name what is wrong; here only its shape. */
const text = z.string().max(2000)

export const VideoSchema = z.strictObject({
  /** The plan's camera id. */
  camera: text,
  /** The file's own name, never its folder (no workstation path goes into evidence). */
  name: text,
  /** When the recording started and stopped, UTC, as the operator read them from the recorder. */
  startedAt: text,
  stoppedAt: text,
  bytes: z.number().int().min(0),
  /** Computed by the tool from the file itself, never typed. */
  sha256: hex64,
  /** Why this recording falls outside the ceremony window or leaves part of it unfilmed. */
  note: text.optional(),
})
export type AddendumVideo = z.infer<typeof VideoSchema>

export const ActionItemSchema = z.strictObject({ text, owner: text, due: text })
export type ActionItem = z.infer<typeof ActionItemSchema>

export const AttestationSchema = z.strictObject({ name: text, initials: text })
export type Attestation = z.infer<typeof AttestationSchema>

const common = {
  format: z.literal(ADDENDUM_FORMAT),
  version: z.literal(ADDENDUM_VERSION),
  /** 1, 2, 3 … in the order the addenda were sealed. */
  n: z.number().int().min(1),
  ceremonyId: text,
  mode: z.enum(['production', 'rehearsal']),
  watermark: z.literal('REHEARSAL').optional(),
  /** What this addendum continues: the record's final digest, and the previous addendum's digest (null for the first). */
  extends: z.strictObject({ recordFinalDigest: hex64, previousDigest: hex64.nullable() }),
  preparedBy: text,
  preparedAt: text,
  /** Witnesses (as the plan names them, with the initials they sign with) who checked this addendum. */
  attestedBy: z.array(AttestationSchema).max(16),
  /** SHA-256 of the canonical JSON of every other field (not digest, not digestWords). */
  digest: hex64,
  digestWords: z.array(z.string()),
}

export const VideoAddendumSchema = z.strictObject({
  ...common,
  kind: z.literal('video'),
  videos: z.array(VideoSchema).max(64),
  /** A camera of the plan with no file, and why (it failed, it was not used …). */
  camerasWithoutVideo: z.array(z.strictObject({ camera: text, note: text })).max(8),
  /** The debrief's action items. */
  actionItems: z.array(ActionItemSchema).max(50),
})
export type VideoAddendum = z.infer<typeof VideoAddendumSchema>

export const ArchiveMediumSchema = z.strictObject({
  n: z.number().int().min(1).max(2),
  /** The medium's label or serial as written on it (and on its tamper-evident bag). */
  label: text,
  /** On a removable drive, or a folder allowed by the exception. */
  removable: z.boolean(),
  exception: text.nullable(),
})

export const ArchiveAddendumSchema = z.strictObject({
  ...common,
  kind: z.literal('archive'),
  archive: z.strictObject({
    /** The folder on each medium holding the bundle. */
    folder: text,
    /** The manifest written identically to both media: every file with its SHA-256 and size, and both labels. */
    manifest: z.strictObject({ name: text, sha256: hex64, bytes: z.number().int().min(0) }),
    files: z.number().int().min(0),
    bytes: z.number().int().min(0),
    media: z.array(ArchiveMediumSchema).length(2),
  }),
})
export type ArchiveAddendum = z.infer<typeof ArchiveAddendumSchema>

export const AddendumSchema = z.discriminatedUnion('kind', [VideoAddendumSchema, ArchiveAddendumSchema])
export type Addendum = z.infer<typeof AddendumSchema>

/** An addendum before it is sealed: everything but its own digest. */
export type UnsealedAddendum = DistributiveOmit<Addendum, 'digest' | 'digestWords'>
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

/** The digest an addendum carries: SHA-256 of the canonical JSON of every field but digest and digestWords. */
export function addendumDigest(addendum: Record<string, unknown>): string {
  const { digest: _d, digestWords: _w, ...rest } = addendum
  return sha256Hex(canonicalJson(rest))
}

export function sealAddendum(unsealed: UnsealedAddendum): Addendum {
  const digest = addendumDigest(unsealed as Record<string, unknown>)
  return { ...unsealed, digest, digestWords: pgpWords(digest) } as Addendum
}

/** `<ceremony>[-REHEARSAL]-addendum-<n>.json`: marked as the record is, so a rehearsal's file is never taken for a real one. */
export function addendumFileName(ceremonyId: string, mode: 'production' | 'rehearsal', n: number): string {
  return `${ceremonyId}${mode === 'rehearsal' ? '-REHEARSAL' : ''}-addendum-${n}.json`
}

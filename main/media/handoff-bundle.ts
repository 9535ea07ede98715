// The hand-off bundle on removable media (design §3b): what one station leaves for the next.
//
//   <ceremony>-handoff-<n>-<from>-to-<to>.audit-log-segment.jsonl   the audit log so far, ending in the hand-off entry
//   <ceremony>-handoff-<n>-<from>-to-<to>.handoff-manifest.json     what the next station needs to continue
//   <ceremony>-handoff-<n>-<from>-to-<to>.README.txt                what this drive carries, in words, for whoever finds it
//
// beside the artifacts the steps wrote (the transfer public key, the wrapped CMK and its manifest).
// The manifest and the README are rendered from the hand-off entry alone, so the receiving station
// renders them again and compares byte for byte: a changed byte anywhere is refused by name. No file
// here ever holds a secret: API keys, passwords and tokens never leave main-process memory.
//
// Writes are atomic (temp, fsync, rename, directory fsync, read back); a file already there is
// adopted only if it is byte for byte what would be written (a rerun after a crash), never replaced.

import { promises as fsp } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { canonicalJson } from '../evidence/canonical-json'
import { hexGroups, pgpWords } from '../keys'
import { readFileVerified, sha256Hex, writeFileAtomic } from './atomic-write'

export const HANDOFF_FORMAT = 'dsm-key-ceremony/handoff'
export const SEGMENT_MAX_BYTES = 64 * 1024 * 1024
export const MANIFEST_MAX_BYTES = 8 * 1024 * 1024
const README_MAX_BYTES = 1024 * 1024
/** A ceremony artifact is a few hundred bytes to a few kilobytes; anything larger is not ours. */
const ARTIFACT_MAX_BYTES = 1024 * 1024

export class HandoffMediaError extends Error {
  override readonly name = 'HandoffMediaError'
  constructor(readonly code: string, message: string) {
    super(message)
  }
}

export function bundleNames(ceremonyId: string, n: number, from: string, to: string) {
  const stem = `${ceremonyId}-handoff-${n}-${from}-to-${to}`
  return { segment: `${stem}.audit-log-segment.jsonl`, manifest: `${stem}.handoff-manifest.json`, readme: `${stem}.README.txt` }
}

/** What a file on the media is, from its name (every name this app writes says it). */
export function describeMediaFile(name: string): { what: string; harmless: string } {
  if (name.endsWith('.pub.pem')) return { what: 'transfer public key (PEM)', harmless: 'a public key only; it can encrypt to the transfer key, never decrypt' }
  if (name.endsWith('wrapped_master_key.out')) return { what: 'the Cluster Master Key wrapped under a transfer key (raw bytes)', harmless: 'opens only with its transfer key, which this ceremony deletes on the target after the import (confirmed absent); then nobody can open it' }
  if (name.endsWith('wrapped_master_key.manifest.json')) return { what: 'manifest of the wrapped key (ids, KCV, fingerprints, digest)', harmless: 'metadata only' }
  if (name.endsWith('.audit-log-segment.jsonl')) return { what: 'audit-log segment (hash-chained)', harmless: 'evidence only; it never holds a secret' }
  if (name.endsWith('.handoff-manifest.json')) return { what: 'hand-off manifest', harmless: 'evidence only; it never holds a secret' }
  if (name.endsWith('.README.txt')) return { what: 'what this drive carries, in words', harmless: 'text only' }
  return { what: 'file written by the ceremony', harmless: 'see the ceremony record' }
}

const Artifact = z.strictObject({ name: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().min(0), what: z.string() })
export type BundleArtifact = z.infer<typeof Artifact>

/** The hand-off entry's facts (the log carries them; the manifest repeats them). */
export const HandoffFactsSchema = z.strictObject({
  n: z.number().int().min(1),
  from: z.string(),
  fromLabel: z.string(),
  to: z.string(),
  toLabel: z.string(),
  media: z.strictObject({ label: z.string().min(1).max(120), bag: z.string().min(1).max(120) }),
  artifacts: z.array(Artifact),
  /** What the next station needs to continue: every finished step's journaled result (never a secret). */
  carries: z.record(z.string(), z.union([
    z.strictObject({ state: z.literal('done'), result: z.record(z.string(), z.unknown()) }),
    z.strictObject({ state: z.literal('skipped'), reason: z.string() }),
  ])),
  leftOnMedia: z.array(z.strictObject({ name: z.string(), what: z.string(), harmless: z.string() })),
})
export type HandoffFacts = z.infer<typeof HandoffFactsSchema>

export const HandoffManifestSchema = z.strictObject({
  format: z.literal(HANDOFF_FORMAT),
  version: z.literal(1),
  mode: z.enum(['production', 'rehearsal']),
  ceremonyId: z.string(),
  planDigest: z.string(),
  segment: z.strictObject({ file: z.string(), sha256: z.string(), bytes: z.number(), entries: z.number(), finalDigest: z.string(), finalWords: z.array(z.string()) }),
  handoff: HandoffFactsSchema,
  noSecrets: z.string(),
})
export type HandoffManifest = z.infer<typeof HandoffManifestSchema>

export interface BundleInput {
  mode: 'production' | 'rehearsal'
  ceremonyId: string
  planDigest: string
  facts: HandoffFacts
  segmentText: string
  entries: number
  finalDigest: string
}

export function renderManifest(input: BundleInput): string {
  const names = bundleNames(input.ceremonyId, input.facts.n, input.facts.from, input.facts.to)
  const manifest: HandoffManifest = {
    format: HANDOFF_FORMAT, version: 1, mode: input.mode, ceremonyId: input.ceremonyId, planDigest: input.planDigest,
    segment: { file: names.segment, sha256: sha256Hex(Buffer.from(input.segmentText, 'utf8')), bytes: Buffer.byteLength(input.segmentText), entries: input.entries, finalDigest: input.finalDigest, finalWords: pgpWords(input.finalDigest) },
    handoff: input.facts,
    noSecrets: 'This drive holds no API key, password, token or plaintext key material.',
  }
  // Keys in canonical order, so the receiving station renders exactly these bytes from the log entry.
  return JSON.stringify(JSON.parse(canonicalJson(manifest)), null, 2) + '\n'
}

export function renderReadme(input: BundleInput): string {
  const f = input.facts
  const rehearsal = input.mode === 'rehearsal' ? '*** REHEARSAL — not a production ceremony ***\n\n' : ''
  return `${rehearsal}DSM key ceremony ${input.ceremonyId}: hand-off ${f.n}, from ${f.fromLabel} to ${f.toLabel}

Media: ${f.media.label}    tamper-evident bag: ${f.media.bag}

Read this digest to ${f.toLabel} by phone, or carry it on paper beside the media.
They type the words; the ceremony continues only if every word matches.

  ${hexGroups(input.finalDigest)}

  ${pgpWords(input.finalDigest).join(' ')}

What is on this drive, and why it is harmless:
${f.leftOnMedia.map((x) => `  ${x.name}\n      ${x.what}: ${x.harmless}`).join('\n')}

No API key, password, token or plaintext key material is on this drive.
After the ceremony, follow the site's wipe or destroy procedure for this media.
`
}

function plainName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/.test(name)) throw new HandoffMediaError('HANDOFF_FILE_REFUSED', `${JSON.stringify(name)} is not a plain file name`)
  return name
}

/** Writes one file of the bundle, or adopts it if it is already there byte for byte. */
async function writeOrAdopt(dir: string, name: string, text: string): Promise<{ name: string; sha256: string; bytes: number; adopted: boolean }> {
  const path = join(dir, plainName(name))
  const data = Buffer.from(text, 'utf8')
  const sha256 = sha256Hex(data)
  const existing = await fsp.lstat(path).catch(() => null)
  if (existing) {
    const same = existing.isFile() && existing.size === data.length && (await readFileVerified(path, sha256).then(() => true, () => false))
    if (!same) throw new HandoffMediaError('UNEXPECTED_FILE', `${name} is on the media, but it is not what this hand-off writes. It was not used and not overwritten.`)
    return { name, sha256, bytes: data.length, adopted: true }
  }
  await writeFileAtomic(path, data)
  return { name, sha256, bytes: data.length, adopted: false }
}

/** Writes the segment, the README and, last, the manifest: a manifest on the media means the bundle is complete. */
export async function writeBundle(dir: string, input: BundleInput, boundary?: (phase: 'after-segment') => void) {
  const names = bundleNames(input.ceremonyId, input.facts.n, input.facts.from, input.facts.to)
  const segment = await writeOrAdopt(dir, names.segment, input.segmentText)
  boundary?.('after-segment')
  const readme = await writeOrAdopt(dir, names.readme, renderReadme(input))
  const manifest = await writeOrAdopt(dir, names.manifest, renderManifest(input))
  return { files: [segment, readme, manifest] }
}

/** Reads a bundle file: a regular file (never a link), at most `max` bytes. */
export async function readBundleFile(dir: string, name: string, max: number): Promise<string | null> {
  const path = join(dir, plainName(name))
  const st = await fsp.lstat(path).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : Promise.reject(err)))
  if (!st) return null
  if (!st.isFile()) throw new HandoffMediaError('HANDOFF_FILE_REFUSED', `${name} on the media is not a regular file`)
  if (st.size > max) throw new HandoffMediaError('HANDOFF_FILE_REFUSED', `${name} on the media is ${st.size} bytes; at most ${max} are expected`)
  return fsp.readFile(path, 'utf8')
}

export const BUNDLE_LIMITS = { segment: SEGMENT_MAX_BYTES, manifest: MANIFEST_MAX_BYTES, readme: README_MAX_BYTES }

/** Checks an artifact on the media is the one logged: a regular file with exactly its size and SHA-256. */
export async function checkArtifact(dir: string, artifact: { name: string; sha256: string; bytes: number }): Promise<void> {
  const path = join(dir, plainName(artifact.name))
  const st = await fsp.lstat(path).catch(() => null)
  if (!st) throw new HandoffMediaError('HANDOFF_ARTIFACT_MISSING', `${artifact.name} is not on the media`)
  if (!st.isFile()) throw new HandoffMediaError('HANDOFF_ARTIFACT_MISMATCH', `${artifact.name} on the media is not a regular file`)
  if (st.size !== artifact.bytes || st.size > ARTIFACT_MAX_BYTES) {
    throw new HandoffMediaError('HANDOFF_ARTIFACT_MISMATCH', `${artifact.name} on the media is ${st.size} bytes; the log recorded ${artifact.bytes}`)
  }
  await readFileVerified(path, artifact.sha256).catch(() => {
    throw new HandoffMediaError('HANDOFF_ARTIFACT_MISMATCH', `${artifact.name} on the media is not the file the log recorded (its SHA-256 differs)`)
  })
}

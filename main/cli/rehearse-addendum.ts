// The sample video addendum a CLI rehearsal seals after each record (issue 14 part 5), so a
// rehearsal shows the whole auditor's package: the record, its media, the camera files and the
// addendum chained to the final digest. The rehearsal has no cameras, so it writes, for each camera
// the plan names, a small file that says what it stands for ("simulated footage …"): a real file on
// disk, hashed by the tool like a recorder's, filming from a minute before the first entry to a
// minute after the seal. Prepared by the plan's operator, attested by its first witness (the
// simulated witnesses sign nothing real: the addendum carries the REHEARSAL watermark, as the record
// does). Then `ceremony verify`'s own check runs on it, with the videos re-hashed.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { CeremonyError, errorCode } from '../errors'
import { addendumFileName, buildVideoAddendum, recordFacts, type AddendumVideo, type CeremonyRecord } from '../evidence'
import { digestFile, writeFileAtomic } from '../media'
import type { HeadlessSummary } from './headless'
import { verifyRecordAddenda } from './verify-addenda'

/** A recorder's time: whole seconds, UTC, with the Z. */
const recorderTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')

export interface SampleAddendum {
  file: string
  digest: string
  videosDir: string
  /** What `ceremony verify` printed for the addenda. */
  lines: string[]
}

/**
 * Seals the sample addendum beside `recordPath` (a rehearsal record that verified) and verifies it
 * with the record, as `ceremony verify RECORD --videos DIR` would. A production record is refused.
 */
export async function sealSampleAddendum(recordPath: string, record: CeremonyRecord, stateDir: string): Promise<SampleAddendum> {
  if (record.mode !== 'rehearsal') throw new CeremonyError('NOT_A_REHEARSAL', 'A sample addendum is sealed only on a rehearsal record')
  const facts = recordFacts(record)
  const plan = record.plan as { participants?: { operator?: unknown } }
  const operator = typeof plan.participants?.operator === 'string' ? plan.participants.operator : 'Rehearsal operator'
  const witness = facts.witnesses.find((w) => w.name !== operator)
  if (!witness) throw new CeremonyError('ADDENDUM_NOT_ATTESTED', 'The rehearsal plan names no witness other than the operator to attest its addendum')
  const videosDir = join(stateDir, 'videos')
  mkdirSync(videosDir, { recursive: true })
  const startedAt = recorderTime(Math.floor(Date.parse(facts.openedAt) / 1000) * 1000 - 60_000)
  const stoppedAt = recorderTime(Math.ceil(Date.parse(facts.sealedAt) / 1000) * 1000 + 60_000)
  const videos: AddendumVideo[] = []
  for (const camera of facts.cameras) {
    const name = `${facts.ceremonyId}-${camera.id}-REHEARSAL.sim`
    // Its own content per camera and ceremony: two files with one digest would be one recording listed twice.
    writeFileSync(join(videosDir, name), `REHEARSAL: simulated footage of ${camera.label} (${camera.id}) for ceremony ${facts.ceremonyId}, ${startedAt} to ${stoppedAt}; record ${facts.finalDigest}\n`, { flag: 'w' })
    const { sha256, bytes } = await digestFile(join(videosDir, name))
    videos.push({ camera: camera.id, name, startedAt, stoppedAt, bytes, sha256 })
  }
  const due = new Date(Date.parse(facts.sealedAt) + 30 * 24 * 3600 * 1000).toISOString().slice(0, 10)
  const addendum = buildVideoAddendum({
    record, previous: [], preparedBy: operator, preparedAt: new Date().toISOString(), attestedBy: [{ name: witness.name, initials: witness.initials }],
    videos, camerasWithoutVideo: [], actionItems: [{ text: 'Rehearsal: walk the auditor through the record, this addendum and the camera files', owner: operator, due }],
  })
  const file = join(dirname(recordPath), addendumFileName(facts.ceremonyId, record.mode, addendum.n))
  await writeFileAtomic(file, `${JSON.stringify(addendum, null, 2)}\n`)
  const verdict = await verifyRecordAddenda(recordPath, record, { videosDir })
  if (!verdict.ok) throw new CeremonyError('RECORD_INVALID', `the rehearsal's sample addendum does not verify: ${verdict.failure}`)
  return { file, digest: addendum.digest, videosDir, lines: verdict.lines }
}

/** For `ceremony rehearse`: seals the sample addendum on a verified rehearsal record, said on stderr; a failure fails the summary, by name. */
export async function rehearsalAddendum(summary: HeadlessSummary, record: unknown, stateDir: string): Promise<void> {
  if (!summary.record) return
  try {
    const a = await sealSampleAddendum(summary.record, record as CeremonyRecord, stateDir)
    process.stderr.write(`sample video addendum sealed and verified: ${a.file} (videos in ${a.videosDir})\n${a.lines.join('\n')}\n`)
  } catch (err) {
    summary.ok = false
    summary.error = { code: errorCode(err, 'ADDENDUM_FAILED'), message: err instanceof Error ? err.message : String(err) }
  }
}

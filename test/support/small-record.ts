/**
 * A small sealed record for addendum and archive tests: a real audit log (hash-chained, fsynced)
 * over a plan that names witnesses and cameras, with artifact files on a media folder, sealed with
 * buildRecord exactly as the engine does — without running a whole ceremony against simulators.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AuditLog, buildRecord, planDigestOf, recordFileName, sha256Hex, type CeremonyRecord } from '../../main/evidence'

export const OPENED_AT = '2026-12-02T05:00:00.000Z'
/** The ceremony opened at 05:00 and was sealed at 06:00 UTC. */
export const SEALED_AT = '2026-12-02T06:00:00.000Z'

export const PLAN = {
  kind: 'replicate-cmk', id: 'video-test', title: 'Video addendum test', mode: 'rehearsal',
  participants: { operator: 'Ana Operator', custodians: {}, witnesses: ['Wes Smith', { name: 'Wil Jones', initials: 'WX' }] },
  cameras: [
    { id: 'cam-screen', label: 'Screen camera', films: "the operator's screen" },
    { id: 'cam-room', label: 'Room camera', films: 'the appliance front panel' },
  ],
}

export interface SmallRecord {
  record: CeremonyRecord
  recordPath: string
  logPath: string
  mediaDir: string
  stateDir: string
}

/** Seals a record in `dir`/state with two artifacts in `dir`/media (one of them an appliance log). */
export async function smallRecord(dir: string, plan: Record<string, unknown> = PLAN): Promise<SmallRecord> {
  const stateDir = join(dir, 'state')
  const mediaDir = join(dir, 'media')
  mkdirSync(stateDir, { recursive: true })
  mkdirSync(mediaDir, { recursive: true })
  const planDigest = planDigestOf(plan)
  const times = [OPENED_AT, '2026-12-02T05:10:00.000Z', '2026-12-02T05:20:00.000Z', '2026-12-02T05:30:00.000Z', SEALED_AT]
  let i = 0
  const logPath = join(stateDir, 'audit-log.jsonl')
  const log = await AuditLog.open(logPath, { planDigest, clock: () => new Date(times[Math.min(i++, times.length - 1)]!) })
  await log.append({ actor: 'engine', step: 'ceremony', kind: 'ceremony-open', facts: { ceremonyId: plan['id'] } })
  for (const [name, text] of [['video-test-fips-2.pub.pem', 'a public key'], ['video-test-fips-1-appliance-log-20261202T055500Z.json', '{"entries":[]}']] as const) {
    writeFileSync(join(mediaDir, name), text)
    await log.append({ actor: 'engine', step: 'files', kind: 'artifact', facts: { name, sha256: sha256Hex(Buffer.from(text)), bytes: Buffer.byteLength(text) } })
  }
  await log.append({ actor: 'Wes Smith', step: 'close', kind: 'exception', facts: { by: 'Wes Smith', note: 'a test deviation' } })
  await log.append({ actor: 'engine', step: 'close', kind: 'step-done', facts: { sealed: true } })
  await log.close()
  const record = buildRecord({ plan, planDigest, entries: log.entries(), mode: plan['mode'] as 'rehearsal' })
  const recordPath = join(stateDir, recordFileName(String(plan['id']), record.mode))
  writeFileSync(recordPath, `${JSON.stringify(record, null, 2)}\n`)
  return { record, recordPath, logPath, mediaDir, stateDir }
}

/**
 * The record of an earlier ceremony, read from the ceremony media, as the source of truth for the
 * bags it sealed: when an item comes out of a bag, the number on the bag is compared with the one
 * that record's storage allocation gave it. The record is verified whole first (hash chain, plan
 * digest) and its final digest must be the one the plan names: a record altered on the media, or
 * another ceremony's, is refused by name (PREVIOUS_RECORD_INVALID) and nothing is judged from it.
 */
import { z } from 'zod'
import { verifyRecord } from '../../evidence'
import { CeremonyError } from '../../errors'
import type { MediaAccess } from '../step'
import { ENTRY } from '../entry-kinds'

/** Records are small (a two-target ceremony is a few hundred KB); this bounds a hostile file. */
const MAX_RECORD_BYTES = 64 * 1024 * 1024

/** The storage step's id: how a later ceremony finds the allocation in this one's record. */
export const STORAGE_STEP_ID = 'materials-storage'

export const AllocationSchema = z.strictObject({
  item: z.string(),
  description: z.string(),
  serial: z.string().nullable(),
  /** A person's name as the plan gives it, or a safe's id. */
  to: z.string(),
  toLabel: z.string(),
  kind: z.enum(['person', 'safe']),
  /** The new tamper-evident bag the item was sealed in. */
  bag: z.string(),
})
export type Allocation = z.infer<typeof AllocationSchema>

export interface PreviousRecord {
  file: string
  finalDigest: string
  ceremonyId: string
  mode: string
  sealedAt: string
  /** Item id -> where that ceremony sealed it. */
  sealed: Map<string, Allocation>
}

const invalid = (file: string, why: string) =>
  new CeremonyError('PREVIOUS_RECORD_INVALID', `${file}, the earlier record the plan names, ${why}. No bag was judged; put the right record on the media (compare its final digest with the paper record).`)

export async function readPreviousRecord(media: MediaAccess, file: string, finalDigest: string): Promise<PreviousRecord> {
  if (!media.exists(file)) throw invalid(file, 'is not on the ceremony media')
  let json: unknown
  try {
    json = JSON.parse((await media.readUnverified(file, MAX_RECORD_BYTES)).toString('utf8'))
  } catch (err) {
    if (err instanceof CeremonyError) throw err
    throw invalid(file, 'is not JSON')
  }
  const verified = verifyRecord(json)
  if (!verified.ok) throw invalid(file, `does not verify (entry ${verified.firstBadEntry}: ${verified.reason})`)
  if (verified.finalDigest !== finalDigest) throw invalid(file, `has the final digest ${verified.finalDigest.slice(0, 16)}…, not ${finalDigest.slice(0, 16)}… as the plan says`)
  const record = json as { plan?: { id?: unknown }; entries: { kind: string; step: string; ts: string; facts: Record<string, unknown> }[] }
  const sealed = new Map<string, Allocation>()
  // One storage step, or across sites one per station (materials-storage:<station>): the last result of each.
  const last = new Map<string, unknown>()
  for (const e of record.entries) {
    if (e.kind === ENTRY.stepDone && (e.step === STORAGE_STEP_ID || e.step.startsWith(`${STORAGE_STEP_ID}:`))) last.set(e.step, (e.facts['result'] as { allocation?: unknown } | undefined)?.allocation)
  }
  for (const list of last.values()) {
    const parsed = z.array(AllocationSchema).safeParse(list ?? [])
    if (!parsed.success) throw invalid(file, 'has a storage allocation this version cannot read')
    for (const a of parsed.data) sealed.set(a.item, a)
  }
  return {
    file, finalDigest, ceremonyId: typeof record.plan?.id === 'string' ? record.plan.id : '?', mode: verified.mode,
    sealedAt: record.entries.at(-1)?.ts ?? '', sealed,
  }
}

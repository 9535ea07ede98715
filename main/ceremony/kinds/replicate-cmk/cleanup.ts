/**
 * Step 12 and the close (design §3): both transfer keys are deleted and confirmed absent, and the
 * inventories are compared with the preflight's: only the CMK may have appeared. Then the close
 * step summarises the KCVs; the engine seals the log once it is done.
 */
import { NotFoundError, type AppSession } from '../../../dsm'
import { CeremonyError } from '../../../errors'
import { defineStep, item, type StepContext } from '../../step'
import type { ReplicateCmkPlan } from './plan'
import { CleanupResult, CloseResult, ids, refs } from './results'
import { preflightOf } from './preflight'
import { transferFingerprint } from './transfer-key'

type Ctx = StepContext<ReplicateCmkPlan>

export async function deleteAndConfirm(app: AppSession, kid: string): Promise<void> {
  await app.keys.delete(kid).catch((err: unknown) => {
    if (!(err instanceof NotFoundError)) throw err // already gone (deleted before an interruption)
  })
  const gone = await app.keys.get(kid).then(() => false, (err: unknown) => {
    if (err instanceof NotFoundError) return true
    throw err
  })
  if (!gone) throw new CeremonyError('TRANSFER_KEY_STILL_PRESENT', `Key ${kid} can still be read after deletion`)
}

/** Compares the inventories of `on` (the target and/or the source) with the preflight's: only the CMK may have appeared. */
export async function inventoryDiff(ctx: Ctx, t: string, on: string[] = [t, ctx.plan.source]): Promise<{ diff: CleanupResult['inventoryDiff']; unexpected: string[] }> {
  const created = ctx.find(refs.createCmk)
  const expected = (id: string) => (id === t ? [ctx.get(refs.unwrapResult(t)).kid] : created ? [created.kid] : [])
  const diff: CleanupResult['inventoryDiff'] = {}
  const unexpected: string[] = []
  for (const id of on) {
    const before = preflightOf(ctx, id).inventory
    const now = (await (await ctx.app(id)).keys.list()).map((o) => ({ kid: o.kid, name: o.name ?? '', type: o.obj_type }))
    const was = new Set((before[id] ?? []).map((o) => o.kid))
    const is = new Set(now.map((o) => o.kid))
    const added = now.filter((o) => !was.has(o.kid))
    const removed = (before[id] ?? []).filter((o) => !is.has(o.kid))
    diff[id] = { added: added.map((o) => `${o.name} (${o.type})`), removed: removed.map((o) => `${o.name} (${o.type})`) }
    // Only the CMK may appear: on the target by this transfer, on the source if this ceremony created it.
    if (added.map((o) => o.kid).sort().join() !== expected(id).join() || removed.length > 0) unexpected.push(ctx.label(id))
  }
  return { diff, unexpected }
}

/** An unexpected inventory change is accepted only against an exception recorded at this step, which then stands in the record. */
export function acceptedWith(ctx: Ctx, unexpected: string[]): number | null {
  if (unexpected.length === 0) return null
  const exception = ctx.exceptionsHere().at(-1)
  if (!exception) throw new CeremonyError('INVENTORY_CHANGED', `Besides the CMK, objects changed on ${unexpected.join(' and ')} during the ceremony`)
  ctx.note(`the inventory change on ${unexpected.join(' and ')} was accepted with the exception recorded at entry ${exception.seq}`)
  return exception.seq
}

export const cleanup = (plan: ReplicateCmkPlan, t: string, label: (id: string) => string) => defineStep<CleanupResult, { deleteOnTarget: string; deleteOnSource: string }, ReplicateCmkPlan>({
  id: ids.cleanup(t), name: 'cleanup', group: t, appliances: [plan.source, t], interaction: 'run', result: CleanupResult,
  confirmation: { prompt: `Type the last 4 characters of ${label(t)}'s transfer-key fingerprint to delete the transfer keys`, label: `${label(t)}'s transfer-key fingerprint`, value: (ctx) => transferFingerprint(ctx as Ctx, t) },
  text: {
    where: `${label(plan.source)}, ${label(t)}`,
    title: `Delete both transfer keys for ${label(t)}`,
    explain: `The transfer key on ${label(t)} and its imported public key on ${label(plan.source)} are deleted, their absence is confirmed, and the inventories are compared with the start: only the CMK was added on ${label(t)}.`,
    witnessItems: ['Both transfer keys are gone (confirmed absent)', 'The inventory difference is exactly the CMK added on the target'],
  },
  intent: (ctx) => ({ deleteOnTarget: ctx.get(refs.transferKey(t)).kid, deleteOnSource: ctx.get(refs.importPubkey(t)).kid }),
  look: async () => null, // deleting again is safe (404 counts as gone); the inventory is compared again
  async act(ctx, intent) {
    await deleteAndConfirm(await ctx.app(t), intent.deleteOnTarget)
    await deleteAndConfirm(await ctx.app(ctx.plan.source), intent.deleteOnSource)
    const { diff, unexpected } = await inventoryDiff(ctx, t)
    return { transferKeysDeleted: true as const, deleted: [intent.deleteOnTarget, intent.deleteOnSource], inventoryDiff: diff, acceptedWithException: acceptedWith(ctx, unexpected) }
  },
  verify() {},
  evidence: (r, ctx) => ({
    items: [
      ...item('Transfer keys deleted and confirmed absent', 'yes'),
      ...Object.entries(r.inventoryDiff).flatMap(([id, d]) => item(`Inventory change on ${ctx.label(id)}`, `added: ${d.added.join(', ') || 'nothing'}; removed: ${d.removed.join(', ') || 'nothing'}`)),
      ...item('Accepted with the exception at log entry', r.acceptedWithException),
    ],
    comparisons: [],
  }),
})

export const close = (plan: ReplicateCmkPlan) => defineStep<CloseResult, Record<string, never>, ReplicateCmkPlan>({
  id: ids.close, name: 'close', group: null, appliances: [], interaction: 'run', confirmation: null, result: CloseResult,
  text: {
    where: 'workstation',
    title: 'Close the ceremony and seal the record',
    explain: 'Witnesses sign off first: once this step runs, the audit log is sealed and nothing more can be added. It signs out of every appliance and builds the ceremony record, whose final digest, in words, is then read aloud and written on the paper record.',
    witnessItems: ['Every target shows the source KCV, as read aloud', 'Every exception recorded in this ceremony was read out'],
  },
  intent: () => ({}),
  look: async () => null,
  async act(ctx) {
    const source = ctx.find(refs.createCmk) ?? preflightOf(ctx, ctx.plan.source).cmk
    const kcvByTarget: Record<string, string> = {}
    for (const t of plan.targets) kcvByTarget[t] = ctx.find(refs.unwrapResult(t))?.kcvTarget ?? (preflightOf(ctx, t).replicated.includes(t) ? source?.kcv ?? '' : '')
    return { sourceKcv: source?.kcv ?? '', kcvByTarget }
  },
  verify() {},
  evidence: (r, ctx) => ({
    items: [...item('CMK KCV on the source', r.sourceKcv, 'kcv'), ...Object.entries(r.kcvByTarget).flatMap(([t, kcv]) => item(`CMK KCV on ${ctx.label(t)}`, kcv, 'kcv'))],
    comparisons: [],
  }),
})

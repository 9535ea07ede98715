/**
 * The replication across sites (design §3b): when the source and a target are reached from
 * different stations, the steps that would touch both at once are split so each runs where its
 * appliance is — one preflight per station, and each side's cleanup at its own station:
 *
 *   B: preflight B, transfer key, export public key                        → media →
 *   A: preflight A, import (three-way fingerprint proof), wrap (quorum), write the wrapped file,
 *      delete the imported public key, inventory diff of A                  → media →
 *   B: check the wrapped file, unwrap (quorum), KCV against A's KCV as carried in the evidence,
 *      delete the transfer key, inventory diff of B, close.
 *
 * This module lists the steps; main/ceremony/stations.ts puts them in the order with the fewest trips.
 */
import type { AnyStep } from '../../step'
import { stationMaterialsSteps } from '../../materials'
import { defineStep, item } from '../../step'
import { labelOf, type Station } from '../../plan-envelope'
import { stationOfAppliance, stationsOf } from '../../stations'
import { stationApplianceLogs } from './appliance-logs'
import { acceptedWith, cleanup, close, deleteAndConfirm, inventoryDiff } from './cleanup'
import type { ReplicateCmkPlan } from './plan'
import { createCmk, preflightOf, preflightOn } from './preflight'
import { CleanupResult, PreflightResult, ids, refs } from './results'
import { exportPubkey, importPubkey, transferFingerprint, transferKey } from './transfer-key'
import { loadBlob, unwrapApproval, unwrapResult } from './unwrap'
import { wrapApproval, wrapResult } from './wrap'

const stationPreflight = (plan: ReplicateCmkPlan, station: Station) => defineStep<PreflightResult, Record<string, never>, ReplicateCmkPlan>({
  id: ids.stationPreflight(station.id), name: 'preflight', group: null, appliances: station.appliances, interaction: 'run', confirmation: null, result: PreflightResult,
  text: {
    where: station.label,
    title: `Check the appliances at ${station.label} before anything changes`,
    explain: `Signs in to each appliance this station reaches (${station.appliances.map((a) => labelOf(plan, a)).join(', ')}) with its API key, reads its version and clock, checks the quorum group "${plan.groupName}" and its approval policy${station.appliances.includes(plan.source) ? ', checks the Cluster Master Key on the source (AES-256, exportable)' : ''}, checks that no target here already holds a key named "${plan.cmk.name}", and takes an inventory (names and types only). The result travels to the other stations in the hand-off evidence.`,
    witnessItems: ['Appliance versions and clocks were read', `The quorum policy on "${plan.groupName}" is in place`, ...(station.appliances.includes(plan.source) ? ['The CMK KCV on the source was read aloud'] : [])],
  },
  intent: () => ({}),
  look: async () => null, // reads only: running it again is the way to look
  act: (ctx) => preflightOn(ctx, station.appliances),
  verify() {},
  evidence: (r, ctx) => ({
    items: [
      ...Object.entries(r.appliances).flatMap(([id, a]) => item(`${ctx.label(id)}: version, clock difference, quorum`, `${a.version}; ${a.skewSeconds ?? '?'} s; ${a.quorumN} of ${a.quorumOf}`)),
      ...item('CMK KCV on the source', r.cmk?.kcv, 'kcv'),
    ],
    comparisons: [],
  }),
})

const diffItems = (r: CleanupResult, label: (id: string) => string) => [
  ...Object.entries(r.inventoryDiff).flatMap(([id, d]) => item(`Inventory change on ${label(id)}`, `added: ${d.added.join(', ') || 'nothing'}; removed: ${d.removed.join(', ') || 'nothing'}`)),
  ...item('Accepted with the exception at log entry', r.acceptedWithException),
]

/** At the source's station: the imported public key goes as soon as the wrapped file is written. */
const deletePubkey = (plan: ReplicateCmkPlan, t: string, label: (id: string) => string) => defineStep<CleanupResult, { deleteOnSource: string }, ReplicateCmkPlan>({
  id: ids.deletePubkey(t), name: 'delete-pubkey', group: t, appliances: [plan.source], interaction: 'run', result: CleanupResult,
  confirmation: { prompt: `Type the last 4 characters of ${label(t)}'s transfer-key fingerprint to delete its public key from ${label(plan.source)}`, label: `${label(t)}'s transfer-key fingerprint`, value: (ctx) => transferFingerprint(ctx as never, t) },
  text: {
    where: label(plan.source),
    title: `Delete ${label(t)}'s transfer public key from ${label(plan.source)}`,
    explain: `The wrapped file is written, so the public key imported on ${label(plan.source)} is no longer needed: it is deleted, its absence is confirmed, and ${label(plan.source)}'s inventory is compared with the start of the ceremony. The transfer key itself is deleted on ${label(t)}, at its own station, after the import.`,
    witnessItems: [`The imported public key is gone from ${label(plan.source)} (confirmed absent)`, `Nothing else changed on ${label(plan.source)}`],
  },
  intent: (ctx) => ({ deleteOnSource: ctx.get(refs.importPubkey(t)).kid }),
  look: async () => null, // deleting again is safe (404 counts as gone); the inventory is compared again
  async act(ctx, intent) {
    await deleteAndConfirm(await ctx.app(ctx.plan.source), intent.deleteOnSource)
    const { diff, unexpected } = await inventoryDiff(ctx, t, [ctx.plan.source])
    return { transferKeysDeleted: true as const, deleted: [intent.deleteOnSource], inventoryDiff: diff, acceptedWithException: acceptedWith(ctx, unexpected) }
  },
  verify() {},
  evidence: (r, ctx) => ({ items: [...item('Imported public key deleted and confirmed absent', 'yes'), ...diffItems(r, ctx.label)], comparisons: [] }),
})

/** At the target's station, after the KCV proof: the transfer key goes. */
const deleteTransferKey = (plan: ReplicateCmkPlan, t: string, label: (id: string) => string) => defineStep<CleanupResult, { deleteOnTarget: string }, ReplicateCmkPlan>({
  id: ids.deleteTransferKey(t), name: 'delete-transfer-key', group: t, appliances: [t], interaction: 'run', result: CleanupResult,
  confirmation: { prompt: `Type the last 4 characters of ${label(t)}'s transfer-key fingerprint to delete the transfer key`, label: `${label(t)}'s transfer-key fingerprint`, value: (ctx) => transferFingerprint(ctx as never, t) },
  text: {
    where: label(t),
    title: `Delete the transfer key on ${label(t)}`,
    explain: `The CMK arrived with the source's KCV, so the transfer key on ${label(t)} is deleted and its absence confirmed; from then on the wrapped file on the media cannot be opened by anyone. ${label(t)}'s inventory is compared with the start: only the CMK was added.`,
    witnessItems: [`The transfer key is gone from ${label(t)} (confirmed absent)`, 'The inventory difference is exactly the CMK added on the target'],
  },
  intent: (ctx) => ({ deleteOnTarget: ctx.get(refs.transferKey(t)).kid }),
  look: async () => null,
  async act(ctx, intent) {
    await deleteAndConfirm(await ctx.app(t), intent.deleteOnTarget)
    const { diff, unexpected } = await inventoryDiff(ctx, t, [t])
    return { transferKeysDeleted: true as const, deleted: [intent.deleteOnTarget], inventoryDiff: diff, acceptedWithException: acceptedWith(ctx, unexpected) }
  },
  verify() {},
  evidence: (r, ctx) => ({ items: [...item('Transfer key deleted and confirmed absent', 'yes'), ...diffItems(r, ctx.label)], comparisons: [] }),
})

/** True when the target sits at another station than the source (its cleanup is split). */
export function apart(plan: ReplicateCmkPlan, t: string): boolean {
  return stationOfAppliance(plan, t).id !== stationOfAppliance(plan, plan.source).id
}

/** The steps of a replication whose plan lists two stations or more (in the kind's order; stations.ts orders the legs). */
export function multiSiteSteps(plan: ReplicateCmkPlan): AnyStep[] {
  const label = (id: string) => labelOf(plan, id)
  const roles = new Set([plan.source, ...plan.targets])
  const list: AnyStep[] = stationsOf(plan).filter((s) => s.appliances.some((a) => roles.has(a))).map((s) => stationPreflight(plan, s))
  // Each station's materials (a materials manifest): M.1/M.2 there before anything there changes, M.3 after its last step.
  // Only at the stations the ceremony visits (plan.ts refuses items anywhere else); the letters follow the plan's order of stations.
  const materials = stationsOf(plan).map((s, i) => ({ station: s, ...stationMaterialsSteps(plan, s, i) })).filter((m) => m.station.appliances.some((a) => roles.has(a)))
  for (const m of materials) list.push(...m.opening)
  if (plan.cmk.create) list.push(createCmk(plan))
  for (const t of plan.targets) {
    const wrap = wrapApproval(plan, t, label)
    const unwrap = unwrapApproval(plan, t, label)
    const split = apart(plan, t)
    const perTarget: AnyStep[] = [
      transferKey(plan, t, label), exportPubkey(plan, t, label), importPubkey(plan, t, label),
      wrap.request, wrap.approval, wrapResult(plan, t, label), ...(split ? [deletePubkey(plan, t, label)] : []),
      loadBlob(plan, t, label), unwrap.request, unwrap.approval, unwrapResult(plan, t, label),
      split ? deleteTransferKey(plan, t, label) : cleanup(plan, t, label),
    ]
    // Only a target at the source's own station can be found already replicated (its KCV is comparable there).
    for (const step of perTarget) list.push({ ...step, skip: (ctx) => (preflightOf(ctx as never, t).replicated.includes(t) ? 'the CMK is already on this target with the same KCV' : null) })
  }
  // C.0 at each station: its appliances' own logs, captured in its last leg (stationApplianceLogs).
  for (const s of stationsOf(plan)) {
    const here = s.appliances.filter((a) => roles.has(a))
    if (here.length > 0) list.push(stationApplianceLogs(plan, s, here))
    // The media with the appliances' logs go into their bags too, as at one site: the allocation comes after C.0.
    list.push(...(materials.find((m) => m.station.id === s.id)?.closing ?? []))
  }
  list.push(close(plan))
  return list
}

/** The steps that delete a target's transfer keys (one, or one per side across sites). */
export function cleanupIds(plan: ReplicateCmkPlan, t: string): string[] {
  return stationsOf(plan).length > 1 && apart(plan, t) ? [ids.deletePubkey(t), ids.deleteTransferKey(t)] : [ids.cleanup(t)]
}

/**
 * The kind `replicate-cmk` (guide §3.2.1–3.2.2, design §3): the CMK goes from the source to each
 * target under a transfer key, behind a quorum approval on each side, and arrives with the same KCV.
 */
import { sameKcv } from '../../adopt'
import type { CeremonyKind, ScriptedStep } from '../../kind'
import { assignScriptIds } from '../../script'
import { labelOf } from '../../plan-envelope'
import { isMultiSite, stationOfAppliance } from '../../stations'
import type { AnyStep } from '../../step'
import { materialsSteps } from '../../materials'
import { applianceLogs } from './appliance-logs'
import { cleanup, close } from './cleanup'
import { ReplicateCmkPlanSchema, type ReplicateCmkPlan } from './plan'
import { createCmk, preflight } from './preflight'
import { refs } from './results'
import { cleanupIds, multiSiteSteps } from './sites'
import { exportPubkey, importPubkey, transferKey } from './transfer-key'
import { loadBlob, unwrapApproval, unwrapResult } from './unwrap'
import { wrapApproval, wrapResult } from './wrap'

/**
 * Script ids read aloud without ambiguity: P.0 the preflight, M.1–M.2 the appliances and materials
 * identified (with a materials manifest), P.1 the CMK's creation, T<n>.<k> the
 * k-th step for the target that is the plan's n-th appliance ("T2.7": fips-2's step 7), C.0 the
 * appliances' own audit logs captured and corroborated, M.3 the storage allocation, C.1 the close. Across sites the same rule is
 * applied to the stations' steps (assignScriptIds), and each station's materials and logs carry its letter (M.1a, M.2b, C.0a).
 */
function steps(plan: ReplicateCmkPlan): ScriptedStep[] {
  if (isMultiSite(plan)) return multiSiteScript(plan)
  const label = (id: string) => labelOf(plan, id)
  const materials = materialsSteps(plan)
  // The materials are identified once the preflight has reached every appliance, before anything changes.
  const list: ScriptedStep[] = [{ ...preflight(plan), scriptId: 'P.0' }, ...materials.opening]
  if (plan.cmk.create) list.push({ ...createCmk(plan), scriptId: 'P.1' })
  for (const t of plan.targets) {
    const n = plan.appliances.findIndex((a) => a.id === t) + 1
    const wrap = wrapApproval(plan, t, label)
    const unwrap = unwrapApproval(plan, t, label)
    const perTarget: AnyStep[] = [
      transferKey(plan, t, label), exportPubkey(plan, t, label), importPubkey(plan, t, label),
      wrap.request, wrap.approval, wrapResult(plan, t, label),
      loadBlob(plan, t, label), unwrap.request, unwrap.approval, unwrapResult(plan, t, label),
      cleanup(plan, t, label),
    ]
    // A target that already holds the CMK with the source's KCV needs none of its steps.
    perTarget.forEach((step, k) => list.push({
      ...step, scriptId: `T${n}.${k + 1}`,
      skip: (ctx) => (ctx.get(refs.preflight).replicated.includes(t) ? 'the CMK is already on this target with the same KCV' : null),
    }))
  }
  list.push({ ...applianceLogs(plan), scriptId: 'C.0' })
  // The media with the appliances' logs go into their bags too: the allocation comes after C.0.
  list.push(...materials.closing)
  list.push({ ...close(plan), scriptId: 'C.1' })
  return list
}

/**
 * Across sites, the script ids as on one site (P.n, T<n>.k, C.1 the close), and the appliances' logs
 * C.0 — one per station, C.0a, C.0b… in the plan's order of stations, when there are several — and
 * each station's materials M.1a, M.2a, M.3a… the same way.
 */
function multiSiteScript(plan: ReplicateCmkPlan): ScriptedStep[] {
  const all = multiSiteSteps(plan)
  const logs = all.filter((s) => s.name === 'appliance-logs')
  // The materials steps come with their ids (M.1a, M.2b…: stationMaterialsSteps).
  const named = (s: AnyStep): s is ScriptedStep => typeof s.scriptId === 'string'
  const scripted = new Map(assignScriptIds(plan, all.filter((s) => s.name !== 'appliance-logs' && !named(s))).map((s) => [s.id, s.scriptId]))
  const suffix = (i: number) => (logs.length === 1 ? '' : String.fromCharCode(97 + i))
  return all.map((s) => (s.name === 'appliance-logs' ? { ...s, scriptId: `C.0${suffix(logs.indexOf(s))}` } : named(s) ? s : { ...s, scriptId: scripted.get(s.id)! }))
}

export const replicateCmk: CeremonyKind<ReplicateCmkPlan> = {
  kind: 'replicate-cmk',
  title: 'CMK replication',
  schema: ReplicateCmkPlanSchema as never,
  steps,
  describe: (plan) => [
    { label: 'Source (holds the CMK)', value: labelOf(plan, plan.source) },
    { label: 'Targets, in order', value: plan.targets.map((t) => labelOf(plan, t)).join(', ') },
    { label: 'Cluster Master Key', value: `${plan.cmk.name} ${plan.cmk.create ? '(created on the source in this ceremony)' : '(already on the source)'}` },
    { label: 'Quorum group', value: plan.groupName },
    { label: 'Wrapping', value: plan.wrapMode },
    { label: 'Transfer-key names', value: plan.transferKeyName },
  ],
  roles: (plan) => Object.fromEntries(plan.appliances.map((a) => [a.id, a.id === plan.source ? 'Source' : plan.targets.includes(a.id) ? `Target ${plan.targets.indexOf(a.id) + 1}` : '—'])),
  groups: (plan) => plan.targets.map((t) => ({ id: t, label: labelOf(plan, t) })),
  groupOutcome(plan, t, results) {
    const kcv = results.find(refs.unwrapResult(t))?.kcvTarget ?? null
    if (kcv) return `KCV ${kcv.toLowerCase()}`
    return results.state(cleanupIds(plan, t).at(-1)!) === 'skipped' ? 'already replicated' : null
  },
  summary(plan, results) {
    const preflightOfSource = isMultiSite(plan) ? results.find(refs.stationPreflight(stationOfAppliance(plan, plan.source).id)) : results.find(refs.preflight)
    const sourceKcv = results.find(refs.createCmk)?.kcv ?? preflightOfSource?.cmk?.kcv ?? null
    const targets = Object.fromEntries(plan.targets.map((t) => {
      const kcv = results.find(refs.unwrapResult(t))?.kcvTarget ?? (results.state(refs.unwrapResult(t).id) === 'skipped' ? sourceKcv : null)
      const cleaned = cleanupIds(plan, t).every((id) => ['done', 'skipped'].includes(results.state(id)))
      return [t, { kcv, kcvMatches: sameKcv(kcv, sourceKcv), transferKeysDeleted: cleaned }]
    }))
    return { sourceKcv, targets }
  },
  leftBehind(plan, results) {
    const left: string[] = []
    for (const t of plan.targets) {
      if (['done', 'skipped'].includes(results.state(refs.cleanup(t).id))) continue
      const made = results.find(refs.transferKey(t))
      const imported = results.find(refs.importPubkey(t))
      const wrapped = results.find(refs.wrapResult(t))
      if (made) left.push(`transfer key "${made.name}" (kid ${made.kid}) on ${labelOf(plan, t)}: delete it`)
      if (imported) left.push(`its imported public key (kid ${imported.kid}) on ${labelOf(plan, plan.source)}: delete it`)
      if (wrapped) left.push(`the wrapped CMK ${wrapped.file} on the media: it opens only with ${labelOf(plan, t)}'s transfer key; wipe or destroy the media once that key is deleted`)
      const request = results.find(refs.wrapRequest(t)) ?? results.find(refs.unwrapRequest(t))
      if (request && !results.find(refs.unwrapResult(t))) left.push(`approval request ${request.requestId} on ${labelOf(plan, request.appliance)}: deny or withdraw it in the DSM UI`)
    }
    return left
  },
}

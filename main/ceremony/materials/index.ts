/**
 * The materials manifest's steps (issue 14 part 4), for any kind whose plan carries `materials`:
 * M.1 each appliance identified (chassis typed, the API asked), M.2 the materials out of their bags
 * (checked against the record that sealed them), both before anything changes; and M.3 at the
 * close, the storage allocation (new bags, who or which safe receives each item). A kind places
 * `opening` after its read-only preflight and `closing` before its sealing step.
 */
import type { ScriptedStep } from '../kind'
import type { Plan, Station } from '../plan-envelope'
import { APPLIANCES_STEP_ID, appliancesStep } from './appliance-step'
import { STORAGE_STEP_ID } from './previous-record'
import { receivers } from './schema'
import { storageStep } from './storage-step'
import { UNSEAL_STEP_ID, unsealFields, unsealStep } from './unseal-step'

export { handoffBags, manifestBags } from './bags'

export const MATERIALS_STEP = { appliances: APPLIANCES_STEP_ID, unseal: UNSEAL_STEP_ID, storage: STORAGE_STEP_ID } as const

export function materialsSteps(plan: Plan): { opening: ScriptedStep[]; closing: ScriptedStep[] } {
  const m = plan.materials
  if (!m) return { opening: [], closing: [] }
  const opening: ScriptedStep[] = []
  if (m.appliances) opening.push({ ...appliancesStep(plan, m), scriptId: 'M.1' })
  if (unsealFields(m).length > 0) opening.push({ ...unsealStep(plan, m), scriptId: 'M.2' })
  const closing: ScriptedStep[] = m.storage.length > 0 ? [{ ...storageStep(plan, m), scriptId: 'M.3' }] : []
  return { opening, closing }
}

/**
 * Across sites, each station's own materials steps (schema.ts: every item and safe names its
 * station): M.1 the chassis of the appliances there, M.2 the bags opened there — both placed with
 * the station's first steps, so they run in its first leg before anything there changes — and M.3
 * the items stored there, placed after its last step (stations.ts runs it in its last leg). Script
 * ids carry the station's letter in the plan's order of stations, as C.0a, C.0b do: M.1a, M.2b, M.3b.
 * Nothing travels for them: the number of legs is the ceremony's own.
 */
export function stationMaterialsSteps(plan: Plan, station: Station, index: number): { opening: ScriptedStep[]; closing: ScriptedStep[] } {
  const m = plan.materials
  if (!m) return { opening: [], closing: [] }
  const letter = String.fromCharCode(97 + index)
  const opening: ScriptedStep[] = []
  if (m.appliances && station.appliances.some((a) => m.appliances![a])) opening.push({ ...appliancesStep(plan, m, station), scriptId: `M.1${letter}` })
  if (unsealFields(m, station).length > 0) opening.push({ ...unsealStep(plan, m, station), scriptId: `M.2${letter}` })
  const stored = m.storage.some((s) => m.items.find((i) => i.id === s.item)?.station === station.id)
  const closing: ScriptedStep[] = stored ? [{ ...storageStep(plan, m, station), scriptId: `M.3${letter}` }] : []
  return { opening, closing }
}

/** The manifest in words, for the plan review and the printed script (nothing when the plan has none). */
export function describeMaterials(plan: Plan): { label: string; value: string }[] {
  const m = plan.materials
  if (!m) return []
  const bagged = m.items.filter((i) => i.bag).length
  const fromRecords = m.items.filter((i) => i.previousRecord).length
  const who = receivers(plan, m)
  const description = (id: string) => m.items.find((i) => i.id === id)?.description ?? id
  return [
    {
      label: 'Materials manifest',
      value: [
        m.appliances ? `the chassis of ${Object.keys(m.appliances).length} appliance(s) (serial, tamper labels${Object.values(m.appliances).some((a) => a.fipsLevel !== undefined) ? ', FIPS level' : ''})` : null,
        `${m.items.length} item(s), ${bagged} in tamper-evident bags${fromRecords > 0 ? `, ${fromRecords} checked against ${(m.previousRecords ?? []).length} earlier record(s)` : ''}`,
        m.safes?.length ? `${m.safes.length} safe(s)` : null,
      ].filter(Boolean).join('; '),
    },
    // Across sites: what each station checks and stores itself (stationMaterialsSteps).
    ...((plan.stations?.length ?? 0) > 1 ? [{
      label: 'Materials at each station',
      value: plan.stations!.map((st) => {
        const chassis = st.appliances.filter((a) => m.appliances?.[a])
        const items = m.items.filter((i) => i.station === st.id).map((i) => `${i.description}${i.bag ? ` (bag ${i.bag})` : ''}`)
        return `${st.label}: ${[chassis.length > 0 ? `the chassis of ${chassis.join(', ')}` : null, ...items].filter(Boolean).join(', ') || 'nothing'}`
      }).join('; '),
    }] : []),
    ...(m.storage.length > 0 ? [{ label: 'Storage at the close', value: m.storage.map((s) => `${description(s.item)} → ${who.find((w) => w.value === s.to)?.label ?? s.to}${s.bag ? ` (bag ${s.bag})` : ''}`).join('; ') }] : []),
  ]
}

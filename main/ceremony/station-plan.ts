/**
 * Plans across sites for simulated appliances (`ceremony plan --sites N`, `ceremony rehearse
 * --sites N`, the tests): the source at Site A, the targets spread over the other sites in turn,
 * each site with its own operator and witness.
 */
import type { ReplicateCmkPlan } from './kinds/replicate-cmk/plan'
import { parsePlan } from './plan'
import { CeremonyError } from '../errors'
import type { Materials } from './materials/schema'
import type { Station } from './plan-envelope'
import { kindOf } from './registry'
import { materialsForRehearsal, planForAppliances, type Credentials, type SimulatedPlanOptions } from './simulated-plan'
import { orderForStations, tripsOf } from './stations'

const SITE_LETTERS = 'abcdefgh'

/**
 * What the simulated rooms hold across sites: each appliance's chassis, as at one site; at each site
 * the ceremony laptop in its bag and a safe that receives it at the close; at the site of the last
 * leg, where the record is sealed, the new archive drive. The media carried between the sites is
 * the hand-offs' (its bags are logged at each hand-off and checked at each receipt), not an item here.
 */
export function materialsForSites(appliances: readonly { id: string }[], stations: readonly Station[], last: string): Materials {
  const letter = (s: Station) => s.id.replace(/^site-/, '')
  return {
    appliances: materialsForRehearsal(appliances).appliances!,
    items: [
      ...stations.map((s, i) => ({ id: `laptop-${letter(s)}`, description: `Ceremony laptop at ${s.label}`, serial: `LT-SIM-${String(i + 1).padStart(4, '0')}`, bag: `TEB-${i + 1}00001`, station: s.id })),
      { id: 'archive-media', description: 'Archive USB drive', serial: 'USB-SIM-0002', station: last },
    ],
    safes: stations.map((s) => ({ id: `safe-${letter(s)}`, label: `Safe at ${s.label}`, station: s.id })),
    storage: [
      ...stations.map((s) => ({ item: `laptop-${letter(s)}`, to: `safe-${letter(s)}` })),
      { item: 'archive-media', to: `safe-${last.replace(/^site-/, '')}` },
    ],
  }
}

export function planWithStations(creds: Credentials, options: SimulatedPlanOptions & { sites: number }): ReplicateCmkPlan {
  if (options.sites <= 1) return planForAppliances(creds, options)
  const { materials, ...rest } = options
  const plan = stationsFor(creds, rest)
  if (!materials) return plan
  // Each site's items are stored at that site; the archive drive where the record is sealed (the last leg's site).
  const last = tripsOf(plan, orderForStations(plan, kindOf(plan).steps(plan))).at(-1)!.station
  return parsePlan({ ...plan, materials: materialsForSites(plan.appliances, plan.stations!, last) }) as ReplicateCmkPlan
}

function stationsFor(creds: Credentials, options: SimulatedPlanOptions & { sites: number }): ReplicateCmkPlan {
  const base = planForAppliances(creds, options)
  const others = base.appliances.map((a) => a.id).filter((id) => id !== base.source)
  if (options.sites > Math.min(SITE_LETTERS.length, others.length + 1)) {
    throw new CeremonyError('PLAN_INVALID', `${options.sites} sites need at least ${options.sites - 1} appliances besides the source`)
  }
  const sites = Array.from({ length: options.sites }, (_, i) => {
    const letter = SITE_LETTERS[i]!
    return { id: `site-${letter}`, label: `Site ${letter.toUpperCase()}`, appliances: [] as string[], operator: `Operator at Site ${letter.toUpperCase()}`, witnesses: [`Witness at Site ${letter.toUpperCase()}`] }
  })
  sites[0]!.appliances.push(base.source)
  others.forEach((id, i) => sites[1 + (i % (options.sites - 1))]!.appliances.push(id))
  return parsePlan({
    ...base,
    title: options.title ?? `CMK replication ${base.mode === 'rehearsal' ? 'rehearsal ' : ''}across ${options.sites} sites (${base.appliances.length} simulated appliances)`,
    participants: { ...base.participants, witnesses: sites.flatMap((s) => s.witnesses) },
    stations: sites,
  }) as ReplicateCmkPlan
}

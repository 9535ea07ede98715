/**
 * Plans across sites for simulated appliances (`ceremony plan --sites N`, `ceremony rehearse
 * --sites N`, the tests): the source at Site A, the targets spread over the other sites in turn,
 * each site with its own operator and witness.
 */
import type { ReplicateCmkPlan } from './kinds/replicate-cmk/plan'
import { parsePlan } from './plan'
import { CeremonyError } from '../errors'
import { planForAppliances, type Credentials, type SimulatedPlanOptions } from './simulated-plan'

const SITE_LETTERS = 'abcdefgh'

export function planWithStations(creds: Credentials, options: SimulatedPlanOptions & { sites: number }): ReplicateCmkPlan {
  const base = planForAppliances(creds, options)
  if (options.sites <= 1) return base
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

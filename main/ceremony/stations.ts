/**
 * Stations and trips (design §3b). Appliances sit in different sites with no network between them;
 * a plan may say which station (workstation) reaches which appliances. Each step runs at the one
 * station that reaches every appliance it declares, and the ceremony moves between stations on
 * removable media: one leg of steps per visit, one hand-off between legs.
 *
 * The order is planned here, for every kind, from what steps declare:
 *   - a step follows every earlier step of its group (a target's steps stay in order),
 *   - a step follows every earlier step on one of its appliances (an inventory diff on the source
 *     must not see the next target's key imported early),
 *   - a step on no appliance (the close) follows everything.
 * Within those rules the legs are chosen so the media travels as few times as possible (a
 * breadth-first search over which station goes next, each visit running everything it can).
 * A plan without stations is one station and keeps the kind's order exactly.
 */
import { CeremonyError } from '../errors'
import type { Plan, Station } from './plan-envelope'
import type { AnyStep } from './step'

/** The station of a plan without stations: this workstation reaches every appliance. */
export const SINGLE_STATION_ID = 'workstation'

export interface Trip {
  /** 1-based: leg n is ended by hand-off n (the last leg by the close). */
  n: number
  station: string
  stationLabel: string
  steps: string[]
}

/** A plan is multi-site when it lists two stations or more; only then do steps move between them. */
export function isMultiSite(plan: Plan): boolean {
  return (plan.stations?.length ?? 0) > 1
}

export function stationsOf(plan: Plan): Station[] {
  if (plan.stations && plan.stations.length > 0) return plan.stations
  return [{ id: SINGLE_STATION_ID, label: 'This workstation', appliances: plan.appliances.map((a) => a.id), operator: plan.participants.operator, witnesses: plan.participants.witnesses.map((w) => (typeof w === 'string' ? w : w.name)) }]
}

export function stationById(plan: Plan, id: string): Station {
  const station = stationsOf(plan).find((s) => s.id === id)
  if (!station) throw new CeremonyError('UNKNOWN_STATION', `The plan has no station "${id}"; its stations are ${stationsOf(plan).map((s) => s.id).join(', ')}`)
  return station
}

export function stationOfAppliance(plan: Plan, applianceId: string): Station {
  const station = stationsOf(plan).find((s) => s.appliances.includes(applianceId))
  if (!station) throw new CeremonyError('PLAN_INVALID', `No station of the plan reaches appliance "${applianceId}"`)
  return station
}

/** The station that reaches every appliance of `step` (or that it names), or null for a workstation-only step. */
function homeOf(plan: Plan, step: AnyStep): Station | null {
  if (step.station !== undefined) return stationById(plan, step.station)
  if (step.appliances.length === 0) return null
  const home = stationsOf(plan).find((s) => step.appliances.every((a) => s.appliances.includes(a)))
  if (!home) throw new CeremonyError('STEP_SPANS_STATIONS', `The step "${step.text.title}" needs ${step.appliances.join(' and ')}, which no single station reaches`)
  return home
}

/**
 * The appliances a step is ordered by: its own, or for a step that names its station and talks to
 * none, that station's — so it keeps its place among that station's steps (the bags opened before
 * anything there changes, the items stored after the last step there) instead of holding up every
 * station as a workstation-only step does.
 */
function reachOf(plan: Plan, step: AnyStep): string[] {
  if (step.appliances.length === 0 && step.station !== undefined) return stationById(plan, step.station).appliances
  return step.appliances
}

/** Indices of the earlier steps each step must follow (the rules above). */
function dependencies(plan: Plan, steps: AnyStep[]): number[][] {
  const reach = steps.map((s) => reachOf(plan, s))
  return steps.map((_s, i) => {
    const deps: number[] = []
    const mine = reach[i]!
    for (let j = 0; j < i; j++) {
      const e = steps[j]!
      const sameGroup = steps[i]!.group !== null && e.group === steps[i]!.group
      const sharesAppliance = reach[j]!.some((a) => mine.includes(a))
      if (sameGroup || sharesAppliance || mine.length === 0 || reach[j]!.length === 0) deps.push(j)
    }
    return deps
  })
}

interface Leg { station: Station; steps: number[] }

/** Everything `station` can run now, given what is done, in the kind's order (repeated until nothing more is ready). */
function visit(steps: AnyStep[], homes: (Station | null)[], deps: number[][], done: boolean[], station: Station): number[] {
  const run: number[] = []
  for (let progress = true; progress;) {
    progress = false
    for (let i = 0; i < steps.length; i++) {
      if (done[i]) continue
      const home = homes[i] ?? null
      if (home !== null && home.id !== station.id) continue
      if (!deps[i]!.every((d) => done[d])) continue
      done[i] = true
      run.push(i)
      progress = true
    }
  }
  return run
}

/** Breadth-first over which station goes next: the first complete schedule has the fewest legs. */
function planLegs(plan: Plan, steps: AnyStep[]): Leg[] {
  const homes = steps.map((s) => homeOf(plan, s))
  const deps = dependencies(plan, steps)
  const stations = stationsOf(plan)
  let frontier: { done: boolean[]; legs: Leg[] }[] = [{ done: steps.map(() => false), legs: [] }]
  const seen = new Set<string>()
  for (let depth = 0; depth <= steps.length; depth++) {
    const next: typeof frontier = []
    for (const state of frontier) {
      if (state.done.every(Boolean)) return state.legs
      // Stations in order of the first step they could run now: a deterministic tie-break.
      for (const station of stations) {
        const done = [...state.done]
        const run = visit(steps, homes, deps, done, station)
        if (run.length === 0) continue
        const key = done.map((d) => (d ? '1' : '0')).join('')
        if (seen.has(key)) continue
        seen.add(key)
        next.push({ done, legs: [...state.legs, { station, steps: run }] })
      }
    }
    frontier = next.sort((a, b) => a.legs.at(-1)!.steps[0]! - b.legs.at(-1)!.steps[0]!)
    if (frontier.length === 0) break
  }
  throw new CeremonyError('INTERNAL', 'The steps of this plan cannot be ordered across its stations')
}

/**
 * The steps in the order the ceremony runs them: the kind's own order for a single station, else
 * leg by leg with the fewest hand-offs.
 */
export function orderForStations<S extends AnyStep>(plan: Plan, steps: S[]): S[] {
  if (!isMultiSite(plan)) return steps
  return planLegs(plan, steps).flatMap((leg) => leg.steps.map((i) => steps[i]!))
}

/** The legs of `steps` (already in running order): maximal runs at one station; a workstation-only step stays with the leg before it. */
export function tripsOf(plan: Plan, steps: AnyStep[]): Trip[] {
  const trips: Trip[] = []
  for (const step of steps) {
    const home = homeOf(plan, step) ?? (trips.length > 0 ? stationById(plan, trips.at(-1)!.station) : stationsOf(plan)[0]!)
    const last = trips.at(-1)
    if (last && last.station === home.id) last.steps.push(step.id)
    else trips.push({ n: trips.length + 1, station: home.id, stationLabel: home.label, steps: [step.id] })
  }
  return trips
}

/** Which leg each step belongs to. */
export function legOfStep(trips: Trip[]): Map<string, Trip> {
  return new Map(trips.flatMap((t) => t.steps.map((id) => [id, t] as const)))
}

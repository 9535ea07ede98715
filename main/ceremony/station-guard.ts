/**
 * What the engine refuses at a station of a multi-site plan (design §3b): a step that runs at
 * another station, and opening at all while the ceremony is elsewhere. Opening appends entries
 * (open, resume, reconcile notes); after a hand-off, or before the first hand-off reached this
 * station, any entry here would fork the chain the next station continues.
 */
import type { LogEntry } from '../evidence'
import { CeremonyError } from '../errors'
import { ENTRY } from './entry-kinds'
import type { Plan } from './plan-envelope'
import { legOfStep, stationById, tripsOf } from './stations'

export { orderForStations } from './stations'
import type { AnyStep } from './step'

export function checkStepHere(plan: Plan, station: string, steps: AnyStep[], step: AnyStep): void {
  const leg = legOfStep(tripsOf(plan, steps)).get(step.id)
  if (leg && leg.station !== station) {
    throw new CeremonyError('STEP_AT_OTHER_STATION', `"${step.text.title}" runs at ${leg.stationLabel} (leg ${leg.n}); this workstation is ${stationById(plan, station).label}`)
  }
}

export function checkStationMayOpen(plan: Plan, station: string, steps: AnyStep[], entries: LogEntry[]): void {
  const here = stationById(plan, station)
  const last = entries.at(-1)
  if (last?.kind === ENTRY.handoff) {
    const n = Number(last.facts['n'])
    if (last.facts['from'] === station) {
      throw new CeremonyError('HANDED_OFF', `${here.label} handed the ceremony on (hand-off ${n} to ${String(last.facts['toLabel'] ?? last.facts['to'])}); it continues here when the media comes back`)
    }
    throw new CeremonyError('HANDOFF_NOT_RECEIVED', `Hand-off ${n} was copied from the media but not acknowledged; receive it again (with the words read out) before going on`)
  }
  const first = tripsOf(plan, steps)[0]
  if (entries.length === 0 && first && first.station !== station) {
    throw new CeremonyError('HANDOFF_NOT_RECEIVED', `The ceremony starts at ${first.stationLabel}; ${here.label} begins by receiving the media from there`)
  }
}

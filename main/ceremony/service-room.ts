/**
 * Who is in the room, for the app's ceremony service (ceremony-service.ts). Before the ceremony opens
 * the operator's confirmed list on the setup screen is the only account of it; once the engine is
 * open every arrival goes to the attendance log (witnessing.ts), which is what counts from then on.
 * Separate from the service so the rule of who must be present before a ceremony may start is in
 * one place: only people the plan names, its operator (this station's, across sites) among them,
 * and at least one witness.
 */
import type { CeremonySnapshot } from '../../preload/contract'
import { CeremonyError } from '../errors'
import type { CeremonyEngine } from './engine'
import type { Plan } from './plan'
import type { StationSession } from './station-service'
import { peopleOf } from './views'
import { participantsOf, witnessesOf } from './witnessing'

export class RoomPresence {
  /** The operator confirmed who is present: the engine may open. Cleared by a new plan or another station. */
  confirmed = false
  /** Who the operator confirmed in the room before the engine opened: their arrivals open the attendance log. */
  private arrivals = new Set<string>()

  /** A new plan: nobody confirmed yet. */
  reset(): void {
    this.confirmed = false
    this.arrivals.clear()
  }

  /** The operator's list, checked against the plan; named errors for a stranger, a missing operator, no witness. */
  confirm(plan: Plan, present: string[], stations: Pick<StationSession, 'operator' | 'station'>): void {
    const known = new Set(participantsOf(plan).map((p) => p.name))
    const stranger = present.find((p) => !known.has(p))
    if (stranger) throw new CeremonyError('UNKNOWN_PARTICIPANT', `"${stranger}" is not named in the plan`)
    // Across sites each station has its own operator, as the plan's stations name them.
    const operator = stations.operator(plan)
    if (!present.includes(operator)) throw new CeremonyError('OPERATOR_NOT_PRESENT', `The plan names "${operator}" as the operator${stations.station ? ' at this station' : ''}; they must be present`)
    if (!witnessesOf(plan).some((w) => present.includes(w.name))) throw new CeremonyError('NO_WITNESS_PRESENT', 'At least one witness must be present')
    this.confirmed = true
    this.arrivals = new Set(present)
  }

  /**
   * Records the arrival of everyone confirmed present who the attendance log does not have yet. A
   * closed ceremony (sealed or stopped) takes no arrivals: whoever opens it afterwards, to show its
   * record, was not in its room, and its record must not change.
   */
  async enterArrivals(engine: CeremonyEngine): Promise<void> {
    if (engine.isComplete() || engine.isAborted()) return
    const here = new Set(this.people(engine.plan, engine).filter((p) => p.present).map((p) => p.name))
    for (const person of this.arrivals) if (!here.has(person)) await engine.attendance(person, 'arrive', engine.plan.participants.operator)
  }

  /** The plan's participants and who of them is present: the attendance log's account once the engine is open. */
  people(plan: Plan, engine: CeremonyEngine | null): CeremonySnapshot['people'] {
    return peopleOf(plan, engine, this.arrivals)
  }
}

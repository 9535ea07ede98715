/**
 * The snapshot the app's renderer is sent after every change (CeremonySnapshot, preload/contract.ts):
 * the ceremony as every screen shows it, assembled from the plan, the engine and the service's parts
 * (ceremony-service.ts); and the record as the record page shows it. Separate from the service because it only reads: what the operator does is
 * the service's, what the screens see is decided here. Nothing secret crosses: the vault's view says
 * which keys are held, a reveal's view which key may be shown, never a key.
 */
import type { CeremonyRecord, CeremonySnapshot, DigestView } from '../../preload/contract'
import { CeremonyError } from '../errors'
import type { ApiKeyVault } from './api-key-vault'
import type { CeremonyEngine, Finding } from './engine'
import type { KeyReveals } from './key-reveal'
import { labelOf } from './plan-envelope'
import type { Plan } from './plan'
import type { SignInsAndRecords } from './service-cluster'
import type { ApplianceConnections } from './service-connections'
import type { RehearsalSystems } from './service-rehearsal'
import type { RoomPresence } from './service-room'
import type { StationSession } from './station-service'
import { approvalAndBreakOf, beginStepOf, boardOf, deviationRegisterOf, digestView, planSummary, stepView } from './views'

/** What the service holds besides the plan and the engine, as the snapshot reads it. */
export interface SnapshotParts {
  room: RoomPresence
  /** What the last resume found; the engine's later findings follow. */
  findings: readonly Finding[]
  /** The formats the sealed record was exported in. */
  exported: ReadonlySet<'json' | 'pdf'>
  rehearsal: RehearsalSystems
  connections: ApplianceConnections
  extras: SignInsAndRecords
  stations: StationSession
  secrets: ApiKeyVault
  reveals: KeyReveals
}

export function snapshotOf(plan: Plan | null, engine: CeremonyEngine | null, parts: SnapshotParts): CeremonySnapshot {
  const { findings } = parts
  const steps = engine ? engine.steps.map((step) => stepView(engine, step)) : []
  const entries = engine?.logEntries() ?? []
  const complete = engine?.isComplete() ?? false
  const failed = steps.some((s) => s.state === 'failed')
  const record = engine && complete ? { finalDigest: digestView(engine.logHead()), exported: [...parts.exported] } : null
  return {
    plan: plan ? planSummary(plan) : null,
    phase: !plan ? 'no-plan' : !engine ? 'setup' : complete ? 'complete' : engine.isAborted() ? 'aborted' : failed ? 'failed' : 'running',
    people: plan ? parts.room.people(plan, engine) : [],
    ...approvalAndBreakOf(plan, engine),
    deviations: deviationRegisterOf(plan, engine),
    rehearsalCredentials: parts.rehearsal.custodians(plan),
    participantsConfirmed: parts.room.confirmed,
    connections: plan ? parts.connections.views(plan) : [],
    steps,
    currentStepId: engine?.currentStep()?.id ?? null,
    // Kinds begin with different steps (replace-appliance with its onboarding): Begin runs the plan's own first.
    ...(plan && !engine ? { beginStep: beginStepOf(plan) } : {}),
    groups: plan && engine ? boardOf(engine, steps) : [],
    reconcile: [...findings, ...(engine?.reconcileFindings() ?? []).filter((f) => !findings.includes(f))],
    log: { entries: entries.length, head: engine ? digestView(engine.logHead()) : null },
    record,
    ...parts.extras.views(plan),
    rehearsalKinds: parts.rehearsal.kinds(),
    ...(parts.stations.active(plan) ? { stations: parts.stations.view(plan, engine) } : {}),
    secrets: parts.secrets.view(),
    keyReveals: plan ? parts.reveals.views((id) => labelOf(plan, id)) : [],
  }
}

/** The record as it stands (sealed once the last step is done), with its final digest to read aloud. */
export function recordPageOf(engine: CeremonyEngine | null): { record: CeremonyRecord; finalDigest: DigestView } {
  if (!engine) throw new CeremonyError('NO_CEREMONY', 'No ceremony has started yet')
  const record = engine.buildRecord()
  return { record, finalDigest: digestView(record.finalDigest) }
}

/**
 * The engine (engine.ts) as the app's ceremony service opens it (ceremony-service.ts): its state and
 * media folders, owner-only; the plan's copy beside the journal, written once (a resumed ceremony
 * keeps the plan it began with); and the engine options filled in from the service's parts — the
 * vault's keys, a key the ceremony made held and offered for one reveal, this station's operator and
 * folders, the sign-ins and earlier records. Separate from the service so what a ceremony is opened
 * with is read in one place; when it may open (participants confirmed) stays the service's.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { writeFileAtomic } from '../media'
import type { ApiKeyVault } from './api-key-vault'
import type { CeremonyServiceDeps } from './ceremony-service'
import { CeremonyEngine, type EngineOptions } from './engine'
import type { KeyReveals } from './key-reveal'
import type { Plan } from './plan'
import type { SignInsAndRecords } from './service-cluster'
import { connectTo } from './service-connections'
import type { StationSession } from './station-service'

/** What the service lends the engine it opens. */
export interface EngineSetup {
  deps: Pick<CeremonyServiceDeps, 'journalStore' | 'software' | 'now'>
  secrets: ApiKeyVault
  reveals: KeyReveals
  stations: StationSession
  extras: SignInsAndRecords
  changed(): void
}

/** Opens (or resumes) the plan's ceremony in `stateDir`; refused by the stations while this station may not open it. */
export async function openServiceEngine(plan: Plan, stateDir: string, setup: EngineSetup): Promise<CeremonyEngine> {
  const { deps, secrets, reveals, stations, extras } = setup
  stations.requireOpenable(plan, stateDir)
  const mediaDir = stations.mediaDir(stateDir)
  for (const d of [stateDir, mediaDir]) mkdirSync(d, { recursive: true, mode: 0o700 })
  const planCopy = join(stateDir, 'plan.json')
  if (!existsSync(planCopy)) await writeFileAtomic(planCopy, JSON.stringify(plan, null, 2) + '\n')
  let opened: CeremonyEngine | null = null
  const options: EngineOptions = {
    plan, stateDir, mediaDir,
    openJournalStore: () => deps.journalStore(stateDir),
    connect: connectTo,
    apiKey: (id) => secrets.copy(id),
    // A key the ceremony made (replace-appliance's onboarding): held in the vault like a typed one and,
    // when its step asks, offered for one reveal on the run screen (the service's revealApiKey).
    madeApiKey: (id, key, show, stepId) => reveals.made(id, key, show ? stepId ?? null : null, opened?.logEntries() ?? []),
    operator: stations.operator(plan),
    ...stations.engineOptions(plan),
    onChange: () => setup.changed(),
    ...(deps.software ? { software: deps.software } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    ...extras.engineOptions(),
  }
  return (opened = await CeremonyEngine.open(options))
}

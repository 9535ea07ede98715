/** A ceremony against in-process simulated appliances, for engine tests. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileJournalStore } from '../../main/ceremony/journal-file'
import { CeremonyEngine, type EngineOptions } from '../../main/ceremony/engine'
import { planForAppliances, type Credentials } from '../../main/ceremony/simulated-plan'
import type { Plan } from '../../main/ceremony/plan'
import type { ReplicateCmkPlan } from '../../main/ceremony/kinds/replicate-cmk/plan'
import { DsmConnection } from '../../main/dsm'
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../main/simulator'

export interface Fixture {
  sim: RunningSimulator
  creds: Credentials
  plan: ReplicateCmkPlan
  dir: string
  stateDir: string
  mediaDir: string
  open(overrides?: Partial<EngineOptions>): Promise<CeremonyEngine>
  cleanup(): Promise<void>
}

export function credentialsOf(sim: RunningSimulator): Credentials {
  return JSON.parse(sim.readyLine()) as Credentials
}

export function engineOptions(plan: Plan, creds: Credentials, stateDir: string, mediaDir: string): EngineOptions {
  return {
    plan,
    stateDir,
    mediaDir,
    openJournalStore: () => fileJournalStore(stateDir),
    connect: (a) => new DsmConnection({ host: a.host, port: a.port, trust: { spkiSha256: a.trust.spkiSha256! }, responseTimeoutMs: 5000, retry: { baseDelayMs: 20, maxDelayMs: 100 } }),
    apiKey: (id) => {
      const key = creds.appliances.find((a) => a.id === id)?.apiKey
      return key ? Buffer.from(key, 'utf8') : undefined
    },
    operator: 'Test operator',
    poll: { initialIntervalMs: 20, maxIntervalMs: 100 },
  }
}

/** `materials`: the plan carries the simulated materials manifest (chassis, bags, storage at the close). */
export async function ceremonyFixture(options: { targets: number; sim?: Partial<SimulatorOptions>; planId?: string; materials?: boolean }): Promise<Fixture> {
  const sim = await startSimulator({ appliances: options.targets + 1, ...options.sim })
  const creds = credentialsOf(sim)
  const plan = planForAppliances(creds, { id: options.planId ?? 'test-ceremony', ...(options.materials ? { materials: true } : {}) })
  const dir = mkdtempSync(join(tmpdir(), 'dsm-ceremony-'))
  const stateDir = join(dir, 'state')
  const mediaDir = join(dir, 'media')
  const { mkdirSync } = await import('node:fs')
  mkdirSync(stateDir)
  mkdirSync(mediaDir)
  return {
    sim, creds, plan, dir, stateDir, mediaDir,
    open: (overrides = {}) => CeremonyEngine.open({ ...engineOptions(plan, creds, stateDir, mediaDir), ...overrides }),
    cleanup: async () => {
      await sim.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A custodian's decision on the view the engine shows for the step right now (request id and view digest). */
export function decide(engine: CeremonyEngine, stepId: string, custodian: { user: string; password: string }, decision: 'approve' | 'deny', extra: { confirmation?: string | undefined; reason?: string } = {}) {
  const entry = engine.approvalEntry(stepId)
  if (!entry) throw new Error(`no approval view for ${stepId}`)
  return engine.decideApproval(stepId, {
    user: custodian.user, password: Buffer.from(custodian.password), decision, requestId: entry.request.request_id, viewDigest: entry.viewDigest,
    ...(extra.confirmation ? { confirmation: extra.confirmation } : {}), ...(extra.reason ? { reason: extra.reason } : {}),
  })
}

/**
 * What the witnesses do between steps when a test drives the engine itself: the operator and the
 * witnesses are recorded as present, and every step due a sign-off is signed by them — as simulated
 * witnesses in a rehearsal; in production as the witnesses themselves would at the terminal (a
 * production engine refuses simulated sign-offs).
 */
export async function signWhatIsDue(engine: CeremonyEngine): Promise<void> {
  const { presentNow, witnessesOf } = await import('../../main/ceremony/witnessing')
  const present = presentNow(engine.logEntries())
  for (const person of [engine.plan.participants.operator, ...witnessesOf(engine.plan).map((w) => w.name)]) {
    if (!present.has(person)) await engine.attendance(person, 'arrive', engine.plan.participants.operator)
  }
  const current = engine.currentStep()
  for (const step of engine.steps) {
    const status = engine.witnesses.status(step)
    const sealing = step === engine.steps.at(-1)
    if (!status || status.complete || (sealing && current !== step)) continue
    for (const w of witnessesOf(engine.plan)) {
      if (engine.witnesses.status(step)!.complete) break
      // A production engine refuses simulated sign-offs: there the test signs as the witnesses themselves.
      await engine.signOff(step.id, { witness: w.name, initials: w.initials, items: step.text.witnessItems, ...(engine.plan.mode === 'rehearsal' ? { simulated: true } : {}) })
    }
  }
}

/**
 * Resolves every open line of the deviation register as the room does: the operator allows going on,
 * every witness present initials it (their own initials, as the plan records them). Returns the ids.
 */
export async function resolveOpenDeviations(engine: CeremonyEngine, resolution: string): Promise<string[]> {
  const { presentNow, witnessesOf } = await import('../../main/ceremony/witnessing')
  const present = presentNow(engine.logEntries())
  const initials = witnessesOf(engine.plan).filter((w) => present.has(w.name)).map((w) => ({ witness: w.name, initials: w.initials }))
  const open = engine.witnesses.deviations().filter((d) => !d.resolution)
  for (const d of open) {
    await engine.people((desk) => desk.resolveDeviation({ deviation: d.id, resolution, allowedBy: engine.plan.participants.operator, initials, ...(engine.plan.mode === 'rehearsal' ? { simulated: true } : {}) }, engine.plan.participants.operator))
  }
  return open.map((d) => d.id)
}

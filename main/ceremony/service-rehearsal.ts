/**
 * The simulated systems of a rehearsal in the app (security.md: rehearsals never touch a real
 * appliance): the FIPS appliances, and for the cluster kinds a non-FIPS cluster, started fresh for
 * each rehearsal and stopped when a production plan is opened or the app quits. For link-cluster
 * and verify-cluster the ceremonies the rehearsed one builds on are run first, headless, against
 * the same simulated systems, and their sealed records handed on, so the operator rehearses the
 * kind itself and not its prerequisites.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { CeremonySnapshot } from '../../preload/contract'
import { DsmConnection } from '../dsm'
import { CeremonyError } from '../errors'
import type { RunningCluster, RunningSimulator } from '../simulator'
import { runToCompletion } from './driver'
import { CeremonyEngine } from './engine'
import type { JournalStore } from './journal'
import { inProcessOutage } from './outage'
import { trustOf, type Plan } from './plan'
import { KINDS } from './registry'
import { clusterPasswordFor, clusterPlanFor, readCredentialFiles, type CredentialSet } from './simulated-cluster-plan'
import { parseCredentials, planForAppliances, type Credentials } from './simulated-plan'
import type { Software } from './software'
import { planWithStations } from './station-plan'

export interface ChainDeps {
  stateRoot: string
  journalStore(dir: string): JournalStore
  sim: RunningSimulator
  cluster: RunningCluster
  /** Which software runs the ceremonies (recorded in each one's first entry). */
  software?: Software
}

/** Runs a whole ceremony without a screen (simulated custodians approve, simulated witnesses sign) and returns its sealed record. */
async function runPrerequisite(deps: ChainDeps, set: CredentialSet, plan: Plan, records: unknown[]): Promise<{ record: unknown; finalDigest: string }> {
  const stateDir = join(deps.stateRoot, `REHEARSAL-${plan.id}`)
  mkdirSync(join(stateDir, 'media'), { recursive: true, mode: 0o700 })
  const passwords = clusterPasswordFor(set, plan)
  const engine = await CeremonyEngine.open({
    plan, stateDir, mediaDir: join(stateDir, 'media'), openJournalStore: () => deps.journalStore(stateDir), operator: plan.participants.operator,
    connect: (a) => new DsmConnection({ host: a.host, port: a.port, trust: trustOf(a) }),
    apiKey: (id) => {
      const key = set.credentials.appliances.find((a) => a.id === id)?.apiKey
      return key ? Buffer.from(key, 'utf8') : undefined
    },
    password: (id) => (passwords.has(id) ? Buffer.from(passwords.get(id)!, 'utf8') : undefined), records: () => records, outage: inProcessOutage([deps.sim]),
    ...(deps.software ? { software: deps.software } : {}),
  })
  try {
    await runToCompletion(engine, { credentials: set.credentials, confirm: true, witnessing: { kind: 'simulated' } })
    const { record } = await engine.sealRecord()
    return { record, finalDigest: record.finalDigest }
  } finally {
    await engine.shutdown()
  }
}

/**
 * The plan of a cluster rehearsal (link-cluster or verify-cluster) with what it builds on already
 * done: the replication, and for verify-cluster the link too, each sealed and handed on.
 */
export async function clusterRehearsal(deps: ChainDeps, kind: 'link-cluster' | 'verify-cluster'): Promise<{ set: CredentialSet; plan: Plan; records: unknown[]; passwords: Map<string, string> }> {
  const set = readCredentialFiles([{ name: 'appliances', text: deps.sim.readyLine() }, { name: 'cluster', text: deps.cluster.readyLine() }])
  const replication = await runPrerequisite(deps, set, planForAppliances(set.credentials), [])
  let records = [replication.record]
  let plan = clusterPlanFor(set, { kind: 'link-cluster', buildsOn: [replication.finalDigest] })
  if (kind === 'verify-cluster') {
    const link = await runPrerequisite(deps, set, plan, records)
    records = [link.record]
    plan = clusterPlanFor(set, { kind: 'verify-cluster', buildsOn: [link.finalDigest] })
  }
  return { set, plan, records, passwords: clusterPasswordFor(set, plan) }
}

/** The kinds a rehearsal can be started for here (the cluster kinds need a simulated cluster). */
export function rehearsalKinds(canSimulateCluster: boolean): { kind: string; title: string }[] {
  return (['replicate-cmk', 'link-cluster', 'verify-cluster'] as const).filter((k) => k === 'replicate-cmk' || canSimulateCluster).map((k) => ({ kind: k, title: KINDS[k].title }))
}

export interface RehearsalDeps {
  stateRoot: string
  journalStore(dir: string): JournalStore
  startSimulator(appliances: number): Promise<RunningSimulator>
  /** A simulated non-FIPS cluster; without it only replicate-cmk is rehearsed. */
  startCluster?(): Promise<RunningCluster>
  software?: Software
}

/** What a started rehearsal hands the service: the plan, and what the operator would otherwise enter. */
export interface Rehearsal {
  plan: Plan
  /** The simulated appliances' API keys: not secrets anyone holds, so they are entered for the operator. */
  apiKeys: Map<string, string>
  /** Cluster kinds: the sign-ins' passwords, the sealed records the plan builds on, whose outage the drill may cause. */
  cluster?: { passwords: Map<string, string>; records: unknown[]; sims: RunningSimulator[] }
}

export class RehearsalSystems {
  private simulator: RunningSimulator | null = null
  private cluster: RunningCluster | null = null
  private creds: Credentials | null = null

  constructor(private readonly deps: RehearsalDeps) {}

  kinds(): { kind: string; title: string }[] {
    return rehearsalKinds(this.deps.startCluster !== undefined)
  }

  /** A rehearsal of one of main's kinds (default replicate-cmk), on one site or across several (replicate-cmk only). */
  async start(targets: number, opts: { kind?: string; sites?: number; materials?: boolean }): Promise<Rehearsal> {
    const kind = opts.kind ?? 'replicate-cmk'
    const sites = opts.sites ?? 1
    if (!this.kinds().some((k) => k.kind === kind)) throw new CeremonyError('UNKNOWN_KIND', `No rehearsal of "${kind}" here`)
    if (sites > 1 && kind !== 'replicate-cmk') throw new CeremonyError('UNKNOWN_KIND', `A rehearsal across sites is of "replicate-cmk" only, not "${kind}"`)
    await this.close()
    this.simulator = await this.deps.startSimulator(targets + 1)
    const creds = (this.creds = parseCredentials(this.simulator.readyLine()))
    const apiKeys = new Map(creds.appliances.map((a) => [a.id, a.apiKey]))
    if ((kind !== 'link-cluster' && kind !== 'verify-cluster') || !this.deps.startCluster) {
      return { plan: sites > 1 ? planWithStations(creds, { sites: Math.min(sites, targets + 1) }) : planForAppliances(creds, { materials: opts.materials === true }), apiKeys }
    }
    this.cluster = await this.deps.startCluster()
    const chain = await clusterRehearsal({ stateRoot: this.deps.stateRoot, journalStore: this.deps.journalStore, sim: this.simulator, cluster: this.cluster, ...(this.deps.software ? { software: this.deps.software } : {}) }, kind)
    return { plan: chain.plan, apiKeys, cluster: { passwords: chain.passwords, records: chain.records, sims: [this.simulator] } }
  }

  /** Stops the simulated systems (a production plan was opened, another rehearsal starts, or the app quits). */
  async close(): Promise<void> {
    await Promise.all([this.simulator?.close(), this.cluster?.close()])
    this.simulator = null
    this.cluster = null
    this.creds = null
  }

  /** Rehearsal only: the simulated custodians' sign-ins, shown on screen as the simulator prints them. */
  custodians(plan: Plan | null): CeremonySnapshot['rehearsalCredentials'] {
    if (plan?.mode !== 'rehearsal' || !this.creds) return []
    return this.creds.appliances.flatMap((a) => (a.custodians ?? []).map((c) => ({ applianceId: a.id, user: c.user, password: c.password })))
  }
}

/**
 * The simulated systems of a rehearsal in the app (security.md: rehearsals never touch a real
 * appliance): the FIPS appliances, and for the cluster kinds a non-FIPS cluster, started fresh for
 * each rehearsal and stopped when a production plan is opened or the app quits. For the cluster and
 * membership kinds the ceremonies the rehearsed one builds on (rehearsal-chain.ts, the chain
 * `ceremony rehearse` runs too) are run first, headless, against the same simulated systems, and
 * their sealed records handed on, so the operator rehearses the kind itself and not its
 * prerequisites. A replacement's failed appliance has failed for good by then, and its spare is a
 * fresh appliance in a simulator of its own, onboarded through the API in the ceremony (P.1, P.2:
 * its API key is made there and offered once on the run screen, never entered).
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { CeremonySnapshot } from '../../preload/contract'
import { DsmConnection } from '../dsm'
import { CeremonyError } from '../errors'
import type { RunningCluster, RunningSimulator, SimulatorOptions } from '../simulator'
import { runToCompletion } from './driver'
import { CeremonyEngine } from './engine'
import type { JournalStore } from './journal'
import { inProcessOutage } from './outage'
import { trustOf, type Plan } from './plan'
import { KINDS } from './registry'
import { CLUSTER_KINDS, REHEARSAL_KINDS, rehearsalApplianceIds, rehearsalChain, rehearsalSpare, type ChainCeremony, type RehearsalKind } from './rehearsal-chain'
import { parseCredentials, planForAppliances, type Credentials } from './simulated-plan'
import type { Software } from './software'
import { planWithStations } from './station-plan'

export interface ChainDeps {
  stateRoot: string
  journalStore(dir: string): JournalStore
  /** Every simulator of the rehearsal (the group's, a replacement's fresh spare): whose outage a ceremony may cause. */
  sims: RunningSimulator[]
  /** Which software runs the ceremonies (recorded in each one's first entry). */
  software?: Software
}

/** Runs a whole ceremony without a screen (simulated custodians approve, simulated witnesses sign) and returns its sealed record. */
async function runPrerequisite(deps: ChainDeps, c: ChainCeremony): Promise<{ record: unknown; finalDigest: string }> {
  const { plan, set, passwords, records } = c
  const stateDir = join(deps.stateRoot, `REHEARSAL-${plan.id}`)
  mkdirSync(join(stateDir, 'media'), { recursive: true, mode: 0o700 })
  const engine = await CeremonyEngine.open({
    plan, stateDir, mediaDir: join(stateDir, 'media'), openJournalStore: () => deps.journalStore(stateDir), operator: plan.participants.operator,
    connect: (a) => new DsmConnection({ host: a.host, port: a.port, trust: trustOf(a) }),
    apiKey: (id) => {
      const key = set.credentials.appliances.find((a) => a.id === id)?.apiKey
      return key ? Buffer.from(key, 'utf8') : undefined
    },
    password: (id) => (passwords.has(id) ? Buffer.from(passwords.get(id)!, 'utf8') : undefined), records: () => records, outage: inProcessOutage(deps.sims),
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

/** The kinds a rehearsal can be started for here (all but replicate-cmk need a simulated cluster). */
export function rehearsalKinds(canSimulateCluster: boolean): { kind: string; title: string }[] {
  return REHEARSAL_KINDS.filter((k) => !CLUSTER_KINDS.includes(k) || canSimulateCluster).map((k) => ({ kind: k, title: KINDS[k].title }))
}

/** A fresh simulated appliance (rehearsalSpare): a system administrator and these custodians' accounts, no group, no app, no key. */
export type FreshSpare = Required<Pick<SimulatorOptions, 'custodianUsers'>>

export interface RehearsalDeps {
  stateRoot: string
  journalStore(dir: string): JournalStore
  /** `ids`: the appliances' ids when they matter (a membership rehearsal's spare is named); `fresh`: a replacement's spare, out of its box. */
  startSimulator(appliances: number, ids?: string[], fresh?: FreshSpare): Promise<RunningSimulator>
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
  /** What the simulated room puts on the ceremony's media before it starts (replace-appliance: the failed appliance's zeroisation report). */
  mediaFiles: { name: string; text: string }[]
}

export class RehearsalSystems {
  private simulator: RunningSimulator | null = null
  /** replace-appliance: the fresh spare, in a simulator of its own (rehearsal-chain.ts rehearsalSpare). */
  private spare: RunningSimulator | null = null
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
    const ids = rehearsalApplianceIds(kind as RehearsalKind, targets)
    this.simulator = await this.deps.startSimulator(ids.length, ids)
    const creds = parseCredentials(this.simulator.readyLine())
    this.creds = creds
    if (!CLUSTER_KINDS.includes(kind as RehearsalKind) || !this.deps.startCluster) {
      const plan = sites > 1 ? planWithStations(creds, { sites: Math.min(sites, targets + 1), ...(opts.materials ? { materials: true } : {}) }) : planForAppliances(creds, { materials: opts.materials === true })
      return { plan, apiKeys: new Map(creds.appliances.map((a) => [a.id, a.apiKey])), mediaFiles: [] }
    }
    this.cluster = await this.deps.startCluster()
    // replace-appliance: the spare is fresh, onboarded through the API (its app's key made and shown once in the ceremony).
    const spare = rehearsalSpare(kind as RehearsalKind, targets, this.simulator)
    if (spare) {
      this.spare = await this.deps.startSimulator(1, spare.ids, { custodianUsers: spare.custodianUsers! })
      // Its custodians' sign-ins are shown too: they approve on it once the onboarding made its quorum group.
      this.creds = { appliances: [...creds.appliances, ...parseCredentials(this.spare.readyLine()).appliances] }
    }
    const sims = this.spare ? [this.simulator, this.spare] : [this.simulator]
    const deps: ChainDeps = { stateRoot: this.deps.stateRoot, journalStore: this.deps.journalStore, sims, ...(this.deps.software ? { software: this.deps.software } : {}) }
    // The prerequisites run here, headless; a failure throws (runToCompletion), so the chain always ends in the rehearsed plan.
    const chain = (await rehearsalChain(kind as RehearsalKind, { sim: this.simulator, ...(this.spare ? { spare: this.spare } : {}), cluster: this.cluster, outage: inProcessOutage(sims) }, (c) => runPrerequisite(deps, c)))!
    // No key is entered for an appliance the ceremony never contacts (the failed one), nor for one it makes the key of (the fresh spare).
    const apiKeys = new Map(this.creds.appliances.filter((a) => !chain.notContacted.includes(a.id) && a.apiKey !== '').map((a) => [a.id, a.apiKey]))
    return { plan: chain.plan, apiKeys, cluster: { passwords: chain.passwords, records: chain.records, sims }, mediaFiles: chain.mediaFiles }
  }

  /** Stops the simulated systems (a production plan was opened, another rehearsal starts, or the app quits). */
  async close(): Promise<void> {
    await Promise.all([this.simulator?.close(), this.spare?.close(), this.cluster?.close()])
    this.simulator = null
    this.spare = null
    this.cluster = null
    this.creds = null
  }

  /** Rehearsal only: the simulated custodians' sign-ins, shown on screen as the simulator prints them. */
  custodians(plan: Plan | null): CeremonySnapshot['rehearsalCredentials'] {
    if (plan?.mode !== 'rehearsal' || !this.creds) return []
    return this.creds.appliances.flatMap((a) => (a.custodians ?? []).map((c) => ({ applianceId: a.id, user: c.user, password: c.password })))
  }
}

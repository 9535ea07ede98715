/**
 * What the app's ceremony service holds for kinds that sign in as a named DSM user or build on
 * earlier records (link-cluster, verify-cluster): the sign-in passwords (main memory only, zeroed
 * when replaced or dropped), the earlier records the operator opened in main's dialog (read and
 * verified here; the renderer never sees a path), and, in a rehearsal, the simulator's outage
 * control. Also the rehearsal chain: the ceremonies a cluster rehearsal builds on are run first,
 * headless, against the same simulated systems, and their sealed records handed on.
 */
import { lstatSync, mkdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import type { CeremonySnapshot } from '../../preload/contract'
import { DsmConnection } from '../dsm'
import { verifyRecord } from '../evidence'
import { CeremonyError } from '../errors'
import type { RunningCluster, RunningSimulator } from '../simulator'
import { runToCompletion } from './driver'
import { CeremonyEngine, type EngineOptions } from './engine'
import type { JournalStore } from './journal'
import { inProcessOutage, type ApplianceOutage } from './outage'
import { trustOf, type Plan } from './plan'
import { KINDS, kindOf } from './registry'
import { clusterPasswordFor, clusterPlanFor, readCredentialFiles, type CredentialSet } from './simulated-cluster-plan'
import { planForAppliances } from './simulated-plan'
import type { Software } from './software'
import { digestView } from './views'

/** A sealed record is a few megabytes at most; a cap keeps a wrong file from filling memory. */
const RECORD_MAX_BYTES = 64 * 1024 * 1024

export class SignInsAndRecords {
  private readonly passwords = new Map<string, Buffer>()
  private records: unknown[] = []
  private outage: ApplianceOutage | null = null

  reset(): void {
    for (const p of this.passwords.values()) p.fill(0)
    this.passwords.clear()
    this.records = []
    this.outage = null
  }

  setPassword(plan: Plan, signInId: string, password: string): void {
    const signIn = (kindOf(plan).signIns?.(plan) ?? []).find((s) => s.id === signInId)
    if (!signIn) throw new CeremonyError('SIGN_IN_UNKNOWN', `This ceremony has no sign-in "${signInId}"`)
    this.passwords.get(signInId)?.fill(0)
    this.passwords.set(signInId, Buffer.from(password, 'utf8'))
  }

  /** Reads, verifies and keeps a record the plan names; a record the plan does not name is refused. */
  openRecord(plan: Plan, path: string): void {
    const st = lstatSync(path)
    if (!st.isFile() || st.size > RECORD_MAX_BYTES) throw new CeremonyError('RECORD_INVALID', `${basename(path)} is not a ceremony record file`)
    let record: unknown
    try {
      record = JSON.parse(readFileSync(path, 'utf8'))
    } catch {
      throw new CeremonyError('RECORD_INVALID', `${basename(path)} is not a JSON ceremony record`)
    }
    const verified = verifyRecord(record)
    if (!verified.ok) throw new CeremonyError('RECORD_INVALID', `${basename(path)} does not verify: entry ${verified.firstBadEntry}: ${verified.reason}`)
    if (!(kindOf(plan).buildsOn?.(plan) ?? []).includes(verified.finalDigest)) {
      throw new CeremonyError('RECORD_MISMATCH', `${basename(path)} (final digest ${verified.finalDigest.slice(0, 16)}…) is not a record this plan builds on`)
    }
    this.records = [...this.records.filter((r) => (r as { finalDigest?: unknown }).finalDigest !== verified.finalDigest), record]
  }

  engineOptions(): Pick<EngineOptions, 'password' | 'records' | 'outage'> {
    return {
      password: (id) => {
        const p = this.passwords.get(id)
        return p ? Buffer.from(p) : undefined
      },
      records: () => [...this.records],
      ...(this.outage ? { outage: this.outage } : {}),
    }
  }

  views(plan: Plan | null): Pick<CeremonySnapshot, 'signIns' | 'buildsOn'> {
    if (!plan) return { signIns: [], buildsOn: [] }
    const kind = kindOf(plan)
    const provided = new Set(this.records.map((r) => (r as { finalDigest?: unknown }).finalDigest))
    return {
      signIns: (kind.signIns?.(plan) ?? []).map((s) => ({ id: s.id, label: s.label, user: s.user, host: `${s.host}:${s.port}`, hasPassword: this.passwords.has(s.id) })),
      buildsOn: (kind.buildsOn?.(plan) ?? []).map((d) => ({ digest: digestView(d), provided: provided.has(d) })),
    }
  }

  /** A cluster rehearsal's inputs: the password from the simulated cluster, the records, the outage control. */
  rehearse(passwords: Map<string, string>, records: unknown[], sims: RunningSimulator[]): void {
    for (const [id, p] of passwords) this.passwords.set(id, Buffer.from(p, 'utf8'))
    this.records = records
    this.outage = inProcessOutage(sims)
  }
}

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

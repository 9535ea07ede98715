/**
 * FIPS appliances and a non-FIPS cluster each in their own `ceremony simulate` process (so a test
 * can kill one), the CMK replicated between them by the replication ceremony itself, and the
 * cluster administrator's own client session for looking at what the ceremonies left.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { planForAppliances } from '../../main/ceremony/simulated-plan'
import { runHeadless, type HeadlessSummary } from '../../main/cli/headless'
import { DsmConnection, UserSession, type Group, type Sobject } from '../../main/dsm'
import { spawnSimulator, type SimProcess } from './sim-processes'

export interface FipsProcess {
  id: string
  process: SimProcess
  /** The appliance entry of its ready line (with `pid`), as `ceremony run` reads it. */
  entry: { id: string; host: string; port: number; spkiSha256: string; apiKey: string; custodians: { user: string; password: string }[]; pid: number }
  /** Its credentials file. */
  file: string
}

export interface ClusterProcess {
  process: SimProcess
  ready: { id: string; host: string; port: number; spkiSha256: string; accountId: string; users: { user: string; password: string; role: string }[] }
  file: string
}

/** One FIPS appliance in its own process; its ready line written to DIR/<id>.json. */
export async function fipsProcess(dir: string, id: string, opts: { cmk?: boolean; fips?: boolean; port?: number } = {}): Promise<FipsProcess> {
  mkdirSync(dir, { recursive: true })
  const args = ['--appliances', '1', '--id', id, '--write-config', dir, '--config-name', `${id}.json`]
  if (opts.cmk === false) args.push('--no-cmk')
  if (opts.fips === false) args.push('--no-fips')
  if (opts.port !== undefined) args.push('--port', String(opts.port))
  const p = await spawnSimulator(args)
  return { id, process: p, entry: p.ready.appliances[0], file: join(dir, `${id}.json`) }
}

/**
 * A fresh replacement in its own process (`ceremony simulate --fresh`): a system administrator and
 * the custodians' user accounts with the e-mails the records name, nothing else.
 */
export type FreshProcess = FipsProcess & { sysadmin: { user: string; password: string }; accountId: string }
export async function freshProcess(dir: string, id: string, emails: string[], faults: string[] = [], extra: string[] = []): Promise<FreshProcess> {
  const p = await spawnSimulator(['--appliances', '1', '--id', id, '--fresh', '--custodian-users', emails.join(','), '--write-config', dir, '--config-name', `${id}.json`, ...faults.flatMap((f) => ['--fault', f]), ...extra])
  const entry = p.ready.appliances[0]
  return { id, process: p, entry, file: join(dir, `${id}.json`), sysadmin: entry.sysadmin, accountId: entry.accountId }
}

export async function clusterProcess(dir: string, opts: { connectTimeoutMs?: number; responseTimeoutMs?: number } = {}): Promise<ClusterProcess> {
  const p = await spawnSimulator(['--role', 'cluster', '--write-config', dir, '--fips-connect-timeout', String(opts.connectTimeoutMs ?? 1000), '--fips-response-timeout', String(opts.responseTimeoutMs ?? 4000)])
  return { process: p, ready: p.ready.cluster, file: join(dir, 'cluster.json') }
}

/** The CMK from the first appliance to the others, by the replication ceremony (run in this process). */
export async function replicate(dir: string, appliances: FipsProcess[], id: string): Promise<{ summary: HeadlessSummary; record: unknown; file: string }> {
  const credentials = { appliances: appliances.map((a) => a.entry) }
  const summary = await runHeadless({ plan: planForAppliances(credentials, { id }), credentials, stateDir: join(dir, id), confirm: true, witnessing: { kind: 'simulated' } })
  if (!summary.ok || !summary.record) throw new Error(`the replication failed: ${JSON.stringify(summary.error)}`)
  return { summary, record: JSON.parse(readFileSync(summary.record, 'utf8')), file: summary.record }
}

export async function adminOf(cluster: ClusterProcess): Promise<UserSession> {
  const u = cluster.ready.users.find((x) => x.role === 'account-admin')!
  const conn = new DsmConnection({ host: cluster.ready.host, port: cluster.ready.port, trust: { spkiSha256: cluster.ready.spkiSha256 }, retry: { maxAttempts: 1 } })
  return UserSession.login(conn, { username: u.user, password: Buffer.from(u.password), accountId: cluster.ready.accountId })
}

export async function groupsNamed(admin: UserSession, name: string): Promise<Group[]> {
  return (await admin.groups.list()).filter((g) => g.name === name)
}

export async function keysNamed(admin: UserSession, name: string): Promise<Sobject[]> {
  return (await admin.keys.list()).filter((k) => k.name === name)
}

export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : [path]
  })
}

/** Every secret the simulators made: API keys, custodian passwords, cluster users' passwords. */
export function secretsOf(appliances: FipsProcess[], cluster: ClusterProcess): string[] {
  return [...appliances.flatMap((a) => [a.entry.apiKey, ...a.entry.custodians.map((c) => c.password)]), ...cluster.ready.users.map((u) => u.password)]
}

export function writeJson(path: string, value: unknown): string {
  writeFileSync(path, JSON.stringify(value))
  return path
}

/** The step that failed last, from the audit log of a state folder. */
export function failedStep(stateDir: string): { step: string; code: string } | null {
  const lines = readFileSync(join(stateDir, 'audit-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; step: string; facts: { code?: string } })
  const failed = lines.filter((e) => e.kind === 'step-failed').at(-1)
  return failed ? { step: failed.step, code: failed.facts.code ?? '' } : null
}

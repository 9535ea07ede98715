// The non-FIPS DSM cluster the replication guide attaches FIPS appliances to (§3.2.3, §3.3, §4.0;
// dsm-api.md §11): the same simulated DSM software as a FIPS appliance, with no fips_level in
// /sys/v1/version, an account with a system administrator and a group administrator (users sign
// in and select the account), and groups whose `hmg` configs link FIPS appliances. Keys generated
// in such a group are made in a FIPS appliance and stored here only wrapped under its CMK.
import { randomBytes, randomUUID } from 'node:crypto'
import { ApplianceApi } from './appliance'
import type { ApplianceConfig } from './context'
import { Faults } from './faults'
import { ApplianceModel, type User } from './model'
import { ApplianceServer } from './server'
import { makeServerIdentity } from './tls-cert'
import { DEFAULT_CMK_NAME, DEFAULT_VENDOR, HOST } from './defaults'
import type { ApplianceState, FaultController, FaultOptions, VendorChoices } from './types'

export interface ClusterOptions {
  /** default 'cluster' */
  id?: string
  /** fixed port (default 0 = random) */
  port?: number
  /** how long a FIPS appliance gets for TCP + TLS before it is skipped (default 3000 ms) */
  fipsConnectTimeoutMs?: number
  /** how long a FIPS appliance gets to answer one request before it is skipped (default 15000 ms) */
  fipsResponseTimeoutMs?: number
  /** the CMK name when a group names none (default cluster-master-key) */
  defaultCmkName?: string
  /** session `expires_in` (default 600) */
  sessionTtlSeconds?: number
  approvalTtlSeconds?: number
  now?: () => number
  /** [0, 1) source for the random config order without PriorityFailover (default Math.random) */
  random?: () => number
  faults?: FaultOptions
  vendor?: VendorChoices
}

export interface ClusterUser {
  user: string
  password: string
  userId: string
  /** 'account-admin' (the sysadmin) or 'group-admin' (sees the groups it creates) */
  role: 'account-admin' | 'group-admin'
}

export interface RunningCluster {
  id: string
  url: string
  host: string
  port: number
  spkiSha256: string
  certPem: string
  /** base64 DER */
  certDer: string
  accountId: string
  users: ClusterUser[]
  faults: FaultController
  state: Pick<ApplianceState, 'accountId' | 'sobjects' | 'requestLog' | 'liveSessions' | 'openSockets'>
  /**
   * Test-only: the live in-memory model (groups, hmg configs, keys, sessions), so a test can scan
   * everything the cluster holds for key material that must never be there.
   */
  inspectModelForTests(): unknown
  close(): Promise<void>
  readyLine(): string
}

function seedUsers(model: ApplianceModel, id: string): ClusterUser[] {
  const roles: ClusterUser['role'][] = ['account-admin', 'group-admin']
  return roles.map((role) => {
    const user: User = {
      userId: randomUUID(),
      email: `${role === 'account-admin' ? 'sysadmin' : 'groupadmin'}@${id}.dsm-sim.test`,
      password: randomBytes(18).toString('base64url'),
      createdAt: model.now(),
      role,
    }
    model.users.set(user.userId, user)
    return { user: user.email, password: user.password, userId: user.userId, role }
  })
}

function positive(name: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new Error(`${name} must be a positive whole number`)
}

export async function startClusterSimulator(opts: ClusterOptions = {}): Promise<RunningCluster> {
  for (const k of ['fipsConnectTimeoutMs', 'fipsResponseTimeoutMs', 'sessionTtlSeconds', 'approvalTtlSeconds'] as const) positive(k, opts[k])
  const id = opts.id ?? 'cluster'
  const now = opts.now ?? Date.now
  const vendor = { ...DEFAULT_VENDOR, ...opts.vendor }
  const config: ApplianceConfig = {
    role: 'cluster',
    hmg: {
      timeouts: { connectTimeoutMs: opts.fipsConnectTimeoutMs ?? 3000, responseTimeoutMs: opts.fipsResponseTimeoutMs ?? 15_000 },
      defaultCmkName: opts.defaultCmkName ?? DEFAULT_CMK_NAME,
      random: opts.random ?? Math.random,
    },
    sessionTtlSeconds: opts.sessionTtlSeconds ?? 600,
    approvalTtlSeconds: opts.approvalTtlSeconds ?? 30 * 24 * 3600,
    vendor,
    now,
  }
  const model = new ApplianceModel(id, now, vendor, `DSM cluster ${id}`)
  const users = seedUsers(model, id)
  const identity = makeServerIdentity(`${id}.dsm-sim.test`, HOST)
  const server = new ApplianceServer(new ApplianceApi(model, config), identity, now)
  const faults = new Faults(opts.faults ?? {}, {
    expireSessions: () => { for (const s of model.sessions.values()) { s.lastUsed = 0; s.createdAt = 0 } },
    releaseStalled: () => server.releaseStalled(),
    now,
  })
  server.attachFaults(faults)
  const port = await server.listen(HOST, opts.port ?? 0)
  let closed: Promise<void> | undefined
  const cluster: RunningCluster = {
    id,
    url: `https://${HOST}:${port}`,
    host: HOST,
    port,
    spkiSha256: identity.spkiSha256,
    certPem: identity.certPem,
    certDer: identity.certDer,
    accountId: model.account.acctId,
    users,
    faults,
    state: {
      accountId: model.account.acctId,
      sobjects: () => [...model.keys.values()].map((k) => model.summary(k)),
      requestLog: () => server.log.map((e) => ({ ...e })),
      liveSessions: () => model.sessions.size,
      openSockets: () => server.openSockets,
    },
    inspectModelForTests: () => model,
    close: () => (closed ??= server.close()),
    readyLine: () => JSON.stringify({
      cluster: {
        id, url: cluster.url, host: HOST, port, spkiSha256: identity.spkiSha256, certDer: identity.certDer, accountId: model.account.acctId,
        users: users.map((u) => ({ user: u.user, password: u.password, role: u.role })),
      },
    }),
  }
  return cluster
}

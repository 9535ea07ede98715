// The Fortanix DSM FIPS appliance simulator: real HTTPS on 127.0.0.1 with a fresh self-signed
// certificate per appliance, real keys (node:crypto), the vendor's paths, fields, status codes and
// plain-text errors for the subset the ceremony uses, and fault injection for the engine's tests.
// It shares no code with the DSM client in main/dsm/, so a misreading in one is not hidden by
// the same misreading in the other.
import { ApplianceApi } from './appliance'
import type { ApplianceConfig } from './context'
import { Faults } from './faults'
import { ApplianceModel } from './model'
import { seedAppliance, seedFresh } from './seed'
import { ApplianceServer } from './server'
import { makeServerIdentity } from './tls-cert'
import { DEFAULT_CMK_NAME, DEFAULT_GROUP_NAME, DEFAULT_VENDOR, HOST } from './defaults'
import type { RunningSimulator, SimulatedAppliance, SimulatorOptions } from './types'

export type * from './types'

export { DEFAULT_CMK_NAME, DEFAULT_GROUP_NAME, DEFAULT_VENDOR, HOST } from './defaults'
export { startClusterSimulator } from './cluster'
export type { ClusterOptions, ClusterUser, RunningCluster } from './cluster'
export { startLoadBalancer } from './load-balancer'
export type { LoadBalancerOptions, RunningLoadBalancer } from './load-balancer'

function checkOptions(opts: SimulatorOptions): void {
  if (!Number.isInteger(opts.appliances) || opts.appliances < 1 || opts.appliances > 64) throw new Error('appliances must be an integer from 1 to 64')
  if (opts.ids && (opts.ids.length !== opts.appliances || new Set(opts.ids).size !== opts.ids.length)) throw new Error('ids must name each appliance once')
  const custodians = opts.custodians ?? 3
  const quorum = opts.quorum ?? 2
  if (!Number.isInteger(custodians) || custodians < 1) throw new Error('custodians must be a positive integer')
  if (!Number.isInteger(quorum) || quorum < 1 || quorum > custodians) throw new Error('quorum must be between 1 and the number of custodians')
  if (opts.custodianUsers !== undefined) {
    if (!opts.fresh) throw new Error('custodianUsers is for a fresh appliance (its custodians\' accounts, made by the account administrators)')
    if (opts.custodianUsers.length === 0 || opts.custodianUsers.some((e) => !/^[^\s:@]+@[^\s:@]+$/.test(e))) throw new Error('custodianUsers must be e-mails')
    if (new Set(opts.custodianUsers.map((e) => e.toLowerCase())).size !== opts.custodianUsers.length) throw new Error('custodianUsers names a user twice')
    if (opts.appliances !== 1) throw new Error('custodianUsers is for one appliance')
  }
  // Whole seconds: expires_in is an integer in AuthResponse.
  for (const [k, v] of [['sessionTtlSeconds', opts.sessionTtlSeconds], ['approvalTtlSeconds', opts.approvalTtlSeconds]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new Error(`${k} must be a positive whole number of seconds`)
  }
}

export async function startSimulator(opts: SimulatorOptions): Promise<RunningSimulator> {
  checkOptions(opts)
  const now = opts.now ?? Date.now
  const config: ApplianceConfig = {
    role: 'fips',
    ...(opts.fipsMode === false ? { fipsMode: false } : {}),
    sessionTtlSeconds: opts.sessionTtlSeconds ?? 600,
    approvalTtlSeconds: opts.approvalTtlSeconds ?? 30 * 24 * 3600,
    vendor: { ...DEFAULT_VENDOR, ...opts.vendor },
    now,
  }
  const servers: ApplianceServer[] = []
  const appliances: SimulatedAppliance[] = []
  try {
    for (let i = 0; i < opts.appliances; i++) {
      const id = opts.ids?.[i] ?? `fips-${i + 1}`
      const model = new ApplianceModel(id, now, config.vendor)
      const cmkName = i === 0 && opts.createCmk !== false && !opts.fresh ? opts.cmkName ?? DEFAULT_CMK_NAME : undefined
      const fresh = opts.fresh ? seedFresh(model, { custodians: opts.custodians ?? 3, ...(opts.custodianUsers ? { custodianEmails: opts.custodianUsers } : {}) }) : null
      const seeded = fresh ? { appId: '', apiKey: '', groupId: '', custodians: fresh.custodians } : seedAppliance(model, {
        groupName: DEFAULT_GROUP_NAME,
        quorum: opts.quorum ?? 2,
        custodians: opts.custodians ?? 3,
        requirePassword: opts.requirePassword ?? true,
        protectPermissions: opts.protectPermissions ?? [],
        ...(cmkName ? { cmkName } : {}),
      })
      const api = new ApplianceApi(model, config)
      const identity = makeServerIdentity(`${id}.dsm-sim.test`, HOST)
      const server = new ApplianceServer(api, identity, now)
      servers.push(server)
      const faults = new Faults(opts.faults ?? {}, {
        expireSessions: () => { for (const s of model.sessions.values()) { s.lastUsed = 0; s.createdAt = 0 } },
        releaseStalled: () => server.releaseStalled(),
        now,
      })
      server.attachFaults(faults)
      const port = await server.listen(HOST, opts.ports?.[i] ?? 0)
      appliances.push({
        id,
        url: `https://${HOST}:${port}`,
        host: HOST,
        port,
        spkiSha256: identity.spkiSha256,
        certPem: identity.certPem,
        certDer: identity.certDer,
        apiKey: seeded.apiKey,
        appId: seeded.appId,
        accountId: model.account.acctId,
        groupId: seeded.groupId,
        groupName: fresh ? '' : DEFAULT_GROUP_NAME,
        custodians: seeded.custodians,
        ...(fresh ? { sysadmin: fresh.sysadmin } : {}),
        quorum: opts.quorum ?? 2,
        ...(cmkName ? { cmkName } : {}),
        faults,
        state: {
          accountId: model.account.acctId,
          appId: seeded.appId,
          sobjects: () => [...model.keys.values()].map((k) => model.summary(k)),
          approvalRequests: () => [...model.approvals.values()].map((r) => model.approvalSummary(r)),
          requestLog: () => server.log.map((e) => ({ ...e })),
          liveSessions: () => model.sessions.size,
          openSockets: () => server.openSockets,
        },
        down: () => server.goDown(),
        up: async () => { if (!server.listening) await server.listen(HOST, port) },
        get isUp() { return server.listening },
      })
    }
  } catch (e) {
    await Promise.all(servers.map((s) => s.close()))
    throw e
  }

  let closed: Promise<void> | undefined
  return {
    appliances,
    close: () => (closed ??= Promise.all(servers.map((s) => s.close())).then(() => undefined)),
    readyLine: () => readyLine(appliances),
  }
}

/** The one JSON line `ceremony simulate` prints: what a client needs to reach and trust each appliance. */
export function readyLine(appliances: SimulatedAppliance[]): string {
  return JSON.stringify({
    appliances: appliances.map((a) => ({
      id: a.id,
      url: a.url,
      host: a.host,
      port: a.port,
      spkiSha256: a.spkiSha256,
      certDer: a.certDer,
      // A fresh appliance has no app, group or key yet: its system administrator onboards it.
      ...(a.sysadmin ? { sysadmin: { user: a.sysadmin.user, password: a.sysadmin.password } } : { apiKey: a.apiKey, groupId: a.groupId, groupName: a.groupName }),
      accountId: a.accountId,
      custodians: a.custodians.map((c) => ({ user: c.user, password: c.password })),
      quorum: a.quorum,
      ...(a.cmkName ? { cmkName: a.cmkName } : {}),
    })),
  })
}

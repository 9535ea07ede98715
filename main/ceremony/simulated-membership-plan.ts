/**
 * Plans of the membership kinds for simulated systems (`ceremony plan --kind add-appliance|
 * replace-appliance`, `ceremony rehearse --kind replace-appliance`): every appliance of the
 * credentials files, the new one last in the group's order, the failed one (replace) kept in the
 * plan's appliances by its address and pin but out of the group.
 */
import { CeremonyError } from '../errors'
import { PLAN_FORMAT, parsePlan, type Plan } from './plan'
import type { CredentialSet } from './simulated-cluster-plan'

export interface MembershipPlanOptions {
  kind: 'add-appliance' | 'replace-appliance'
  added: string
  /** Default: the first appliance of the group that is neither new nor failed. */
  source?: string
  failed?: { id: string; serial: string; disposition: 'zeroised' | 'destroyed' | 'returned-rma'; rmaNumber?: string; evidenceFile: string }
  buildsOn: string[]
  id?: string
  title?: string
  mode?: 'production' | 'rehearsal'
  groupName?: string
  proveAlone?: boolean
  /** Load-balancer mode: the balancer's address (its file, or the link record's plan). */
  loadBalancer?: { host: string; port: number }
  admin?: string
  operator?: string
  witnesses?: string[]
}

export function membershipPlanFor(set: CredentialSet, o: MembershipPlanOptions): Plan {
  const { cluster } = set
  if (!cluster) throw new CeremonyError('CREDENTIALS_INVALID', `A ${o.kind} plan needs the cluster file (ceremony simulate --role cluster --write-config DIR)`)
  const appliances = set.credentials.appliances
  const missing = appliances.filter((a) => !a.host || !a.port || !a.spkiSha256)
  if (missing.length > 0) throw new CeremonyError('CREDENTIALS_INVALID', `Every FIPS appliance needs host, port and pin (${missing.map((a) => a.id).join(', ')})`)
  if (!appliances.some((a) => a.id === o.added)) throw new CeremonyError('CREDENTIALS_INVALID', `No appliance "${o.added}" in the credentials files`)
  const fips = [...appliances.map((a) => a.id).filter((id) => id !== o.added && id !== o.failed?.id), o.added]
  const source = o.source ?? fips[0]!
  const withCustodians = appliances.filter((a) => a.id !== o.failed?.id && (a.custodians ?? []).length > 0)
  const admin = o.admin ?? cluster.users.find((u) => u.role === 'account-admin')?.user ?? cluster.users[0]!.user
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '').toLowerCase()
  const first = appliances.find((a) => a.id === source)
  // A fresh replacement (`ceremony simulate --fresh`) is onboarded through the API by its system administrator.
  const fresh = o.kind === 'replace-appliance' ? appliances.find((a) => a.id === o.added && a.sysadmin) : undefined
  if (fresh && !fresh.accountId) throw new CeremonyError('CREDENTIALS_INVALID', `The credentials of "${o.added}" name its system administrator but not its account`)
  return parsePlan({
    kind: o.kind, format: PLAN_FORMAT, version: 1,
    id: o.id ?? `${o.kind === 'add-appliance' ? 'add' : 'replace'}-rehearsal-${stamp}`,
    title: o.title ?? (o.kind === 'add-appliance' ? `Add ${o.added} to the FIPS group (rehearsal)` : `Replace ${o.failed?.id ?? '?'} with ${o.added} (rehearsal)`),
    mode: o.mode ?? 'rehearsal',
    appliances: appliances.map((a, i) => ({ id: a.id, label: `FIPS appliance ${i + 1} (${a.id})`, host: a.host, port: a.port, trust: { spkiSha256: a.spkiSha256 } })),
    cluster: { id: 'cluster', label: `Non-FIPS DSM cluster (${cluster.id})`, host: cluster.host, port: cluster.port, trust: { spkiSha256: cluster.spkiSha256 }, accountId: cluster.accountId, admin },
    fips, source, added: o.added,
    ...(o.failed ? { failed: o.failed } : {}),
    ...(fresh ? { onboarding: { sysadmin: fresh.sysadmin!.user, accountId: fresh.accountId! } } : {}),
    ...(o.groupName ? { groupName: o.groupName } : {}),
    ...(first?.groupName ? { quorumGroupName: first.groupName } : {}),
    ...(first?.cmkName ? { cmkName: first.cmkName } : {}),
    ...(o.proveAlone === false ? { proveAlone: false } : {}),
    ...(o.loadBalancer ? { loadBalancer: { host: o.loadBalancer.host, port: o.loadBalancer.port } } : {}),
    buildsOn: o.buildsOn,
    participants: {
      operator: o.operator ?? 'Rehearsal operator',
      custodians: Object.fromEntries(withCustodians.map((a) => [a.id, (a.custodians ?? []).map((c) => c.user)])),
      witnesses: o.witnesses ?? ['Witness One', 'Witness Two'],
    },
  })
}

/**
 * Plans and credentials for the cluster kinds against simulated systems: `ceremony plan --kind
 * link-cluster|verify-cluster`, `ceremony run` with several credentials files, `ceremony rehearse
 * --kind link-cluster` and the app's rehearsal. A credentials file is what a `ceremony simulate`
 * role writes: appliances.json (FIPS appliances: API keys, custodians), cluster.json (the cluster:
 * its users and their passwords) or load-balancer.json (an address, no secret). Passwords in a
 * file are for rehearsal only; `ceremony run` refuses them for a production plan.
 */
import { z } from 'zod'
import { CeremonyError } from '../errors'
import { PLAN_FORMAT, parsePlan, type Plan } from './plan'
import { CredentialsSchema, type Credentials } from './simulated-plan'
import { ONBOARDING_SIGN_IN } from './kinds/replace-appliance/plan'

export const ClusterFileSchema = z.object({
  cluster: z.object({
    id: z.string(), host: z.string(), port: z.number(), spkiSha256: z.string(), accountId: z.string(),
    users: z.array(z.object({ user: z.string(), password: z.string(), role: z.string().optional() })).min(1),
  }),
})
export type ClusterFile = z.infer<typeof ClusterFileSchema>['cluster']

export const LoadBalancerFileSchema = z.object({ loadBalancer: z.object({ host: z.string(), port: z.number() }) })
export type LoadBalancerFile = z.infer<typeof LoadBalancerFileSchema>['loadBalancer']

/** What several credentials files give together. */
export interface CredentialSet {
  /** FIPS appliances, in the order the files list them. */
  credentials: Credentials
  cluster: ClusterFile | null
  loadBalancer: LoadBalancerFile | null
}

function json(text: string, name: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new CeremonyError('CREDENTIALS_INVALID', `${name} is not valid JSON`)
  }
}

/** Reads credentials files of any of the three shapes; appliances from several files are joined in order. */
export function readCredentialFiles(files: { name: string; text: string }[]): CredentialSet {
  const appliances: Credentials['appliances'] = []
  let cluster: ClusterFile | null = null
  let loadBalancer: LoadBalancerFile | null = null
  for (const f of files) {
    const value = json(f.text, f.name)
    const asAppliances = CredentialsSchema.safeParse(value)
    const asCluster = ClusterFileSchema.safeParse(value)
    const asBalancer = LoadBalancerFileSchema.safeParse(value)
    if (asAppliances.success) appliances.push(...asAppliances.data.appliances)
    else if (asCluster.success) {
      if (cluster) throw new CeremonyError('CREDENTIALS_INVALID', `${f.name}: a second cluster file`)
      cluster = asCluster.data.cluster
    } else if (asBalancer.success) loadBalancer = asBalancer.data.loadBalancer
    else throw new CeremonyError('CREDENTIALS_INVALID', `${f.name} is neither an appliances, a cluster nor a load-balancer file`)
  }
  const ids = appliances.map((a) => a.id)
  const twice = ids.find((id, i) => ids.indexOf(id) !== i)
  if (twice) throw new CeremonyError('CREDENTIALS_INVALID', `appliance "${twice}" is in two credentials files`)
  return { credentials: { appliances }, cluster, loadBalancer }
}

/** True if any file gives a password (custodians or cluster users): rehearsal only. */
export function holdsPasswords(set: CredentialSet): boolean {
  return set.cluster !== null || set.credentials.appliances.some((a) => (a.custodians ?? []).length > 0 || a.sysadmin !== undefined)
}

export interface ClusterPlanOptions {
  kind: 'link-cluster' | 'verify-cluster'
  id?: string
  title?: string
  mode?: 'production' | 'rehearsal'
  /** Final digests of the records this plan builds on. */
  buildsOn: string[]
  groupName?: string
  /** The cluster user who signs in (default: its account administrator). */
  admin?: string
  failoverDrill?: boolean
  operator?: string
  witnesses?: string[]
}

/** A cluster plan for simulated systems: every appliance of the set is a FIPS appliance, in order. */
export function clusterPlanFor(set: CredentialSet, o: ClusterPlanOptions): Plan {
  const { cluster } = set
  if (!cluster) throw new CeremonyError('CREDENTIALS_INVALID', 'A cluster plan needs the cluster file (ceremony simulate --role cluster --write-config DIR)')
  const appliances = set.credentials.appliances
  const missing = appliances.filter((a) => !a.host || !a.port || !a.spkiSha256)
  if (appliances.length === 0 || missing.length > 0) throw new CeremonyError('CREDENTIALS_INVALID', `Every FIPS appliance needs host, port and pin${missing.length ? ` (${missing.map((a) => a.id).join(', ')})` : ''}`)
  const admin = o.admin ?? cluster.users.find((u) => u.role === 'account-admin')?.user ?? cluster.users[0]!.user
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '').toLowerCase()
  return parsePlan({
    kind: o.kind, format: PLAN_FORMAT, version: 1,
    id: o.id ?? `${o.kind === 'link-cluster' ? 'link' : 'verify'}-rehearsal-${stamp}`,
    title: o.title ?? (o.kind === 'link-cluster' ? `Link ${appliances.length} FIPS appliances to the cluster (rehearsal)` : 'FIPS cluster check (rehearsal)'),
    mode: o.mode ?? 'rehearsal',
    appliances: appliances.map((a, i) => ({ id: a.id, label: `FIPS appliance ${i + 1} (${a.id})`, host: a.host, port: a.port, trust: { spkiSha256: a.spkiSha256 } })),
    cluster: { id: 'cluster', label: `Non-FIPS DSM cluster (${cluster.id})`, host: cluster.host, port: cluster.port, trust: { spkiSha256: cluster.spkiSha256 }, accountId: cluster.accountId, admin },
    fips: appliances.map((a) => a.id),
    ...(o.kind === 'link-cluster' && set.loadBalancer ? { loadBalancer: { host: set.loadBalancer.host, port: set.loadBalancer.port } } : {}),
    ...(o.groupName ? { groupName: o.groupName } : {}),
    ...(o.failoverDrill === false ? { failoverDrill: false } : {}),
    buildsOn: o.buildsOn,
    participants: { operator: o.operator ?? 'Rehearsal operator', custodians: {}, witnesses: o.witnesses ?? ['Witness One', 'Witness Two'] },
  })
}

/** The password of the user a cluster plan names, from a cluster file (rehearsal). */
export function clusterPasswordFor(set: CredentialSet, plan: Plan): Map<string, string> {
  const named = (plan as { cluster?: { id: string; admin: string } }).cluster
  const user = named && set.cluster?.users.find((u) => u.user === named.admin)
  const out = user && named ? new Map([[named.id, user.password]]) : new Map<string, string>()
  // replace-appliance's onboarding: the fresh simulated appliance's system administrator.
  const onboarding = (plan as { onboarding?: { sysadmin: string }; added?: string }).onboarding
  const sysadmin = onboarding && set.credentials.appliances.find((a) => a.id === (plan as { added?: string }).added)?.sysadmin
  if (sysadmin && sysadmin.user === onboarding.sysadmin) out.set(ONBOARDING_SIGN_IN, sysadmin.password)
  return out
}

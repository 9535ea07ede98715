/**
 * The chain of ceremonies a rehearsal of one kind stands on, against simulated systems, shared by
 * `ceremony rehearse` and the app's rehearsal (service-rehearsal.ts) so both rehearse the same thing:
 *
 *   replicate-cmk      the replication
 *   link-cluster       replication → link
 *   verify-cluster     replication → link → verify
 *   add-appliance      replication → link → verify → add the spare appliance (proved with the others down)
 *   replace-appliance  replication → link → verify → the first appliance fails for good → the spare replaces it
 *
 * With a load balancer among the systems (started with the group's appliances as its backends, not
 * the spare), the link and every ceremony after it are in load-balancer mode, and the balancer's
 * administrator adds the spare as a backend before the membership ceremony.
 *
 * The caller runs each prerequisite (headless, sealed) with `run`; each later plan names the sealed
 * records before it by final digest and is handed them. The rehearsed kind itself is returned, not
 * run: the CLI runs it headless too, the app hands it to the operator.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { CeremonyError } from '../errors'
import type { RunningCluster, RunningLoadBalancer, RunningSimulator, SimulatorOptions } from '../simulator'
import type { ApplianceOutage } from './outage'
import type { Plan } from './plan'
import { clusterPasswordFor, clusterPlanFor, readCredentialFiles, type CredentialSet } from './simulated-cluster-plan'
import { membershipPlanFor } from './simulated-membership-plan'
import { materialsForRehearsal, planForAppliances } from './simulated-plan'

export const REHEARSAL_KINDS = ['replicate-cmk', 'link-cluster', 'verify-cluster', 'add-appliance', 'replace-appliance'] as const
export type RehearsalKind = (typeof REHEARSAL_KINDS)[number]
/** Kinds that need a simulated non-FIPS cluster. */
export const CLUSTER_KINDS: readonly RehearsalKind[] = ['link-cluster', 'verify-cluster', 'add-appliance', 'replace-appliance']
export const MEMBERSHIP_KINDS: readonly RehearsalKind[] = ['add-appliance', 'replace-appliance']

export const isRehearsalKind = (kind: string): kind is RehearsalKind => (REHEARSAL_KINDS as readonly string[]).includes(kind)

/**
 * The simulated FIPS appliances a rehearsal starts in one simulator: the group's (fips-1 holding the
 * CMK, then one per target) and, for add-appliance, a spare without a CMK, last (the next one:
 * fips-3 with one target). replace-appliance's spare is a simulator of its own (rehearsalSpare).
 */
export function rehearsalApplianceIds(kind: RehearsalKind, targets: number): string[] {
  const group = Array.from({ length: targets + 1 }, (_, i) => `fips-${i + 1}`)
  if (kind === 'add-appliance') return [...group, `fips-${targets + 2}`]
  return group
}

/**
 * replace-appliance's spare: a new chassis numbered past the group (fips-4 with one target, as in the
 * guide's drill, so no id in the records is reused), fresh as one out of its box — a system
 * administrator and the custodians' user accounts, no group, no app, no key — so the rehearsal walks
 * the custodians through the onboarding through the API and the one-time reveal of the key it
 * makes. Its custodians' accounts are the failed appliance's custodians (fips-1, the first of
 * `sim`), as the records name them: the quorum group is made again with the same people. Null for
 * the other kinds (add-appliance's spare is seeded in the group's simulator: it is not onboarded).
 */
export function rehearsalSpare(kind: RehearsalKind, targets: number, sim: RunningSimulator): SimulatorOptions | null {
  if (kind !== 'replace-appliance') return null
  const failed = sim.appliances[0]!
  return { appliances: 1, fresh: true, ids: [`fips-${targets + 3}`], custodianUsers: failed.custodians.map((c) => c.user) }
}

export interface RehearsalSystemsUp {
  /** Started with rehearsalApplianceIds(kind, targets): for add-appliance the spare is last. */
  sim: RunningSimulator
  /** replace-appliance: the fresh spare, started with rehearsalSpare (its sysadmin's sign-in, no API key). */
  spare?: RunningSimulator
  cluster?: RunningCluster
  /** Load-balancer mode: its backends are the group's appliances (not the spare); the chain adds the spare before its ceremony. */
  loadBalancer?: RunningLoadBalancer
  /** How appliances are taken down here (in-process or in their own processes): the failure of a replaced appliance. */
  outage: ApplianceOutage
}

/** One ceremony of the chain: its plan, the sealed records it builds on, the sign-ins' passwords, the files the room puts on its media. */
export interface ChainCeremony {
  set: CredentialSet
  plan: Plan
  records: unknown[]
  passwords: Map<string, string>
  /** A rehearsal's stand-ins for what the operator brings on the media (the failed appliance's zeroisation report). */
  mediaFiles: { name: string; text: string }[]
  /** Appliances the ceremony does not contact (the failed one): no API key is entered for them. */
  notContacted: string[]
}

/** Runs a prerequisite to its sealed record; null when it failed (the caller has said why). */
export type RunPrerequisite = (ceremony: ChainCeremony) => Promise<{ record: unknown; finalDigest: string } | null>

const withoutAppliance = (set: CredentialSet, id: string | null): CredentialSet =>
  id === null ? set : { ...set, credentials: { appliances: set.credentials.appliances.filter((a) => a.id !== id) } }

/**
 * Runs the prerequisites of `kind` and returns the rehearsed ceremony (not run), or null when a
 * prerequisite failed. replicate-cmk has none; `materials` adds the materials manifest to the replication.
 */
export async function rehearsalChain(kind: RehearsalKind, systems: RehearsalSystemsUp, run: RunPrerequisite, opts: { materials?: boolean; progress?(line: string): void } = {}): Promise<ChainCeremony | null> {
  if (CLUSTER_KINDS.includes(kind) && !systems.cluster) throw new CeremonyError('UNKNOWN_KIND', `A rehearsal of "${kind}" needs a simulated non-FIPS cluster`)
  if (kind === 'replace-appliance' && !systems.spare) throw new CeremonyError('UNKNOWN_KIND', 'A rehearsal of "replace-appliance" needs its fresh spare (rehearsalSpare)')
  const set = readCredentialFiles([
    { name: 'appliances', text: systems.sim.readyLine() },
    ...(systems.spare ? [{ name: 'spare', text: systems.spare.readyLine() }] : []),
    ...(systems.cluster ? [{ name: 'cluster', text: systems.cluster.readyLine() }] : []),
    ...(systems.loadBalancer ? [{ name: 'load-balancer', text: systems.loadBalancer.readyLine() }] : []),
  ])
  // The spare is last either way: its own simulator's, or the group's simulator's last appliance.
  const spare = MEMBERSHIP_KINDS.includes(kind) ? set.credentials.appliances.at(-1)!.id : null
  // The group is every appliance but the spare: it is not replicated to nor linked before its own ceremony.
  const group = withoutAppliance(set, spare)
  const ceremony = (plan: Plan, records: unknown[], extra: Partial<ChainCeremony> = {}): ChainCeremony =>
    ({ set: extra.set ?? group, plan, records, passwords: clusterPasswordFor(set, plan), mediaFiles: [], notContacted: [], ...extra })

  const replication = ceremony(planForAppliances(group.credentials, { materials: opts.materials === true }), [])
  if (kind === 'replicate-cmk') return replication
  const replicated = await run(replication)
  if (!replicated) return null
  const link = ceremony(clusterPlanFor(group, { kind: 'link-cluster', buildsOn: [replicated.finalDigest] }), [replicated.record])
  if (kind === 'link-cluster') return link
  const linked = await run(link)
  if (!linked) return null
  // Each ceremony is handed every earlier record of the chain: the ones its plan names, and theirs.
  const verify = ceremony(clusterPlanFor(group, { kind: 'verify-cluster', buildsOn: [linked.finalDigest] }), [linked.record, replicated.record])
  if (kind === 'verify-cluster') return verify
  const verified = await run(verify)
  if (!verified) return null

  const records = [replicated.record, linked.record, verified.record]
  const buildsOn = [replicated.finalDigest, linked.finalDigest, verified.finalDigest]
  // Load-balancer mode when the link was (the set holds the balancer): the ceremony checks the plan's mode against the records'.
  const loadBalancer = set.loadBalancer ? { loadBalancer: { host: set.loadBalancer.host, port: set.loadBalancer.port } } : {}
  // The balancer's administrator, not the ceremony, puts the new appliance behind the balancer, before
  // the ceremony: its join is tested by signing in through the balancer. A failed appliance stays a
  // backend (the balancer skips it) until its own administrator takes it out, after the ceremony.
  const behindBalancer = () => {
    if (!systems.loadBalancer) return
    const added = set.credentials.appliances.find((a) => a.id === spare)
    if (!added?.host || !added.port) throw new CeremonyError('CREDENTIALS_INVALID', `The spare "${spare}" has no address to put behind the load balancer`)
    systems.loadBalancer.addBackend({ host: added.host, port: added.port })
    opts.progress?.(`REHEARSAL: the load balancer's administrator adds ${spare} as a backend (${added.host}:${added.port}, behind ${systems.loadBalancer.address})`)
  }
  if (kind === 'add-appliance') {
    behindBalancer()
    return ceremony(membershipPlanFor(set, { kind, added: spare!, buildsOn, ...loadBalancer }), records, { set })
  }

  // replace-appliance: the first appliance fails for good (its port closes and is never opened again in
  // this rehearsal); the witnesses read its serial off the simulated chassis, as the replication's
  // materials manifest has it, and its zeroisation report is on the media.
  const failed = group.credentials.appliances[0]!.id
  await systems.outage.takeDown(failed)
  opts.progress?.(`REHEARSAL: ${failed} has failed for good (${systems.outage.how}; it is not brought back)`)
  const serial = materialsForRehearsal(group.credentials.appliances).appliances?.[failed]?.serial ?? `FX2200-SIM-${failed}`
  const evidenceFile = `${failed}-zeroisation.txt`
  behindBalancer()
  const plan = membershipPlanFor(set, { kind, added: spare!, failed: { id: failed, serial, disposition: 'zeroised', evidenceFile }, buildsOn, ...loadBalancer })
  return ceremony(plan, records, {
    set,
    mediaFiles: [{ name: evidenceFile, text: `REHEARSAL: zeroisation report of ${failed}, serial ${serial}, signed by ${plan.participants.witnesses.join(' and ')}\n` }],
    notContacted: [failed],
  })
}

/** What the simulated room brings on the ceremony's media (a replacement's zeroisation report), where the ceremony reads its media. */
export function putOnMedia(mediaDir: string, files: readonly { name: string; text: string }[]): void {
  if (files.length > 0) mkdirSync(mediaDir, { recursive: true, mode: 0o700 })
  for (const f of files) writeFileSync(join(mediaDir, basename(f.name)), f.text, { mode: 0o600 })
}

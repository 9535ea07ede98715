/**
 * The link's preflight (guide §3.2.3, design §3b): before anything changes, the replication records
 * the plan builds on are verified; the cluster answers and is not FIPS; each FIPS appliance answers
 * and accepts its app key; every one holds the CMK with one KCV, the KCV those records hold; and the
 * group is absent, or already linked exactly as planned (then linking is skipped). Read-only.
 */
import { readPeerCertificates } from '../../../dsm/peer-certificate'
import type { CeremonyRecord } from '../../../evidence'
import { CeremonyError } from '../../../errors'
import { sameKcv } from '../../adopt'
import { checkClusterNotFips, clusterSession, earlierRecord, resultIn, type ClusterCtx } from '../../cluster-steps'
import { readEach } from '../../each-appliance'
import { trustOf } from '../../plan-envelope'
import { defineStep, item } from '../../step'
import { configIdsOf, groupDifferences, plannedGroup } from './group'
import type { LinkClusterPlan } from './plan'
import { LinkPreflightResult, linkIds, linkRefs } from './results'

type Ctx = ClusterCtx<LinkClusterPlan>

export interface Replicated {
  finalDigest: string
  ceremonyId: string
  kcv: string
  /** appliance id → where the record says it was (host, port, pin) */
  appliances: Map<string, { host: string; port: number; pin: string | null }>
}

/** The replication record with this final digest, verified, read (replicationIn). */
const replicationOf = (ctx: Ctx, digest: string): Replicated => replicationIn(earlierRecord(ctx, digest, ['replicate-cmk']), digest)

/**
 * What a (verified) replication record says: its CMK's KCV, and the appliances that hold it by its
 * own account (the source, and each target whose KCV matched). Also read by `ceremony verify` to
 * compare a chain of records (record-agreement.ts). RECORD_MISMATCH when it holds no closed replication.
 */
export function replicationIn(record: CeremonyRecord, digest: string): Replicated {
  const plan = record.plan as { id?: unknown; source?: unknown; targets?: unknown; appliances?: unknown }
  const closed = resultIn(record, 'close') as { sourceKcv?: unknown; kcvByTarget?: Record<string, unknown> } | undefined
  const kcv = typeof closed?.sourceKcv === 'string' ? closed.sourceKcv.toLowerCase() : ''
  if (!kcv || typeof plan.source !== 'string' || !Array.isArray(plan.targets) || !Array.isArray(plan.appliances)) {
    throw new CeremonyError('RECORD_MISMATCH', `The record ${digest.slice(0, 16)}… has no closed replication in it`)
  }
  const holders = [plan.source, ...(plan.targets as string[]).filter((t) => sameKcv(String(closed?.kcvByTarget?.[t] ?? ''), kcv))]
  const appliances = new Map<string, { host: string; port: number; pin: string | null }>()
  for (const a of plan.appliances as { id: string; host: string; port: number; trust?: { spkiSha256?: string } }[]) {
    if (holders.includes(a.id)) appliances.set(a.id, { host: a.host, port: a.port, pin: a.trust?.spkiSha256 ?? null })
  }
  return { finalDigest: digest, ceremonyId: String(plan.id ?? ''), kcv, appliances }
}

export const preflight = (plan: LinkClusterPlan) => defineStep<LinkPreflightResult, Record<string, never>, LinkClusterPlan>({
  id: linkIds.preflight, name: 'preflight', group: null, appliances: plan.fips, interaction: 'run', confirmation: null, result: LinkPreflightResult,
  text: {
    where: `${plan.cluster.label} and every FIPS appliance`,
    title: 'Check the replication record, the cluster and every FIPS appliance',
    explain: `The replication record${plan.buildsOn.length > 1 ? 's' : ''} this ceremony builds on ${plan.buildsOn.length > 1 ? 'are' : 'is'} verified. The cluster administrator (${plan.cluster.admin}) signs in: the cluster must not be a FIPS appliance. Each FIPS appliance is reached with its API key and must hold the CMK "${plan.cmkName}" with the KCV the record holds. The group "${plan.groupName}" must not exist yet, unless it is already linked exactly as planned: then linking is skipped and the group is verified. Nothing is changed.`,
    witnessItems: ['The replication record verified, and its final digest was read aloud', 'Every FIPS appliance shows the record\'s CMK KCV', 'The cluster is not a FIPS appliance'],
  },
  intent: () => ({}),
  look: async () => null, // reads only
  async act(ctx) {
    const records = ctx.plan.buildsOn.map((d) => replicationOf(ctx, d))
    const kcvs = new Set(records.map((r) => r.kcv))
    if (kcvs.size > 1) throw new CeremonyError('RECORD_MISMATCH', `The replication records hold different CMK KCVs (${[...kcvs].join(', ')})`)
    const kcv = records[0]!.kcv
    const { version } = await checkClusterNotFips(ctx)
    const appliances: LinkPreflightResult['appliances'] = {}
    // Every FIPS appliance read at once (reads only, each-appliance.ts), each answer judged in the plan's order.
    await readEach(ctx.plan.fips, async (id) => {
      // The appliance first (its TLS pin, its API key), so a wrong pin is named as what it is.
      const app = await ctx.app(id)
      return { v: await app.connection.version(), cmk: await app.keys.findByName(ctx.plan.cmkName) }
    }, ({ v, cmk }, id) => {
      const a = ctx.plan.appliances.find((x) => x.id === id)!
      if (!cmk) throw new CeremonyError('CMK_MISSING', `${a.label} has no key named "${ctx.plan.cmkName}"`)
      if (cmk.obj_type !== 'AES' || cmk.key_size !== 256 || !cmk.kcv) throw new CeremonyError('CMK_WRONG_TYPE', `The key "${ctx.plan.cmkName}" on ${a.label} is ${cmk.obj_type}-${cmk.key_size ?? '?'}, not AES-256 with a KCV`)
      const held = records.find((r) => r.appliances.has(id))?.appliances.get(id)
      if (!held) throw new CeremonyError('RECORD_MISMATCH', `${a.label} holds the CMK by no replication record this plan builds on`)
      if (held.host.toLowerCase() !== a.host.toLowerCase() || held.port !== a.port || (held.pin && a.trust.spkiSha256 && held.pin !== a.trust.spkiSha256)) {
        throw new CeremonyError('RECORD_MISMATCH', `${a.label} is not the appliance the replication record names as ${id} (address or TLS pin differ)`)
      }
      if (!sameKcv(cmk.kcv, kcv)) throw new CeremonyError('KCV_MISMATCH', `The CMK on ${a.label} has KCV ${cmk.kcv}; the replication record holds ${kcv}`)
      appliances[id] = { version: v.version, fipsLevel: typeof v.fips_level === 'number' ? v.fips_level : null, cmkKid: cmk.kid, kcv: cmk.kcv.toLowerCase() }
    })
    const admin = await clusterSession(ctx)
    const found = await admin.groups.findByName(ctx.plan.groupName)
    let existingGroup: LinkPreflightResult['existingGroup'] = null
    if (found) {
      // Compared with the certificates the appliances present now: linked as planned means pinned to them.
      const presented = await readEach(ctx.plan.fips, async (id) => {
        const a = ctx.plan.appliances.find((x) => x.id === id)!
        return (await readPeerCertificates({ host: a.host, port: a.port, trust: trustOf(a) })).map((c) => c.sha256)
      })
      const chains: Record<string, string[]> = Object.fromEntries(ctx.plan.fips.map((id, i) => [id, presented[i]!]))
      const planned = plannedGroup(ctx.plan, chains, null)
      const diffs = groupDifferences(found, planned, false)
      if (diffs.length > 0) throw new CeremonyError('GROUP_CONFLICT', `A group named "${ctx.plan.groupName}" exists on the cluster but is not linked as planned (${diffs.join('; ')}). It was not changed.`)
      existingGroup = { groupId: found.group_id, configIds: configIdsOf(found, planned) }
      ctx.note(`the group "${ctx.plan.groupName}" is already linked exactly as planned (${found.group_id}); linking is skipped and the group is verified`)
    }
    return { clusterVersion: version, replication: records.map((r) => ({ finalDigest: r.finalDigest, ceremonyId: r.ceremonyId, kcv: r.kcv })), kcv, appliances, existingGroup }
  },
  verify() {},
  evidence: (r, ctx) => ({
    items: [
      ...r.replication.flatMap((x) => item(`Replication record of ${x.ceremonyId} (final digest)`, x.finalDigest, 'digest')),
      ...item('Cluster version (no FIPS level)', r.clusterVersion),
      ...Object.entries(r.appliances).flatMap(([id, a]) => item(`${ctx.label(id)}: version, FIPS level`, `${a.version}; ${a.fipsLevel === null ? 'none reported (the connection test will refuse it)' : a.fipsLevel}`)),
      ...item('Group', r.existingGroup ? `already linked as planned (${r.existingGroup.groupId}): linking skipped` : `"${ctx.plan.groupName}" does not exist yet`),
    ],
    comparisons: Object.entries(r.appliances).map(([id, a]) => ({
      label: `CMK KCV on ${ctx.label(id)} vs the replication record`, format: 'kcv' as const,
      left: { label: 'In the record', value: r.kcv }, right: { label: `On ${ctx.label(id)}`, value: a.kcv }, match: sameKcv(r.kcv, a.kcv),
    })),
  }),
})

/** The group the verification runs on: created by this ceremony, or found already linked. */
export function linkedGroup(ctx: { find: Ctx['find']; get: Ctx['get'] }): { groupId: string; name: string; configIds: Record<string, string> } {
  const created = ctx.find(linkRefs.createGroup)
  if (created) return { groupId: created.groupId, name: created.name, configIds: created.configIds }
  const existing = ctx.get(linkRefs.preflight).existingGroup
  if (!existing) throw new CeremonyError('JOURNAL_INCOMPLETE', 'The group has not been created yet')
  return { groupId: existing.groupId, name: '', configIds: existing.configIds }
}

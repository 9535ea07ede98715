/**
 * Joining the group (issue 12): the new appliance's certificate is read over its pinned connection
 * and kept on the media; its config (the next hsm_order, its API key masked) is tested by the cluster
 * and shown for review; the group is changed with `add_hmg` only after the config's digest is typed,
 * and only after looking: a config for the new appliance found after a crash is adopted if it is
 * exactly the one this step intended (the preflight proved there was none before); then the saved
 * group, and the new connection alone, are tested by the cluster.
 */
import { X509Certificate } from 'node:crypto'
import { readPeerCertificates } from '../../../dsm/peer-certificate'
import type { Group } from '../../../dsm'
import { canonicalJson } from '../../../evidence'
import { CeremonyError } from '../../../errors'
import { clusterSession, hmgRefusal, testHmgConfig } from '../../cluster-steps'
import { applianceOf, trustOf } from '../../plan-envelope'
import { defineStep, item } from '../../step'
import { materialize, sentAsPlanned, sha256, shownConfig, type PlannedConfig } from '../link-cluster/group'
import type { LinkClusterPlan } from '../link-cluster/plan'
import type { MembershipPlan } from './plan'
import { addressOf, onCluster, type MembershipCtx } from './preflight'
import { pemOf, pinnedOf } from './balancer'
import { balancerJoinConfig, balancerJoinGroup } from './join-balancer'
import { JoinConfigResult, JoinGroupResult, TestJoinedResult, memberIds, memberRefs } from './results'

const CERT_FILE_MAX = 64 * 1024

/** What witnesses see and the operator confirms: the PATCH body, the API key masked. */
export const shownPatch = (plan: MembershipPlan, c: PlannedConfig) => ({ add_hmg: [shownConfig(plan as unknown as LinkClusterPlan, c)] })
export const patchDigest = (plan: MembershipPlan, c: PlannedConfig) => sha256(canonicalJson(shownPatch(plan, c)))

/** The certificates of the join, from their file on the media (checked by digest). */
export async function certificatesOnMedia(ctx: MembershipCtx): Promise<Map<string, Buffer>> {
  const joined = ctx.get(memberRefs.joinConfig)
  const pem = (await ctx.media.read(joined.file, joined.fileSha256, CERT_FILE_MAX)).toString('utf8')
  const out = new Map<string, Buffer>()
  for (const m of pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)) {
    const der = Buffer.from(new X509Certificate(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')).raw)
    out.set(sha256(der), der)
  }
  return out
}

/** The config for `c.url` in the group, and what differs from the planned one ([] when exactly as planned). */
export function configFor(group: Group, c: PlannedConfig): { id: string; diffs: string[] } | null {
  const found = Object.entries(group.hmg ?? {}).find(([, x]) => x.url === c.url)
  if (!found) return null
  const [id, x] = found
  const diffs: string[] = []
  if (x.kind.toLowerCase() !== 'fortanixfipscluster') diffs.push(`kind ${x.kind}`)
  if ((x.hsm_order ?? null) !== c.hsmOrder) diffs.push(`priority ${x.hsm_order ?? 'none'}`)
  if (x.tls?.['mode'] !== 'required' || x.tls?.['validate_hostname'] !== c.validateHostname) diffs.push('TLS mode or host-name validation')
  if ([...pinnedOf(x.tls)].sort().join() !== [...c.certificates].sort().join()) diffs.push('pinned certificates')
  return { id, diffs }
}

/**
 * The cluster's test of the saved group: every connection at once, or, while a failed appliance is
 * still in it (replace-appliance, before its removal), every connection but that one's, one by one.
 * Behind a load balancer there is one config; while it still holds the failed appliance's key
 * (which nothing can accept) the cluster tests, against the group and its CMK, the same config
 * without that key.
 */
export async function testSavedGroup(ctx: MembershipCtx, groupId: string): Promise<void> {
  const admin = await clusterSession(onCluster(ctx))
  const refuse = (what: string) => (err: unknown) => Promise.reject(hmgRefusal(err, what))
  const failed = ctx.plan.failed ? addressOf(ctx.plan, ctx.plan.failed.id) : null
  const group = await admin.groups.get(groupId)
  const facts = ctx.plan.loadBalancer ? ctx.get(memberRefs.preflight).balancer : null
  if (facts && ctx.plan.failed && facts.failedPinned.some((h) => pinnedOf(group.hmg?.[facts.configId]?.tls).includes(h))) {
    const planned = ctx.get(memberRefs.joinConfig).planned
    const config = materialize({ ...planned, keysOf: planned.keysOf.filter((id) => id !== ctx.plan.failed!.id) }, await certificatesOnMedia(ctx), (id) => ctx.apiKey(id))
    await admin.groups.checkHmg(groupId, { config }).catch(refuse(`the test of the load balancer's config without ${ctx.label(ctx.plan.failed.id)}'s key`))
    return
  }
  if (!failed || !Object.values(group.hmg ?? {}).some((c) => c.url === failed)) {
    await admin.groups.checkHmg(groupId).catch(refuse(`the test of "${ctx.plan.groupName}"`))
    return
  }
  for (const [id, c] of Object.entries(group.hmg ?? {})) {
    if (c.url !== failed) await admin.groups.checkHmg(groupId, { id }).catch(refuse(`the test of the connection to ${c.url ?? id}`))
  }
}

function balancerJoinText(plan: MembershipPlan) {
  const label = applianceOf(plan, plan.added).label
  return {
    where: `every FIPS appliance → media → ${plan.cluster.label}`,
    title: `Read the certificates, test the load balancer's config with ${label} added, and show it`,
    explain: `Each appliance's certificate is read over its pinned connection and kept on the media: they are what the cluster will pin. The load balancer's config with ${label}'s API key and certificate added, and the key of every appliance that stays sent again (the cluster replaces a config whole and never shows its keys), is tested by the cluster: every key must sign in through the balancer, so the balancer must already route to ${label}.${plan.failed ? ` The failed ${applianceOf(plan, plan.failed.id).label}'s key and certificate stay in the config until ${label} has proved the canary (they are removed after it); nothing can accept that key, so the test leaves it out.` : ''} Nothing is saved. It is shown with every API key masked; its digest is what the next step asks to be typed.`,
    witnessItems: [`The load balancer now routes to ${label} (its administrator added it as a backend)`, 'The cluster accepted every API key through the balancer', 'The config digest was read aloud'],
  }
}

export const joinConfig = (plan: MembershipPlan) => defineStep<JoinConfigResult, { file: string; hsmOrder: number }, MembershipPlan>({
  id: memberIds.joinConfig, name: 'join-config', group: 'join', appliances: [plan.added], interaction: 'run', confirmation: null, result: JoinConfigResult,
  text: plan.loadBalancer ? balancerJoinText(plan) : {
    where: `${applianceOf(plan, plan.added).label} → media → ${plan.cluster.label}`,
    title: `Read ${applianceOf(plan, plan.added).label}'s certificate, test its connection and show its config`,
    explain: `The certificate is read over the pinned connection and kept on the media: it is what the cluster will pin. The config that adds the appliance to "${plan.groupName}" at the next priority is tested by the cluster (nothing is saved) and shown with its API key masked. Its digest is what the next step asks to be typed.`,
    witnessItems: ['The certificate carries the key the plan pins', 'The cluster accepted the connection', 'The config digest was read aloud'],
  },
  intent: (ctx) => {
    const orders = ctx.get(memberRefs.preflight).members.map((m) => m.hsmOrder ?? -1)
    return { file: `${ctx.plan.id}-${ctx.plan.added}-certificate.pem`, hsmOrder: orders.length === 0 ? 0 : Math.max(...orders) + 1 }
  },
  look: async () => null, // the file is adopted by the media write only if this step journaled it; a test changes nothing
  async act(ctx, intent) {
    if (ctx.plan.loadBalancer) return balancerJoinConfig(ctx, intent.file)
    const a = applianceOf(ctx.plan, ctx.plan.added)
    const chain = await readPeerCertificates({ host: a.host, port: a.port, trust: trustOf(a) })
    if (a.trust.spkiSha256 && chain[0]!.spkiSha256 !== a.trust.spkiSha256) throw new CeremonyError('CERTIFICATE_PIN_MISMATCH', `${a.label} presents a certificate whose key is not the pinned one`)
    const written = await ctx.media.write(intent.file, Buffer.from(pemOf(chain.map((c) => c.der)), 'utf8'))
    const planned: PlannedConfig = {
      ref: ctx.plan.added, url: addressOf(ctx.plan, ctx.plan.added), hsmOrder: intent.hsmOrder, validateHostname: ctx.plan.validateHostname,
      certificates: chain.map((c) => c.sha256), keysOf: [ctx.plan.added], balanced: false,
    }
    const config = materialize(planned, new Map(chain.map((c) => [c.sha256, c.der])), (id) => ctx.apiKey(id))
    const admin = await clusterSession(onCluster(ctx))
    await testHmgConfig(admin, config, `the connection to ${a.label}`)
    return { planned, file: written.name, fileSha256: written.sha256, shown: JSON.stringify(shownPatch(ctx.plan, planned), null, 2), configDigest: patchDigest(ctx.plan, planned) }
  },
  verify() {},
  evidence: (r) => ({
    items: [
      ...(r.planned.balanced
        ? item('Certificates to pin, the new appliance\'s last (SHA-256)', r.planned.certificates.join(', '))
        : item('Certificate (SHA-256)', r.planned.certificates[0]!, 'fingerprint')),
      ...item('Connection test by the cluster', 'accepted'),
      ...item('Change to send (API key masked)', r.shown), ...item('Config digest', r.configDigest, 'digest'),
    ],
    comparisons: [],
  }),
})

type JoinIntent = { groupId: string; url: string; hsmOrder: number | null; configDigest: string }

export const joinGroup = (plan: MembershipPlan) => defineStep<JoinGroupResult, JoinIntent, MembershipPlan>({
  id: memberIds.joinGroup, name: 'join-group', group: 'join', appliances: [plan.added], interaction: 'run', result: JoinGroupResult,
  confirmation: { prompt: `Type the last 4 characters of the config digest to add ${applianceOf(plan, plan.added).label} to the group`, label: 'Config digest (previous step)', value: (ctx) => (ctx as MembershipCtx).get(memberRefs.joinConfig).configDigest },
  text: {
    where: plan.cluster.label,
    title: `Add ${applianceOf(plan, plan.added).label} to "${plan.groupName}"`,
    explain: plan.loadBalancer
      ? 'The load balancer\'s config is replaced with the one just shown (mod_hmg): every API key goes to the cluster inside it and nowhere else. The config is looked at first: changed by anyone else since the preflight, nothing is sent.'
      : 'The group is changed with the config just shown (add_hmg); the API key goes to the cluster inside it and nowhere else. The group is looked at first, so a resumed ceremony never adds a second config.',
    witnessItems: ['The config was added once, as shown'],
  },
  intent: (ctx) => {
    const j = ctx.get(memberRefs.joinConfig)
    return { groupId: ctx.get(memberRefs.preflight).groupId, url: j.planned.url, hsmOrder: j.planned.hsmOrder, configDigest: j.configDigest }
  },
  async look(ctx, earlier) {
    // Through a balancer the keys the config holds cannot be read back: act looks, and sends the whole config again if need be.
    if (ctx.plan.loadBalancer) return null
    const group = await (await clusterSession(onCluster(ctx))).groups.get(earlier.groupId)
    const found = configFor(group, ctx.get(memberRefs.joinConfig).planned)
    if (!found) return null
    if (found.diffs.length > 0) throw new CeremonyError('GROUP_CONFLICT', `A config for ${earlier.url} is in the group, but it is not the one this ceremony set out to add (${found.diffs.join('; ')}). It was not used.`)
    ctx.note(`found the config for ${earlier.url} added before the interruption (${found.id}), exactly as shown; adopted`)
    return { groupId: earlier.groupId, configId: found.id, url: earlier.url, hsmOrder: earlier.hsmOrder }
  },
  async act(ctx, intent) {
    if (ctx.plan.loadBalancer) return balancerJoinGroup(ctx, intent, await certificatesOnMedia(ctx))
    const admin = await clusterSession(onCluster(ctx))
    const planned = ctx.get(memberRefs.joinConfig).planned
    if (configFor(await admin.groups.get(intent.groupId), planned)) throw new CeremonyError('APPLIANCE_ALREADY_IN_GROUP', `A config for ${intent.url} appeared in the group after the preflight; this ceremony did not add it. Nothing was changed.`)
    if (patchDigest(ctx.plan, planned) !== intent.configDigest) throw new CeremonyError('CONFIG_CHANGED', 'The config is not the one shown and confirmed')
    const config = materialize(planned, await certificatesOnMedia(ctx), (id) => ctx.apiKey(id))
    if (!sentAsPlanned(config, planned)) throw new CeremonyError('CONFIG_CHANGED', 'The config about to be sent is not the one shown and confirmed')
    const group = await admin.groups.patch(intent.groupId, { add_hmg: [config] })
    const added = configFor(group, planned)
    if (!added || added.diffs.length > 0) throw new CeremonyError('GROUP_NOT_AS_PLANNED', `The group does not hold the config as sent${added ? ` (${added.diffs.join('; ')})` : ''}`)
    return { groupId: intent.groupId, configId: added.id, url: intent.url, hsmOrder: intent.hsmOrder }
  },
  verify() {},
  evidence: (r, ctx) => ({
    items: [...item('Group', r.groupId), ...(ctx.plan.loadBalancer
      ? item('The load balancer\'s config', `${r.configId} (${r.url}): the API keys of ${ctx.plan.fips.map((id) => ctx.label(id)).join(', ')}`)
      : item(`Config for ${ctx.label(ctx.plan.added)}`, `${r.configId} (${r.url}, priority ${r.hsmOrder ?? '-'})`))],
    comparisons: [],
  }),
})

export const testJoined = (plan: MembershipPlan) => defineStep<TestJoinedResult, { groupId: string; configId: string }, MembershipPlan>({
  id: memberIds.testJoined, name: 'test-joined', group: 'join', appliances: plan.fips, interaction: 'run', confirmation: null, result: TestJoinedResult,
  text: plan.loadBalancer ? {
    where: plan.cluster.label,
    title: `Test the saved group through the load balancer`,
    explain: `The cluster tests the load balancer's config as saved: every API key it holds must sign in through the balancer${plan.failed ? ` (all but the failed ${applianceOf(plan, plan.failed.id).label}'s, which nothing can accept: the config is tested without it)` : ''}, ${applianceOf(plan, plan.added).label}'s among them, and the CMK must be found.`,
    witnessItems: ['The saved group passed the cluster\'s test, the new appliance\'s key among those signed in'],
  } : {
    where: plan.cluster.label,
    title: `Test the saved group, and ${applianceOf(plan, plan.added).label}'s connection alone`,
    explain: `The cluster tests the group as saved${plan.failed ? ` (every connection but the failed ${applianceOf(plan, plan.failed.id).label}'s)` : ''}, then the new connection on its own: it reaches the new appliance with the API key it holds and finds the CMK there.`,
    witnessItems: ['The saved group passed the cluster\'s test', 'The new connection passed on its own'],
  },
  intent: (ctx) => ({ groupId: ctx.get(memberRefs.joinGroup).groupId, configId: ctx.get(memberRefs.joinGroup).configId }),
  look: async () => null, // a test changes nothing
  async act(ctx, intent) {
    const admin = await clusterSession(onCluster(ctx))
    await testSavedGroup(ctx, intent.groupId)
    // Behind a balancer the one config is the group: its test above is the new key's too.
    if (!ctx.plan.loadBalancer) await admin.groups.checkHmg(intent.groupId, { id: intent.configId }).catch((err: unknown) => Promise.reject(hmgRefusal(err, `the test of ${ctx.label(ctx.plan.added)}'s connection`)))
    return { groupId: intent.groupId, configId: intent.configId, groupPassed: true as const, newConfigPassed: true as const }
  },
  verify() {},
  evidence: (r, ctx) => ({
    items: [...item('The saved group', 'passed the cluster\'s test'), ...(ctx.plan.loadBalancer
      ? item(`${ctx.label(ctx.plan.added)}'s key`, 'signed in through the load balancer')
      : item(`${ctx.label(ctx.plan.added)} on its own`, 'passed the cluster\'s test'))],
    comparisons: [],
  }),
})

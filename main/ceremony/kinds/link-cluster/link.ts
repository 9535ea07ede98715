/**
 * Linking (guide §3.2.3, §4.0): each FIPS appliance's certificate is read over the pinned connection
 * and kept on the media; the cluster tests each connection before anything is saved; the whole
 * group configuration is shown with its API keys masked and confirmed by typing; the group is
 * created once (found again by the nonce in its description after a crash, adopted only if exactly
 * as planned); and the saved group is tested by the cluster.
 */
import { randomBytes, X509Certificate } from 'node:crypto'
import { ConflictError } from '../../../dsm'
import { readPeerCertificates } from '../../../dsm/peer-certificate'
import { CeremonyError } from '../../../errors'
import { clusterSession, hmgRefusal, testHmgConfig, type ClusterCtx } from '../../cluster-steps'
import { trustOf } from '../../plan-envelope'
import { defineStep, item } from '../../step'
import { LB_REF, configIdsOf, groupDifferences, groupDigest, materialize, plannedGroup, sentAsPlanned, sha256, shownConfig, shownGroup, type PlannedGroup } from './group'
import type { LinkClusterPlan } from './plan'
import { linkedGroup } from './preflight'
import { CertificatesResult, CreateGroupResult, GroupConfigResult, TestConnectionResult, TestGroupResult, linkIds, linkRefs } from './results'

type Ctx = ClusterCtx<LinkClusterPlan>
const CERT_FILE_MAX = 64 * 1024

export const certFile = (plan: LinkClusterPlan, id: string) => `${plan.id}-${id}-certificate.pem`
const alreadyLinked = (ctx: Ctx) => (ctx.get(linkRefs.preflight).existingGroup ? 'the group is already linked exactly as planned' : null)

/** Certificates (DER) as the PEM file kept on the media. */
export function pemOf(ders: Buffer[]): string {
  return ders.map((d) => `-----BEGIN CERTIFICATE-----\n${d.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`).join('')
}

/** The certificates read in this ceremony, by SHA-256, from their files on the media (each checked by digest). */
async function certificatesOnMedia(ctx: Ctx): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  for (const facts of Object.values(ctx.get(linkRefs.certificates).appliances)) {
    const pem = (await ctx.media.read(facts.file, facts.fileSha256, CERT_FILE_MAX)).toString('utf8')
    for (const m of pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)) {
      const der = Buffer.from(new X509Certificate(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')).raw)
      out.set(sha256(der), der)
    }
  }
  return out
}

const chainsOf = (ctx: Ctx) => Object.fromEntries(Object.entries(ctx.get(linkRefs.certificates).appliances).map(([id, c]) => [id, c.chain]))

export const certificates = (plan: LinkClusterPlan) => defineStep<CertificatesResult, { files: Record<string, string> }, LinkClusterPlan>({
  id: linkIds.certificates, name: 'certificates', group: 'link', appliances: plan.fips, interaction: 'run', confirmation: null, result: CertificatesResult,
  text: {
    where: 'every FIPS appliance → media',
    title: 'Read each FIPS appliance\'s certificate over its pinned connection',
    explain: 'Each appliance\'s certificate is read over a TLS connection verified against the plan\'s pin, its public key compared with the pin once more, and the certificate kept on the media. These certificates, and no others, are what the cluster will pin for each appliance.',
    witnessItems: ['Each certificate carries the key the plan pins (MATCH)', 'The certificate fingerprints were read aloud'],
  },
  skip: alreadyLinked,
  intent: (ctx) => ({ files: Object.fromEntries(ctx.plan.fips.map((id) => [id, certFile(ctx.plan, id)])) }),
  look: async () => null, // the files are adopted by the media writes only if this step journaled them
  async act(ctx, intent) {
    const appliances: CertificatesResult['appliances'] = {}
    for (const id of ctx.plan.fips) {
      const a = ctx.plan.appliances.find((x) => x.id === id)!
      const chain = await readPeerCertificates({ host: a.host, port: a.port, trust: trustOf(a) })
      const leaf = chain[0]!
      const planPin = a.trust.spkiSha256 ?? null
      if (planPin && leaf.spkiSha256 !== planPin) throw new CeremonyError('CERTIFICATE_PIN_MISMATCH', `${a.label} presents a certificate whose key is ${leaf.spkiSha256.slice(0, 16)}…, not the pinned ${planPin.slice(0, 16)}…`)
      const written = await ctx.media.write(intent.files[id]!, Buffer.from(pemOf(chain.map((c) => c.der)), 'utf8'))
      appliances[id] = { file: written.name, fileSha256: written.sha256, chain: chain.map((c) => c.sha256), spkiSha256: leaf.spkiSha256, planPin, subject: leaf.subject, validTo: leaf.validTo }
    }
    return { appliances }
  },
  verify() {},
  evidence: (r, ctx) => ({
    items: Object.entries(r.appliances).flatMap(([id, c]) => [
      ...item(`${ctx.label(id)}: certificate (SHA-256)`, c.chain[0]!, 'fingerprint'),
      ...item(`${ctx.label(id)}: subject, valid until`, `${c.subject}; ${c.validTo}`),
    ]),
    comparisons: Object.entries(r.appliances).filter(([, c]) => c.planPin).map(([id, c]) => ({
      label: `${ctx.label(id)}: the certificate's key vs the plan's pin`, format: 'fingerprint' as const,
      left: { label: 'Pinned in the plan', value: c.planPin! }, right: { label: 'In the certificate', value: c.spkiSha256 }, match: c.planPin === c.spkiSha256,
    })),
  }),
})

type TestIntent = { ref: string; url: string; certificates: string[]; keysOf: string[]; shown: string }

export const testConnection = (plan: LinkClusterPlan, ref: string, label: string) => defineStep<TestConnectionResult, TestIntent, LinkClusterPlan>({
  id: linkIds.testConnection(ref), name: 'test-connection', group: 'link', appliances: ref === LB_REF ? plan.fips : [ref], interaction: 'run', confirmation: null, result: TestConnectionResult,
  text: {
    where: `${plan.cluster.label} → ${label}`,
    title: `Test the cluster's connection to ${label}`,
    explain: ref === LB_REF
      ? `The cluster connects through the load balancer, checks that each certificate it is shown is one of the appliances' pinned certificates, that each appliance is in FIPS mode, and signs in with each appliance's API key. Nothing is saved on the cluster.`
      : `The cluster connects to ${label} as the group will, checks its certificate against the one just read, that it is in FIPS mode, and signs in with its API key. Nothing is saved on the cluster.`,
    witnessItems: [`The cluster accepted the connection to ${label}`],
  },
  skip: alreadyLinked,
  intent: (ctx) => {
    const c = plannedGroup(ctx.plan, chainsOf(ctx), null).configs.find((x) => x.ref === ref)!
    return { ref, url: c.url, certificates: c.certificates, keysOf: c.keysOf, shown: JSON.stringify(shownConfig(ctx.plan, c)) }
  },
  look: async () => null, // a test changes nothing
  async act(ctx, intent) {
    const planned = plannedGroup(ctx.plan, chainsOf(ctx), null).configs.find((x) => x.ref === ref)!
    const config = materialize(planned, await certificatesOnMedia(ctx), (id) => ctx.apiKey(id))
    const admin = await clusterSession(ctx)
    await testHmgConfig(admin, config, `the connection to ${label}`)
    // The cluster's word is checked against this workstation's: both must see FIPS appliances.
    const facts = ctx.get(linkRefs.preflight).appliances
    const fipsLevels = Object.fromEntries(intent.keysOf.map((id) => [id, facts[id]?.fipsLevel ?? null]))
    const notFips = intent.keysOf.filter((id) => fipsLevels[id] === null)
    if (notFips.length > 0) throw new CeremonyError('NOT_FIPS_APPLIANCE', `${notFips.map((id) => ctx.label(id)).join(', ')} reported no FIPS level to this workstation`)
    return { ref, url: intent.url, appliances: intent.keysOf, certificates: intent.certificates, fipsLevels, accepted: true as const }
  },
  verify() {},
  evidence: (r, ctx) => ({
    items: [
      ...item('Address the cluster connects to', r.url),
      ...r.appliances.flatMap((id) => item(`${ctx.label(id)}`, `FIPS level ${r.fipsLevels[id] ?? 'none'}; its API key accepted (shown masked: ••••••••)`)),
      ...item('Pinned certificates (SHA-256)', r.certificates.join(', ')),
      ...item('Result', 'the cluster accepted the connection'),
    ],
    comparisons: [],
  }),
})

export const groupConfig = (plan: LinkClusterPlan) => defineStep<GroupConfigResult, Record<string, never>, LinkClusterPlan>({
  id: linkIds.groupConfig, name: 'group-config', group: 'link', appliances: [], interaction: 'run', confirmation: null, result: GroupConfigResult,
  text: {
    where: 'workstation',
    title: `Assemble the configuration of "${plan.groupName}" for review`,
    explain: 'The whole request that creates the group is assembled and shown, every API key masked and each certificate by its SHA-256. Witnesses read it; its digest is what the next step asks to be typed. Nothing is sent.',
    witnessItems: ['The configuration names every FIPS appliance, in the planned order', 'The configuration digest was read aloud'],
  },
  skip: alreadyLinked,
  intent: () => ({}),
  look: async () => null, // nothing is sent
  act: async (ctx) => {
    // The nonce in the description is how a resumed create finds the group this ceremony made.
    const description = `DSM Key Ceremony ${ctx.plan.id}: FIPS-backed group [nonce ${randomBytes(8).toString('hex')}]`
    const planned = plannedGroup(ctx.plan, chainsOf(ctx), description)
    return { planned, shown: JSON.stringify(shownGroup(ctx.plan, planned), null, 2), configDigest: groupDigest(ctx.plan, planned) }
  },
  verify() {},
  evidence: (r, ctx) => ({
    items: [
      ...r.planned.configs.flatMap((c) => item(c.hsmOrder === null ? 'Connection' : `Connection, priority ${c.hsmOrder}`, `${c.url}: ${c.keysOf.map((id) => ctx.label(id)).join(', ')}`)),
      ...item('Configuration to send (API keys masked)', r.shown),
      ...item('Configuration digest', r.configDigest, 'digest'),
    ],
    comparisons: [],
  }),
})

type CreateIntent = { name: string; description: string; configDigest: string }

function createdAsPlanned(planned: PlannedGroup, found: Parameters<typeof groupDifferences>[0]): CreateGroupResult {
  const diffs = groupDifferences(found, planned, true)
  if (diffs.length > 0) throw new CeremonyError('GROUP_NOT_AS_PLANNED', `The group "${found.name}" is not as planned (${diffs.join('; ')})`)
  return { groupId: found.group_id, name: found.name, configIds: configIdsOf(found, planned) }
}

export const createGroup = (plan: LinkClusterPlan) => defineStep<CreateGroupResult, CreateIntent, LinkClusterPlan>({
  id: linkIds.createGroup, name: 'create-group', group: 'link', appliances: plan.fips, interaction: 'run', result: CreateGroupResult,
  confirmation: { prompt: 'Type the last 4 characters of the configuration digest to create the group', label: 'Configuration digest (previous step)', value: (ctx) => (ctx as Ctx).get(linkRefs.groupConfig).configDigest },
  text: {
    where: plan.cluster.label,
    title: `Create the group "${plan.groupName}" on the cluster`,
    explain: 'The group is created with the configuration just shown; the API keys go to the cluster inside it and nowhere else. The cluster is first searched for the group by name, so a resumed ceremony never creates a second one.',
    witnessItems: ['The group was created once, with the configuration shown'],
  },
  skip: alreadyLinked,
  intent: (ctx) => {
    const g = ctx.get(linkRefs.groupConfig)
    return { name: g.planned.name, description: g.planned.description ?? '', configDigest: g.configDigest }
  },
  async look(ctx, earlier) {
    const found = await (await clusterSession(ctx)).groups.findByName(earlier.name)
    if (!found) return null
    const planned = ctx.get(linkRefs.groupConfig).planned
    if (groupDifferences(found, planned, true).length > 0) {
      throw new CeremonyError('GROUP_NAME_IN_USE', `A group named "${earlier.name}" is on the cluster, but it is not the one this ceremony set out to create (${groupDifferences(found, planned, true).join('; ')}). It was not used.`)
    }
    ctx.note(`found the group "${earlier.name}" created before the interruption (${found.group_id}), with this ceremony's nonce and exactly the configuration shown; adopted`)
    return createdAsPlanned(planned, found)
  },
  async act(ctx, intent) {
    const admin = await clusterSession(ctx)
    if (await admin.groups.findByName(intent.name)) throw new CeremonyError('GROUP_NAME_IN_USE', `A group named "${intent.name}" appeared on the cluster after the preflight; this ceremony did not create it. It was not used.`)
    const planned = ctx.get(linkRefs.groupConfig).planned
    if (groupDigest(ctx.plan, planned) !== intent.configDigest) throw new CeremonyError('CONFIG_CHANGED', 'The configuration is not the one shown and confirmed')
    const certs = await certificatesOnMedia(ctx)
    const configs = planned.configs.map((c) => {
      const real = materialize(c, certs, (id) => ctx.apiKey(id))
      if (!sentAsPlanned(real, c)) throw new CeremonyError('CONFIG_CHANGED', `The configuration for ${c.url} is not the one shown and confirmed`)
      return real
    })
    try {
      const created = await admin.groups.create({
        name: intent.name, description: intent.description, add_hmg: configs,
        ...(planned.redundancy ? { hmg_redundancy: planned.redundancy } : {}),
        ...(planned.wrappingKeyName ? { wrapping_key_name: planned.wrappingKeyName } : {}),
      })
      return createdAsPlanned(planned, created)
    } catch (err) {
      if (err instanceof ConflictError) throw new CeremonyError('GROUP_NAME_IN_USE', `The cluster already has a group named "${intent.name}"; this ceremony did not create it`)
      throw err
    }
  },
  verify() {},
  evidence: (r, ctx) => ({
    items: [...item('Group', `${r.name} (${r.groupId})`), ...Object.entries(r.configIds).map(([ref, id]) => ({ label: `Config for ${ref === LB_REF ? 'the load balancer' : ctx.label(ref)}`, value: id, format: 'text' as const }))],
    comparisons: [],
  }),
})

export const testGroup = (plan: LinkClusterPlan) => defineStep<TestGroupResult, { groupId: string }, LinkClusterPlan>({
  id: linkIds.testGroup, name: 'test-group', group: 'link', appliances: plan.fips, interaction: 'run', confirmation: null, result: TestGroupResult,
  text: {
    where: plan.cluster.label,
    title: `Test the saved group "${plan.groupName}"`,
    explain: 'The cluster tests the group as saved: every connection at once, then each one on its own, reaching the FIPS appliances with the API keys it holds and finding the CMK on each.',
    witnessItems: ['Every connection of the saved group passed the cluster\'s test'],
  },
  intent: (ctx) => ({ groupId: linkedGroup(ctx).groupId }),
  look: async () => null, // a test changes nothing
  async act(ctx, intent) {
    const admin = await clusterSession(ctx)
    const refuse = (what: string) => (err: unknown) => Promise.reject(hmgRefusal(err, what))
    await admin.groups.checkHmg(intent.groupId).catch(refuse(`the test of "${ctx.plan.groupName}"`))
    const group = await admin.groups.get(intent.groupId)
    const configs = []
    for (const [ref, id] of Object.entries(linkedGroup(ctx).configIds)) {
      await admin.groups.checkHmg(intent.groupId, { id }).catch(refuse(`the test of ${ref}'s connection`))
      configs.push({ ref, id, url: group.hmg?.[id]?.url ?? '' })
    }
    return { groupId: intent.groupId, configs, passed: true as const }
  },
  verify() {},
  evidence: (r, ctx) => ({
    items: [...item('Group', r.groupId), ...r.configs.map((c) => ({ label: `${c.ref === LB_REF ? 'The load balancer' : ctx.label(c.ref)} (${c.url})`, value: 'passed the cluster\'s test', format: 'text' as const }))],
    comparisons: [],
  }),
})

/**
 * Step 0 (design §3): every appliance is checked before anything changes — version, clock, the quorum
 * group and its policy, the CMK on the source, the CMK on each target (absent, or the same KCV:
 * already replicated), and an inventory of every appliance (names and types only). Read-only.
 */
import { groupQuorum, type Sobject } from '../../../dsm'
import { CeremonyError } from '../../../errors'
import { adoptKey, createOnce, sameKcv } from '../../adopt'
import { readEach } from '../../each-appliance'
import { isMultiSite, stationOfAppliance } from '../../stations'
import { defineStep, item, type StepContext } from '../../step'
import type { ReplicateCmkPlan } from './plan'
import { CmkFacts, PreflightResult, ids, refs, type ApplianceFacts, type InventoryItem } from './results'

type Ctx = StepContext<ReplicateCmkPlan>

const MAX_CLOCK_SKEW_SECONDS = 300
export const CMK_KEY_OPS = ['ENCRYPT', 'DECRYPT', 'WRAPKEY', 'UNWRAPKEY', 'DERIVEKEY', 'MACGENERATE', 'MACVERIFY', 'EXPORT', 'APPMANAGEABLE']

function checkCmk(ctx: Ctx, cmk: Sobject, where: string): void {
  const name = ctx.plan.cmk.name
  if (cmk.obj_type !== 'AES' || cmk.key_size !== 256) throw new CeremonyError('CMK_WRONG_TYPE', `The key "${name}" on ${ctx.label(where)} is ${cmk.obj_type}-${cmk.key_size ?? '?'}, not AES-256`)
  if (!cmk.key_ops.includes('EXPORT')) throw new CeremonyError('CMK_NOT_EXPORTABLE', `The key "${name}" on ${ctx.label(where)} does not allow EXPORT`)
  if (!cmk.kcv) throw new CeremonyError('CMK_WRONG_TYPE', `The key "${name}" on ${ctx.label(where)} reports no KCV`)
}

/**
 * The preflight that checked `applianceId`: the one preflight of a single station, or, across
 * sites, that appliance's station's own (carried to the other stations in the hand-off evidence).
 */
export function preflightOf(ctx: Ctx, applianceId: string): PreflightResult {
  return isMultiSite(ctx.plan) ? ctx.get(refs.stationPreflight(stationOfAppliance(ctx.plan, applianceId).id)) : ctx.get(refs.preflight)
}

/** The CMK on the source: the one preflight found, or the one this ceremony created. */
export function sourceCmk(ctx: Ctx): CmkFacts {
  const cmk = ctx.find(refs.createCmk) ?? preflightOf(ctx, ctx.plan.source).cmk
  if (!cmk) throw new CeremonyError('JOURNAL_INCOMPLETE', 'The CMK on the source is not known yet')
  return cmk
}

export const applianceFacts = (ctx: Ctx, id: string): ApplianceFacts => {
  const facts = preflightOf(ctx, id).appliances[id]
  if (!facts) throw new CeremonyError('JOURNAL_INCOMPLETE', `The preflight has no facts for ${id}`)
  return facts
}

async function inspect(ctx: Ctx, id: string, approvals: boolean): Promise<{ facts: ApplianceFacts; inventory: InventoryItem[] }> {
  const app = await ctx.app(id)
  const version = await app.connection.version()
  const skewSeconds = version.skewMs === undefined ? null : Math.round(version.skewMs / 1000)
  if (skewSeconds !== null && Math.abs(skewSeconds) > MAX_CLOCK_SKEW_SECONDS) {
    throw new CeremonyError('CLOCK_SKEW', `${ctx.label(id)}'s clock differs from this workstation's by ${skewSeconds} s (more than ${MAX_CLOCK_SKEW_SECONDS} s)`)
  }
  const group = await app.groups.findByName(ctx.plan.groupName)
  if (!group) throw new CeremonyError('GROUP_MISSING', `${ctx.label(id)} has no group named "${ctx.plan.groupName}"`)
  const quorum = groupQuorum(group)
  if (!quorum || quorum.n < 1) throw new CeremonyError('NO_QUORUM_POLICY', `The group "${ctx.plan.groupName}" on ${ctx.label(id)} has no quorum approval policy`)
  const named = ctx.plan.participants.custodians[id] ?? []
  if (approvals && named.length < quorum.n) {
    throw new CeremonyError('QUORUM_UNREACHABLE', `${ctx.label(id)} needs ${quorum.n} approvals, but the plan names ${named.length} custodian(s) for it`)
  }
  const facts = { version: version.version, skewSeconds, groupId: group.group_id, acctId: group.acct_id, quorumN: quorum.n, quorumOf: quorum.members.length, approveWithLogin: quorum.require_password === true }
  const inventory = (await app.keys.list()).map((o) => ({ kid: o.kid, name: o.name ?? '', type: o.obj_type }))
  return { facts, inventory }
}

/**
 * The checks of step 0 on some of the plan's appliances: all of them, or the ones one station
 * reaches. Each appliance is read concurrently (it only reads: each-appliance.ts); the answers are
 * judged in the plan's order, so the same problem is named first as when asked one by one.
 */
export async function preflightOn(ctx: Ctx, reached: string[]): Promise<PreflightResult> {
  const appliances: PreflightResult['appliances'] = {}
  const inventory: PreflightResult['inventory'] = {}
  const approving = new Set([ctx.plan.source, ...ctx.plan.targets])
  const ids = ctx.plan.appliances.filter((x) => reached.includes(x.id)).map((a) => a.id)
  const seen = await readEach(ids, (id) => inspect(ctx, id, approving.has(id)))
  ids.forEach((id, i) => {
    appliances[id] = seen[i]!.facts
    inventory[id] = seen[i]!.inventory
  })
  // The CMK by name on the source and on every target, read at once, then judged source first.
  const source = reached.includes(ctx.plan.source) ? [ctx.plan.source] : []
  const targets = ctx.plan.targets.filter((t) => reached.includes(t))
  let cmk: CmkFacts | null = null
  const replicated: string[] = []
  await readEach([...source, ...targets], async (id) => (await ctx.app(id)).keys.findByName(ctx.plan.cmk.name), (found, id) => {
    if (id === ctx.plan.source) {
      if (!found && !ctx.plan.cmk.create) throw new CeremonyError('CMK_MISSING', `${ctx.label(id)} has no key named "${ctx.plan.cmk.name}"`)
      if (found) checkCmk(ctx, found, id)
      cmk = found ? { kid: found.kid, kcv: found.kcv!, keyOps: found.key_ops } : null
      return
    }
    if (!found) return
    if (source.length === 0) {
      // Across sites the source's KCV is not known here yet, and the transfer key would be made first.
      throw new CeremonyError('CMK_CONFLICT', `${ctx.label(id)} already has a key named "${ctx.plan.cmk.name}" (KCV ${found.kcv ?? 'none'}). Across sites it cannot be compared with the source's before the transfer begins: compare the KCVs separately and take this target out of the plan, or delete the key with the administrators.`)
    }
    const held: CmkFacts | null = cmk
    if (!held || !sameKcv(found.kcv, held.kcv)) {
      throw new CeremonyError('CMK_CONFLICT', `${ctx.label(id)} already has a key named "${ctx.plan.cmk.name}" with a different KCV (${found.kcv ?? 'none'})`)
    }
    replicated.push(id)
    ctx.note(`${ctx.label(id)} already holds the CMK with KCV ${held.kcv}; its steps are skipped`)
  })
  return { appliances, inventory, cmk, replicated }
}

export const preflight = (plan: ReplicateCmkPlan) => defineStep<PreflightResult, Record<string, never>, ReplicateCmkPlan>({
  id: ids.preflight, name: 'preflight', group: null, appliances: plan.appliances.map((a) => a.id), interaction: 'run', confirmation: null, result: PreflightResult,
  text: {
    where: 'all appliances',
    title: 'Check every appliance before anything changes',
    explain: `Signs in to each appliance with its API key, reads its version and clock, checks the quorum group "${plan.groupName}" and its approval policy, checks the Cluster Master Key on the source (AES-256, exportable), checks it is not already on a target with a different KCV, and takes an inventory of every appliance (names and types only).`,
    witnessItems: ['Appliance versions and clocks were read', `The quorum policy on "${plan.groupName}" is in place`, 'The CMK KCV on the source was read aloud'],
  },
  intent: () => ({}),
  look: async () => null, // reads only: running it again is the way to look
  act: (ctx) => preflightOn(ctx, ctx.plan.appliances.map((a) => a.id)),
  verify() {},
  evidence: (r, ctx) => ({
    items: [
      ...Object.entries(r.appliances).flatMap(([id, a]) => item(`${ctx.label(id)}: version, clock difference, quorum`, `${a.version}; ${a.skewSeconds ?? '?'} s; ${a.quorumN} of ${a.quorumOf}`)),
      ...item('CMK KCV on the source', r.cmk?.kcv, 'kcv'),
      ...item('Already replicated (skipped)', r.replicated.map((t) => ctx.label(t)).join(', ')),
    ],
    comparisons: [],
  }),
})

type CmkIntent = { name: string; obj_type: 'AES'; key_size: number; key_ops: string[]; group_id: string }

/** Step 1, first ceremony only: the CMK is created on the source, in the quorum group. */
export const createCmk = (plan: ReplicateCmkPlan) => defineStep<CmkFacts, CmkIntent, ReplicateCmkPlan>({
  id: ids.createCmk, name: 'create-cmk', group: null, appliances: [plan.source], interaction: 'run', result: CmkFacts,
  confirmation: { prompt: 'Type the last 4 characters of the plan digest to create the Cluster Master Key', label: 'Plan digest', value: (ctx) => ctx.planDigest },
  text: {
    where: plan.appliances.find((a) => a.id === plan.source)!.label,
    title: 'Create the Cluster Master Key on the source',
    explain: `The first ceremony creates the CMK "${plan.cmk.name}": AES-256, exportable only through a quorum approval, in the group "${plan.groupName}".`,
    witnessItems: ['The CMK was created once, in the quorum group', 'Its KCV was read aloud and written down'],
  },
  skip: (ctx) => (preflightOf(ctx, ctx.plan.source).cmk ? 'the CMK already exists on the source' : null),
  intent: (ctx) => ({ name: ctx.plan.cmk.name, obj_type: 'AES', key_size: 256, key_ops: CMK_KEY_OPS, group_id: applianceFacts(ctx, ctx.plan.source).groupId }),
  async look(ctx, earlier) {
    const key = await adoptKey(await ctx.app(ctx.plan.source), earlier, ctx.label(ctx.plan.source), ctx.note)
    return key ? { kid: key.kid, kcv: key.kcv ?? '', keyOps: key.key_ops } : null
  },
  async act(ctx, intent) {
    const source = await ctx.app(ctx.plan.source)
    const key = await createOnce(() => source.keys.generate({ ...intent, obj_type: 'AES', key_ops: intent.key_ops as never, description: `Cluster Master Key, created by ceremony ${ctx.plan.id}` }), intent.name, ctx.label(ctx.plan.source))
    return { kid: key.kid, kcv: key.kcv ?? '', keyOps: key.key_ops }
  },
  verify(ctx, r) {
    if (!r.kcv || !r.keyOps.includes('EXPORT')) throw new CeremonyError('CMK_WRONG_TYPE', `The key created on ${ctx.label(ctx.plan.source)} has no KCV or cannot be exported`)
  },
  evidence: (r) => ({ items: [...item('CMK kid', r.kid), ...item('CMK KCV', r.kcv, 'kcv')], comparisons: [] }),
})

/** The quorum on an appliance as the preflight read it, for the approval steps. */
export function quorumOn(ctx: Ctx, id: string): { n: number; of: number; requirePassword: boolean; acctId: string } {
  const facts = applianceFacts(ctx, id)
  return { n: facts.quorumN, of: facts.quorumOf, requirePassword: facts.approveWithLogin, acctId: facts.acctId }
}

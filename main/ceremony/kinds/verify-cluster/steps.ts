/**
 * Proving a FIPS-backed group works (guide §3.3), as `verify-cluster` and as the last phase of
 * `link-cluster`: a test key generated in the group (made inside a FIPS appliance, kept by the
 * cluster only as a virtual key), the published test message encrypted and decrypted with it, the
 * key kept as the group's recovery canary, and the failover drill: the first FIPS appliance taken
 * down (by the simulator in a rehearsal, by the operator in production), the canary decrypted again
 * through the others, the appliance brought back and the group tested whole.
 */
import { createHash } from 'node:crypto'
import type { Sobject, UserSession } from '../../../dsm'
import { CeremonyError } from '../../../errors'
import { createOnce, nameInUse } from '../../adopt'
import { CANARY_MESSAGE, canaryNameOf, type ClusterPlan } from '../../cluster-plan'
import { clusterSession, hmgRefusal, inGroup, isDown, probe } from '../../cluster-steps'
import { applianceOf, labelOf } from '../../plan-envelope'
import { defineStep, item, type AnyStep, type StepContext } from '../../step'
import { CanaryCryptoResult, CanaryKeyResult, FailoverDrillResult, FailoverRestoreResult, verifyIds, verifyRefs } from './results'

type Ctx = StepContext<ClusterPlan>
export interface GroupRef { groupId: string; name: string }

/** What a virtual key of a FIPS-backed group can do (the FIPS appliance does the work). */
export const CANARY_OPS = ['ENCRYPT', 'DECRYPT', 'APPMANAGEABLE']
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')
/** How long a reconnected appliance gets to answer before the restore step says it is not back. */
const BACK_WITHIN_MS = 15_000

type CanaryIntent = { name: string; obj_type: 'AES'; key_size: number; key_ops: string[]; group_id: string }

function canaryOf(key: Sobject): CanaryKeyResult {
  return {
    kid: key.kid, name: key.name ?? '', groupId: key.group_id ?? '', origin: key.origin, hsmGroupId: key.external?.hsm_group_id ?? '',
    cachedOnCluster: key.virtual_key_info?.cached_key_material ?? null, kcv: key.kcv ?? null,
  }
}

/** What differs between a key found under the canary's name and the canary this attempt intended. */
function canaryDifferences(found: Sobject, intent: CanaryIntent, admin: UserSession): string[] {
  const diffs: string[] = []
  if (found.obj_type !== 'AES' || found.key_size !== intent.key_size) diffs.push(`type ${found.obj_type}-${found.key_size ?? '?'}`)
  if ([...found.key_ops].sort().join() !== [...intent.key_ops].sort().join()) diffs.push(`key operations ${found.key_ops.join(',')}`)
  if (found.group_id !== intent.group_id) diffs.push('group')
  const creator = typeof found.creator === 'object' ? found.creator['user'] : undefined
  if (creator !== admin.entityId) diffs.push('creator (not this ceremony\'s administrator)')
  return diffs
}

async function decryptCanary(ctx: Ctx, canary: CanaryCryptoResult): Promise<boolean> {
  const admin = await clusterSession(ctx)
  const plain = await inGroup(ctx.plan.groupName, () => admin.crypto.decrypt({
    key: { kid: canary.kid }, mode: 'GCM', cipher: Buffer.from(canary.cipher, 'base64'), iv: Buffer.from(canary.iv, 'base64'), tag: Buffer.from(canary.tag, 'base64'),
  }))
  return plain.toString('utf8') === CANARY_MESSAGE
}

export function verifySteps(plan: ClusterPlan, groupOf: (ctx: Ctx) => GroupRef): AnyStep[] {
  const where = `${plan.cluster.label}, group "${plan.groupName}"`
  const canaryName = canaryNameOf(plan)
  const first = plan.fips[0]!
  const firstLabel = labelOf(plan, first)

  const canaryKey = defineStep<CanaryKeyResult, CanaryIntent, ClusterPlan>({
    id: verifyIds.canaryKey, name: 'canary-key', group: 'verify', appliances: plan.fips, interaction: 'run', confirmation: null, result: CanaryKeyResult,
    text: {
      where,
      title: 'Generate the recovery canary in the FIPS-backed group',
      explain: `An AES-256 key named "${canaryName}" is generated in "${plan.groupName}". The cluster has a FIPS appliance make it, wrap it under the CMK and hand back only the wrapped key, which the cluster keeps as a virtual key of the group. The key stays there as the group's recovery canary.`,
      witnessItems: ['The new key is a virtual key of this group (its material is held by the FIPS appliances)', 'Its name and key id were read aloud'],
    },
    intent: (ctx) => ({ name: canaryName, obj_type: 'AES', key_size: 256, key_ops: CANARY_OPS, group_id: groupOf(ctx).groupId }),
    async look(ctx, earlier) {
      const admin = await clusterSession(ctx)
      const found = await admin.keys.findByName(earlier.name)
      if (!found) return null
      const diffs = canaryDifferences(found, earlier, admin)
      if (diffs.length > 0) throw nameInUse(earlier.name, ctx.plan.cluster.label, `it is not the canary this ceremony set out to make (${diffs.join('; ')})`)
      ctx.note(`found the canary "${earlier.name}" made before the interruption (kid ${found.kid}), exactly as intended; adopted`)
      return canaryOf(found)
    },
    async act(ctx, intent) {
      const admin = await clusterSession(ctx)
      const key = await inGroup(ctx.plan.groupName, () => createOnce(() => admin.keys.generate({
        name: intent.name, obj_type: 'AES', key_size: intent.key_size, key_ops: intent.key_ops as never, group_id: intent.group_id,
        description: `Recovery canary of "${ctx.plan.groupName}", made by ceremony ${ctx.plan.id}; keep it: later ceremonies decrypt its test ciphertext`,
      }), intent.name, ctx.plan.cluster.label))
      return canaryOf(key)
    },
    verify(ctx, r) {
      const group = groupOf(ctx).groupId
      if (r.groupId !== group || r.hsmGroupId !== group) {
        throw new CeremonyError('CANARY_NOT_VIRTUAL', `The key "${r.name}" is not a virtual key of "${ctx.plan.groupName}" (its group ${r.groupId || 'none'}, its HSM group ${r.hsmGroupId || 'none'})`)
      }
    },
    evidence: (r) => ({
      items: [
        ...item('Canary', r.name), ...item('Key id', r.kid), ...item('Origin', r.origin),
        ...item('Key material held by', `the FIPS appliances of group ${r.hsmGroupId} (a virtual key)`),
        ...item('Key material cached on the cluster', r.cachedOnCluster === null ? null : r.cachedOnCluster ? 'yes, wrapped under the CMK' : 'no'),
        ...item('KCV', r.kcv, 'kcv'),
      ],
      comparisons: [],
    }),
  })

  const canaryCrypto = defineStep<CanaryCryptoResult, { kid: string; messageSha256: string }, ClusterPlan>({
    id: verifyIds.canaryCrypto, name: 'canary-crypto', group: 'verify', appliances: plan.fips, interaction: 'run', confirmation: null, result: CanaryCryptoResult,
    text: {
      where,
      title: 'Encrypt and decrypt the published test message with the canary',
      explain: `The published test message ("${CANARY_MESSAGE}") is encrypted with the canary (AES-GCM) and decrypted again, each time inside a FIPS appliance of the group. The ciphertext is kept in the record: a later ceremony proves recovery by decrypting it.`,
      witnessItems: ['Decryption gave back the test message (MATCH)', 'The ciphertext digest was read aloud'],
    },
    intent: (ctx) => ({ kid: ctx.get(verifyRefs.canaryKey).kid, messageSha256: sha256(CANARY_MESSAGE) }),
    look: async () => null, // encrypting again changes nothing on the cluster
    async act(ctx, intent) {
      const admin = await clusterSession(ctx)
      const sealed = await inGroup(ctx.plan.groupName, () => admin.crypto.encrypt({ key: { kid: intent.kid }, mode: 'GCM', plain: Buffer.from(CANARY_MESSAGE, 'utf8') }))
      if (!sealed.iv || !sealed.tag) throw new CeremonyError('CANARY_MISMATCH', 'The cluster returned no IV or tag for the GCM encryption')
      const result = { kid: intent.kid, mode: 'GCM' as const, messageSha256: intent.messageSha256, cipher: sealed.cipher.toString('base64'), iv: sealed.iv.toString('base64'), tag: sealed.tag.toString('base64'), cipherSha256: sha256(sealed.cipher), match: true as const }
      if (!(await decryptCanary(ctx, result))) throw new CeremonyError('CANARY_MISMATCH', 'Decrypting the canary\'s ciphertext did not give back the test message')
      return result
    },
    verify() {},
    evidence: (r) => ({
      items: [...item('Test message SHA-256', r.messageSha256, 'digest'), ...item('Ciphertext SHA-256', r.cipherSha256, 'digest'), ...item('Decrypted message', 'MATCH: the published test message')],
      comparisons: [],
    }),
  })

  const drill = defineStep<FailoverDrillResult, { appliance: string; how: string }, ClusterPlan>({
    id: verifyIds.failoverDrill, name: 'failover-drill', group: 'verify', appliances: [first], interaction: 'run', confirmation: null, result: FailoverDrillResult,
    text: {
      where: `${firstLabel}, ${plan.cluster.label}`,
      title: `Failover drill: take ${firstLabel} down and decrypt the canary again`,
      explain: plan.mode === 'rehearsal'
        ? `The simulator takes ${firstLabel} (first in priority) down. This workstation confirms it no longer answers, and the canary's ciphertext is decrypted again through the group: another FIPS appliance does it.`
        : `Disconnect ${firstLabel} (first in priority) from the network now, then run this step. This workstation confirms it no longer answers, and the canary's ciphertext is decrypted again through the group: another FIPS appliance does it. To leave the drill out, record an exception at this step saying why, then run it.`,
      witnessItems: [`${firstLabel} did not answer`, 'The canary still decrypted (MATCH)'],
    },
    skip: (ctx) => (ctx.plan.failoverDrill ? null : 'the plan leaves the failover drill out (failoverDrill: false)'),
    intent: (ctx) => ({ appliance: first, how: ctx.outage ? ctx.outage.how : 'the operator disconnected it' }),
    look: async () => null, // taking down is idempotent; the drill runs again from the start
    async act(ctx, intent) {
      if (ctx.outage) await ctx.outage.takeDown(intent.appliance)
      const seen = await probe(applianceOf(ctx.plan, intent.appliance))
      if (!isDown(seen)) {
        if (seen.code) throw new CeremonyError(seen.code, `${firstLabel} answered unexpectedly (${seen.code}); the drill was not run`)
        const exception = ctx.outage ? undefined : ctx.exceptionsHere().at(-1)
        if (!exception) throw new CeremonyError(ctx.outage ? 'OUTAGE_UNAVAILABLE' : 'FAILOVER_DRILL_NOT_READY', `${firstLabel} still answers this workstation`)
        ctx.note(`the failover drill was left out with the exception recorded at entry ${exception.seq}`)
        return { appliance: intent.appliance, performed: false, how: 'left out', workstationSaw: null, decryptMatch: null, acceptedWithException: exception.seq }
      }
      const match = await decryptCanary(ctx, ctx.get(verifyRefs.canaryCrypto))
      if (!match) throw new CeremonyError('CANARY_MISMATCH', `With ${firstLabel} down, decrypting the canary did not give back the test message`)
      return { appliance: intent.appliance, performed: true, how: intent.how, workstationSaw: seen.code, decryptMatch: true, acceptedWithException: null }
    },
    verify() {},
    evidence: (r, ctx) => ({
      items: r.performed
        ? [...item('Taken down', `${ctx.label(r.appliance)}: ${r.how}`), ...item('This workstation saw', r.workstationSaw), ...item('Canary decrypted through the group', 'MATCH')]
        : [...item('Failover drill', 'left out'), ...item('With the exception at log entry', r.acceptedWithException)],
      comparisons: [],
    }),
  })

  const restore = defineStep<FailoverRestoreResult, { appliance: string }, ClusterPlan>({
    id: verifyIds.failoverRestore, name: 'failover-restore', group: 'verify', appliances: [first], interaction: 'run', confirmation: null, result: FailoverRestoreResult,
    text: {
      where: `${firstLabel}, ${plan.cluster.label}`,
      title: `Bring ${firstLabel} back and test the whole group`,
      explain: plan.mode === 'rehearsal'
        ? `The simulator brings ${firstLabel} back. This workstation waits until it answers, then the cluster tests every connection of the group.`
        : `Reconnect ${firstLabel}, then run this step. This workstation waits until it answers, then the cluster tests every connection of the group.`,
      witnessItems: [`${firstLabel} answers again`, 'The cluster\'s test of the whole group passed'],
    },
    skip: (ctx) => {
      if (!ctx.plan.failoverDrill) return 'the plan leaves the failover drill out (failoverDrill: false)'
      return ctx.get(verifyRefs.failoverDrill).performed ? null : 'the failover drill was left out, so nothing was taken down'
    },
    intent: () => ({ appliance: first }),
    look: async () => null, // bringing back and testing are idempotent
    async act(ctx, intent) {
      if (ctx.outage) await ctx.outage.bringBack(intent.appliance)
      const appliance = applianceOf(ctx.plan, intent.appliance)
      // A simulator needs a moment to listen again; an operator runs the step once it is reconnected.
      const deadline = Date.now() + (ctx.outage ? BACK_WITHIN_MS : 0)
      let seen = await probe(appliance)
      while (!seen.reachable && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250))
        seen = await probe(appliance)
      }
      if (!seen.reachable) throw new CeremonyError('FAILOVER_RESTORE_NOT_READY', `${firstLabel} does not answer yet (${seen.code ?? 'no answer'})`)
      const admin = await clusterSession(ctx)
      await admin.groups.checkHmg(groupOf(ctx).groupId).catch((err: unknown) => Promise.reject(hmgRefusal(err, `the test of "${ctx.plan.groupName}"`)))
      return { appliance: intent.appliance, reachable: true as const, groupChecked: true as const }
    },
    verify() {},
    evidence: (r, ctx) => ({ items: [...item('Answers again', ctx.label(r.appliance)), ...item('The cluster\'s test of every connection of the group', 'passed')], comparisons: [] }),
  })

  return [canaryKey, canaryCrypto, drill, restore]
}

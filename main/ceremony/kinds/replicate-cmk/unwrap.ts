/**
 * Steps 8–11 (design §3): the wrapped file is checked before it goes near the target (digest as
 * journaled, manifest as written, the transfer key live on the target), the target's custodians
 * approve the import, and the new key's KCV must equal the source's — else the ceremony stops.
 */
import { createHash } from 'node:crypto'
import type { ApprovalRequest } from '../../../dsm'
import { CeremonyError, errorCode } from '../../../errors'
import { publicKeyDerFromBase64, spkiSha256 } from '../../../keys'
import { approvalSteps, fetchResult } from '../../approval'
import { keyDifferences, sameKcv } from '../../adopt'
import { defineStep, item, type ApprovalFacts, type StepContext } from '../../step'
import type { ReplicateCmkPlan } from './plan'
import { applianceFacts, quorumOn, sourceCmk } from './preflight'
import { LoadResult, UnwrapResult, ids, refs } from './results'
import { transferFingerprint } from './transfer-key'
import { readWrappedBlob } from './blob-check'
import { MANIFEST_MAX_BYTES, oaepMode, paddingText } from './wrap'

type Ctx = StepContext<ReplicateCmkPlan>

async function readManifest(ctx: Ctx, t: string): Promise<Record<string, unknown>> {
  const written = ctx.get(refs.wrapResult(t))
  if (!ctx.media.exists(written.manifest)) throw new CeremonyError('MANIFEST_MISMATCH', `The manifest for ${ctx.label(t)} is missing from the media`)
  const data = await ctx.media.read(written.manifest, written.manifestSha256, MANIFEST_MAX_BYTES).catch((err: unknown) => {
    if (errorCode(err, '') === 'DIGEST_MISMATCH') throw new CeremonyError('MANIFEST_MISMATCH', `The manifest for ${ctx.label(t)} on the media is not the one written`)
    throw err
  })
  return JSON.parse(data.toString('utf8')) as Record<string, unknown>
}

/** The wrapped key as written and checked, read from the media again (it is never journaled). */
async function checkedBlob(ctx: Ctx, t: string, sha256: string): Promise<Buffer> {
  return readWrappedBlob(ctx, t, ctx.get(refs.wrapResult(t)).file, sha256)
}

export const loadBlob = (plan: ReplicateCmkPlan, t: string, label: (id: string) => string) => defineStep<LoadResult, { file: string; sha256: string }, ReplicateCmkPlan>({
  id: ids.loadBlob(t), name: 'load-blob', group: t, appliances: [t], interaction: 'run', confirmation: null, result: LoadResult,
  text: {
    where: `media → ${label(t)}`,
    title: `Check the wrapped file before loading it on ${label(t)}`,
    explain: `The file's digest must equal the one recorded when it was written, the manifest must be the one written, and its transfer-key fingerprint must be the key that exists on ${label(t)} right now.`,
    witnessItems: ['The digest matches the manifest', `The manifest's fingerprint matches ${label(t)}'s transfer key`],
  },
  intent: (ctx) => ({ file: ctx.get(refs.wrapResult(t)).file, sha256: ctx.get(refs.wrapResult(t)).sha256 }),
  look: async () => null, // reads and compares only
  async act(ctx, intent) {
    const manifest = await readManifest(ctx, t)
    if (manifest['blobSha256'] !== intent.sha256 || manifest['ceremonyId'] !== ctx.plan.id || manifest['target'] !== t) {
      throw new CeremonyError('MANIFEST_MISMATCH', 'The manifest is for another ceremony, target or file')
    }
    const blob = await checkedBlob(ctx, t, intent.sha256)
    // The key that will unwrap it must be the one on the target right now, not just the one we remember.
    const onTarget = await (await ctx.app(t)).keys.get(ctx.get(refs.transferKey(t)).kid)
    const live = onTarget.pub_key ? spkiSha256(publicKeyDerFromBase64(onTarget.pub_key)) : '0'.repeat(64)
    return { sha256: intent.sha256, manifestFingerprint: String(manifest['transferKeyFingerprint']), liveFingerprint: live, wrappedKeyBytes: blob.length }
  },
  verify(ctx, r) {
    if (r.manifestFingerprint !== r.liveFingerprint || r.liveFingerprint !== transferFingerprint(ctx, t)) {
      throw new CeremonyError('TRANSFER_KEY_CHANGED', `The manifest's transfer-key fingerprint does not match the key on ${ctx.label(t)}`)
    }
  },
  evidence: (r, ctx) => ({
    items: [...item('File SHA-256 (as recorded when written)', r.sha256, 'digest')],
    comparisons: [{ label: "The manifest's transfer key vs the key on the target now", format: 'fingerprint', left: { label: 'Manifest', value: r.manifestFingerprint }, right: { label: `On ${ctx.label(t)}`, value: r.liveFingerprint }, match: r.manifestFingerprint === r.liveFingerprint }],
  }),
})

async function describeUnwrap(ctx: Ctx, t: string, request: ApprovalRequest): Promise<ApprovalFacts> {
  const body = (request.body ?? {}) as Record<string, unknown>
  const kid = (body['key'] as { kid?: unknown } | undefined)?.kid
  const unwrapping = typeof kid === 'string' ? await (await ctx.app(t)).keys.get(kid).catch(() => null) : null
  const fingerprint = unwrapping?.pub_key ? spkiSha256(publicKeyDerFromBase64(unwrapping.pub_key)) : null
  const wrapped = typeof body['wrapped_key'] === 'string' ? Buffer.from(body['wrapped_key'], 'base64') : Buffer.alloc(0)
  const wrappedSha = createHash('sha256').update(wrapped).digest('hex')
  const checked = ctx.get(refs.loadBlob(t)).sha256
  return {
    items: [
      ...item('Operation', `${request.method} ${request.operation}`),
      ...item('On appliance', ctx.label(t)),
      ...item('New key', `${String(body['name'])} (${String(body['obj_type'])}, key operations ${(body['key_ops'] as string[] | undefined)?.join(', ') ?? '?'})`),
      ...item('Unwrapped with', unwrapping ? `${unwrapping.name ?? '?'} (key id ${unwrapping.kid})` : 'not found on the appliance'),
      ...item('Unwrapping key fingerprint (as the appliance holds it)', fingerprint ?? 'none', fingerprint ? 'fingerprint' : 'text'),
      ...item('Wrapped key SHA-256', wrappedSha, 'digest'),
    ],
    checks: [
      { label: `The unwrapping key is the transfer key generated on ${ctx.label(t)} in this ceremony`, ok: fingerprint !== null && fingerprint === transferFingerprint(ctx, t) && unwrapping?.kid === ctx.get(refs.transferKey(t)).kid },
      { label: 'The wrapped key is the file checked in the previous step', ok: wrappedSha === checked },
      { label: `The new key is named "${ctx.plan.cmk.name}" and lands in the quorum group`, ok: body['name'] === ctx.plan.cmk.name && body['group_id'] === applianceFacts(ctx, t).groupId },
      { label: `The padding is ${paddingText(ctx.plan)}`, ok: JSON.stringify(body['mode']) === JSON.stringify(oaepMode(ctx.plan)) },
    ],
  }
}

export const unwrapApproval = (plan: ReplicateCmkPlan, t: string, label: (id: string) => string) => approvalSteps({
  name: 'unwrap',
  ids: { request: ids.unwrapRequest(t), approval: ids.unwrapApproval(t), result: ids.unwrapResult(t) },
  group: t,
  appliance: t,
  text: {
    request: {
      where: label(t),
      title: `Ask ${label(t)}'s custodians to approve the import`,
      explain: `An approval request is opened on ${label(t)} to unwrap the file with its transfer key, creating the Cluster Master Key (AES-256, exportable) in the quorum group.`,
      witnessItems: ['The request unwraps with the transfer key generated in this ceremony'],
    },
    approval: {
      where: label(t),
      title: `Custodians approve the import on ${label(t)}`,
      explain: `Each custodian of ${label(t)} signs in with their own DSM user, checks the request as the appliance holds it, and approves or denies it.`,
      witnessItems: ['The quorum was reached by the named custodians'],
    },
  },
  confirmation: null,
  what: (ctx) => `import the CMK "${plan.cmk.name}" from ${ctx.label(plan.source)}`,
  redact: ['wrapped_key'],
  async build(ctx) {
    const c = ctx as Ctx
    const blob = await checkedBlob(c, t, c.get(refs.loadBlob(t)).sha256)
    return {
      method: 'POST', operation: '/crypto/v1/unwrapkey',
      body: {
        key: { kid: c.get(refs.transferKey(t)).kid }, alg: 'RSA', mode: oaepMode(c.plan) as never, obj_type: 'AES', wrapped_key: blob.toString('base64'),
        name: c.plan.cmk.name, key_ops: sourceCmk(c).keyOps, group_id: applianceFacts(c, t).groupId,
      },
    }
  },
  quorum: (ctx) => quorumOn(ctx as Ctx, t),
  describe: (ctx, request) => describeUnwrap(ctx as Ctx, t, request),
})

export const unwrapResult = (plan: ReplicateCmkPlan, t: string, label: (id: string) => string) => defineStep<UnwrapResult, { requestId: string }, ReplicateCmkPlan>({
  id: ids.unwrapResult(t), name: 'unwrap-result', group: t, appliances: [t], interaction: 'run', confirmation: null, result: UnwrapResult, approvalGroup: ids.unwrapRequest(t),
  text: {
    where: label(t),
    title: `Prove the Cluster Master Key arrived intact on ${label(t)}`,
    explain: `The approved import is fetched. The key check value (KCV) of the new key on ${label(t)} must equal the KCV on ${label(plan.source)}; if not, the ceremony stops.`,
    witnessItems: [`The KCV on ${label(t)} equals the KCV on ${label(plan.source)}, as read aloud`],
  },
  intent: (ctx) => ({ requestId: ctx.get(refs.unwrapRequest(t)).requestId }),
  look: async () => null, // reading the result again is the look
  async act(ctx) {
    const kcvSource = sourceCmk(ctx).kcv
    try {
      const cmk = await fetchResult(ctx, t, refs.unwrapRequest(t), (app, id) => app.approvals.unwrapResult(id))
      return { kid: cmk.kid, kcvTarget: cmk.kcv ?? '', kcvSource, match: true as const }
    } catch (err) {
      if (!['RESULT_LOST', 'OUTCOME_UNKNOWN'].includes(errorCode(err, ''))) throw err
      // The appliance made the key when the quorum was reached; its answer was lost. Find it by name,
      // and adopt it only if it is the key this request made: AES-256, our app, the group, the key ops.
      const app = await ctx.app(t)
      const cmk = await app.keys.findByName(ctx.plan.cmk.name)
      if (!cmk) throw err
      const diffs = keyDifferences(cmk, { name: ctx.plan.cmk.name, obj_type: 'AES', key_size: 256, key_ops: sourceCmk(ctx).keyOps, group_id: applianceFacts(ctx, t).groupId }, app.entityId)
      if (diffs.length > 0) throw new CeremonyError('NAME_IN_USE', `A key named "${ctx.plan.cmk.name}" is on ${ctx.label(t)}, but it is not the one this import made (${diffs.join('; ')})`)
      ctx.note(`the result of the import could not be read again; found the CMK it created by name (kid ${cmk.kid}), made by this ceremony's app in the quorum group`)
      return { kid: cmk.kid, kcvTarget: cmk.kcv ?? '', kcvSource, match: true as const }
    }
  },
  verify(ctx, r) {
    if (!sameKcv(r.kcvTarget, r.kcvSource)) throw new CeremonyError('KCV_MISMATCH', `KCV on ${ctx.label(t)} is ${r.kcvTarget || 'missing'}; on ${ctx.label(ctx.plan.source)} it is ${r.kcvSource}`)
  },
  evidence: (r, ctx) => ({
    items: [...item('CMK kid on the target', r.kid)],
    comparisons: [{ label: 'KCV on the source vs the target', format: 'kcv', left: { label: `On ${ctx.label(ctx.plan.source)}`, value: r.kcvSource }, right: { label: `On ${ctx.label(t)}`, value: r.kcvTarget }, match: sameKcv(r.kcvSource, r.kcvTarget) }],
  }),
})

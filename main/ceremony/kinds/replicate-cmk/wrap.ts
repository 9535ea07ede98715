/**
 * Steps 5–7 (design §3): the source's custodians approve exporting the CMK wrapped under the target's
 * transfer key, and the approved result is written to the media as raw bytes — exactly what
 * `sdkms-cli task-result --out` writes and `unwrap-key --in` reads — with a manifest beside it.
 */
import { rsaOaepMode, type ApprovalRequest } from '../../../dsm'
import { publicKeyDerFromBase64 as derOf, spkiSha256 as fingerprintOf } from '../../../keys'
import { CeremonyError, errorCode } from '../../../errors'
import { approvalSteps, fetchResult } from '../../approval'
import { defineStep, item, type ApprovalFacts, type StepContext } from '../../step'
import type { ReplicateCmkPlan } from './plan'
import { quorumOn, sourceCmk } from './preflight'
import { WrapResult, ids, refs } from './results'
import { transferFingerprint } from './transfer-key'
import { WRAPPED_BYTES, readWrappedBlob } from './blob-check'

type Ctx = StepContext<ReplicateCmkPlan>
const MANIFEST_MAX_BYTES = 16 * 1024

export const blobFile = (plan: ReplicateCmkPlan, t: string) => `${plan.id}-${t}-wrapped_master_key.out`
export const manifestFile = (plan: ReplicateCmkPlan, t: string) => `${plan.id}-${t}-wrapped_master_key.manifest.json`
export const oaepMode = (plan: ReplicateCmkPlan) => rsaOaepMode(plan.wrapMode === 'RSA-OAEP-SHA1' ? 'SHA1' : 'SHA256')
export const paddingText = (plan: ReplicateCmkPlan) => (plan.wrapMode === 'RSA-OAEP-SHA1' ? 'RSA-OAEP, SHA-1 MGF1' : 'RSA-OAEP, SHA-256 MGF1')

/** A key the request names, looked up by kid on the appliance itself; null if it is not there. */
async function keyByKid(ctx: Ctx, appliance: string, descriptor: unknown) {
  const kid = (descriptor as { kid?: unknown } | null)?.kid
  if (typeof kid !== 'string') return null
  return (await ctx.app(appliance)).keys.get(kid).catch(() => null)
}

async function describeWrap(ctx: Ctx, t: string, request: ApprovalRequest): Promise<ApprovalFacts> {
  const body = (request.body ?? {}) as Record<string, unknown>
  const subject = await keyByKid(ctx, ctx.plan.source, body['subject'])
  const wrapping = await keyByKid(ctx, ctx.plan.source, body['key'])
  const fingerprint = wrapping?.pub_key ? fingerprintOf(derOf(wrapping.pub_key)) : null
  const cmk = sourceCmk(ctx)
  return {
    items: [
      ...item('Operation', `${request.method} ${request.operation}`),
      ...item('On appliance', ctx.label(ctx.plan.source)),
      ...item('Key exported', subject ? `${subject.name ?? '?'} (${subject.obj_type}-${subject.key_size ?? '?'}, key id ${subject.kid})` : 'not found on the appliance'),
      ...item('Wrapped under', wrapping ? `${wrapping.name ?? '?'} (key id ${wrapping.kid})` : 'not found on the appliance'),
      ...item('Wrapping key fingerprint (SHA-256 of its public key, as the appliance holds it)', fingerprint ?? 'none', fingerprint ? 'fingerprint' : 'text'),
      ...item('Padding', JSON.stringify(body['mode'] ?? null)),
    ],
    checks: [
      { label: `The key exported is the Cluster Master Key "${ctx.plan.cmk.name}"`, ok: subject?.kid === cmk.kid && subject.name === ctx.plan.cmk.name },
      { label: `The wrapping key is the transfer key generated on ${ctx.label(t)}`, ok: fingerprint !== null && fingerprint === transferFingerprint(ctx, t) },
      { label: `The padding is ${paddingText(ctx.plan)}`, ok: JSON.stringify(body['mode']) === JSON.stringify(oaepMode(ctx.plan)) },
    ],
  }
}

export const wrapApproval = (plan: ReplicateCmkPlan, t: string, label: (id: string) => string) => approvalSteps({
  name: 'wrap',
  ids: { request: ids.wrapRequest(t), approval: ids.wrapApproval(t), result: ids.wrapResult(t) },
  group: t,
  appliance: plan.source,
  text: {
    request: {
      where: label(plan.source),
      title: `Ask ${label(plan.source)}'s custodians to approve the export for ${label(t)}`,
      explain: `An approval request is opened on ${label(plan.source)} to export the Cluster Master Key wrapped under ${label(t)}'s transfer key (${paddingText(plan)}). Nothing is exported until the quorum approves.`,
      witnessItems: ['The request names the Cluster Master Key and the imported transfer key'],
    },
    approval: {
      where: label(plan.source),
      title: `Custodians approve the export on ${label(plan.source)}`,
      explain: `Each custodian signs in with their own DSM user, checks the request as the appliance holds it (the key, and the wrapping key's fingerprint for ${label(t)}), and approves or denies it. The ceremony waits until the quorum is reached.`,
      witnessItems: ['Each approving custodian checked the fingerprint before approving', 'The quorum was reached by the named custodians'],
    },
  },
  confirmation: { prompt: `Type the last 4 characters of ${label(t)}'s transfer-key fingerprint to approve the export`, label: `${label(t)}'s transfer-key fingerprint`, value: (ctx) => transferFingerprint(ctx as Ctx, t) },
  what: (ctx) => `export the CMK "${plan.cmk.name}" wrapped for ${ctx.label(t)}`,
  async build(ctx) {
    const c = ctx as Ctx
    return {
      method: 'POST', operation: '/crypto/v1/wrapkey',
      body: { key: { kid: c.get(refs.importPubkey(t)).kid }, subject: { kid: sourceCmk(c).kid }, alg: 'RSA', mode: oaepMode(c.plan) as never },
    }
  },
  quorum: (ctx) => quorumOn(ctx as Ctx, plan.source),
  describe: (ctx, request) => describeWrap(ctx as Ctx, t, request),
})

function manifestOf(ctx: Ctx, t: string, blob: { sha256: string; bytes: number }): Buffer {
  const cmk = sourceCmk(ctx)
  const manifest = {
    format: 'dsm-key-ceremony/wrapped-key-manifest', version: 2, mode: ctx.plan.mode,
    ceremonyId: ctx.plan.id, planDigest: ctx.planDigest, source: ctx.plan.source, target: t,
    cmkName: ctx.plan.cmk.name, cmkKid: cmk.kid, cmkKcv: cmk.kcv.toLowerCase(),
    transferKeyFingerprint: transferFingerprint(ctx, t), alg: 'RSA', padding: ctx.plan.wrapMode,
    encoding: 'raw', blobSha256: blob.sha256, blobBytes: blob.bytes,
  }
  return Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8')
}

export const wrapResult = (plan: ReplicateCmkPlan, t: string, label: (id: string) => string) => defineStep<WrapResult, { file: string; manifest: string }, ReplicateCmkPlan>({
  id: ids.wrapResult(t), name: 'wrap-result', group: t, appliances: [plan.source], interaction: 'run', confirmation: null, result: WrapResult, approvalGroup: ids.wrapRequest(t),
  text: {
    where: `${label(plan.source)} → media`,
    title: `Write the wrapped Cluster Master Key for ${label(t)}`,
    explain: 'The approved export is fetched and written as raw bytes with a manifest (ceremony, key, KCV, fingerprint, digest), then read back. The file can only be opened by the target\'s transfer key.',
    witnessItems: ['The wrapped file and its manifest were written and read back', 'The blob digest was recorded'],
  },
  intent: (ctx) => ({ file: blobFile(ctx.plan, t), manifest: manifestFile(ctx.plan, t) }),
  look: async () => null, // the files are adopted by the media writes only if they are what this step journaled
  async act(ctx, intent) {
    let blob: Buffer
    try {
      const wrapped = await fetchResult(ctx, ctx.plan.source, refs.wrapRequest(t), (app, id) => app.approvals.wrapResult(id))
      blob = Buffer.from(wrapped.wrapped_key, 'base64')
    } catch (err) {
      // A result given out once, whose digest was journaled before the file was written: the file is it.
      const journaled = ctx.media.journaled(intent.file)
      if (errorCode(err, '') !== 'RESULT_LOST' || !journaled || !ctx.media.exists(intent.file)) throw err
      blob = await readWrappedBlob(ctx, t, intent.file, journaled)
      ctx.note('the appliance gives the result only once; the file written before the interruption has exactly the digest journaled for it; adopted')
    }
    if (blob.length !== WRAPPED_BYTES) throw new CeremonyError('WRAPPED_BLOB_INVALID', `The wrapped key is ${blob.length} bytes; an RSA-2048 transfer key gives ${WRAPPED_BYTES}`)
    // The manifest is written after the blob: a manifest on the media always describes a complete blob.
    const written = await ctx.media.write(intent.file, blob)
    const manifest = await ctx.media.write(intent.manifest, manifestOf(ctx, t, written))
    return { file: written.name, sha256: written.sha256, bytes: written.bytes, manifest: manifest.name, manifestSha256: manifest.sha256 }
  },
  verify() {},
  evidence: (r) => ({ items: [...item('Wrapped key file (raw bytes)', r.file), ...item('Manifest', r.manifest), ...item('Wrapped file SHA-256', r.sha256, 'digest'), ...item('Wrapped key size (bytes)', r.bytes)], comparisons: [] }),
})

export { MANIFEST_MAX_BYTES, WRAPPED_BYTES }

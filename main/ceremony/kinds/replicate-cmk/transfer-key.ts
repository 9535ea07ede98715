/**
 * Steps 2–4 (design §3): the transfer key is generated on the target, its public half is carried on
 * the media, and imported on the source with its fingerprint proved equal three ways — on the
 * target, in the file, and on the source. A different key here would let someone else open the CMK.
 */
import { publicKeyDerFromBase64, spkiDerToPem, spkiSha256, parseTransferPublicKeyPem, KeyFormatError, type TransferPublicKey } from '../../../keys'
import { CeremonyError } from '../../../errors'
import type { Sobject } from '../../../dsm'
import { adoptKey, createOnce, type KeyIntent } from '../../adopt'
import { defineStep, item, type StepContext } from '../../step'
import { transferKeyName, type ReplicateCmkPlan } from './plan'
import { applianceFacts } from './preflight'
import { ExportResult, ImportResult, TransferKeyResult, ids, refs } from './results'

type Ctx = StepContext<ReplicateCmkPlan>
const PEM_MAX_BYTES = 4096
const TARGET_KEY_OPS = ['UNWRAPKEY', 'DECRYPT', 'APPMANAGEABLE']
const IMPORTED_KEY_OPS = ['WRAPKEY', 'ENCRYPT', 'APPMANAGEABLE']

export const pubKeyFile = (plan: ReplicateCmkPlan, t: string) => `${plan.id}-${t}-transfer-key.pub.pem`

function parsePublicKey(pem: string): TransferPublicKey {
  try {
    return parseTransferPublicKeyPem(pem)
  } catch (err) {
    if (err instanceof KeyFormatError) throw new CeremonyError('KEY_REFUSED', `${err.message} (${err.code})`)
    throw err
  }
}

function publicKeyOf(key: Sobject, where: string): TransferPublicKey {
  if (key.obj_type !== 'RSA' || !key.pub_key) throw new CeremonyError('TRANSFER_KEY_CHANGED', `"${key.name ?? key.kid}" on ${where} is not an RSA key pair`)
  return parsePublicKey(spkiDerToPem(publicKeyDerFromBase64(key.pub_key)))
}

/** The transfer key's fingerprint as generated; every later step compares against it. */
export const transferFingerprint = (ctx: Ctx, t: string) => ctx.get(refs.transferKey(t)).fingerprint

export const transferKey = (plan: ReplicateCmkPlan, t: string, label: (id: string) => string) => defineStep<TransferKeyResult, KeyIntent, ReplicateCmkPlan>({
  id: ids.transferKey(t), name: 'transfer-key', group: t, appliances: [t], interaction: 'run', confirmation: null, result: TransferKeyResult,
  text: {
    where: label(t),
    title: `Generate the transfer key on ${label(t)}`,
    explain: `${label(t)} creates a new RSA-2048 key pair. Its private half never leaves ${label(t)}; the public half will carry the Cluster Master Key across, so only ${label(t)} can open it.`,
    witnessItems: [`The transfer key was generated on ${label(t)} (not on ${label(plan.source)})`, 'The key is RSA 2048 with exponent 65537'],
  },
  intent: (ctx) => ({ name: transferKeyName(ctx.plan, t), obj_type: 'RSA', key_size: 2048, key_ops: TARGET_KEY_OPS, group_id: applianceFacts(ctx, t).groupId }),
  async look(ctx, earlier) {
    const key = await adoptKey(await ctx.app(t), earlier, ctx.label(t), ctx.note)
    return key ? resultOf(key, ctx.label(t)) : null
  },
  async act(ctx, intent) {
    const app = await ctx.app(t)
    const key = await createOnce(() => app.keys.generate({
      name: intent.name, obj_type: 'RSA', key_size: 2048, rsa: { key_size: 2048, public_exponent: 65537 }, key_ops: intent.key_ops as never, group_id: intent.group_id,
      description: `Transfer key for ceremony ${ctx.plan.id}; delete after the CMK transfer`,
    }), intent.name, ctx.label(t))
    return resultOf(key, ctx.label(t))
  },
  verify() {}, // resultOf parses the public key strictly: RSA-2048, e=65537, or KEY_REFUSED
  evidence: (r) => ({ items: [...item('Transfer key', r.name), ...item('Key', `RSA ${r.bits}, e=${r.exponent}`), ...item('Transfer-key fingerprint (SPKI SHA-256)', r.fingerprint, 'fingerprint')], comparisons: [] }),
})

function resultOf(key: Sobject, where: string): TransferKeyResult {
  const pub = publicKeyOf(key, where)
  return { kid: key.kid, name: key.name ?? '', fingerprint: pub.fingerprint, bits: pub.modulusBits, exponent: pub.exponent }
}

export const exportPubkey = (plan: ReplicateCmkPlan, t: string, label: (id: string) => string) => defineStep<ExportResult, { file: string; kid: string }, ReplicateCmkPlan>({
  id: ids.exportPubkey(t), name: 'export-pubkey', group: t, appliances: [t], interaction: 'run', confirmation: null, result: ExportResult,
  text: {
    where: `${label(t)} → media`,
    title: `Save the transfer public key from ${label(t)}`,
    explain: 'The public key is written to a file and read back to prove the file is intact. Its fingerprint is read aloud so everyone can compare it later.',
    witnessItems: ['The fingerprint on screen was read aloud, group by group', 'The file digest was recorded'],
  },
  intent: (ctx) => ({ file: pubKeyFile(ctx.plan, t), kid: ctx.get(refs.transferKey(t)).kid }),
  look: async () => null, // the file itself is adopted by the media write, if it is what this step journaled
  async act(ctx, intent) {
    const key = await (await ctx.app(t)).keys.get(intent.kid)
    const pem = spkiDerToPem(publicKeyDerFromBase64(key.pub_key ?? ''))
    const written = await ctx.media.write(intent.file, Buffer.from(pem, 'utf8'))
    return { file: written.name, sha256: written.sha256, bytes: written.bytes, fingerprint: parsePublicKey(pem).fingerprint }
  },
  verify(ctx, r) {
    if (r.fingerprint !== transferFingerprint(ctx, t)) throw new CeremonyError('TRANSFER_KEY_CHANGED', `The transfer key on ${ctx.label(t)} changed since it was generated`)
  },
  evidence: (r) => ({ items: [...item('File', r.file), ...item('File SHA-256', r.sha256, 'digest'), ...item('Fingerprint to read aloud', r.fingerprint, 'fingerprint')], comparisons: [] }),
})

type ImportIntent = KeyIntent & { fingerprint: string }

export const importPubkey = (plan: ReplicateCmkPlan, t: string, label: (id: string) => string) => defineStep<ImportResult, ImportIntent, ReplicateCmkPlan>({
  id: ids.importPubkey(t), name: 'import-pubkey', group: t, appliances: [plan.source], interaction: 'run', confirmation: null, result: ImportResult,
  text: {
    where: `media → ${label(plan.source)}`,
    title: `Import the transfer public key into ${label(plan.source)}`,
    explain: `The file is checked strictly (one RSA-2048 public key, nothing else) and imported into ${label(plan.source)}. The fingerprint must be the same three times: on ${label(t)}, in the file, and on ${label(plan.source)}. A different key here would let someone else open the CMK.`,
    witnessItems: ['The three fingerprints match, as read aloud', `The key imported on ${label(plan.source)} is a public key only`],
  },
  intent: (ctx) => ({ name: transferKeyName(ctx.plan, t), obj_type: 'RSA', key_size: 2048, key_ops: IMPORTED_KEY_OPS, group_id: applianceFacts(ctx, ctx.plan.source).groupId, fingerprint: transferFingerprint(ctx, t) }),
  async look(ctx, earlier) {
    const source = await ctx.app(ctx.plan.source)
    const key = await adoptKey(source, earlier, ctx.label(ctx.plan.source), ctx.note)
    if (!key) return null
    const fromFile = await readPublicKeyFile(ctx, t)
    return { kid: key.kid, name: earlier.name, publicOnly: key.public_only, fingerprintTarget: earlier.fingerprint, fingerprintFile: fromFile.fingerprint, fingerprintSource: key.pub_key ? spkiSha256(publicKeyDerFromBase64(key.pub_key)) : '0'.repeat(64) }
  },
  async act(ctx, intent) {
    const fromFile = await readPublicKeyFile(ctx, t)
    if (fromFile.fingerprint !== intent.fingerprint) {
      throw new CeremonyError('FINGERPRINT_MISMATCH', `The key in the file (${fromFile.fingerprint.slice(0, 16)}…) is not the transfer key generated on ${ctx.label(t)} (${intent.fingerprint.slice(0, 16)}…)`)
    }
    const source = await ctx.app(ctx.plan.source)
    const key = await createOnce(() => source.keys.importPublicKey({
      name: intent.name, spkiDer: fromFile.spkiDer, key_ops: intent.key_ops as never, group_id: intent.group_id,
      description: `Transfer public key for ${t}, ceremony ${ctx.plan.id}; delete after the CMK transfer`,
    }), intent.name, ctx.label(ctx.plan.source))
    return { kid: key.kid, name: intent.name, publicOnly: key.public_only, fingerprintTarget: intent.fingerprint, fingerprintFile: fromFile.fingerprint, fingerprintSource: key.pub_key ? spkiSha256(publicKeyDerFromBase64(key.pub_key)) : '0'.repeat(64) }
  },
  verify(ctx, r) {
    if (r.fingerprintFile !== r.fingerprintTarget || r.fingerprintSource !== r.fingerprintTarget) {
      throw new CeremonyError('FINGERPRINT_MISMATCH', `The key on ${ctx.label(ctx.plan.source)} does not have the target's fingerprint`)
    }
    if (!r.publicOnly) throw new CeremonyError('FINGERPRINT_MISMATCH', `The key on ${ctx.label(ctx.plan.source)} is not a public key only`)
  },
  evidence: (r, ctx) => ({
    items: [...item('Imported as', r.name), ...item('Public key only', r.publicOnly ? 'yes' : 'no')],
    comparisons: [
      { label: 'Target key vs the file', format: 'fingerprint', left: { label: `On ${ctx.label(t)}`, value: r.fingerprintTarget }, right: { label: 'In the file', value: r.fingerprintFile }, match: r.fingerprintTarget === r.fingerprintFile },
      { label: 'The file vs the key imported on the source', format: 'fingerprint', left: { label: 'In the file', value: r.fingerprintFile }, right: { label: `On ${ctx.label(ctx.plan.source)}`, value: r.fingerprintSource }, match: r.fingerprintFile === r.fingerprintSource },
    ],
  }),
})

async function readPublicKeyFile(ctx: Ctx, t: string): Promise<TransferPublicKey> {
  const exported = ctx.get(refs.exportPubkey(t))
  const pem = (await ctx.media.read(exported.file, exported.sha256, PEM_MAX_BYTES)).toString('utf8')
  return parsePublicKey(pem)
}

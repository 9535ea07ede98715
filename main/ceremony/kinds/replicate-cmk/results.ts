/**
 * The results of the replication's steps, with typed references to them: a step reads another's
 * result through these (ctx.get(ref)), never through string keys.
 */
import { z } from 'zod'
import { DecisionResult, RequestResult } from '../../approval'
import { stepRef } from '../../step'

const hex64 = z.string().regex(/^[0-9a-f]{64}$/)

export const ApplianceFacts = z.strictObject({
  version: z.string(),
  skewSeconds: z.number().nullable(),
  groupId: z.string(),
  acctId: z.string(),
  quorumN: z.number(),
  quorumOf: z.number(),
  /** The quorum policy's require_password (named so the audit log's secret filter does not trip on it). */
  approveWithLogin: z.boolean(),
})
export type ApplianceFacts = z.infer<typeof ApplianceFacts>

export const InventoryItem = z.strictObject({ kid: z.string(), name: z.string(), type: z.string() })
export type InventoryItem = z.infer<typeof InventoryItem>

export const CmkFacts = z.strictObject({ kid: z.string(), kcv: z.string(), keyOps: z.array(z.string()) })
export type CmkFacts = z.infer<typeof CmkFacts>

export const PreflightResult = z.strictObject({
  appliances: z.record(z.string(), ApplianceFacts),
  inventory: z.record(z.string(), z.array(InventoryItem)),
  /** The CMK on the source, or null when this ceremony creates it. */
  cmk: CmkFacts.nullable(),
  /** Targets that already hold the CMK with the source's KCV. */
  replicated: z.array(z.string()),
})
export type PreflightResult = z.infer<typeof PreflightResult>

export const TransferKeyResult = z.strictObject({ kid: z.string(), name: z.string(), fingerprint: hex64, bits: z.number(), exponent: z.number() })
export type TransferKeyResult = z.infer<typeof TransferKeyResult>
export const ExportResult = z.strictObject({ file: z.string(), sha256: hex64, bytes: z.number(), fingerprint: hex64 })
export type ExportResult = z.infer<typeof ExportResult>
export const ImportResult = z.strictObject({
  kid: z.string(), name: z.string(), publicOnly: z.boolean(), fingerprintTarget: hex64, fingerprintFile: hex64, fingerprintSource: hex64,
})
export type ImportResult = z.infer<typeof ImportResult>
export const WrapResult = z.strictObject({ file: z.string(), sha256: hex64, bytes: z.number(), manifest: z.string(), manifestSha256: hex64 })
export type WrapResult = z.infer<typeof WrapResult>
export const LoadResult = z.strictObject({ sha256: hex64, manifestFingerprint: hex64, liveFingerprint: hex64, wrappedKeyBytes: z.number() })
export type LoadResult = z.infer<typeof LoadResult>
export const UnwrapResult = z.strictObject({ kid: z.string(), kcvTarget: z.string(), kcvSource: z.string(), match: z.literal(true) })
export type UnwrapResult = z.infer<typeof UnwrapResult>
export const CleanupResult = z.strictObject({
  transferKeysDeleted: z.literal(true),
  deleted: z.array(z.string()),
  inventoryDiff: z.record(z.string(), z.strictObject({ added: z.array(z.string()), removed: z.array(z.string()) })),
  /** The log entry of the exception that accepted an unexpected inventory change, if there was one. */
  acceptedWithException: z.number().nullable(),
})
export type CleanupResult = z.infer<typeof CleanupResult>
export const CloseResult = z.strictObject({ sourceKcv: z.string(), kcvByTarget: z.record(z.string(), z.string()) })
export type CloseResult = z.infer<typeof CloseResult>

export const ids = {
  preflight: 'preflight',
  createCmk: 'create-cmk',
  close: 'close',
  transferKey: (t: string) => `transfer-key:${t}`,
  exportPubkey: (t: string) => `export-pubkey:${t}`,
  importPubkey: (t: string) => `import-pubkey:${t}`,
  wrapRequest: (t: string) => `wrap-request:${t}`,
  wrapApproval: (t: string) => `wrap-approval:${t}`,
  wrapResult: (t: string) => `wrap-result:${t}`,
  loadBlob: (t: string) => `load-blob:${t}`,
  unwrapRequest: (t: string) => `unwrap-request:${t}`,
  unwrapApproval: (t: string) => `unwrap-approval:${t}`,
  unwrapResult: (t: string) => `unwrap-result:${t}`,
  cleanup: (t: string) => `cleanup:${t}`,
  // Across sites (design §3b): one preflight per station, and each side's cleanup at its own station.
  stationPreflight: (station: string) => `station-preflight:${station}`,
  applianceLogs: 'appliance-logs',
  stationApplianceLogs: (station: string) => `appliance-logs:${station}`,
  deletePubkey: (t: string) => `delete-pubkey:${t}`,
  deleteTransferKey: (t: string) => `delete-transfer-key:${t}`,
}

export const refs = {
  preflight: stepRef(ids.preflight, PreflightResult),
  createCmk: stepRef(ids.createCmk, CmkFacts),
  close: stepRef(ids.close, CloseResult),
  transferKey: (t: string) => stepRef(ids.transferKey(t), TransferKeyResult),
  exportPubkey: (t: string) => stepRef(ids.exportPubkey(t), ExportResult),
  importPubkey: (t: string) => stepRef(ids.importPubkey(t), ImportResult),
  wrapRequest: (t: string) => stepRef(ids.wrapRequest(t), RequestResult),
  wrapApproval: (t: string) => stepRef(ids.wrapApproval(t), DecisionResult),
  wrapResult: (t: string) => stepRef(ids.wrapResult(t), WrapResult),
  loadBlob: (t: string) => stepRef(ids.loadBlob(t), LoadResult),
  unwrapRequest: (t: string) => stepRef(ids.unwrapRequest(t), RequestResult),
  unwrapResult: (t: string) => stepRef(ids.unwrapResult(t), UnwrapResult),
  cleanup: (t: string) => stepRef(ids.cleanup(t), CleanupResult),
  stationPreflight: (station: string) => stepRef(ids.stationPreflight(station), PreflightResult),
  deletePubkey: (t: string) => stepRef(ids.deletePubkey(t), CleanupResult),
  deleteTransferKey: (t: string) => stepRef(ids.deleteTransferKey(t), CleanupResult),
}

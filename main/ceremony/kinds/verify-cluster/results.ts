/**
 * Results of the steps that prove a FIPS-backed group works (guide §3.3), shared by
 * `verify-cluster` and the last phase of `link-cluster`, with typed references to them.
 */
import { z } from 'zod'
import { hex64 } from '../../cluster-plan'
import { stepRef } from '../../step'

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/)

export const GroupConfigView = z.strictObject({ id: z.string(), url: z.string(), hsmOrder: z.number().int().nullable() })

export const ClusterCheckResult = z.strictObject({
  clusterVersion: z.string(),
  groupId: z.string(),
  groupName: z.string(),
  configs: z.array(GroupConfigView),
  redundancy: z.string().nullable(),
  /** Earlier records verified before the check (final digest and ceremony id). */
  records: z.array(z.strictObject({ finalDigest: hex64, ceremonyId: z.string(), kind: z.string() })),
})
export type ClusterCheckResult = z.infer<typeof ClusterCheckResult>

export const CanaryKeyResult = z.strictObject({
  kid: z.string(),
  name: z.string(),
  groupId: z.string(),
  origin: z.string(),
  /** `external.hsm_group_id`: the FIPS-backed group that holds the key material (a virtual key). */
  hsmGroupId: z.string(),
  cachedOnCluster: z.boolean().nullable(),
  kcv: z.string().nullable(),
})
export type CanaryKeyResult = z.infer<typeof CanaryKeyResult>

export const CanaryCryptoResult = z.strictObject({
  kid: z.string(),
  mode: z.literal('GCM'),
  /** SHA-256 of the published test message (README). */
  messageSha256: hex64,
  /** The test ciphertext, kept in the record: a later ceremony proves recovery by decrypting it. */
  cipher: base64,
  iv: base64,
  tag: base64,
  cipherSha256: hex64,
  match: z.literal(true),
})
export type CanaryCryptoResult = z.infer<typeof CanaryCryptoResult>

export const FailoverDrillResult = z.strictObject({
  appliance: z.string(),
  performed: z.boolean(),
  /** How the appliance went down: by the simulator (rehearsal) or by the operator (production). */
  how: z.string(),
  /** What this workstation saw when it tried the appliance (UNREACHABLE, TIMEOUT), or null. */
  workstationSaw: z.string().nullable(),
  decryptMatch: z.boolean().nullable(),
  /** The drill was left out with the exception recorded at this log entry. */
  acceptedWithException: z.number().nullable(),
})
export type FailoverDrillResult = z.infer<typeof FailoverDrillResult>

export const FailoverRestoreResult = z.strictObject({ appliance: z.string(), reachable: z.literal(true), groupChecked: z.literal(true) })
export type FailoverRestoreResult = z.infer<typeof FailoverRestoreResult>

export const verifyIds = {
  clusterCheck: 'cluster-check',
  canaryKey: 'canary-key',
  canaryCrypto: 'canary-crypto',
  failoverDrill: 'failover-drill',
  failoverRestore: 'failover-restore',
  close: 'close',
}

export const verifyRefs = {
  clusterCheck: stepRef(verifyIds.clusterCheck, ClusterCheckResult),
  canaryKey: stepRef(verifyIds.canaryKey, CanaryKeyResult),
  canaryCrypto: stepRef(verifyIds.canaryCrypto, CanaryCryptoResult),
  failoverDrill: stepRef(verifyIds.failoverDrill, FailoverDrillResult),
  failoverRestore: stepRef(verifyIds.failoverRestore, FailoverRestoreResult),
}

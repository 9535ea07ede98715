/**
 * The results of the membership steps (add-appliance, and replace-appliance which builds on them),
 * with typed references. The replication's own results are replicate-cmk's (../replicate-cmk/results).
 */
import { z } from 'zod'
import { hex64 } from '../../cluster-plan'
import { stepRef } from '../../step'
import { PlannedConfig } from '../link-cluster/group'

export const QuorumFacts = z.strictObject({ n: z.number().int(), of: z.number().int(), approveWithLogin: z.boolean() })
export type QuorumFacts = z.infer<typeof QuorumFacts>

export const CanaryRef = z.strictObject({ kid: z.string(), cipher: z.string(), iv: z.string(), tag: z.string() })
export type CanaryRef = z.infer<typeof CanaryRef>

export const RecordFacts = z.strictObject({
  finalDigest: hex64, kind: z.string(), ceremonyId: z.string(), kcv: z.string().nullable(), groupId: z.string().nullable(),
  canary: CanaryRef.nullable(), quorum: z.record(z.string(), QuorumFacts), members: z.array(z.string()).nullable(),
  /** link and membership records: the balancer "host:port" their plan went through, or null. */
  balancer: z.string().nullable().optional(),
})
export type RecordFacts = z.infer<typeof RecordFacts>

export const GroupMember = z.strictObject({ configId: z.string(), url: z.string(), hsmOrder: z.number().int().nullable(), appliance: z.string().nullable() })
export type GroupMember = z.infer<typeof GroupMember>

/** Load-balancer mode: the group's one config at the balancer, as the preflight found it. */
export const BalancerFacts = z.strictObject({
  configId: z.string(),
  url: z.string(),
  /** SHA-256 of each certificate the config pins, in its order: exactly the chains of the appliances below. */
  pinned: z.array(hex64),
  /** Whose API keys the config holds, as the records show (the cluster never shows them). */
  keysOf: z.array(z.string()),
  /** replace-appliance: the pinned certificates that carry the failed appliance's pinned key (it cannot be asked). */
  failedPinned: z.array(hex64).default([]),
})
export type BalancerFacts = z.infer<typeof BalancerFacts>

export const AppliancePreflightResult = z.strictObject({
  records: z.array(z.strictObject({ finalDigest: hex64, kind: z.string(), ceremonyId: z.string() })),
  kcv: z.string(),
  clusterVersion: z.string(),
  groupId: z.string(),
  /** The group's configs as the cluster lists them before anything changes. */
  members: z.array(GroupMember),
  /** Load-balancer mode only. */
  balancer: BalancerFacts.nullable().default(null),
  canary: CanaryRef,
  /** The policy the records show (the strongest), and the new appliance's. */
  baseline: QuorumFacts,
  added: z.strictObject({ version: z.string(), fipsLevel: z.number().nullable(), quorum: QuorumFacts, cmkKcv: z.string().nullable() }),
})
export type AppliancePreflightResult = z.infer<typeof AppliancePreflightResult>

export const JoinConfigResult = z.strictObject({
  planned: PlannedConfig,
  /** The certificate chain of the new appliance, kept on the media. */
  file: z.string(), fileSha256: hex64,
  shown: z.string(), configDigest: hex64,
})
export type JoinConfigResult = z.infer<typeof JoinConfigResult>

export const JoinGroupResult = z.strictObject({ groupId: z.string(), configId: z.string(), url: z.string(), hsmOrder: z.number().int().nullable() })
export type JoinGroupResult = z.infer<typeof JoinGroupResult>

export const TestJoinedResult = z.strictObject({ groupId: z.string(), configId: z.string(), groupPassed: z.literal(true), newConfigPassed: z.literal(true) })
export type TestJoinedResult = z.infer<typeof TestJoinedResult>

export const ProveResult = z.strictObject({
  kid: z.string(),
  /** The other appliances taken down (rehearsal), each seen down from this workstation. */
  down: z.array(z.string()),
  how: z.string(),
  match: z.literal(true),
})
export type ProveResult = z.infer<typeof ProveResult>

export const RestoreResult = z.strictObject({ broughtBack: z.array(z.string()), groupChecked: z.literal(true) })
export type RestoreResult = z.infer<typeof RestoreResult>

export const MembershipCloseResult = z.strictObject({
  kcv: z.string(), groupId: z.string(), added: z.string(), removed: z.string().nullable(),
  /** The group's appliances in priority order, as the cluster lists them at the close. */
  members: z.array(z.string()),
  canary: CanaryRef,
  /** The quorum policy of every appliance this ceremony saw (carried forward for later ceremonies). */
  quorum: z.record(z.string(), QuorumFacts),
  provedAlone: z.boolean(),
  disposition: z.string().nullable(),
})
export type MembershipCloseResult = z.infer<typeof MembershipCloseResult>

export const memberIds = {
  preflight: 'appliance-preflight',
  joinConfig: 'join-config',
  joinGroup: 'join-group',
  testJoined: 'test-joined',
  prove: 'prove-canary',
  restore: 'restore-others',
  close: 'close',
}

export const memberRefs = {
  preflight: stepRef(memberIds.preflight, AppliancePreflightResult),
  joinConfig: stepRef(memberIds.joinConfig, JoinConfigResult),
  joinGroup: stepRef(memberIds.joinGroup, JoinGroupResult),
  testJoined: stepRef(memberIds.testJoined, TestJoinedResult),
  prove: stepRef(memberIds.prove, ProveResult),
  restore: stepRef(memberIds.restore, RestoreResult),
  close: stepRef(memberIds.close, MembershipCloseResult),
}

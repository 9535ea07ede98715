/**
 * The results of the link's steps, with typed references to them (the verification phase's are in
 * ../verify-cluster/results.ts, shared with that kind).
 */
import { z } from 'zod'
import { hex64 } from '../../cluster-plan'
import { stepRef } from '../../step'
import { PlannedGroup } from './group'

export const ApplianceFacts = z.strictObject({
  version: z.string(),
  /** The FIPS level the appliance reports to this workstation (null: none, i.e. not in FIPS mode). */
  fipsLevel: z.number().nullable(),
  cmkKid: z.string(),
  kcv: z.string(),
})

export const LinkPreflightResult = z.strictObject({
  clusterVersion: z.string(),
  /** The replication records verified, each with the KCV it recorded. */
  replication: z.array(z.strictObject({ finalDigest: hex64, ceremonyId: z.string(), kcv: z.string() })),
  kcv: z.string(),
  appliances: z.record(z.string(), ApplianceFacts),
  /** The group already exists exactly as planned: linking is skipped, verification runs. */
  existingGroup: z.strictObject({ groupId: z.string(), configIds: z.record(z.string(), z.string()) }).nullable(),
})
export type LinkPreflightResult = z.infer<typeof LinkPreflightResult>

export const CertificateFacts = z.strictObject({
  /** The chain as a PEM file on the media, and that file's SHA-256. */
  file: z.string(),
  fileSha256: hex64,
  /** SHA-256 of each certificate's DER, leaf first. */
  chain: z.array(hex64).min(1),
  spkiSha256: hex64,
  planPin: hex64.nullable(),
  subject: z.string(),
  validTo: z.string(),
})
export const CertificatesResult = z.strictObject({ appliances: z.record(z.string(), CertificateFacts) })
export type CertificatesResult = z.infer<typeof CertificatesResult>

export const TestConnectionResult = z.strictObject({
  ref: z.string(),
  url: z.string(),
  appliances: z.array(z.string()),
  certificates: z.array(hex64),
  fipsLevels: z.record(z.string(), z.number().nullable()),
  accepted: z.literal(true),
})
export type TestConnectionResult = z.infer<typeof TestConnectionResult>

export const GroupConfigResult = z.strictObject({ planned: PlannedGroup, shown: z.string(), configDigest: hex64 })
export type GroupConfigResult = z.infer<typeof GroupConfigResult>

export const CreateGroupResult = z.strictObject({ groupId: z.string(), name: z.string(), configIds: z.record(z.string(), z.string()) })
export type CreateGroupResult = z.infer<typeof CreateGroupResult>

export const TestGroupResult = z.strictObject({ groupId: z.string(), configs: z.array(z.strictObject({ ref: z.string(), id: z.string(), url: z.string() })), passed: z.literal(true) })
export type TestGroupResult = z.infer<typeof TestGroupResult>

export const LinkCloseResult = z.strictObject({
  groupId: z.string(), alreadyLinked: z.boolean(), configs: z.number(), kcv: z.string(),
  canary: z.string(), canaryKid: z.string(), cipherSha256: z.string(), failover: z.string(),
})
export type LinkCloseResult = z.infer<typeof LinkCloseResult>

export const linkIds = {
  preflight: 'preflight',
  certificates: 'certificates',
  testConnection: (ref: string) => `test-connection:${ref}`,
  groupConfig: 'group-config',
  createGroup: 'create-group',
  testGroup: 'test-group',
  close: 'close',
}

export const linkRefs = {
  preflight: stepRef(linkIds.preflight, LinkPreflightResult),
  certificates: stepRef(linkIds.certificates, CertificatesResult),
  testConnection: (ref: string) => stepRef(linkIds.testConnection(ref), TestConnectionResult),
  groupConfig: stepRef(linkIds.groupConfig, GroupConfigResult),
  createGroup: stepRef(linkIds.createGroup, CreateGroupResult),
  testGroup: stepRef(linkIds.testGroup, TestGroupResult),
  close: stepRef(linkIds.close, LinkCloseResult),
}

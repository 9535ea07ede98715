// Defaults shared by the FIPS appliance and cluster simulators.
import type { VendorChoices } from './types'

export const HOST = '127.0.0.1'
export const DEFAULT_CMK_NAME = 'cluster-master-key'
export const DEFAULT_GROUP_NAME = 'Quorum Group'

/** The most plausible reading of each open vendor question (types.ts VendorChoices says why). */
export const DEFAULT_VENDOR: Required<VendorChoices> = {
  executeApprovedOperation: 'at-quorum',
  approvalResultRereadable: true,
  expiredApprovalRequests: 'retained',
  protectedCryptoOperations: ['wrapkey', 'unwrapkey', 'export'],
  sessionExpiry: 'idle',
  kcvCase: 'lower',
  hmgSecretsEchoed: false,
  cmkNameLocation: 'group-wrapping_key_name',
  virtualKeyWrapMode: 'KWP',
  auditLogReads: 'recorded',
  auditLogOrder: 'newest-first',
  auditLogMaxResultWindow: 10_000,
  auditLogRetentionDays: 90,
  auditLogAppScope: 'audit-permission',
  auditLogRangeUnit: 'seconds',
  fipsLevel: 3,
  fipsServerMode: 'Sgx',
  appCredentialApproval: 'none',
}


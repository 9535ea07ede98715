// The typed Fortanix DSM REST client used by the main process (design.md §5). Usage:
//   const conn = new DsmConnection({ host: 'fips1.example', trust: { spkiSha256 } })
//   const v = await conn.version()                      // + clock skew from the Date header
//   const app = await AppSession.open(conn, apiKeyBuffer)   // conn stays the caller's: conn.close() when done
//   (AppSession.open(conn, key, { ownsConnection: true }): the session closes conn when it ends)
//   const req = await app.approvals.createWrap(buildWrapKeyRequest({...}), description)
//   const custodian = await UserSession.login(conn, { username, password, accountId })
//   await custodian.approvals.approve(req.request_id, { password })
//   const { wrapped_key } = await app.approvals.wrapResult(req.request_id)
// On the non-FIPS cluster (a user session with select_account):
//   const g = await admin.groups.create({ name, add_hmg: [buildFipsClusterConfig({...})], hmg_redundancy: 'PriorityFailover' })
//   await admin.groups.checkHmg(g.group_id)
//   const key = await admin.keys.generate({ name, obj_type: 'AES', key_size: 256, key_ops: [...], group_id: g.group_id })
//   const sealed = await admin.crypto.encrypt({ key: { kid: key.kid }, mode: 'GCM', plain })
export { DsmConnection } from './transport'
export type { ApplianceVersion, CallResult, CallSpec, Clock, DsmConnectionOptions, DsmLogger, RequestEvent, ResponseEvent, RetryPolicy } from './transport'
export { AppSession, checkApiKeyShape } from './app-session'
export { UserSession } from './user-session'
export type { CustodianCredentials } from './user-session'
export { DsmSession } from './session-core'
export type { AuthedCaller, SessionOptions } from './session-core'
export { SobjectsApi } from './sobjects'
export type { ListSobjectsFilter } from './sobjects'
export { GroupsApi, groupQuorum } from './groups'
export { AccountsApi, DsmAppSchema, DsmUserSchema } from './accounts'
export type { CreateAppRequest, DsmApp, DsmUser } from './accounts'
export { ApprovalsApi, isExpired } from './approvals'
export { AUDIT_ACTION_TYPES, AUDIT_SEVERITIES, AuditLogEntrySchema, AuditLogTooLargeError, LogsApi, auditTimeMs } from './logs'
export type { AuditActionType, AuditLogEntry, AuditSeverity, LogsQuery, WindowOptions } from './logs'
export { CryptoApi, buildDecryptBody, buildEncryptBody } from './crypto'
export type { AesCryptMode, DecryptRequest, EncryptRequest, Encrypted } from './crypto'
export { buildCheckHmgBody, buildCreateGroupBody, buildFipsClusterConfig, buildPatchGroupBody, maskHmgConfig } from './hmg'
export type { CheckHmgRequest, CreateGroupRequest, FipsClusterConfigOptions, FipsClusterHmgConfig, PatchGroupRequest, TlsPinnedConfig } from './hmg'
export type { ApprovalSnapshot, AwaitDecisionOptions, CreateApprovalRequest, ListApprovalsFilter } from './approvals'
export * from './requests'
export * from './schemas'
export * from './errors'
export { normaliseHost } from './host'
export type { NormalisedHost } from './host'
export { formatSpkiPin, parseSpkiPin, PinnedHttpsAgent, PinnedTlsConnector, realTimers } from './tls-pin'
export type { Timers, TlsTrust } from './tls-pin'
export { ENDPOINTS, checkEndpoint, isPlaintextExportPath } from './endpoints'
export type { Endpoint, EndpointEffect, HttpMethod } from './endpoints'

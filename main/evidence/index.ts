// Evidence: the hash-chained audit log, the ceremony record, and their offline verification.
export { AuditLog } from './audit-log'
export type { AuditLogOptions, LogFileHandle } from './audit-log'
export { GENESIS_PREV, ENTRY_KINDS, sealEntry, verifyChain } from './entry'
export type { LogEntry, EntryInput, ChainFailure } from './entry'
export { canonicalJson, planDigestOf, sha256Hex } from './canonical-json'
export { assertNoSecrets } from './secrets'
export { buildRecord, verifyRecord, RECORD_FORMAT, RECORD_VERSION } from './record'
export type { CeremonyRecord, CeremonyMode, RecordItem, RecordArtifact, BuildRecordInput, VerifyResult } from './record'
export {
  AuditLogWriteError, AuditLogCorruptError, InvalidEntryError, RecordBuildError, SecretInLogError, CanonicalJsonError,
} from './errors'
export type { AuditLogCorruptCode } from './errors'
export { benchVerify } from './bench'
export type { BenchResult } from './bench'
export { repairTornTail, NothingToRepairError } from './audit-log-repair'
export type { RepairResult } from './audit-log-repair'
export { parseSegment, segmentsOf, checkSegments, stationAt, HANDOFF_KIND, HANDOFF_RECEIVED_KIND } from './segments'
export type { Segment, SegmentFailure, ParsedSegment } from './segments'

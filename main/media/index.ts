// Artifact files on (removable) media: atomic durable writes with read-back, verified reads.
export { writeFileAtomic, readFileVerified, sha256Hex } from './atomic-write'
export type { WriteResult, WriteOptions } from './atomic-write'
export { removeStaleTempFiles, isStaleTempName } from './stale-temp'
export {
  TargetExistsError, SymlinkRefusedError, MediaWriteError, ReadBackMismatchError, DigestMismatchError, FileTooLargeError,
} from './errors'

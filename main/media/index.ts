// Artifact files on (removable) media: atomic durable writes with read-back, verified reads.
export { writeFileAtomic, readFileVerified, sha256Hex, DEFAULT_READ_CAP } from './atomic-write'
export { readFileCapped, readFileCappedSync } from './safe-read'
export type { WriteResult, WriteOptions } from './atomic-write'
export { removeStaleTempFiles, isStaleTempName } from './stale-temp'
export {
  TargetExistsError, SymlinkRefusedError, MediaWriteError, ReadBackMismatchError, DigestMismatchError, FileTooLargeError, NotAFileError,
} from './errors'

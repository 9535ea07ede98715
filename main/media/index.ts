// Artifact files on (removable) media: atomic durable writes with read-back, verified reads.
export { writeFileAtomic, readFileVerified, sha256Hex, DEFAULT_READ_CAP } from './atomic-write'
export { readFileCapped, readFileCappedSync } from './safe-read'
export type { WriteResult, WriteOptions } from './atomic-write'
export { removeStaleTempFiles, isStaleTempName } from './stale-temp'
export {
  TargetExistsError, SymlinkRefusedError, MediaWriteError, ReadBackMismatchError, DigestMismatchError, FileTooLargeError, NotAFileError, FileChangedError,
} from './errors'
export { digestFile } from './file-digest'
export type { FileDigest } from './file-digest'
export { writeBundle, readBundleFile, checkArtifact, bundleNames, describeMediaFile, renderManifest, renderReadme, HandoffMediaError, HandoffFactsSchema, HandoffManifestSchema } from './handoff-bundle'
export type { HandoffFacts, HandoffManifest, BundleArtifact } from './handoff-bundle'
export { listRemovableVolumes, removableVolumeOf, checkMediaFolder, syncVolume, volumeView, safeToRemoveText, systemVolumeDeps } from './volumes'
export type { Volume, MountedVolume, VolumeDeps } from './volumes'

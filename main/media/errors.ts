// Named failures for writing artifacts to (removable) media. Each says what happened to the file,
// so the operator knows whether anything usable was left behind (it never is: see atomic-write.ts).
// Messages name the file, never the folder it is in: they reach the screen, the journal and the log,
// which must not carry this workstation's paths (`path` keeps the full path for the code).
import { basename } from 'node:path'

export class TargetExistsError extends Error {
  override readonly name = 'TargetExistsError'
  readonly code = 'TARGET_EXISTS' as const
  constructor(readonly path: string) {
    super(`${basename(path)} already exists. Ceremony artifacts are never overwritten without explicit confirmation; choose a new name or confirm the overwrite.`)
  }
}

export class SymlinkRefusedError extends Error {
  override readonly name = 'SymlinkRefusedError'
  readonly code = 'SYMLINK_REFUSED' as const
  constructor(readonly path: string) {
    super(`${basename(path)} is a symbolic link; artifacts are only written to and read from real files.`)
  }
}

/** The OS refused the write (EACCES, EROFS, ENOSPC, EIO, media removed …). Nothing was left behind. */
export class MediaWriteError extends Error {
  override readonly name = 'MediaWriteError'
  /** MEDIA_FULL when the file system ran out of space (ENOSPC, EDQUOT), MEDIA_WRITE_FAILED otherwise. */
  readonly code: 'MEDIA_WRITE_FAILED' | 'MEDIA_FULL'
  /** The errno code from the OS, e.g. 'EACCES', 'ENOSPC', 'EROFS'. */
  readonly osCode: string | undefined
  constructor(readonly path: string, readonly stage: string, cause: unknown) {
    const osCode = (cause as NodeJS.ErrnoException | undefined)?.code
    const full = osCode === 'ENOSPC' || osCode === 'EDQUOT'
    super(full
      ? `Could not write ${basename(path)} (${stage}: ${osCode}): there is no space left where it goes. Nothing was left behind; free space or use other media.`
      : `Could not write ${basename(path)} (${stage}${osCode ? `: ${osCode}` : ''}). Check the media is inserted, writable and not full. Nothing was left behind.`, { cause })
    this.osCode = osCode
    this.code = full ? 'MEDIA_FULL' : 'MEDIA_WRITE_FAILED'
  }
}

/** What was read back after writing is not what was written: the media is not trustworthy. */
export class ReadBackMismatchError extends Error {
  override readonly name = 'ReadBackMismatchError'
  readonly code = 'READ_BACK_MISMATCH' as const
  constructor(readonly path: string, readonly expectedSha256: string, readonly actualSha256: string) {
    super(`Read-back of ${basename(path)} does not match what was written (expected SHA-256 ${expectedSha256}, read ${actualSha256}). The file was removed; do not use this media.`)
  }
}

/** A file's SHA-256 is not the one recorded for it. */
export class DigestMismatchError extends Error {
  override readonly name = 'DigestMismatchError'
  readonly code = 'DIGEST_MISMATCH' as const
  constructor(readonly path: string, readonly expectedSha256: string, readonly actualSha256: string) {
    super(`${basename(path)} has SHA-256 ${actualSha256}, but ${expectedSha256} was recorded for it. It is not the file the ceremony wrote.`)
  }
}

export class FileTooLargeError extends Error {
  override readonly name = 'FileTooLargeError'
  readonly code = 'FILE_TOO_LARGE' as const
  constructor(readonly path: string, readonly bytes: number, readonly maxBytes: number) {
    super(`${basename(path)} is ${bytes} bytes; at most ${maxBytes} are expected for this artifact.`)
  }
}

/** A directory, device, FIFO or socket where a file was expected: never opened for reading. */
export class NotAFileError extends Error {
  override readonly name = 'NotAFileError'
  readonly code = 'NOT_A_FILE' as const
  constructor(readonly path: string) {
    super(`${basename(path)} is not a regular file; ceremony files are only read from real files.`)
  }
}

/** The file changed while it was read (its size or modification time moved): its digest would describe no state it was in. */
export class FileChangedError extends Error {
  override readonly name = 'FileChangedError'
  readonly code = 'FILE_CHANGED_WHILE_READ' as const
  constructor(readonly path: string) {
    super(`${basename(path)} changed while it was being read. Wait until nothing writes to it (a recorder still saving, a copy in progress) and try again.`)
  }
}

// Named failures for writing artifacts to (removable) media. Each says what happened to the file,
// so the operator knows whether anything usable was left behind (it never is: see atomic-write.ts).

export class TargetExistsError extends Error {
  override readonly name = 'TargetExistsError'
  readonly code = 'TARGET_EXISTS' as const
  constructor(readonly path: string) {
    super(`${path} already exists. Ceremony artifacts are never overwritten without explicit confirmation; choose a new name or confirm the overwrite.`)
  }
}

export class SymlinkRefusedError extends Error {
  override readonly name = 'SymlinkRefusedError'
  readonly code = 'SYMLINK_REFUSED' as const
  constructor(readonly path: string) {
    super(`${path} is a symbolic link; artifacts are only written to and read from real files.`)
  }
}

/** The OS refused the write (EACCES, EROFS, ENOSPC, EIO, media removed …). Nothing was left behind. */
export class MediaWriteError extends Error {
  override readonly name = 'MediaWriteError'
  readonly code = 'MEDIA_WRITE_FAILED' as const
  /** The errno code from the OS, e.g. 'EACCES', 'ENOSPC', 'EROFS'. */
  readonly osCode: string | undefined
  constructor(readonly path: string, readonly stage: string, cause: unknown) {
    const osCode = (cause as NodeJS.ErrnoException | undefined)?.code
    super(`Could not write ${path} (${stage}${osCode ? `: ${osCode}` : ''}). Check the media is inserted, writable and not full. Nothing was left behind.`, { cause })
    this.osCode = osCode
  }
}

/** What was read back after writing is not what was written: the media is not trustworthy. */
export class ReadBackMismatchError extends Error {
  override readonly name = 'ReadBackMismatchError'
  readonly code = 'READ_BACK_MISMATCH' as const
  constructor(readonly path: string, readonly expectedSha256: string, readonly actualSha256: string) {
    super(`Read-back of ${path} does not match what was written (expected SHA-256 ${expectedSha256}, read ${actualSha256}). The file was removed; do not use this media.`)
  }
}

/** A file's SHA-256 is not the one recorded for it. */
export class DigestMismatchError extends Error {
  override readonly name = 'DigestMismatchError'
  readonly code = 'DIGEST_MISMATCH' as const
  constructor(readonly path: string, readonly expectedSha256: string, readonly actualSha256: string) {
    super(`${path} has SHA-256 ${actualSha256}, but ${expectedSha256} was recorded for it. It is not the file the ceremony wrote.`)
  }
}

export class FileTooLargeError extends Error {
  override readonly name = 'FileTooLargeError'
  readonly code = 'FILE_TOO_LARGE' as const
  constructor(readonly path: string, readonly bytes: number, readonly maxBytes: number) {
    super(`${path} is ${bytes} bytes; at most ${maxBytes} are expected for this artifact.`)
  }
}

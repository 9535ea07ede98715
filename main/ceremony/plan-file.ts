/**
 * Reading a plan, credentials or record file the operator names (the app's open dialog, the CLI's
 * arguments, the plan copy in a state folder): capped before it is read, never through a link,
 * never a FIFO or folder (security.md §6 17, 27). A refusal names the file, not its folder.
 */
import { basename } from 'node:path'
import { CeremonyError, errorCode } from '../errors'
import { readFileCapped, readFileCappedSync } from '../media'
import { parsePlanText, type Plan } from './plan'

/** A plan with 16 appliances, each with a 64 KiB CA bundle, is about 1 MiB; the editor's cap is the same. */
export const PLAN_MAX_BYTES = 2 * 1024 * 1024
/** An earlier ceremony's sealed record (link-cluster, verify-cluster build on one) is a few MiB at most. */
export const RECORD_MAX_BYTES = 64 * 1024 * 1024

function named(path: string, err: unknown): unknown {
  const code = errorCode(err, '')
  if (code === 'ENOENT') return new CeremonyError('FILE_NOT_FOUND', `${basename(path)} does not exist`)
  if (code === 'EACCES' || code === 'EPERM') return new CeremonyError('FILE_NOT_READABLE', `${basename(path)} cannot be read (${code})`)
  return err // SYMLINK_REFUSED, NOT_A_FILE, FILE_TOO_LARGE name themselves, by file name only
}

export function readCappedTextSync(path: string, maxBytes = PLAN_MAX_BYTES): string {
  try {
    return readFileCappedSync(path, maxBytes).toString('utf8')
  } catch (err) {
    throw named(path, err)
  }
}

export async function readCappedText(path: string, maxBytes = PLAN_MAX_BYTES): Promise<string> {
  try {
    return (await readFileCapped(path, maxBytes)).toString('utf8')
  } catch (err) {
    throw named(path, err)
  }
}

export const readPlanFileSync = (path: string): Plan => parsePlanText(readCappedTextSync(path))
export const readPlanFile = async (path: string): Promise<Plan> => parsePlanText(await readCappedText(path))

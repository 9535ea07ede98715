/**
 * The wrapped key as read back from the media (security.md §6 19–25): it is used only if it is,
 * byte for byte, the file this ceremony wrote (its digest journaled when it was written). Anything
 * else is refused by name before any request is made with it:
 *
 *   WRAPPED_BLOB_EMPTY         an empty file (a copy that failed)
 *   WRAPPED_BLOB_WRONG_FILE    text where raw bytes belong (a PEM, a manifest picked for the slot)
 *   WRAPPED_BLOB_TRUNCATED     fewer bytes than an RSA-2048 wrap gives
 *   WRAPPED_BLOB_OVERSIZED     more bytes than that (beyond READ_CAP it is not even read)
 *   WRAPPED_BLOB_WRONG_TARGET  the wrapped key this ceremony made for another target
 *   DIGEST_MISMATCH            the right size, but not the bytes written (a flipped bit, another ceremony's)
 */
import { createHash } from 'node:crypto'
import { CeremonyError, errorCode } from '../../../errors'
import type { StepContext } from '../../step'
import type { ReplicateCmkPlan } from './plan'
import { refs } from './results'

/** RSA-2048 gives 256 bytes of ciphertext, whatever the OAEP hash. */
export const WRAPPED_BYTES = 256
/** Enough to tell a PEM or a manifest from a wrapped key; nothing larger is read at all. */
const READ_CAP = 64 * 1024

/** Printable text (a PEM, JSON): a wrapped key is random bytes and never looks like this. */
function looksLikeText(bytes: Buffer): boolean {
  const head = bytes.subarray(0, 64)
  return head.length >= 16 && head.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f))
}

export async function readWrappedBlob(ctx: StepContext<ReplicateCmkPlan>, target: string, file: string, sha256: string): Promise<Buffer> {
  const bytes = await ctx.media.readUnverified(file, READ_CAP).catch((err: unknown) => {
    if (errorCode(err, '') !== 'FILE_TOO_LARGE') throw err
    throw new CeremonyError('WRAPPED_BLOB_OVERSIZED', `${file} on the media is larger than ${READ_CAP} bytes; a wrapped key for ${ctx.label(target)} is ${WRAPPED_BYTES}. It was not read or used.`)
  })
  const digest = createHash('sha256').update(bytes).digest('hex')
  if (digest === sha256.toLowerCase() && bytes.length === WRAPPED_BYTES) return bytes
  const named = (code: string, why: string) => new CeremonyError(code, `${file} on the media ${why}. It was not used; nothing was sent to ${ctx.label(target)}.`)
  if (bytes.length === 0) throw named('WRAPPED_BLOB_EMPTY', 'is empty')
  if (looksLikeText(bytes)) throw named('WRAPPED_BLOB_WRONG_FILE', `is text (${bytes.length} bytes), not the raw wrapped key`)
  if (bytes.length < WRAPPED_BYTES) throw named('WRAPPED_BLOB_TRUNCATED', `is ${bytes.length} bytes; the wrapped key written was ${WRAPPED_BYTES}`)
  if (bytes.length > WRAPPED_BYTES) throw named('WRAPPED_BLOB_OVERSIZED', `is ${bytes.length} bytes; the wrapped key written was ${WRAPPED_BYTES}`)
  const other = ctx.plan.targets.find((t) => t !== target && ctx.find(refs.wrapResult(t))?.sha256 === digest)
  if (other) throw named('WRAPPED_BLOB_WRONG_TARGET', `is the wrapped key made for ${ctx.label(other)}, not for ${ctx.label(target)}`)
  throw named('DIGEST_MISMATCH', `has SHA-256 ${digest}, not the ${sha256.toLowerCase()} recorded when it was written`)
}

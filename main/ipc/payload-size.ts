/**
 * A size cap for IPC payloads that holds for every channel, before any schema runs: Electron hands
 * main a structured clone of whatever the renderer sent, of any size or shape (cycles included), so
 * the walk is iterative and stops as soon as the cap is passed.
 */

/** Twice the largest field the contract allows (plan text, 1,000,000 characters). */
export const MAX_IPC_PAYLOAD_UNITS = 2_000_000

/**
 * True when `value` is larger than `limit`, counting string lengths (UTF-16 units), key lengths,
 * and 8 per other value or container. Terminates on cycles: every visit adds to the count.
 */
export function exceedsPayloadSize(value: unknown, limit = MAX_IPC_PAYLOAD_UNITS): boolean {
  let size = 0
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const v = stack.pop()
    if (typeof v === 'string') size += v.length
    else if (v !== null && typeof v === 'object') {
      size += 8
      if (ArrayBuffer.isView(v)) size += v.byteLength
      else if (v instanceof ArrayBuffer) size += v.byteLength
      else if (v instanceof Map) for (const [k, x] of v) stack.push(k, x)
      else if (v instanceof Set) for (const x of v) stack.push(x)
      else for (const key of Object.keys(v)) {
        size += key.length
        stack.push((v as Record<string, unknown>)[key])
        if (size > limit) return true
      }
    } else size += 8
    if (size > limit) return true
  }
  return false
}

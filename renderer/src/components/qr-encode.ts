/**
 * A QR code encoder (ISO/IEC 18004) for what the record shows: byte mode, error correction M, the
 * smallest version 1–40 that fits. It replaces a general QR library that was a twelfth of the
 * renderer's gzip budget (design §11) for the one digest the record prints; test/renderer/qr-encode
 * checks every module against that library, which stays a dev dependency as the oracle.
 */

/** The value does not fit a version-40 code (2331 bytes at level M). */
export class QrTooLongError extends Error {
  constructor(bytes: number) {
    super(`QR_TOO_LONG: ${bytes} bytes do not fit a QR code at error correction M (at most 2331)`)
    this.name = 'QrTooLongError'
  }
}

// Level M, per version 1–40 (index 0 unused): EC codewords per block, and the number of blocks.
const EC_PER_BLOCK = [0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28]
const BLOCKS = [0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49]
const MASKS: ((r: number, c: number) => boolean)[] = [
  (r, c) => (r + c) % 2 === 0,
  (r) => r % 2 === 0,
  (_, c) => c % 3 === 0,
  (r, c) => (r + c) % 3 === 0,
  (r, c) => (Math.floor(r / 2) + Math.floor(c / 3)) % 2 === 0,
  (r, c) => ((r * c) % 2) + ((r * c) % 3) === 0,
  (r, c) => (((r * c) % 2) + ((r * c) % 3)) % 2 === 0,
  (r, c) => (((r + c) % 2) + ((r * c) % 3)) % 2 === 0,
]

/** Modules left for data and EC once the function patterns are drawn. */
function rawModules(v: number): number {
  let n = (16 * v + 128) * v + 64
  if (v >= 2) {
    const a = Math.floor(v / 7) + 2
    n -= (25 * a - 10) * a - 55
    if (v >= 7) n -= 36
  }
  return n
}

const dataCodewords = (v: number): number => (rawModules(v) >> 3) - EC_PER_BLOCK[v]! * BLOCKS[v]!

function alignmentPositions(v: number): number[] {
  if (v === 1) return []
  const count = Math.floor(v / 7) + 2
  const step = v === 32 ? 26 : Math.ceil((v * 4 + 4) / (count * 2 - 2)) * 2
  const out = [6]
  for (let p = v * 4 + 10; out.length < count; p -= step) out.splice(1, 0, p)
  return out
}

// GF(256) with the QR polynomial x^8+x^4+x^3+x^2+1.
function gfMul(x: number, y: number): number {
  let z = 0
  for (let i = 7; i >= 0; i--) {
    z = (z << 1) ^ ((z >> 7) * 0x11d)
    z ^= ((y >> i) & 1) * x
  }
  return z
}

/** The Reed–Solomon remainder of `data` for a generator of the given degree. */
function reedSolomon(data: number[], degree: number): number[] {
  const gen = new Array<number>(degree).fill(0)
  gen[degree - 1] = 1
  for (let i = 0, root = 1; i < degree; i++, root = gfMul(root, 2)) {
    for (let j = 0; j < degree; j++) gen[j] = gfMul(gen[j]!, root) ^ (gen[j + 1] ?? 0)
  }
  const rem = new Array<number>(degree).fill(0)
  for (const b of data) {
    const f = b ^ rem.shift()!
    rem.push(0)
    gen.forEach((g, i) => (rem[i]! ^= gfMul(g, f)))
  }
  return rem
}

/** The codewords in placement order: data split into blocks, each with its EC, interleaved. */
function codewords(bytes: Uint8Array, v: number): number[] {
  const bits: number[] = []
  const put = (val: number, len: number): void => {
    for (let i = len - 1; i >= 0; i--) bits.push((val >>> i) & 1)
  }
  const capacity = dataCodewords(v) * 8
  put(4, 4)
  put(bytes.length, v < 10 ? 8 : 16)
  bytes.forEach((b) => put(b, 8))
  put(0, Math.min(4, capacity - bits.length))
  put(0, (8 - (bits.length % 8)) % 8)
  for (let pad = 0xec; bits.length < capacity; pad ^= 0xec ^ 0x11) put(pad, 8)
  const data: number[] = []
  for (let i = 0; i < bits.length; i += 8) data.push(parseInt(bits.slice(i, i + 8).join(''), 2))

  const n = BLOCKS[v]!
  const ecLen = EC_PER_BLOCK[v]!
  const raw = rawModules(v) >> 3
  const short = n - (raw % n) // the first blocks hold one data codeword fewer
  const shortData = Math.floor(raw / n) - ecLen
  const blocks: number[][] = []
  const ecs: number[][] = []
  for (let i = 0, k = 0; i < n; i++) {
    const d = data.slice(k, (k += shortData + (i < short ? 0 : 1)))
    blocks.push(d)
    ecs.push(reedSolomon(d, ecLen))
  }
  const out: number[] = []
  for (let i = 0; i <= shortData; i++) for (const d of blocks) if (i < d.length) out.push(d[i]!)
  for (let i = 0; i < ecLen; i++) for (const e of ecs) out.push(e[i]!)
  return out
}

/** A BCH code word: `value` followed by its remainder modulo `poly` (degree `deg`). */
function bch(value: number, poly: number, deg: number): number {
  let rem = value
  for (let i = 0; i < deg; i++) rem = (rem << 1) ^ ((rem >> (deg - 1)) * poly)
  return (value << deg) | rem
}

/** Penalty of a finished matrix (the standard's four rules): runs, 2×2 blocks, finder-like patterns, dark balance. */
function penalty(m: boolean[][]): number {
  const size = m.length
  let score = 0
  let dark = 0
  const lines: boolean[][] = [...m, ...m.map((_, c) => m.map((row) => row[c]!))]
  for (const line of lines) {
    let run = 1
    for (let i = 1; i <= size; i++) {
      if (i < size && line[i] === line[i - 1]) run++
      else {
        if (run >= 5) score += run - 2
        run = 1
      }
    }
    const s = line.map((x) => (x ? '1' : '0')).join('')
    for (const p of ['00001011101', '10111010000']) for (let i = s.indexOf(p); i >= 0; i = s.indexOf(p, i + 1)) score += 40
  }
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const x = m[r]![c]
      if (x) dark++
      if (r && c && x === m[r - 1]![c] && x === m[r]![c - 1] && x === m[r - 1]![c - 1]) score += 3
    }
  }
  return score + 10 * (Math.ceil(Math.abs(dark * 20 - size * size * 10) / (size * size)) - 1)
}

/**
 * The QR code of `text` (UTF-8) as rows of modules, true = dark, without the quiet zone. `mask`
 * forces a mask pattern (0–7); by default the one with the lowest penalty is taken.
 */
export function encodeQr(text: string, mask?: number): boolean[][] {
  const bytes = new TextEncoder().encode(text)
  let v = 1
  while (dataCodewords(v) * 8 < 4 + (v < 10 ? 8 : 16) + bytes.length * 8) if (++v > 40) throw new QrTooLongError(bytes.length)
  const size = v * 4 + 17
  const m = Array.from({ length: size }, () => new Array<boolean>(size).fill(false))
  const fixed = Array.from({ length: size }, () => new Array<boolean>(size).fill(false))
  const set = (r: number, c: number, dark: boolean): void => {
    m[r]![c] = dark
    fixed[r]![c] = true
  }

  for (let i = 0; i < size; i++) {
    set(6, i, i % 2 === 0)
    set(i, 6, i % 2 === 0)
  }
  for (const [r0, c0] of [[3, 3], [3, size - 4], [size - 4, 3]] as const) {
    for (let dr = -4; dr <= 4; dr++) {
      for (let dc = -4; dc <= 4; dc++) {
        const r = r0 + dr
        const c = c0 + dc
        const d = Math.max(Math.abs(dr), Math.abs(dc))
        if (r >= 0 && r < size && c >= 0 && c < size) set(r, c, d !== 2 && d !== 4)
      }
    }
  }
  const align = alignmentPositions(v)
  for (const r of align) {
    for (const c of align) {
      if ((r < 9 && (c < 9 || c > size - 10)) || (r > size - 10 && c < 9)) continue // the finder corners
      for (let dr = -2; dr <= 2; dr++) for (let dc = -2; dc <= 2; dc++) set(r + dr, c + dc, Math.max(Math.abs(dr), Math.abs(dc)) !== 1)
    }
  }
  const drawFormat = (maskNo: number): void => {
    const bits = bch(maskNo, 0x537, 10) ^ 0x5412 // level M is 00
    const bit = (i: number): boolean => ((bits >> i) & 1) === 1
    for (let i = 0; i < 6; i++) set(i, 8, bit(i))
    set(7, 8, bit(6))
    set(8, 8, bit(7))
    set(8, 7, bit(8))
    for (let i = 9; i < 15; i++) set(8, 14 - i, bit(i))
    for (let i = 0; i < 8; i++) set(8, size - 1 - i, bit(i))
    for (let i = 8; i < 15; i++) set(size - 15 + i, 8, bit(i))
    set(size - 8, 8, true) // the dark module
  }
  drawFormat(0) // reserves the format areas before the data goes in
  if (v >= 7) {
    const bits = bch(v, 0x1f25, 12)
    for (let i = 0; i < 18; i++) {
      const dark = ((bits >> i) & 1) === 1
      set(size - 11 + (i % 3), Math.floor(i / 3), dark)
      set(Math.floor(i / 3), size - 11 + (i % 3), dark)
    }
  }

  // Data in two-module columns, zig-zag from the bottom right, skipping the vertical timing line.
  const words = codewords(bytes, v)
  let i = 0
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5
    for (let k = 0; k < size; k++) {
      const r = ((right + 1) & 2) === 0 ? size - 1 - k : k
      for (const c of [right, right - 1]) {
        if (fixed[r]![c]) continue
        m[r]![c] = (((words[i >> 3] ?? 0) >> (7 - (i & 7))) & 1) === 1 // remainder bits past the end stay light
        i++
      }
    }
  }

  const apply = (maskNo: number): boolean[][] => {
    drawFormat(maskNo)
    return m.map((row, r) => row.map((dark, c) => dark !== (!fixed[r]![c] && MASKS[maskNo]!(r, c))))
  }
  if (mask !== undefined) return apply(mask)
  let best = apply(0)
  let bestScore = penalty(best)
  for (let k = 1; k < 8; k++) {
    const candidate = apply(k)
    const score = penalty(candidate)
    if (score < bestScore) [best, bestScore] = [candidate, score]
  }
  return best
}

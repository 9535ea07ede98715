import { describe, expect, test } from 'vitest'
import qrcode from 'qrcode-generator'
import { encodeQr, QrTooLongError } from '../../renderer/src/components/qr-encode'

/** The reference library (the renderer's former QR dependency), as rows of modules. */
function reference(text: string): boolean[][] {
  const qr = qrcode(0, 'M')
  qr.addData(text, 'Byte')
  qr.make()
  const n = qr.getModuleCount()
  return Array.from({ length: n }, (_, r) => Array.from({ length: n }, (_, c) => qr.isDark(r, c)))
}

/** The mask a code carries, read from its first copy of the format bits (which also say level M). */
function formatOf(m: boolean[][]): { level: number; mask: number } {
  const cells: [number, number][] = [[0, 8], [1, 8], [2, 8], [3, 8], [4, 8], [5, 8], [7, 8], [8, 8], [8, 7], [8, 5], [8, 4], [8, 3], [8, 2], [8, 1], [8, 0]]
  let bits = 0
  cells.forEach(([r, c], i) => (bits |= (m[r]![c] ? 1 : 0) << i))
  bits ^= 0x5412
  return { level: bits >> 13, mask: (bits >> 10) & 7 }
}

/** Deterministic printable ASCII of a given length (every byte value 0x20–0x7e shows up). */
function text(length: number, seed: number): string {
  let s = ''
  for (let i = 0, x = seed; i < length; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff
    s += String.fromCharCode(0x20 + (x % 95))
  }
  return s
}

describe('the renderer QR encoder', () => {
  test('the final digest (64 hex) gives the same code as the reference library (with the mask it chose)', () => {
    const digest = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    const ref = reference(digest)
    const ours = encodeQr(digest, formatOf(ref).mask)
    expect(ours.length).toBe(37) // version 5: 64 bytes do not fit version 4 at level M (62)
    expect(ours).toEqual(ref)
  })

  test('matches the reference module for module across versions 1–40 (with the mask it chose)', () => {
    const sizes = new Set<number>()
    for (let length = 1; length <= 2331; length += length < 300 ? 7 : 61) {
      const value = text(length, length)
      const ref = reference(value)
      const { level, mask } = formatOf(ref)
      expect(level).toBe(0) // M
      const ours = encodeQr(value, mask)
      expect(ours.length, `${length} bytes`).toBe(ref.length)
      expect(ours, `${length} bytes, mask ${mask}`).toEqual(ref)
      sizes.add(ref.length)
    }
    expect(sizes.size).toBeGreaterThanOrEqual(30) // most versions were exercised, 7+ with version bits
    expect(Math.max(...sizes)).toBe(177) // version 40
  })

  test('without a forced mask the format bits name the mask applied, and each mask gives a different code', () => {
    const value = text(64, 7)
    const chosen = encodeQr(value)
    const { level, mask } = formatOf(chosen)
    expect(level).toBe(0)
    expect(chosen).toEqual(encodeQr(value, mask))
    const all = Array.from({ length: 8 }, (_, k) => JSON.stringify(encodeQr(value, k)))
    expect(new Set(all).size).toBe(8)
  })

  test('text beyond ASCII is encoded as UTF-8 bytes', () => {
    const value = 'Prüfsumme ✓'
    const bytesAsLatin1 = String.fromCharCode(...new TextEncoder().encode(value))
    const ref = reference(bytesAsLatin1) // the library takes one byte per char code
    expect(encodeQr(value, formatOf(ref).mask)).toEqual(ref)
  })

  test('a value longer than a version-40 code holds is refused with a named error, 2331 bytes still fit', () => {
    expect(encodeQr('a'.repeat(2331)).length).toBe(177)
    expect(() => encodeQr('a'.repeat(2332))).toThrow(QrTooLongError)
    expect(() => encodeQr('a'.repeat(2332))).toThrow(/QR_TOO_LONG: 2332 bytes/)
  })
})

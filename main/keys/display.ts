// Rendering digests and fingerprints so two people can read them aloud and compare:
// hex in groups of four, and the PGP word list (alternating two-/three-syllable lists by position).

import { FingerprintFormatError } from './errors'
import { PGP_EVEN_WORDS, PGP_ODD_WORDS } from './pgp-word-list'

/** Normalise hex typed or copied by a person: spaces and colons are ignored; must be whole bytes. */
export function normaliseHex(hex: string): string {
  const clean = hex.replace(/[\s:]/g, '')
  if (clean === '') throw new FingerprintFormatError('EMPTY', 'No hex digits given.')
  if (!/^[0-9a-fA-F]+$/.test(clean) || clean.length % 2 !== 0) {
    throw new FingerprintFormatError('NOT_HEX', 'Not a hex string of whole bytes.')
  }
  return clean.toLowerCase()
}

/** "3f2a91c0…" → "3F2A 91C0 …" */
export function hexGroups(hex: string, groupSize = 4): string {
  if (!Number.isInteger(groupSize) || groupSize < 1) throw new RangeError('groupSize must be a positive integer')
  const clean = normaliseHex(hex).toUpperCase()
  const groups: string[] = []
  for (let i = 0; i < clean.length; i += groupSize) groups.push(clean.slice(i, i + groupSize))
  return groups.join(' ')
}

/** One PGP word per byte: even positions from the two-syllable list, odd from the three-syllable. */
export function pgpWords(hexOrBuffer: string | Buffer | Uint8Array): string[] {
  const bytes = typeof hexOrBuffer === 'string' ? Buffer.from(normaliseHex(hexOrBuffer), 'hex') : Buffer.from(hexOrBuffer)
  if (bytes.length === 0) throw new FingerprintFormatError('EMPTY', 'No bytes to render.')
  const words: string[] = new Array(bytes.length)
  for (let i = 0; i < bytes.length; i++) words[i] = (i % 2 === 0 ? PGP_EVEN_WORDS : PGP_ODD_WORDS)[bytes[i]!]!
  return words
}

const EVEN_INDEX = new Map(PGP_EVEN_WORDS.map((w, i) => [w.toLowerCase(), i]))
const ODD_INDEX = new Map(PGP_ODD_WORDS.map((w, i) => [w.toLowerCase(), i]))

/**
 * Words back to lowercase hex (case-insensitive). A word from the wrong list at a position means a
 * word was dropped, doubled or swapped, and is reported as such rather than decoded.
 */
export function wordsToHex(words: string | readonly string[]): string {
  const list = typeof words === 'string' ? words.trim().split(/[\s,-]+/).filter((w) => w !== '') : [...words]
  if (list.length === 0) throw new FingerprintFormatError('EMPTY', 'No words given.')
  const out = Buffer.alloc(list.length)
  list.forEach((word, i) => {
    const w = word.trim().toLowerCase()
    const [here, other] = i % 2 === 0 ? [EVEN_INDEX, ODD_INDEX] : [ODD_INDEX, EVEN_INDEX]
    const v = here.get(w)
    if (v !== undefined) {
      out[i] = v
      return
    }
    if (other.has(w)) {
      throw new FingerprintFormatError('WRONG_WORD_POSITION',
        `Word ${i + 1} ("${word}") belongs at an ${i % 2 === 0 ? 'odd' : 'even'} position: a word was probably skipped, repeated or swapped.`, i + 1)
    }
    throw new FingerprintFormatError('UNKNOWN_WORD', `Word ${i + 1} ("${word}") is not in the PGP word list.`, i + 1)
  })
  return out.toString('hex')
}

export interface FingerprintDisplay {
  /** Lowercase hex, no separators (what is stored and compared by machine). */
  hex: string
  /** Upper-case hex in groups of four, for reading aloud. */
  hexGroups: string
  /** One PGP word per byte. */
  words: string[]
  /** The words joined by single spaces. */
  wordsText: string
}

export function fingerprintDisplay(hex: string): FingerprintDisplay {
  const clean = normaliseHex(hex)
  const words = pgpWords(clean)
  return { hex: clean, hexGroups: hexGroups(clean), words, wordsText: words.join(' ') }
}

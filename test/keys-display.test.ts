// KCV against the vectors, and the read-aloud renderings (hex groups, PGP words).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createHash, randomBytes } from 'node:crypto'
import {
  kcv, InvalidAesKeyError, hexGroups, pgpWords, wordsToHex, fingerprintDisplay, FingerprintFormatError,
  PGP_EVEN_WORDS, PGP_ODD_WORDS, PGP_WORD_LIST_SHA256,
} from '../main/keys'

const VECTORS = join(__dirname, '..', '..', 'shared', 'reference', 'vectors')
const vector = (name: string) => readFileSync(join(VECTORS, name), 'utf8').trim()

test('KCV of the all-zero AES-256 key is DC95C0', () => {
  assert.equal(kcv(Buffer.alloc(32)), 'DC95C0')
})

test('KCV of the vector CMK equals the OpenSSL-computed KCV', () => {
  assert.equal(kcv(Buffer.from(vector('cmk.aes256.hex'), 'hex')), vector('cmk.aes256.kcv'))
})

test('KCV refuses a key that is not an AES key length', () => {
  assert.throws(() => kcv(Buffer.alloc(31)), InvalidAesKeyError)
  assert.throws(() => kcv(Buffer.alloc(0)), InvalidAesKeyError)
})

test('hex groups: upper case, groups of four (or as asked), separators ignored on input', () => {
  assert.equal(hexGroups('3f2a91c0ab'), '3F2A 91C0 AB')
  assert.equal(hexGroups('3F:2A:91:C0', 2), '3F 2A 91 C0')
  assert.throws(() => hexGroups('xyz'), FingerprintFormatError)
  assert.throws(() => hexGroups('abc'), { code: 'NOT_HEX' })
})

test('the embedded PGP word list is the published one (pinned digest, 2 × 256 disjoint words)', () => {
  assert.equal(PGP_EVEN_WORDS.length, 256)
  assert.equal(PGP_ODD_WORDS.length, 256)
  const digest = createHash('sha256').update(PGP_EVEN_WORDS.join('\n') + '\n' + PGP_ODD_WORDS.join('\n')).digest('hex')
  assert.equal(digest, PGP_WORD_LIST_SHA256)
  assert.equal(new Set([...PGP_EVEN_WORDS, ...PGP_ODD_WORDS].map((w) => w.toLowerCase())).size, 512)
})

test('known PGP word samples', () => {
  assert.deepEqual(pgpWords('0000'), ['aardvark', 'adroitness'])
  assert.deepEqual(pgpWords('ffff'), ['Zulu', 'Yucatan'])
  assert.deepEqual(pgpWords(Buffer.from([0xe5, 0x82, 0x94])), ['topmost', 'Istanbul', 'Pluto'])
  // The example from the word list's documentation: E582 94F2 E9A2 2748 6E8B 061B 31CC 528F D7FA 3F19
  assert.equal(pgpWords('E58294F2E9A227486E8B061B31CC528FD7FA3F19').join(' '),
    'topmost Istanbul Pluto vagabond treadmill Pacific brackish dictator goldfish Medusa afflict bravado chatter revolver Dupont midsummer stopwatch whimsical cowbell bottomless')
})

test('wordsToHex round-trips, case-insensitively', () => {
  for (let i = 0; i < 50; i++) {
    const hex = randomBytes(32).toString('hex')
    assert.equal(wordsToHex(pgpWords(hex)), hex)
    assert.equal(wordsToHex(pgpWords(hex).join(' ').toUpperCase()), hex)
  }
})

test('wordsToHex names the position of a swapped, dropped or unknown word', () => {
  const words = pgpWords('0102030405')
  const swapped = [words[0]!, words[2]!, words[1]!, ...words.slice(3)]
  assert.throws(() => wordsToHex(swapped), (e: unknown) => e instanceof FingerprintFormatError && e.code === 'WRONG_WORD_POSITION' && e.position === 2)
  assert.throws(() => wordsToHex([words[0]!, ...words.slice(2)]), { code: 'WRONG_WORD_POSITION' })
  assert.throws(() => wordsToHex(['aardvark', 'banana']), (e: unknown) => e instanceof FingerprintFormatError && e.code === 'UNKNOWN_WORD' && e.position === 2)
  assert.throws(() => wordsToHex(''), { code: 'EMPTY' })
})

test('fingerprintDisplay gives both renderings of the vector fingerprint', () => {
  const fp = vector('transfer-rsa2048.spki-sha256.hex')
  const d = fingerprintDisplay(fp)
  assert.equal(d.hex, fp)
  assert.equal(d.hexGroups, '861C 10E7 50A9 8C64 4860 933F A9A6 C74A 99F5 663F 021A F1A3 5896 1773 6C37 CF0C')
  assert.equal(d.words.length, 32)
  assert.equal(d.words[0], PGP_EVEN_WORDS[0x86])
  assert.equal(d.words[1], PGP_ODD_WORDS[0x1c])
  assert.equal(d.wordsText, d.words.join(' '))
  assert.equal(wordsToHex(d.words), fp)
})

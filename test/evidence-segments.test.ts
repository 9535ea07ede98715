/**
 * Segments across stations (main/evidence/segments.ts): the legs of a log, which station held the
 * ceremony at an entry, and the station structure `ceremony verify` checks — each naming the station
 * and entry of the first thing wrong.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { checkSegments, segmentsOf, stationAt, type LogEntry } from '../main/evidence'

const h = (n: number) => n.toString(16).padStart(64, '0')
let seq = 0
const entry = (kind: string, step: string, facts: Record<string, unknown> = {}): LogEntry => {
  seq++
  return { seq, ts: '2026-01-01T00:00:00.000Z', prev: h(seq - 1), planDigest: h(999), actor: 'x', step, kind, facts, hash: h(seq) }
}

function log(): LogEntry[] {
  seq = 0
  return [
    entry('ceremony-open', 'ceremony', { station: 'site-b' }),
    entry('step-intent', 'transfer-key:fips-2'),
    entry('step-done', 'transfer-key:fips-2'),
    entry('handoff', 'ceremony', { n: 1, from: 'site-b', to: 'site-a' }),
    entry('handoff-received', 'ceremony', { station: 'site-a', n: 1, finalDigest: h(4) }),
    entry('step-intent', 'import-pubkey:fips-2'),
    entry('artifact', 'wrap-result:fips-2', { name: 'x.out', sha256: h(1), bytes: 256 }),
    entry('handoff', 'ceremony', { n: 2, from: 'site-a', to: 'site-b' }),
    entry('handoff-received', 'ceremony', { station: 'site-b', n: 2, finalDigest: h(8) }),
    entry('step-done', 'close'),
  ]
}
const homes: Record<string, string> = { 'transfer-key:fips-2': 'site-b', 'import-pubkey:fips-2': 'site-a', 'wrap-result:fips-2': 'site-a', close: 'site-b' }
const stationOfStep = (id: string) => homes[id]

describe('segments across stations', () => {
  test('the legs of a log, with their final digests; a single-station log has none', () => {
    assert.deepEqual(segmentsOf(log()).map((s) => [s.n, s.station, s.firstSeq, s.lastSeq, s.finalDigest]), [
      [1, 'site-b', 1, 4, h(4)], [2, 'site-a', 5, 8, h(8)], [3, 'site-b', 9, 10, h(10)],
    ])
    assert.equal(segmentsOf(log())[0]!.finalWords.length, 32)
    assert.deepEqual(segmentsOf(log().filter((e) => !e.kind.startsWith('handoff'))), [])
  })

  test('which station held the ceremony at an entry', () => {
    const l = log()
    assert.deepEqual([1, 4, 5, 6, 9, 10].map((s) => stationAt(l, s)), ['site-b', 'site-b', 'site-b', 'site-a', 'site-a', 'site-b'])
  })

  test('a sound log passes', () => {
    assert.equal(checkSegments(log(), { stationOfStep }), undefined)
  })

  const cases: Array<[string, (l: LogEntry[]) => void, { seq: number; station: string | null; reason: RegExp }]> = [
    ["a step of site A's logged while site B held the ceremony", (l) => (l[1]!.step = 'import-pubkey:fips-2'), { seq: 2, station: 'site-b', reason: /a step of site-a, was written while site-b held/ }],
    ['a receipt that quotes another digest', (l) => (l[4]!.facts['finalDigest'] = h(77)), { seq: 5, station: 'site-a', reason: /receipt does not match hand-off 1/ }],
    ['a receipt at another station than addressed', (l) => (l[4]!.facts['station'] = 'site-c'), { seq: 5, station: 'site-c', reason: /receipt does not match/ }],
    ['hand-offs out of order', (l) => (l[7]!.facts['n'] = 3), { seq: 8, station: 'site-a', reason: /hand-off 3 is out of order/ }],
    ['a hand-off from a station that did not hold the ceremony', (l) => (l[7]!.facts['from'] = 'site-b'), { seq: 8, station: 'site-a', reason: /claims to come from site-b/ }],
    ['a hand-off with no receipt after it (the entry after it is named)', (l) => l.splice(4, 1), { seq: 6, station: 'site-a', reason: /not followed by its receipt/ }],
  ]
  for (const [name, mutate, expected] of cases) {
    test(`names the station and entry of ${name}`, () => {
      const l = log()
      mutate(l)
      const failure = checkSegments(l, { stationOfStep })
      assert.ok(failure, 'refused')
      assert.equal(failure.seq, expected.seq)
      assert.equal(failure.station, expected.station)
      assert.match(failure.reason, expected.reason)
    })
  }

  test('a log that ends with a hand-off (never received) is not a whole ceremony', () => {
    const l = log().slice(0, 4)
    assert.match(checkSegments(l)!.reason, /never received/)
  })
})

/**
 * Someone holding the media between sites (design §3b): every change to the bundle is refused by
 * name before anything acts on it — no request reaches an appliance, the receiving station's state
 * is unchanged, the refusal is logged — and the untouched media then continues the ceremony, whose
 * receipt lists every refusal. The forged cases go all the way: chain re-hashed, manifest and README
 * rendered again with the app's own code; only the words read out of band catch those.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { planDigest } from '../main/ceremony/plan'
import { GENESIS_PREV, sealEntry, sha256Hex, verifyRecord, type LogEntry } from '../main/evidence'
import { pgpWords, wordsToHex } from '../main/keys'
import { bundleNames, renderManifest, renderReadme, type HandoffFacts } from '../main/media/handoff-bundle'
import { vector } from './support/sim-client'
import { stopAllSimulators } from './support/sim-processes'
import { replicationProblems, twoSite, type TwoSite } from './support/two-site'

let s: TwoSite
let words1: string[]
after(async () => {
  await s?.cleanup()
  await stopAllSimulators()
})
before(async () => {
  s = await twoSite({ targets: 1, id: 'tamper' })
})

const file = (name: string) => join(s.media, name)
const read = (name: string) => readFileSync(file(name), 'utf8')

/** The attacker's forgery: entries changed, the whole chain sealed again, manifest and README rendered for it. */
function forgeBundle(n: number, from: string, to: string, edit: (segmentText: string) => string): void {
  const names = bundleNames(s.plan.id, n, from, to)
  const entries = edit(read(names.segment)).trim().split('\n').map((l) => JSON.parse(l) as LogEntry)
  let prev = GENESIS_PREV
  const lines = entries.map((e) => {
    const { hash: _hash, ...rest } = e
    const sealed = sealEntry({ ...rest, prev })
    prev = sha256Hex(sealed.line)
    return sealed.line
  })
  const text = lines.join('\n') + '\n'
  const last = JSON.parse(lines.at(-1)!) as LogEntry
  const bundle = { mode: s.plan.mode, ceremonyId: s.plan.id, planDigest: planDigest(s.plan), facts: last.facts as HandoffFacts, segmentText: text, entries: lines.length, finalDigest: last.hash }
  writeFileSync(file(names.segment), text)
  writeFileSync(file(names.manifest), renderManifest(bundle))
  writeFileSync(file(names.readme), renderReadme(bundle))
}

/** The same words with word i replaced by another word from its list: a plausible mishearing. */
function otherWord(words: string[], i: number): string[] {
  const bytes = Buffer.from(wordsToHex(words), 'hex')
  bytes[i] = bytes[i]! ^ 0x01
  return pgpWords(bytes)
}

interface Case { name: string; code: string; tamper?(): void; words?(): string[]; extra?: string[] }

async function refusedAll(station: string, n: number, cases: Case[], right: () => string[]): Promise<void> {
  const pristine = `h${n}`
  const stateBefore = existsSync(s.state(station)) ? s.snapshotState(station, /^handoff-refusals|\.lock$/) : {}
  const inventoryBefore = await s.inventory()
  for (const c of cases) {
    s.restoreMedia(pristine)
    c.tamper?.()
    const r = await s.run(station, { words: c.words ? c.words() : right(), ...(c.extra ? { extra: c.extra } : {}) })
    assert.equal(r.code, 1, `${c.name}: refused (${r.stderr.slice(-400)})`)
    assert.equal(r.summary.error.code, c.code, `${c.name}: ${r.summary.error.message}`)
    assert.equal(r.summary.requests, 0, `${c.name}: no request was sent`)
    assert.deepEqual(s.snapshotState(station, /^handoff-refusals|\.lock$/), stateBefore, `${c.name}: the station's journal and log are untouched`)
  }
  assert.deepEqual(await s.inventory(), inventoryBefore, 'nothing changed on any appliance')
  s.restoreMedia(pristine)
}

describe('tampering with the media between sites', () => {
  test('hand-off 1 (B → A): a swapped public key, a forged log, a dropped entry, edited files, a wrong bag or word: each refused by name', async () => {
    const b = await s.run('site-b')
    assert.equal(b.code, 0, b.stderr.slice(-800))
    words1 = b.summary.handoff.words
    s.saveMedia('h1')
    const names = bundleNames(s.plan.id, 1, 'site-b', 'site-a')
    const pem = `${s.plan.id}-fips-2-transfer-key.pub.pem`
    const theirs = vector('transfer-rsa2048.pub.pem')
    const cases: Case[] = [
      { name: 'a swapped public key (another valid RSA-2048 key)', code: 'HANDOFF_ARTIFACT_MISMATCH', tamper: () => writeFileSync(file(pem), theirs) },
      {
        name: 'a swapped public key, the log forged to match it and sealed again', code: 'HANDOFF_WORDS_MISMATCH',
        tamper: () => {
          const ours = read(pem)
          writeFileSync(file(pem), theirs)
          const fpOurs = JSON.parse(read(names.segment).split('\n').find((l) => l.includes('"step-done"') && l.includes('"export-pubkey:fips-2"'))!).facts.result.fingerprint as string
          const fpTheirs = vector('transfer-rsa2048.spki-sha256.hex').trim().toLowerCase()
          forgeBundle(1, 'site-b', 'site-a', (t) => t.replaceAll(sha256Hex(Buffer.from(ours)), sha256Hex(Buffer.from(theirs))).replaceAll(`"bytes":${Buffer.byteLength(ours)}`, `"bytes":${Buffer.byteLength(theirs)}`).replaceAll(fpOurs, fpTheirs))
        },
      },
      {
        name: 'a log entry dropped from the segment', code: 'SEGMENT_CHAIN_BROKEN',
        tamper: () => writeFileSync(file(names.segment), read(names.segment).split('\n').filter((_, i) => i !== 3).join('\n')),
      },
      { name: 'the segment cut short', code: 'SEGMENT_CHAIN_BROKEN', tamper: () => writeFileSync(file(names.segment), read(names.segment).slice(0, -40)) },
      { name: 'a carried result edited in the manifest', code: 'HANDOFF_MANIFEST_MISMATCH', tamper: () => writeFileSync(file(names.manifest), read(names.manifest).replace('"quorumN": 2', '"quorumN": 1')) },
      { name: 'other words printed in the README', code: 'HANDOFF_README_MISMATCH', tamper: () => writeFileSync(file(names.readme), read(names.readme).replace(words1[0]!, words1[2]!)) },
      { name: 'the segment replaced by a link', code: 'HANDOFF_FILE_REFUSED', tamper: () => { rmSync(file(names.segment)); symlinkSync('/etc/hostname', file(names.segment)) } },
      { name: 'the bundle missing', code: 'HANDOFF_NOT_FOUND', tamper: () => rmSync(file(names.manifest)) },
      { name: 'a bag number that is not the one logged', code: 'BAG_NUMBER_MISMATCH', extra: ['--received-bag', 'TEB-000000'] },
      { name: 'one word misheard', code: 'HANDOFF_WORDS_MISMATCH', words: () => otherWord(words1, 7) },
      { name: 'a word dropped', code: 'HANDOFF_WORDS_MISMATCH', words: () => words1.filter((_, i) => i !== 10) },
    ]
    await refusedAll('site-a', 1, cases, () => words1)
    assert.ok(!existsSync(join(s.state('site-a'), 'audit-log.jsonl')), 'no chain was started at site A')

    const a = await s.run('site-a', { words: words1, extra: ['--received-bag', 'REHEARSAL BAG', '--received-media-label', 'REHEARSAL MEDIA'] })
    assert.equal(a.code, 0, a.stderr.slice(-1500))
    const log = readFileSync(join(s.state('site-a'), 'audit-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    const receipt = log.find((e) => e.kind === 'handoff-received')
    assert.deepEqual(receipt.facts.refusedBefore.map((r: { code: string }) => r.code), cases.map((c) => c.code), 'every refusal is in the receipt')
    assert.deepEqual(receipt.facts.mediaChecked, { label: true, bag: true })
    s.saveMedia('h2')
  })

  test('hand-off 2 (A → B): a changed KCV (edited, or forged and sealed again), an older segment replayed, a flipped wrapped key: each refused by name', async () => {
    assert.ok(words1, 'runs after hand-off 1')
    const last = JSON.parse(readFileSync(join(s.state('site-a'), 'audit-log.jsonl'), 'utf8').trim().split('\n').at(-1)!) as LogEntry
    const words2 = pgpWords(last.hash)
    const names = bundleNames(s.plan.id, 2, 'site-a', 'site-b')
    const old = bundleNames(s.plan.id, 1, 'site-b', 'site-a')
    const kcvLine = (t: string) => t.split('\n').find((l) => l.includes('"step-done"') && l.includes('"station-preflight:site-a"'))!
    const kcv = JSON.parse(kcvLine(read(names.segment))).facts.result.cmk.kcv as string
    const otherKcv = kcv === 'abcdef' ? '123456' : 'abcdef'
    const blob = `${s.plan.id}-fips-2-wrapped_master_key.out`
    const cases: Case[] = [
      { name: "A's KCV changed in the segment", code: 'SEGMENT_CHAIN_BROKEN', tamper: () => writeFileSync(file(names.segment), read(names.segment).replace(kcvLine(read(names.segment)), kcvLine(read(names.segment)).replaceAll(`"kcv":"${kcv}"`, `"kcv":"${otherKcv}"`))) },
      { name: "A's KCV changed in the carried results", code: 'HANDOFF_MANIFEST_MISMATCH', tamper: () => writeFileSync(file(names.manifest), read(names.manifest).replaceAll(`"kcv": "${kcv}"`, `"kcv": "${otherKcv}"`)) },
      { name: "A's KCV changed everywhere and the chain sealed again", code: 'HANDOFF_WORDS_MISMATCH', tamper: () => forgeBundle(2, 'site-a', 'site-b', (t) => t.replaceAll(`"kcv":"${kcv}"`, `"kcv":"${otherKcv}"`)) },
      {
        name: 'the older segment (hand-off 1) replayed as hand-off 2', code: 'HANDOFF_STALE',
        tamper: () => {
          writeFileSync(file(names.segment), read(old.segment))
          writeFileSync(file(names.manifest), read(old.manifest))
          writeFileSync(file(names.readme), read(old.readme))
        },
      },
      {
        name: 'one bit of the wrapped CMK flipped', code: 'HANDOFF_ARTIFACT_MISMATCH',
        tamper: () => {
          const bytes = readFileSync(file(blob))
          bytes[17] = bytes[17]! ^ 0x01
          writeFileSync(file(blob), bytes)
        },
      },
      { name: "the words of hand-off 1 typed for hand-off 2", code: 'HANDOFF_WORDS_MISMATCH', words: () => words1 },
    ]
    await refusedAll('site-b', 2, cases, () => words2)

    const b = await s.run('site-b', { words: words2 })
    assert.equal(b.code, 0, b.stderr.slice(-1500))
    assert.deepEqual(replicationProblems(await s.inventory(), s.plan), [])
    const record = JSON.parse(readFileSync(b.summary.record, 'utf8'))
    assert.equal(verifyRecord(record, { artifactsDir: s.media }).ok, true)
    const receipt = record.entries.filter((e: { kind: string }) => e.kind === 'handoff-received').at(-1)
    assert.deepEqual(receipt.facts.refusedBefore.map((r: { code: string }) => r.code), cases.map((c) => c.code))
  })
})

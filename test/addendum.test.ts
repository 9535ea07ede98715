/**
 * The sealed addendum (issue 14 part 5): built only as the rules allow, chained to the record's final
 * digest and to the previous addendum, and verified again on reading — every refusal named. The
 * attacks: an addendum changed after sealing, one for another record, a forged chain, one dropped,
 * a witness or initials the plan does not hold, times outside the ceremony, and video files changed.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import {
  AddendumError, addendumFileName, buildVideoAddendum, canonicalJson, checkVideoFiles, sha256Hex, verifyAddenda,
  type Addendum, type AddendumVideo, type CeremonyRecord, type VideoAddendum,
} from '../main/evidence'
import { pgpWords } from '../main/keys'
import { sealAddendum } from '../main/evidence/addendum-format'
import { digestFile } from '../main/media'
import { PLAN, smallRecord, type SmallRecord } from './support/small-record'

const root = mkdtempSync(join(tmpdir(), 'dsm-addendum-'))
after(() => rmSync(root, { recursive: true, force: true }))
let n = 0
const fresh = () => join(root, String(n++))

const video = (camera: string, name: string, content: string, over: Partial<AddendumVideo> = {}): AddendumVideo => ({
  camera, name, startedAt: '2026-12-02T04:55:00Z', stoppedAt: '2026-12-02T06:05:00Z', bytes: Buffer.byteLength(content), sha256: sha256Hex(Buffer.from(content)), ...over,
})
const VIDEOS = [video('cam-screen', 'SCREEN0001.MP4', 'screen footage'), video('cam-room', 'ROOM0001.MP4', 'room footage')]
const base = (s: SmallRecord, over: Partial<Parameters<typeof buildVideoAddendum>[0]> = {}) => ({
  record: s.record, previous: [] as Addendum[], preparedBy: 'Ana Operator', preparedAt: '2026-12-02T07:00:00.000Z',
  attestedBy: [{ name: 'Wes Smith', initials: 'ws' }], videos: VIDEOS, camerasWithoutVideo: [],
  actionItems: [{ text: 'Replace the screen camera battery before the next ceremony', owner: 'Ana Operator', due: '2027-01-15' }], ...over,
})

/** What build refuses, by code (nothing is returned, so nothing can be written). */
function refusedAs(code: string, make: () => unknown): void {
  assert.throws(make, (err: unknown) => err instanceof AddendumError && err.code === code, `expected ${code}`)
}

test('an addendum extends the record: its digest is the SHA-256 of its canonical JSON, in words too, and it verifies', async () => {
  const s = await smallRecord(fresh())
  const a = buildVideoAddendum(base(s))
  assert.equal(a.n, 1)
  assert.equal(a.extends.recordFinalDigest, s.record.finalDigest)
  assert.equal(a.extends.previousDigest, null)
  assert.equal(a.watermark, 'REHEARSAL')
  const { digest, digestWords, ...rest } = a
  assert.equal(digest, createHash('sha256').update(canonicalJson(rest), 'utf8').digest('hex'))
  assert.deepEqual(digestWords, pgpWords(digest))
  assert.deepEqual(a.attestedBy, [{ name: 'Wes Smith', initials: 'WS' }], 'initials kept as the plan writes them')
  assert.equal(addendumFileName('video-test', 'rehearsal', 1), 'video-test-REHEARSAL-addendum-1.json')
  const verdict = verifyAddenda(s.record, [JSON.parse(JSON.stringify(a))])
  assert.equal(verdict.ok, true, JSON.stringify(verdict))
})

test('a second addendum continues from the first; given in any order they verify; one dropped or reordered is named', async () => {
  const s = await smallRecord(fresh())
  const first = buildVideoAddendum(base(s))
  const second = buildVideoAddendum(base(s, { previous: [first], videos: [], camerasWithoutVideo: [{ camera: 'cam-screen', note: 'listed in addendum 1' }, { camera: 'cam-room', note: 'listed in addendum 1' }] }))
  assert.equal(second.n, 2)
  assert.equal(second.extends.previousDigest, first.digest)
  assert.equal(verifyAddenda(s.record, [second, first]).ok, true)
  const missing = verifyAddenda(s.record, [second])
  assert.deepEqual(missing.ok ? null : [missing.code, missing.n], ['ADDENDUM_MISSING', 2])
  // A forger re-seals addendum 2 over another predecessor: its own digest is fine, the chain is not.
  const forged = sealAddendum({ ...strip(second), extends: { ...second.extends, previousDigest: 'f'.repeat(64) } })
  const broken = verifyAddenda(s.record, [first, forged])
  assert.deepEqual(broken.ok ? null : [broken.code, broken.n], ['ADDENDUM_CHAIN_BROKEN', 2])
})

test('ADDENDUM_DIGEST_MISMATCH: any change after sealing (a video digest, an action item, the words) is named', async () => {
  const s = await smallRecord(fresh())
  const a = buildVideoAddendum(base(s))
  const changes: Array<(x: VideoAddendum) => void> = [
    (x) => (x.videos[0]!.sha256 = 'e'.repeat(64)),
    (x) => (x.actionItems[0]!.due = '2030-01-01'),
    (x) => (x.digestWords[0] = x.digestWords[1]!),
  ]
  for (const change of changes) {
    const copy = structuredClone(a)
    change(copy)
    const verdict = verifyAddenda(s.record, [copy])
    assert.equal(verdict.ok ? 'OK' : verdict.code, 'ADDENDUM_DIGEST_MISMATCH')
  }
})

test('ADDENDUM_NOT_FOR_THIS_RECORD: an addendum verified against another record (or a record re-sealed) is named', async () => {
  const s = await smallRecord(fresh())
  const other = await smallRecord(fresh(), { ...PLAN, id: 'video-test-2' })
  const a = buildVideoAddendum(base(s))
  for (const record of [other.record, { ...s.record, finalDigest: other.record.finalDigest } as CeremonyRecord]) {
    const verdict = verifyAddenda(record, [a])
    assert.equal(verdict.ok ? 'OK' : verdict.code, 'ADDENDUM_NOT_FOR_THIS_RECORD')
  }
})

test('an addendum that is not of this format, or says production for a rehearsal, is named', async () => {
  const s = await smallRecord(fresh())
  const a = buildVideoAddendum(base(s))
  const extra = verifyAddenda(s.record, [{ ...a, apiKey: 'x' }])
  assert.equal(extra.ok ? 'OK' : extra.code, 'ADDENDUM_FORMAT_INVALID')
  assert.equal((() => { const v = verifyAddenda(s.record, ['not json']); return v.ok ? 'OK' : v.code })(), 'ADDENDUM_FORMAT_INVALID')
  const { watermark: _w, ...noMark } = strip(a)
  const production = sealAddendum({ ...noMark, mode: 'production' })
  const verdict = verifyAddenda(s.record, [production])
  assert.equal(verdict.ok ? 'OK' : verdict.code, 'ADDENDUM_MODE_MISMATCH')
})

test('witnesses: only the plan\'s, with their own initials, once, and not the preparer alone', async () => {
  const s = await smallRecord(fresh())
  refusedAs('WITNESS_NOT_IN_PLAN', () => buildVideoAddendum(base(s, { attestedBy: [{ name: 'Eve Outsider', initials: 'EO' }] })))
  refusedAs('WITNESS_INITIALS_MISMATCH', () => buildVideoAddendum(base(s, { attestedBy: [{ name: 'Wil Jones', initials: 'WJ' }] })))
  refusedAs('WITNESS_LISTED_TWICE', () => buildVideoAddendum(base(s, { attestedBy: [{ name: 'Wes Smith', initials: 'WS' }, { name: 'Wes Smith', initials: 'WS' }] })))
  refusedAs('ADDENDUM_NOT_ATTESTED', () => buildVideoAddendum(base(s, { attestedBy: [] })))
  refusedAs('ADDENDUM_SELF_ATTESTED', () => buildVideoAddendum(base(s, { preparedBy: 'Wes Smith' })))
  // { name, initials } witnesses sign with the initials the plan gives them.
  assert.equal(buildVideoAddendum(base(s, { attestedBy: [{ name: 'Wil Jones', initials: 'wx' }] })).attestedBy[0]!.initials, 'WX')
  // Re-sealed by hand with a stranger: the rule holds on reading too.
  const a = buildVideoAddendum(base(s))
  const stranger = sealAddendum({ ...strip(a), attestedBy: [{ name: 'Eve Outsider', initials: 'EO' }] })
  const verdict = verifyAddenda(s.record, [stranger])
  assert.equal(verdict.ok ? 'OK' : verdict.code, 'WITNESS_NOT_IN_PLAN')
})

test('video times: UTC with a Z, real, in order, around the ceremony window; outside it only with a note', async () => {
  const s = await smallRecord(fresh())
  const withFirst = (over: Partial<AddendumVideo>) => base(s, { videos: [{ ...VIDEOS[0]!, ...over }, VIDEOS[1]!] })
  refusedAs('VIDEO_TIME_INVALID', () => buildVideoAddendum(withFirst({ startedAt: '2026-12-02 04:55:00' })))
  refusedAs('VIDEO_TIME_INVALID', () => buildVideoAddendum(withFirst({ startedAt: '2026-12-02T04:55:00+01:00' })))
  refusedAs('VIDEO_TIME_INVALID', () => buildVideoAddendum(withFirst({ startedAt: '2026-02-30T04:55:00Z' })))
  refusedAs('VIDEO_TIMES_REVERSED', () => buildVideoAddendum(withFirst({ stoppedAt: '2026-12-02T04:50:00Z' })))
  // A day late: the recorder's clock or its zone is wrong, unless a note says otherwise.
  const dayLate = { startedAt: '2026-12-03T04:55:00Z', stoppedAt: '2026-12-03T06:05:00Z' }
  refusedAs('VIDEO_TIME_OUTSIDE_CEREMONY', () => buildVideoAddendum(withFirst(dayLate)))
  const noted = buildVideoAddendum(withFirst({ ...dayLate, note: "The recorder's clock was a day ahead; the on-screen UTC clock in the footage shows the true time." }))
  assert.equal(noted.videos[0]!.note?.startsWith('The recorder'), true)
  // Started 3 hours early: not "around" the ceremony.
  refusedAs('VIDEO_TIME_OUTSIDE_CEREMONY', () => buildVideoAddendum(withFirst({ startedAt: '2026-12-02T01:59:00Z' })))
  // Moved outside the window by hand and re-sealed: refused on reading.
  const a = buildVideoAddendum(base(s))
  const moved = sealAddendum({ ...strip(a), videos: [{ ...a.videos[0]!, ...dayLate }, a.videos[1]!] } as never)
  const verdict = verifyAddenda(s.record, [moved])
  assert.equal(verdict.ok ? 'OK' : verdict.code, 'VIDEO_TIME_OUTSIDE_CEREMONY')
})

test('every camera of the plan: its files cover the ceremony, or a note says why not', async () => {
  const s = await smallRecord(fresh())
  refusedAs('CAMERA_WITHOUT_VIDEO', () => buildVideoAddendum(base(s, { videos: [VIDEOS[0]!] })))
  const ok = buildVideoAddendum(base(s, { videos: [VIDEOS[0]!], camerasWithoutVideo: [{ camera: 'cam-room', note: 'The room camera did not start; the screen camera filmed throughout.' }] }))
  assert.equal(ok.camerasWithoutVideo.length, 1)
  refusedAs('CAMERA_NOT_IN_PLAN', () => buildVideoAddendum(base(s, { videos: [...VIDEOS, video('cam-door', 'DOOR.MP4', 'door')] })))
  // Two files of the screen camera with 05:20–05:25 unfilmed between them.
  const split = [video('cam-screen', 'A.MP4', 'a', { stoppedAt: '2026-12-02T05:20:00Z' }), video('cam-screen', 'B.MP4', 'b', { startedAt: '2026-12-02T05:25:00Z' }), VIDEOS[1]!]
  refusedAs('VIDEO_COVERAGE_GAP', () => buildVideoAddendum(base(s, { videos: split })))
  const bridged = [split[0]!, { ...split[1]!, note: 'The card was changed during the break; the room camera kept filming.' }, VIDEOS[1]!]
  assert.equal(buildVideoAddendum(base(s, { videos: bridged })).videos.length, 3)
  // Stopped at 05:59 of a ceremony sealed at 06:00.
  refusedAs('VIDEO_COVERAGE_GAP', () => buildVideoAddendum(base(s, { videos: [video('cam-screen', 'C.MP4', 'c', { stoppedAt: '2026-12-02T05:59:00Z' }), VIDEOS[1]!] })))
})

test('video names and action items: plain names listed once, real due dates, printable text', async () => {
  const s = await smallRecord(fresh())
  refusedAs('VIDEO_NAME_INVALID', () => buildVideoAddendum(base(s, { videos: [{ ...VIDEOS[0]!, name: '../SCREEN.MP4' }, VIDEOS[1]!] })))
  refusedAs('VIDEO_NAME_INVALID', () => buildVideoAddendum(base(s, { videos: [{ ...VIDEOS[0]!, name: 'SCREEN\u202e4PM.EXE' }, VIDEOS[1]!] })))
  refusedAs('VIDEO_LISTED_TWICE', () => buildVideoAddendum(base(s, { videos: [VIDEOS[0]!, { ...VIDEOS[1]!, name: VIDEOS[0]!.name }] })))
  refusedAs('VIDEO_LISTED_TWICE', () => buildVideoAddendum(base(s, { videos: [VIDEOS[0]!, { ...VIDEOS[1]!, sha256: VIDEOS[0]!.sha256 }] })))
  refusedAs('VIDEO_EMPTY', () => buildVideoAddendum(base(s, { videos: [{ ...VIDEOS[0]!, bytes: 0 }, VIDEOS[1]!] })))
  refusedAs('ACTION_ITEM_INVALID', () => buildVideoAddendum(base(s, { actionItems: [{ text: 'Fix it', owner: 'Ana Operator', due: '2027-02-30' }] })))
  refusedAs('ACTION_ITEM_INVALID', () => buildVideoAddendum(base(s, { actionItems: [{ text: 'Fix it', owner: '', due: '2027-02-01' }] })))
  refusedAs('ACTION_ITEM_INVALID', () => buildVideoAddendum(base(s, { actionItems: [{ text: 'Fix \u001b[2J it', owner: 'Ana', due: '2027-02-01' }] })))
  refusedAs('ADDENDUM_TIME_INVALID', () => buildVideoAddendum(base(s, { preparedAt: '2026-12-02T05:30:00.000Z' })))
})

test('the video files: SHA-256 and size re-read from the folder; missing, changed and linked files are named', async () => {
  const s = await smallRecord(fresh())
  const dir = join(fresh(), 'videos')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'SCREEN0001.MP4'), 'screen footage')
  writeFileSync(join(dir, 'ROOM0001.MP4'), 'room footage')
  const a = buildVideoAddendum(base(s))
  assert.deepEqual(await checkVideoFiles(a, dir), { ok: true, checked: ['SCREEN0001.MP4', 'ROOM0001.MP4'], missing: [] })
  writeFileSync(join(dir, 'ROOM0001.MP4'), 'room footagE')
  const changed = await checkVideoFiles(a, dir)
  assert.equal(changed.ok ? 'OK' : changed.code, 'VIDEO_DIGEST_MISMATCH')
  rmSync(join(dir, 'ROOM0001.MP4'))
  const missing = await checkVideoFiles(a, dir)
  assert.deepEqual(missing.ok ? null : [missing.code, /ROOM0001\.MP4/.test(missing.reason)], ['VIDEO_MISSING', true])
  // An auditor given only some of the videos: the ones present are checked, the others listed.
  assert.deepEqual(await checkVideoFiles(a, dir, { missingOk: true }), { ok: true, checked: ['SCREEN0001.MP4'], missing: ['ROOM0001.MP4'] })
  writeFileSync(join(root, 'elsewhere.mp4'), 'room footage')
  symlinkSync(join(root, 'elsewhere.mp4'), join(dir, 'ROOM0001.MP4'))
  const linked = await checkVideoFiles(a, dir)
  assert.equal(linked.ok ? 'OK' : linked.code, 'SYMLINK_REFUSED')
})

test('digestFile streams a file larger than one read, and refuses links and folders by name', async () => {
  const dir = fresh()
  mkdirSync(dir)
  const big = Buffer.alloc(9 * 1024 * 1024 + 7, 7)
  big[5_000_000] = 1
  writeFileSync(join(dir, 'big.mp4'), big)
  const d = await digestFile(join(dir, 'big.mp4'))
  assert.deepEqual([d.sha256, d.bytes], [createHash('sha256').update(big).digest('hex'), big.length])
  symlinkSync(join(dir, 'big.mp4'), join(dir, 'link.mp4'))
  await assert.rejects(digestFile(join(dir, 'link.mp4')), { code: 'SYMLINK_REFUSED' })
  await assert.rejects(digestFile(dir), { code: 'NOT_A_FILE' })
})

/** The addendum without its own digest, for re-sealing a forged one. */
function strip<T extends Addendum>(a: T): Omit<T, 'digest' | 'digestWords'> {
  const { digest: _d, digestWords: _w, ...rest } = a
  return rest
}

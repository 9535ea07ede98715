/**
 * `ceremony addendum` and `ceremony verify` with addenda, and `ceremony archive`, as an auditor and
 * an operator run them: the addendum hashes the videos itself and is written next to the record;
 * verify follows the chain from the record's final digest through every addendum and re-hashes each
 * video that is present. The attacks: a video file changed, an addendum edited after sealing, one
 * removed from the chain, and a file changed on an archive medium. Bad input writes nothing.
 */
import assert from 'node:assert/strict'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { addendumFileName, sha256Hex, type VideoAddendum } from '../main/evidence'
import { runCeremony } from './support/cli-output'
import { smallRecord } from './support/small-record'

const root = mkdtempSync(join(tmpdir(), 'dsm-addendum-cli-'))
after(() => rmSync(root, { recursive: true, force: true }))
let n = 0
const fresh = () => join(root, String(n++))

const ADDENDUM_1 = addendumFileName('video-test', 'rehearsal', 1)
const ADDENDUM_2 = addendumFileName('video-test', 'rehearsal', 2)

async function withVideos() {
  const dir = fresh()
  const s = await smallRecord(dir)
  const videos = join(dir, 'videos')
  mkdirSync(videos)
  writeFileSync(join(videos, 'SCREEN0001.MP4'), 'screen footage')
  writeFileSync(join(videos, 'ROOM0001.MP4'), 'room footage')
  return { ...s, videos }
}

const ADD_ARGS = (record: string, videos: string) => [
  'addendum', record, '--by', 'Ana Operator', '--witness', 'Wes Smith,WS', '--videos', videos,
  '--video', 'cam-screen,SCREEN0001.MP4,2026-12-02T04:55:00Z,2026-12-02T06:05:00Z',
  '--video', 'cam-room,ROOM0001.MP4,2026-12-02T04:56:00Z,2026-12-02T06:04:00Z,started a minute late, after the room was opened',
  '--action', '2027-01-15,Ana Operator,Replace the screen camera battery, then test it',
]

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as { ok: boolean; error?: { code: string; message: string }; addendum?: { n: number; file: string; digest: string } }

test('addendum: the tool hashes each video and seals the addendum next to the record; verify follows the chain and re-hashes the videos', async () => {
  const s = await withVideos()
  const made = runCeremony(ADD_ARGS(s.recordPath, s.videos))
  assert.equal(made.status, 0, made.stdout + made.stderr)
  const out = lastJson(made.stdout)
  assert.equal(out.addendum?.n, 1)
  const a = JSON.parse(readFileSync(join(s.stateDir, ADDENDUM_1), 'utf8')) as VideoAddendum
  assert.equal(a.digest, out.addendum?.digest)
  assert.deepEqual(a.videos.map((v) => [v.name, v.sha256, v.bytes]), [['SCREEN0001.MP4', sha256Hex(Buffer.from('screen footage')), 14], ['ROOM0001.MP4', sha256Hex(Buffer.from('room footage')), 12]])
  assert.equal(a.videos[1]!.note, 'started a minute late, after the room was opened')
  assert.deepEqual(a.actionItems, [{ text: 'Replace the screen camera battery, then test it', owner: 'Ana Operator', due: '2027-01-15' }])
  assert.equal(a.extends.recordFinalDigest, s.record.finalDigest)

  const ok = runCeremony(['verify', s.recordPath, '--artifacts', s.mediaDir, '--videos', s.videos])
  assert.equal(ok.status, 0, ok.stdout + ok.stderr)
  assert.match(ok.stdout, /addenda:\s+1 \(chained to the final digest/)
  assert.match(ok.stdout, /videos:\s+2 listed, 2 re-hashed OK/)

  // Without the videos folder the chain is still verified; the videos are said to be unchecked.
  const noVideos = runCeremony(['verify', s.recordPath])
  assert.equal(noVideos.status, 0, noVideos.stdout)
  assert.match(noVideos.stdout, /videos:\s+2 listed \(files not checked; pass --videos DIR\)/)

  // A second addendum continues the chain (the debrief's later action items).
  const second = runCeremony(['addendum', s.recordPath, '--by', 'Ana Operator', '--witness', 'Wil Jones,WX', '--no-video', 'cam-screen,listed in addendum 1', '--no-video', 'cam-room,listed in addendum 1', '--action', '2027-02-01,Wes Smith,Order a spare SD card'])
  assert.equal(second.status, 0, second.stdout + second.stderr)
  const a2 = JSON.parse(readFileSync(join(s.stateDir, ADDENDUM_2), 'utf8')) as VideoAddendum
  assert.equal(a2.extends.previousDigest, a.digest)
  const both = runCeremony(['verify', s.recordPath, '--videos', s.videos])
  assert.equal(both.status, 0, both.stdout)
  assert.match(both.stdout, /addenda:\s+2 \(chained/)
})

test('verify: a video changed after the addendum, an addendum edited after sealing, and one removed from the chain are each named (exit 1)', async () => {
  const s = await withVideos()
  assert.equal(runCeremony(ADD_ARGS(s.recordPath, s.videos)).status, 0)
  assert.equal(runCeremony(['addendum', s.recordPath, '--by', 'Ana Operator', '--witness', 'Wes Smith,WS', '--no-video', 'cam-screen,see addendum 1', '--no-video', 'cam-room,see addendum 1']).status, 0)

  writeFileSync(join(s.videos, 'ROOM0001.MP4'), 'room footagE')
  const video = runCeremony(['verify', s.recordPath, '--videos', s.videos])
  assert.equal(video.status, 1, video.stdout)
  assert.match(video.stdout, /^FAILED at addendum 1: VIDEO_DIGEST_MISMATCH: ROOM0001\.MP4/m)

  const path = join(s.stateDir, ADDENDUM_1)
  const original = readFileSync(path, 'utf8')
  const edited = JSON.parse(original) as VideoAddendum
  edited.actionItems[0]!.due = '2030-01-01'
  writeFileSync(path, JSON.stringify(edited, null, 2))
  const changed = runCeremony(['verify', s.recordPath])
  assert.equal(changed.status, 1, changed.stdout)
  assert.match(changed.stdout, /^FAILED at addendum 1: ADDENDUM_DIGEST_MISMATCH: .*changed after it was sealed/m)

  rmSync(path)
  const dropped = runCeremony(['verify', s.recordPath])
  assert.equal(dropped.status, 1, dropped.stdout)
  assert.match(dropped.stdout, /^FAILED at addendum 2: ADDENDUM_MISSING/m)
})

test('addendum: bad input is refused by name and writes nothing', async () => {
  const s = await withVideos()
  const before = readdirSync(s.stateDir).sort()
  const cases: Array<[string[], string]> = [
    [ADD_ARGS(s.recordPath, s.videos).map((a) => a.replace('2026-12-02T04:55:00Z', '2026-12-02 04:55')), 'VIDEO_TIME_INVALID'],
    [ADD_ARGS(s.recordPath, s.videos).map((a) => (a === 'Wes Smith,WS' ? 'Eve Outsider,EO' : a)), 'WITNESS_NOT_IN_PLAN'],
    [ADD_ARGS(s.recordPath, s.videos).map((a) => a.replace('ROOM0001.MP4', 'ROOM0002.MP4')), 'VIDEO_MISSING'],
    [ADD_ARGS(s.recordPath, s.videos).map((a) => a.replace('2027-01-15', '2027-02-30')), 'ACTION_ITEM_INVALID'],
    [ADD_ARGS(s.recordPath, s.videos).map((a) => a.replace('cam-room,ROOM0001.MP4', 'cam-room,../ROOM0001.MP4')), 'VIDEO_NAME_INVALID'],
  ]
  for (const [args, code] of cases) {
    const r = runCeremony(args)
    assert.equal(r.status, 1, `${code}: ${r.stdout}${r.stderr}`)
    assert.equal(lastJson(r.stdout).error?.code, code, r.stdout)
  }
  const usage = runCeremony(['addendum', s.recordPath, '--video', 'cam-room,ROOM0001.MP4'])
  assert.equal(usage.status, 2)
  assert.match(usage.stderr, /--by/)
  // A record that does not verify gets no addendum.
  const record = JSON.parse(readFileSync(s.recordPath, 'utf8')) as { entries: { facts: Record<string, unknown> }[] }
  record.entries[1]!.facts['bytes'] = 999
  writeFileSync(s.recordPath, JSON.stringify(record))
  const invalid = runCeremony(ADD_ARGS(s.recordPath, s.videos))
  assert.equal(lastJson(invalid.stdout).error?.code, 'RECORD_INVALID')
  assert.deepEqual(readdirSync(s.stateDir).sort(), before)
})

test('archive: two media from the command line, labels in the receipt; verify reads an archive folder and names a file changed on a medium', async () => {
  const s = await withVideos()
  assert.equal(runCeremony(ADD_ARGS(s.recordPath, s.videos)).status, 0)
  const a = join(fresh(), 'usb-a')
  const b = join(fresh(), 'usb-b')
  mkdirSync(a, { recursive: true })
  mkdirSync(b, { recursive: true })
  const r = runCeremony(['archive', s.recordPath, '--media', s.mediaDir, '--to', a, '--label', 'SN-A-1001', '--to', b, '--label', 'SN-B-2002', '--by', 'Ana Operator', '--witness', 'Wil Jones,WX'])
  assert.equal(r.status, 0, r.stdout + r.stderr)
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { ok: boolean; archive: { folder: string; receipt: { n: number; file: string }; media: { label: string; files: number }[] } }
  assert.deepEqual(out.archive.media.map((m) => m.label), ['SN-A-1001', 'SN-B-2002'])
  assert.equal(out.archive.receipt.n, 2)
  // The receipt is kept next to the record too, so a later addendum continues after it.
  assert.ok(readdirSync(s.stateDir).includes(ADDENDUM_2))

  const folderB = join(b, out.archive.folder)
  const recordB = join(folderB, 'video-test-REHEARSAL-record.json')
  const ok = runCeremony(['verify', recordB, '--artifacts', join(folderB, 'artifacts')])
  assert.equal(ok.status, 0, ok.stdout)
  assert.match(ok.stdout, /archive:\s+SN-A-1001, SN-B-2002; this folder: \d+ files re-read against the manifest/)

  const art = s.record.artifacts[0]!
  writeFileSync(join(folderB, 'artifacts', art.name), 'a public keY')
  const bad = runCeremony(['verify', recordB])
  assert.equal(bad.status, 1, bad.stdout)
  assert.match(bad.stdout, /^FAILED at addendum 2: ARCHIVE_FILE_MISMATCH: artifacts\//m)

  // The other medium is untouched and still verifies; a missing medium is named.
  copyFileSync(join(a, out.archive.folder, 'artifacts', art.name), join(folderB, 'artifacts', art.name))
  assert.equal(runCeremony(['verify', recordB]).status, 0)
  const missing = runCeremony(['archive', s.recordPath, '--media', s.mediaDir, '--to', a, '--label', 'SN-A-1001', '--to', join(b, 'gone'), '--label', 'SN-B-2002', '--by', 'Ana Operator', '--witness', 'Wil Jones,WX'])
  assert.equal(missing.status, 1)
  assert.equal(lastJson(missing.stdout).error?.code, 'ARCHIVE_DESTINATION_MISSING')
})

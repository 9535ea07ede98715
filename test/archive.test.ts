/**
 * The archive (issue 14 part 8): the bundle — record, log, addenda, artifacts and appliance logs —
 * written to two media, every file re-read against the record's digest, and a receipt naming both
 * media by label, chained like any addendum. The attacks: an artifact changed on the source media,
 * a file changed on a medium between the write and the check, one medium missing, the same medium
 * twice, a medium too small. Each is named and leaves no partial archive on either medium.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { archiveFolderName, writeArchive, type ArchiveInput } from '../main/ceremony/archive'
import { MANIFEST_NAME, addendumFileName, buildVideoAddendum, checkArchiveFolder, sha256Hex, verifyAddenda, type ArchiveAddendum } from '../main/evidence'
import { writeFileAtomic } from '../main/media'
import { smallRecord, type SmallRecord } from './support/small-record'
import { mountSmallFs } from './support/small-fs'

const root = mkdtempSync(join(tmpdir(), 'dsm-archive-'))
after(() => rmSync(root, { recursive: true, force: true }))
let n = 0
const fresh = () => join(root, String(n++))

async function setup(): Promise<{ s: SmallRecord; a: string; b: string; input: ArchiveInput }> {
  const dir = fresh()
  const s = await smallRecord(dir)
  const a = join(dir, 'usb-a')
  const b = join(dir, 'usb-b')
  mkdirSync(a)
  mkdirSync(b)
  const input: ArchiveInput = {
    record: s.recordPath, log: s.logPath, mediaDir: s.mediaDir, addenda: [],
    destinations: [{ dir: a, label: 'SN-A-1001' }, { dir: b, label: 'SN-B-2002' }],
    preparedBy: 'Ana Operator', attestedBy: [{ name: 'Wes Smith', initials: 'WS' }], now: () => new Date('2026-12-02T07:30:00.000Z'),
  }
  return { s, a, b, input }
}

const FOLDER = archiveFolderName('video-test', 'rehearsal')
/** What a medium holds: names of its entries (partial folders start with a dot and must be gone). */
const onMedium = (dir: string) => readdirSync(dir).sort()

async function refused(p: Promise<unknown>, code: string): Promise<Error> {
  let caught: unknown
  await p.catch((err: unknown) => (caught = err))
  assert.ok(caught instanceof Error, `expected ${code}, nothing was thrown`)
  assert.equal((caught as { code?: string }).code, code, (caught as Error).message)
  return caught as Error
}

test('two media each get the whole bundle, byte for byte, with a receipt naming both labels, chained to the record', async () => {
  const { s, a, b, input } = await setup()
  const out = await writeArchive(input)
  assert.equal(out.folder, FOLDER)
  assert.deepEqual(out.media.map((m) => m.label), ['SN-A-1001', 'SN-B-2002'])
  for (const dir of [a, b]) {
    assert.deepEqual(onMedium(dir), [FOLDER], 'no partial folder is left beside the archive')
    const folder = join(dir, FOLDER)
    assert.deepEqual(readdirSync(join(folder, 'artifacts')).sort(), s.record.artifacts.map((x) => x.name).sort())
    for (const art of s.record.artifacts) assert.equal(sha256Hex(readFileSync(join(folder, 'artifacts', art.name))), art.sha256)
    assert.equal(readFileSync(join(folder, 'video-test-REHEARSAL-record.json'), 'utf8'), readFileSync(s.recordPath, 'utf8'))
    assert.equal(readFileSync(join(folder, 'audit-log.jsonl'), 'utf8'), readFileSync(s.logPath, 'utf8'))
    const receipt = JSON.parse(readFileSync(join(folder, out.receiptName), 'utf8')) as ArchiveAddendum
    assert.deepEqual(receipt, JSON.parse(JSON.stringify(out.receipt)))
    assert.equal((await checkArchiveFolder(folder, s.record, receipt, [])).ok, true)
  }
  assert.equal(out.receipt.kind, 'archive')
  assert.equal(out.receipt.extends.recordFinalDigest, s.record.finalDigest)
  assert.deepEqual(out.receipt.archive.media.map((m) => m.label), ['SN-A-1001', 'SN-B-2002'])
  const manifest = JSON.parse(readFileSync(join(a, FOLDER, MANIFEST_NAME), 'utf8')) as { files: { name: string; role: string }[] }
  assert.deepEqual(manifest.files.map((f) => f.role).sort(), ['appliance-log', 'artifact', 'audit-log', 'record'])
  assert.equal(verifyAddenda(s.record, [out.receipt]).ok, true)
})

test('addenda sealed before the archive go into it; the receipt continues their chain', async () => {
  const { s, a, input } = await setup()
  const video = buildVideoAddendum({
    record: s.record, previous: [], preparedBy: 'Ana Operator', preparedAt: '2026-12-02T07:00:00.000Z', attestedBy: [{ name: 'Wes Smith', initials: 'WS' }],
    videos: [], camerasWithoutVideo: [{ camera: 'cam-screen', note: 'not filmed in this test' }, { camera: 'cam-room', note: 'not filmed in this test' }], actionItems: [],
  })
  const path = join(s.stateDir, addendumFileName('video-test', 'rehearsal', 1))
  writeFileSync(path, JSON.stringify(video))
  const out = await writeArchive({ ...input, addenda: [path] })
  assert.equal(out.receipt.n, 2)
  assert.equal(out.receipt.extends.previousDigest, video.digest)
  assert.ok(existsSync(join(a, FOLDER, addendumFileName('video-test', 'rehearsal', 1))))
  assert.equal(verifyAddenda(s.record, [video, out.receipt]).ok, true)
})

test('ARTIFACT_DIGEST_MISMATCH: an artifact changed on the source media is named and neither medium is written', async () => {
  const { s, a, b, input } = await setup()
  const art = s.record.artifacts[0]!
  writeFileSync(join(s.mediaDir, art.name), 'a public keY')
  const err = await refused(writeArchive(input), 'ARTIFACT_DIGEST_MISMATCH')
  assert.match(err.message, new RegExp(art.name.replace(/\./g, '\\.')))
  assert.deepEqual([onMedium(a), onMedium(b)], [[], []])
})

test('ARCHIVE_INCOMPLETE: an artifact the record lists is missing from the media folder, by name', async () => {
  const { s, a, input } = await setup()
  rmSync(join(s.mediaDir, s.record.artifacts[1]!.name))
  const err = await refused(writeArchive(input), 'ARCHIVE_INCOMPLETE')
  assert.match(err.message, /appliance-log/)
  assert.deepEqual(onMedium(a), [])
})

test('ARCHIVE_FILE_MISMATCH: a file that differs on the second medium when re-read is named; no partial archive is left on either', async () => {
  const { s, a, b, input } = await setup()
  const art = s.record.artifacts[0]!
  // The medium keeps other bytes than were written (a failing stick, or someone at the workstation).
  const write: typeof writeFileAtomic = async (path, data, opts) => {
    const r = await writeFileAtomic(path, data, opts)
    if (path.startsWith(b) && path.endsWith(art.name)) writeFileSync(path, 'a public keY')
    return r
  }
  const err = await refused(writeArchive({ ...input, write }), 'ARCHIVE_FILE_MISMATCH')
  assert.match(err.message, /Medium 2 \(SN-B-2002\)/)
  assert.match(err.message, new RegExp(`artifacts/${art.name.replace(/\./g, '\\.')}`))
  assert.deepEqual([onMedium(a), onMedium(b)], [[], []])
})

test('a medium missing, given once, the same medium twice, or two media with one label: each named before anything is written', async () => {
  const { a, b, input } = await setup()
  await refused(writeArchive({ ...input, destinations: [input.destinations[0]!, { dir: join(b, 'not-there'), label: 'SN-B-2002' }] }), 'ARCHIVE_DESTINATION_MISSING')
  await refused(writeArchive({ ...input, destinations: [input.destinations[0]!] }), 'ARCHIVE_NEEDS_TWO_MEDIA')
  mkdirSync(join(a, 'sub'))
  await refused(writeArchive({ ...input, destinations: [input.destinations[0]!, { dir: join(a, 'sub'), label: 'SN-B-2002' }] }), 'ARCHIVE_SAME_MEDIUM')
  await refused(writeArchive({ ...input, destinations: [input.destinations[0]!, { dir: b, label: 'sn-a-1001' }] }), 'ARCHIVE_LABELS_SAME')
  await refused(writeArchive({ ...input, destinations: [input.destinations[0]!, { dir: b, label: ' ' }] }), 'ARCHIVE_LABEL_INVALID')
  assert.deepEqual([onMedium(a), onMedium(b)], [['sub'], []])
})

test('ARCHIVE_EXISTS: a medium that already holds this archive is not overwritten', async () => {
  const { a, b, input } = await setup()
  await writeArchive(input)
  const before = readFileSync(join(a, FOLDER, MANIFEST_NAME))
  await refused(writeArchive(input), 'ARCHIVE_EXISTS')
  assert.deepEqual(readFileSync(join(a, FOLDER, MANIFEST_NAME)), before)
  assert.deepEqual(onMedium(b), [FOLDER])
})

test('ARCHIVE_MEDIA_TOO_SMALL: a medium with less room than the bundle is named before anything is written', async (t) => {
  const { b, input } = await setup()
  const small = mountSmallFs(b, 256)
  if (!small) return t.skip('mounting a small tmpfs needs root on Linux')
  try {
    const err = await refused(writeArchive(input), 'ARCHIVE_MEDIA_TOO_SMALL')
    assert.match(err.message, /SN-B-2002/)
    assert.deepEqual(onMedium(b), [])
    assert.deepEqual(onMedium(input.destinations[0]!.dir), [])
  } finally {
    small.unmount()
  }
})

/**
 * `ceremony rehearse` shows the whole auditor's package: after the record, a sample video addendum
 * sealed beside it, over camera files the rehearsal wrote (one per camera of the plan, real files,
 * hashed by the tool), chained to the record's final digest. `ceremony verify` of the rehearsal
 * checks it with the videos, and so does the standalone Python method; a camera file changed
 * afterwards is named by both. A production record gets no sample addendum.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { sealSampleAddendum } from '../main/cli/rehearse-addendum'
import { addendumFileName, sha256Hex, type CeremonyRecord, type VideoAddendum } from '../main/evidence'
import { runCeremony, runCeremonyAsync } from './support/cli-output'

const python = spawnSync('python3', ['--version']).status === 0

test('ceremony rehearse seals a sample video addendum over the camera files it wrote; verify checks it and names a changed camera file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsm-rehearse-addendum-'))
  try {
    const state = join(dir, 'state')
    const r = await runCeremonyAsync(['rehearse', '--state', state], { timeoutMs: 180_000 })
    assert.equal(r.status, 0, r.stderr.slice(-2000))
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { ok: boolean; record: string }
    assert.equal(summary.ok, true)
    assert.match(r.stderr, /sample video addendum sealed and verified: .*-REHEARSAL-addendum-1\.json/)
    const record = JSON.parse(readFileSync(summary.record, 'utf8')) as CeremonyRecord
    const plan = record.plan as { id: string; cameras: { id: string }[] }
    assert.ok(plan.cameras.length >= 1, 'the rehearsal plan names cameras')
    const file = join(dirname(summary.record), addendumFileName(plan.id, 'rehearsal', 1))
    const addendum = JSON.parse(readFileSync(file, 'utf8')) as VideoAddendum
    assert.equal(addendum.extends.recordFinalDigest, record.finalDigest)
    assert.equal(addendum.watermark, 'REHEARSAL')
    assert.deepEqual(addendum.videos.map((v) => v.camera), plan.cameras.map((c) => c.id), 'a file for every camera of the plan')
    const videos = join(state, 'videos')
    for (const v of addendum.videos) assert.equal(sha256Hex(readFileSync(join(videos, v.name))), v.sha256, 'hashed from the file the rehearsal wrote')
    assert.ok(addendum.attestedBy.length === 1 && addendum.attestedBy[0]!.name !== addendum.preparedBy)
    assert.equal(addendum.actionItems.length, 1)

    const ok = runCeremony(['verify', summary.record, '--artifacts', join(state, 'media'), '--videos', videos])
    assert.equal(ok.status, 0, ok.stdout + ok.stderr)
    assert.match(ok.stdout, /addenda:\s+1 \(chained to the final digest/)
    assert.match(ok.stdout, new RegExp(`videos:\\s+${addendum.videos.length} listed, ${addendum.videos.length} re-hashed OK`))
    if (python) {
      const py = spawnSync('python3', [join(__dirname, '../docs/verify_record.py'), summary.record, join(state, 'media'), '--videos', videos], { encoding: 'utf8' })
      assert.equal(py.status, 0, py.stdout + py.stderr)
      assert.deepEqual(py.stdout.trim().split('\n').slice(1), [`ADDENDUM 1 video ${addendum.digest}`, ...addendum.videos.map((v) => `VIDEO ${v.name} OK`)])
    }

    // A camera file changed after the addendum sealed it.
    const first = addendum.videos[0]!.name
    writeFileSync(join(videos, first), 'something else\n')
    const bad = runCeremony(['verify', summary.record, '--videos', videos])
    assert.equal(bad.status, 1)
    assert.match(bad.stdout, /FAILED at addendum 1: VIDEO_DIGEST_MISMATCH: /)
    if (python) assert.match(spawnSync('python3', [join(__dirname, '../docs/verify_record.py'), summary.record, '--videos', videos], { encoding: 'utf8' }).stdout, /FAILED at addendum 1: VIDEO_DIGEST_MISMATCH: /)

    // A production record: no sample addendum, refused by name, nothing written.
    const production = { ...record, mode: 'production' } as CeremonyRecord
    const before = readdirSync(dirname(summary.record)).length
    await assert.rejects(sealSampleAddendum(summary.record, production, join(dir, 'prod')), { code: 'NOT_A_REHEARSAL' })
    assert.equal(readdirSync(dirname(summary.record)).length, before)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

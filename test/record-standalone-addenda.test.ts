/**
 * The standalone Python verifier (docs/verify_record.py) follows the addenda beside a record as
 * `ceremony verify` does: the chain from the record's final digest through each addendum, each
 * digest, and with --videos each video re-hashed. An addendum edited after sealing, one removed
 * from the chain, one sealed on another record, and a video changed are each named, as the CLI names
 * them; both verifiers agree on every case.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { addendumFileName } from '../main/evidence'
import { runCeremony } from './support/cli-output'
import { PLAN, smallRecord } from './support/small-record'

const SCRIPT = join(__dirname, '../docs/verify_record.py')
const python = spawnSync('python3', ['--version']).status === 0
const root = mkdtempSync(join(tmpdir(), 'dsm-py-addenda-'))
after(() => rmSync(root, { recursive: true, force: true }))

const py = (...args: string[]) => spawnSync('python3', [SCRIPT, ...args], { encoding: 'utf8' })

test('verify_record.py checks the addenda chained to the record, and names an edited, a missing and a foreign addendum and a changed video', { skip: python ? false : 'python3 is not installed here' }, async () => {
  const s = await smallRecord(join(root, 'a'))
  const videos = join(root, 'a', 'videos')
  mkdirSync(videos)
  writeFileSync(join(videos, 'SCREEN0001.MP4'), 'screen footage')
  writeFileSync(join(videos, 'ROOM0001.MP4'), 'room footage')
  const add = (...extra: string[]) => runCeremony(['addendum', s.recordPath, '--by', 'Ana Operator', ...extra])
  assert.equal(add('--witness', 'Wes Smith,WS', '--videos', videos,
    '--video', 'cam-screen,SCREEN0001.MP4,2026-12-02T04:55:00Z,2026-12-02T06:05:00Z',
    '--video', 'cam-room,ROOM0001.MP4,2026-12-02T04:56:00Z,2026-12-02T06:04:00Z',
    '--action', '2027-01-15,Ana Operator,Replace the screen camera battery').status, 0)
  assert.equal(add('--witness', 'Wil Jones,WX', '--no-video', 'cam-screen,listed in addendum 1', '--no-video', 'cam-room,listed in addendum 1', '--action', '2027-02-01,Wes Smith,Order a spare SD card').status, 0)
  const first = join(s.stateDir, addendumFileName('video-test', 'rehearsal', 1))
  const second = join(s.stateDir, addendumFileName('video-test', 'rehearsal', 2))
  const a1 = JSON.parse(readFileSync(first, 'utf8')) as { digest: string }
  const a2 = JSON.parse(readFileSync(second, 'utf8')) as { digest: string }

  // Good: the record, then each addendum in the chain, then each video re-hashed.
  const ok = py(s.recordPath, s.mediaDir, '--videos', videos)
  assert.equal(ok.status, 0, ok.stdout + ok.stderr)
  assert.deepEqual(ok.stdout.trim().split('\n'), [
    `OK ${s.record.entries.length} ${s.record.finalDigest}`,
    `ADDENDUM 1 video ${a1.digest}`, 'VIDEO SCREEN0001.MP4 OK', 'VIDEO ROOM0001.MP4 OK',
    `ADDENDUM 2 video ${a2.digest}`,
  ])
  // Without --videos the chain is still checked; the files are not read.
  assert.deepEqual(py(s.recordPath).stdout.trim().split('\n').slice(1), [`ADDENDUM 1 video ${a1.digest}`, `ADDENDUM 2 video ${a2.digest}`])

  const cliCode = () => /FAILED at addendum (\d+): ([A-Z_]+)/.exec(runCeremony(['verify', s.recordPath, '--videos', videos]).stdout)?.slice(1, 3)
  const pyFails = () => {
    const r = py(s.recordPath, '--videos', videos)
    assert.equal(r.status, 1, r.stdout + r.stderr)
    return /FAILED at addendum (\d+): ([A-Z_]+): /.exec(r.stdout.trim().split('\n').at(-1)!)?.slice(1, 3)
  }
  const original1 = readFileSync(first, 'utf8')

  // Tampered: an action item changed after sealing (the file still parses, the digest does not match).
  writeFileSync(first, original1.replace('Replace the screen camera battery', 'Nothing to do'))
  assert.deepEqual(pyFails(), ['1', 'ADDENDUM_DIGEST_MISMATCH'])
  assert.deepEqual(cliCode(), ['1', 'ADDENDUM_DIGEST_MISMATCH'], 'the CLI names it the same way')

  // Resealed by hand with a new digest: the next addendum no longer continues from it.
  const edited = JSON.parse(original1.replace('Replace the screen camera battery', 'Nothing to do')) as Record<string, unknown>
  const { createHash } = await import('node:crypto')
  const { canonicalJson } = await import('../main/evidence')
  const { digest: _d, digestWords: _w, ...rest } = edited
  edited['digest'] = createHash('sha256').update(canonicalJson(rest)).digest('hex')
  writeFileSync(first, JSON.stringify(edited))
  assert.deepEqual(pyFails(), ['2', 'ADDENDUM_CHAIN_BROKEN'])
  writeFileSync(first, original1)

  // One removed from the chain: the next one is named, not silently accepted.
  renameSync(first, `${first}.aside`)
  assert.deepEqual(pyFails(), ['2', 'ADDENDUM_MISSING'])
  assert.deepEqual(cliCode(), ['2', 'ADDENDUM_MISSING'])
  renameSync(`${first}.aside`, first)

  // An addendum sealed on another record of the same ceremony id does not extend this one.
  const other = await smallRecord(join(root, 'b'), { ...PLAN, title: 'Another ceremony under the same id' })
  assert.notEqual(other.record.finalDigest, s.record.finalDigest)
  const foreign = runCeremony(['addendum', other.recordPath, '--by', 'Ana Operator', '--witness', 'Wes Smith,WS', '--no-video', 'cam-screen,none', '--no-video', 'cam-room,none'])
  assert.equal(foreign.status, 0, foreign.stdout + foreign.stderr)
  renameSync(second, `${second}.aside`)
  writeFileSync(second, readFileSync(join(other.stateDir, addendumFileName('video-test', 'rehearsal', 1))))
  const wrongPlace = JSON.parse(readFileSync(second, 'utf8')) as { n: number }
  assert.equal(wrongPlace.n, 1)
  // Put in as addendum 2's file but numbered 1: two addenda are numbered 1.
  assert.deepEqual(pyFails(), ['1', 'ADDENDUM_OUT_OF_ORDER'])
  renameSync(first, `${first}.aside`)
  assert.deepEqual(pyFails(), ['1', 'ADDENDUM_NOT_FOR_THIS_RECORD'])
  assert.deepEqual(cliCode(), ['1', 'ADDENDUM_NOT_FOR_THIS_RECORD'])
  renameSync(`${first}.aside`, first)
  renameSync(`${second}.aside`, second)

  // A video changed after the addendum listed it.
  writeFileSync(join(videos, 'ROOM0001.MP4'), 'room footage, edited')
  assert.deepEqual(pyFails(), ['1', 'VIDEO_DIGEST_MISMATCH'])
  assert.deepEqual(cliCode(), ['1', 'VIDEO_DIGEST_MISMATCH'])
})

// The ceremony record: built from a real audit log, verified offline; every kind of tampering is
// caught at the right entry; artifacts re-hashed; the `ceremony verify` command's exit codes.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync, spawnSync } from 'node:child_process'
import {
  AuditLog, buildRecord, verifyRecord, planDigestOf, sha256Hex, benchVerify, RecordBuildError,
  type CeremonyRecord,
} from '../main/evidence'
import { pgpWords, wordsToHex } from '../main/keys'
import { writeFileAtomic } from '../main/media'
import { run } from '../main/cli/verify'
import { assertCliOutputClean } from './support/cli-output'

const root = mkdtempSync(join(tmpdir(), 'record-test-'))
after(() => rmSync(root, { recursive: true, force: true }))
let n = 0
const fresh = (name: string) => join(root, `${n++}-${name}`)

const plan = { id: 'cer-2026-11', title: 'CMK replication to T1', mode: 'production', targets: ['T1'] }
const planDigest = planDigestOf(plan)

async function ceremony(): Promise<{ record: CeremonyRecord; artifactsDir: string }> {
  const artifactsDir = fresh('media')
  const { mkdirSync } = await import('node:fs')
  mkdirSync(artifactsDir)
  const log = await AuditLog.open(fresh('audit.jsonl'), { planDigest })
  await log.append({ actor: 'operator', step: 'preflight', kind: 'step-result', facts: { appliances: ['S', 'T1'], skewMs: 120 } })
  const pem = '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'
  const w = await writeFileAtomic(join(artifactsDir, 'T1-transfer.pub.pem'), pem)
  await log.append({ actor: 'operator', step: 'T1/3', kind: 'artifact', facts: { name: 'T1-transfer.pub.pem', sha256: w.sha256, bytes: w.bytes } })
  await log.appendWitnessSignoff('Wendy', ['fingerprint read aloud and matched'], 'T1/4')
  await log.append({ actor: 'operator', step: 'T1/6', kind: 'approval', facts: { requestId: 'req-1', approvers: ['cust-a', 'cust-b'] } })
  await log.appendException('Wendy', 'USB media re-seated once', 'T1/7')
  await log.append({ actor: 'operator', step: 'close', kind: 'seal', facts: { entries: 6 } })
  await log.close()
  const record = buildRecord({
    plan, planDigest, entries: log.entries(), mode: 'production',
    artifacts: [{ name: 'T1-transfer.pub.pem', sha256: w.sha256, bytes: w.bytes }],
    signoffs: [{ witness: 'Wendy', items: ['fingerprint read aloud and matched'] }],
  })
  return { record, artifactsDir }
}

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T

test('a record built from a real log verifies, with the final digest in words', async () => {
  const { record, artifactsDir } = await ceremony()
  assert.equal(record.signoffs.length, 1)
  assert.equal(record.exceptions.length, 1)
  assert.equal(record.approvals.length, 1)
  assert.equal(record.artifacts[0]!.seq, 2)
  assert.equal(record.watermark, undefined)
  const r = verifyRecord(clone(record), { artifactsDir })
  assert.ok(r.ok, JSON.stringify(r))
  assert.equal(r.entries, 6)
  assert.equal(r.finalDigest, record.entries[5]!.hash)
  assert.deepEqual(r.finalWords, pgpWords(r.finalDigest))
  assert.equal(wordsToHex(r.finalWords), r.finalDigest)
  assert.deepEqual(r.artifactsChecked, ['T1-transfer.pub.pem'])
})

test('tampering is reported at the first bad entry', async () => {
  const { record } = await ceremony()
  let t = clone(record); (t.entries[2]!.facts as { witness: string }).witness = 'Mallory'
  assert.deepEqual(verifyRecord(t), { ok: false, firstBadEntry: 3, reason: 'hash does not match the entry contents (the entry was altered)' })

  t = clone(record); t.entries.splice(3, 1)
  let r = verifyRecord(t); assert.ok(!r.ok); assert.equal(r.firstBadEntry, 4)

  t = clone(record); t.entries.pop()
  r = verifyRecord(t); assert.ok(!r.ok); assert.equal(r.firstBadEntry, 5); assert.match(r.reason, /finalDigest/)

  t = clone(record); (t.plan as { targets: string[] }).targets.push('T2')
  r = verifyRecord(t); assert.ok(!r.ok); assert.equal(r.firstBadEntry, 0); assert.match(r.reason, /plan was changed/)

  // Swapping in another plan *and* its digest: every entry is bound to the original plan.
  t = clone(record); t.plan = { ...plan, targets: ['T9'] }; t.planDigest = planDigestOf(t.plan)
  r = verifyRecord(t); assert.ok(!r.ok); assert.equal(r.firstBadEntry, 1); assert.match(r.reason, /planDigest/)

  t = clone(record); t.finalWords[3] = 'aardvark'
  r = verifyRecord(t); assert.ok(!r.ok)
})

test('summaries cannot drop an exception or invent a sign-off', async () => {
  const { record } = await ceremony()
  let t = clone(record); t.exceptions = []
  let r = verifyRecord(t); assert.ok(!r.ok); assert.equal(r.firstBadEntry, 5); assert.match(r.reason, /exceptions/)
  t = clone(record); t.signoffs.push({ seq: 6, ts: t.entries[5]!.ts, step: 'close', actor: 'Wendy', facts: { witness: 'Wendy', items: ['all'] } })
  r = verifyRecord(t); assert.ok(!r.ok); assert.match(r.reason, /signoffs/)
  t = clone(record); t.artifacts[0]!.sha256 = sha256Hex('other')
  r = verifyRecord(t); assert.ok(!r.ok); assert.equal(r.firstBadEntry, 2)
})

test('artifact files are re-hashed; a changed file fails at the entry that logged it; a missing one is reported', async () => {
  const { record, artifactsDir } = await ceremony()
  writeFileSync(join(artifactsDir, 'T1-transfer.pub.pem'), 'swapped key')
  const r = verifyRecord(record, { artifactsDir })
  assert.ok(!r.ok); assert.equal(r.firstBadEntry, 2); assert.match(r.reason, /T1-transfer\.pub\.pem has SHA-256/)
  const ok = verifyRecord(record, { artifactsDir: fresh('empty-dir-that-does-not-exist') })
  assert.ok(ok.ok); assert.deepEqual(ok.artifactsMissing, ['T1-transfer.pub.pem'])
  const t = clone(record); t.artifacts[0]!.name = '../../etc/passwd'; t.entries[1]!.facts.name = '../../etc/passwd'
  assert.equal(verifyRecord(t, { artifactsDir }).ok, false)
})

test('buildRecord refuses what would not verify', async () => {
  const { record } = await ceremony()
  const entries = record.entries
  assert.throws(() => buildRecord({ plan: { ...plan, id: 'x' }, planDigest, entries, mode: 'production' }), RecordBuildError)
  assert.throws(() => buildRecord({ plan, planDigest, entries, mode: 'rehearsal' }), RecordBuildError)
  assert.throws(() => buildRecord({ plan, planDigest, entries: [], mode: 'production' }), RecordBuildError)
  assert.throws(() => buildRecord({ plan, planDigest, entries, mode: 'production', artifacts: [{ name: 'unlogged.bin', sha256: sha256Hex('x'), bytes: 1 }] }), RecordBuildError)
  assert.throws(() => buildRecord({ plan, planDigest, entries, mode: 'production', exceptions: [{ by: 'X', note: 'not in the log' }] }), RecordBuildError)
  const broken = clone(entries); broken[1]!.facts.bytes = 999
  assert.throws(() => buildRecord({ plan, planDigest, entries: broken, mode: 'production' }), /entry 2/)
})

test('rehearsal records carry the REHEARSAL watermark, and must', async () => {
  const rplan = { ...plan, mode: 'rehearsal' }
  const log = await AuditLog.open(fresh('r.jsonl'), { planDigest: planDigestOf(rplan) })
  await log.append({ actor: 'operator', step: 'preflight', kind: 'step-result', facts: {} })
  await log.close()
  const rec = buildRecord({ plan: rplan, planDigest: planDigestOf(rplan), entries: log.entries(), mode: 'rehearsal' })
  assert.equal(rec.watermark, 'REHEARSAL')
  assert.ok(verifyRecord(rec).ok)
  const t = clone(rec); delete t.watermark
  assert.equal(verifyRecord(t).ok, false)
})

test('benchVerify runs and verifies (a small n here; the 100k figure is reported separately)', () => {
  const r = benchVerify(2000)
  assert.equal(r.entries, 2000)
  assert.ok(r.verifyMs > 0)
})

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const o = process.stdout.write.bind(process.stdout)
  const e = process.stderr.write.bind(process.stderr)
  process.stdout.write = ((s: string) => { out += s; return true }) as typeof process.stdout.write
  process.stderr.write = ((s: string) => { err += s; return true }) as typeof process.stderr.write
  try {
    return { code: await run(argv), out, err }
  } finally {
    process.stdout.write = o
    process.stderr.write = e
  }
}

test('ceremony verify: exit 0 with a summary, 1 with "FAILED at entry N", 2 on usage or unreadable file', async () => {
  const { record, artifactsDir } = await ceremony()
  const good = fresh('record.json')
  writeFileSync(good, JSON.stringify(record, null, 2))
  let r = await capture([good, '--artifacts', artifactsDir])
  assert.equal(r.code, 0, r.out + r.err)
  assert.match(r.out, /Ceremony record OK: cer-2026-11/)
  assert.match(r.out, /log entries: +6 \(chain verified\)/)
  assert.match(r.out, /1 re-hashed OK/)
  assert.ok(r.out.includes(record.finalWords.join(' ')))

  const bad = fresh('record.json')
  const t = clone(record); t.entries[3]!.actor = 'mallory'
  writeFileSync(bad, JSON.stringify(t))
  r = await capture([bad])
  assert.equal(r.code, 1)
  assert.match(r.out, /^FAILED at entry 4: /)

  assert.equal((await capture([])).code, 2)
  assert.equal((await capture([good, good])).code, 2)
  assert.equal((await capture([good, '--frobnicate'])).code, 2)
  assert.equal((await capture([fresh('missing.json')])).code, 2)
  const notJson = fresh('x.json'); writeFileSync(notJson, '{not json')
  assert.equal((await capture([notJson])).code, 2)
})

test('`ceremony verify` is registered in the real CLI entry point', async () => {
  const { record } = await ceremony()
  const good = fresh('record.json')
  writeFileSync(good, JSON.stringify(record))
  const bin = join(__dirname, '..', 'bin', 'ceremony.cjs')
  const out = execFileSync(process.execPath, [bin, 'verify', good], { encoding: 'utf8' })
  assertCliOutputClean('ceremony verify', { stdout: out })
  assert.match(out, /Ceremony record OK/)
  const t = clone(record); t.entries[0]!.ts = '2020-01-01T00:00:00.000Z'
  writeFileSync(good, JSON.stringify(t))
  const failed = spawnSync(process.execPath, [bin, 'verify', good], { encoding: 'utf8' })
  assertCliOutputClean('ceremony verify', failed)
  assert.equal(failed.status, 1)
  assert.match(failed.stdout, /FAILED at entry 1: hash does not match/)
})

test('verifyRecord answers hostile shapes with a result, never a crash', async () => {
  const { record } = await ceremony()
  const shapes: unknown[] = [
    null, [], 'x', 42, {}, { ...clone(record), entries: [null] }, { ...clone(record), entries: 'nope' },
    { ...clone(record), plan: { n: 1 }, planDigest: 'zz' }, { ...clone(record), artifacts: [null] },
    { ...clone(record), entries: [{ ...clone(record).entries[0], extra: 1 }] },
  ]
  for (const s of shapes) {
    const r = verifyRecord(s)
    assert.equal(r.ok, false, JSON.stringify(s)?.slice(0, 80))
  }
})

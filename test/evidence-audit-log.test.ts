// The hash-chained audit log on real files: format, chain, fsync-per-append, re-open, tamper
// detection, secret refusal, and write/fsync failures (the entry is refused, nothing is lost).
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync, appendFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import {
  AuditLog, AuditLogWriteError, AuditLogCorruptError, SecretInLogError, InvalidEntryError, GENESIS_PREV,
  canonicalJson, planDigestOf, type LogFileHandle,
} from '../main/evidence'

const root = mkdtempSync(join(tmpdir(), 'audit-test-'))
after(() => rmSync(root, { recursive: true, force: true }))
let n = 0
const freshPath = () => join(root, `log${n++}.jsonl`)
const sha = (s: string) => createHash('sha256').update(s).digest('hex')
const plan = { id: 'cer-1', title: 'Test ceremony', mode: 'rehearsal' }
const planDigest = planDigestOf(plan)
const fixedClock = () => new Date('2026-11-28T10:00:00.000Z')
const step = (i: number) => ({ actor: 'operator', step: `T1/step-${i}`, kind: 'step-result', facts: { kid: `kid-${i}`, httpStatus: 200 } })

test('entries are canonical JSON lines chained by the SHA-256 of the previous line', async () => {
  const path = freshPath()
  const log = await AuditLog.open(path, { planDigest, clock: fixedClock })
  assert.equal(log.head(), GENESIS_PREV)
  const e1 = await log.append(step(1))
  const e2 = await log.append(step(2))
  await log.close()
  const lines = readFileSync(path, 'utf8').split('\n')
  assert.equal(lines.length, 3)
  assert.equal(lines[2], '')
  assert.equal(e1.seq, 1)
  assert.equal(e1.prev, GENESIS_PREV)
  assert.equal(e1.ts, '2026-11-28T10:00:00.000Z')
  assert.equal(e1.planDigest, planDigest)
  assert.equal(e2.prev, sha(lines[0]!))
  assert.equal(lines[0], canonicalJson(e1))
  const { hash, ...withoutHash } = e1
  assert.equal(hash, sha(canonicalJson(withoutHash)))
  assert.equal(log.head(), e2.hash)
  // Canonical: sorted keys, no whitespace.
  assert.match(lines[0]!, /^\{"actor":"operator","facts":\{"httpStatus":200,"kid":"kid-1"\},"hash":"[0-9a-f]{64}","kind":"step-result","planDigest":"[0-9a-f]{64}","prev":"0{64}","seq":1,"step":"T1\/step-1","ts":"2026-11-28T10:00:00.000Z"\}$/)
})

test('each append is written and fsynced before it resolves', async () => {
  const calls: string[] = []
  const log = await AuditLog.open(freshPath(), {
    planDigest,
    openForAppend: async (p) => {
      const { promises } = await import('node:fs')
      const fh = await promises.open(p, 'a')
      return {
        write: async (b, o, l) => { calls.push('write'); return fh.write(b, o, l) },
        sync: async () => { calls.push('sync'); return fh.sync() },
        close: () => fh.close(),
      }
    },
  })
  await log.append(step(1))
  assert.deepEqual(calls, ['write', 'sync'])
  await log.append(step(2))
  assert.deepEqual(calls, ['write', 'sync', 'write', 'sync'])
  await log.close()
})

test('concurrent appends get consecutive seq numbers and one unbroken chain', async () => {
  const path = freshPath()
  const log = await AuditLog.open(path, { planDigest })
  const results = await Promise.all(Array.from({ length: 25 }, (_, i) => log.append(step(i))))
  assert.deepEqual(results.map((e) => e.seq), Array.from({ length: 25 }, (_, i) => i + 1))
  await log.close()
  const reopened = await AuditLog.open(path, { planDigest })
  assert.equal(reopened.entries().length, 25)
  await reopened.close()
})

test('re-opening verifies the chain and continues it', async () => {
  const path = freshPath()
  const a = await AuditLog.open(path, { planDigest })
  await a.append(step(1))
  await a.append(step(2))
  await a.close()
  const b = await AuditLog.open(path, { planDigest })
  assert.equal(b.entries().length, 2)
  const e3 = await b.append(step(3))
  assert.equal(e3.seq, 3)
  assert.equal(e3.prev, sha(readFileSync(path, 'utf8').split('\n')[1]!))
  await b.close()
})

async function writeLog(count: number): Promise<string> {
  const path = freshPath()
  const log = await AuditLog.open(path, { planDigest })
  for (let i = 1; i <= count; i++) await log.append(step(i))
  await log.close()
  return path
}

async function assertCorrupt(path: string, code: string, entry: number) {
  await assert.rejects(AuditLog.open(path, { planDigest }), (e: unknown) => {
    assert.ok(e instanceof AuditLogCorruptError, String(e))
    assert.equal(e.code, code, e.message)
    assert.equal(e.entry, entry, e.message)
    return true
  })
}

test('tampering is detected on open, at the first altered entry', async () => {
  // Edit a fact in entry 2 (hash no longer matches).
  let path = await writeLog(4)
  let lines = readFileSync(path, 'utf8').split('\n')
  lines[1] = lines[1]!.replace('"kid":"kid-2"', '"kid":"kid-X"')
  writeFileSync(path, lines.join('\n'))
  await assertCorrupt(path, 'BROKEN_CHAIN', 2)

  // Remove entry 2: entry 3 now has the wrong seq/prev.
  path = await writeLog(4)
  lines = readFileSync(path, 'utf8').split('\n')
  lines.splice(1, 1)
  writeFileSync(path, lines.join('\n'))
  await assertCorrupt(path, 'BROKEN_CHAIN', 2)

  // Swap entries 2 and 3.
  path = await writeLog(4)
  lines = readFileSync(path, 'utf8').split('\n')
  ;[lines[1], lines[2]] = [lines[2]!, lines[1]!]
  writeFileSync(path, lines.join('\n'))
  await assertCorrupt(path, 'BROKEN_CHAIN', 2)

  // Re-format a line (same JSON, different bytes): not canonical.
  path = await writeLog(3)
  lines = readFileSync(path, 'utf8').split('\n')
  lines[2] = JSON.stringify(JSON.parse(lines[2]!), null, 1).replace(/\n/g, '')
  writeFileSync(path, lines.join('\n'))
  await assertCorrupt(path, 'BROKEN_CHAIN', 3)

  // A rewritten entry with a recomputed own hash still breaks the next entry's prev.
  path = await writeLog(3)
  lines = readFileSync(path, 'utf8').split('\n')
  const e1 = JSON.parse(lines[0]!)
  e1.facts.kid = 'forged'
  const { hash: _h, ...rest } = e1
  e1.hash = sha(canonicalJson(rest))
  lines[0] = canonicalJson(e1)
  writeFileSync(path, lines.join('\n'))
  await assertCorrupt(path, 'BROKEN_CHAIN', 2)
})

test('a torn last line, a non-JSON line, another plan, and a symlinked log are refused on open', async () => {
  let path = await writeLog(2)
  appendFileSync(path, '{"actor":"operator","fa')
  await assertCorrupt(path, 'TORN_TAIL', 3)

  path = await writeLog(2)
  appendFileSync(path, 'not json\n')
  await assertCorrupt(path, 'NOT_JSON', 3)

  path = await writeLog(2)
  await assert.rejects(AuditLog.open(path, { planDigest: planDigestOf({ ...plan, id: 'other' }) }), { code: 'PLAN_MISMATCH' })

  const link = join(root, `link${n++}.jsonl`)
  symlinkSync(path, link)
  await assert.rejects(AuditLog.open(link, { planDigest }), { code: 'SYMLINK' })
})

test('facts that look like secrets are refused and nothing is written', async () => {
  const path = freshPath()
  const log = await AuditLog.open(path, { planDigest })
  await log.append(step(1))
  const before = readFileSync(path, 'utf8')
  const bad: Array<Record<string, unknown>> = [
    { password: 'hunter2' }, { apiKey: 'abc' }, { api_key: 'abc' }, { token: 't' }, { access_token: 't' },
    { secret: 's' }, { value: 'AAAA' }, { nested: { deeper: [{ sessionToken: 'x' }] } }, { clientSecret: 'x' },
    { header: 'Bearer eyJhbGciOi' }, { blob: '-----BEGIN PRIVATE KEY-----\nMIIE' },
  ]
  for (const facts of bad) {
    await assert.rejects(log.append({ actor: 'operator', step: 's', kind: 'k', facts }), SecretInLogError, JSON.stringify(facts))
  }
  assert.equal(readFileSync(path, 'utf8'), before)
  // The log is still usable afterwards.
  assert.equal((await log.append(step(2))).seq, 2)
  await log.close()
})

test('malformed entries are refused with a named error, nothing written', async () => {
  const path = freshPath()
  const log = await AuditLog.open(path, { planDigest })
  await assert.rejects(log.append({ actor: '', step: 's', kind: 'k', facts: {} }), InvalidEntryError)
  await assert.rejects(log.append({ actor: 'a\nb', step: 's', kind: 'k', facts: {} }), InvalidEntryError)
  await assert.rejects(log.append({ actor: 'a', step: 's', kind: 'k', facts: { when: new Date() } }), InvalidEntryError)
  await assert.rejects(log.append({ actor: 'a', step: 's', kind: 'k', facts: { n: Number.NaN } }), InvalidEntryError)
  await assert.rejects(log.append({ actor: 'a', step: 's', kind: 'witness-signoff', facts: { witness: 'W' } }), InvalidEntryError)
  await assert.rejects(log.append({ actor: 'a', step: 's', kind: 'exception', facts: { by: 'W' } }), InvalidEntryError)
  await assert.rejects(log.append({ actor: 'a', step: 's', kind: 'artifact', facts: { name: 'x', sha256: 'nope', bytes: 1 } }), InvalidEntryError)
  assert.equal(readFileSync(path, 'utf8'), '')
  await log.close()
})

test('witness sign-offs and exceptions are entries', async () => {
  const log = await AuditLog.open(freshPath(), { planDigest })
  const s = await log.appendWitnessSignoff('Wendy Witness', ['fingerprint matches', 'KCV matches'], 'T1/step-11')
  assert.equal(s.kind, 'witness-signoff')
  assert.deepEqual(s.facts, { witness: 'Wendy Witness', items: ['fingerprint matches', 'KCV matches'] })
  const x = await log.appendException('Wendy Witness', 'Media re-inserted after a USB error', 'T1/step-7')
  assert.equal(x.kind, 'exception')
  assert.deepEqual(x.facts, { by: 'Wendy Witness', note: 'Media re-inserted after a USB error' })
  await log.close()
})

function failingHandle(failOn: 'write' | 'sync', code: string): (p: string) => Promise<LogFileHandle> {
  return async (p) => {
    const { promises } = await import('node:fs')
    const fh = await promises.open(p, 'a')
    let calls = 0
    return {
      write: async (b, o, l) => {
        if (failOn === 'write' && ++calls >= 2) throw Object.assign(new Error(code), { code })
        return fh.write(b, o, l)
      },
      sync: async () => {
        if (failOn === 'sync' && ++calls >= 2) throw Object.assign(new Error(code), { code })
        return fh.sync()
      },
      close: () => fh.close(),
    }
  }
}

for (const [failOn, code] of [['write', 'ENOSPC'], ['sync', 'EIO']] as const) {
  test(`a failing ${failOn} (${code}) rejects append with AuditLogWriteError and stops the log`, async () => {
    const path = freshPath()
    const log = await AuditLog.open(path, { planDigest, openForAppend: failingHandle(failOn, code) })
    await log.append(step(1))
    await assert.rejects(log.append(step(2)), (e: unknown) => e instanceof AuditLogWriteError && e.osCode === code)
    // The in-memory chain did not advance, and no later entry can be appended after a failure.
    assert.equal(log.entries().length, 1)
    await assert.rejects(log.append(step(3)), AuditLogWriteError)
    await log.close()
  })
}

test('an audit log that cannot be opened for writing is a named error', async () => {
  await assert.rejects(AuditLog.open(join(root, 'missing-dir', 'log.jsonl'), { planDigest }), AuditLogWriteError)
})

test('ordinary object names that merely start with Basic or Bearer are not mistaken for credentials', async () => {
  const { assertNoSecrets } = await import('../main/evidence')
  for (const name of ['Basic settings key', 'Bearer token signing key', 'Basic', 'Bearer of bad news (AES)']) {
    assert.doesNotThrow(() => assertNoSecrets({ inventory: [{ name }] }), name)
  }
  assert.throws(() => assertNoSecrets({ header: 'Basic ' + Buffer.from('custodian:hunter2').toString('base64') }), { code: 'SECRET_IN_LOG' })
  assert.throws(() => assertNoSecrets({ header: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig' }), { code: 'SECRET_IN_LOG' })
})

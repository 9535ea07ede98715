/**
 * Reading the audit log is cheap and cannot alter it (bench, issue 9 §8). The engine reads the log
 * before every step (the witness gate, aborts, the step view): a deep copy of the whole log per read,
 * and the witness desk re-reading it for every earlier step, made a 10-target rehearsal spend 31 s
 * of CPU there. Now the stored entries are handed out frozen, and the desk reads the log once per
 * growth.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { runToCompletion } from '../main/ceremony/driver'
import { AuditLog, planDigestOf } from '../main/evidence'
import { ceremonyFixture } from './support/ceremony-fixture'

const root = mkdtempSync(join(tmpdir(), 'audit-reads-'))
after(() => rmSync(root, { recursive: true, force: true }))

test('the log hands out its entries frozen: a reader cannot change the record in memory, and the file is untouched', async () => {
  const path = join(root, 'log.jsonl')
  const log = await AuditLog.open(path, { planDigest: planDigestOf({ id: 'reads-1' }) })
  const appended = await log.append({ actor: 'operator', step: 'preflight', kind: 'step-intent', facts: { intent: { names: ['a'] } } })
  appended.facts['intent'] = 'changed by the caller' // what append returns is the caller's own copy
  const [entry] = log.entries()
  assert.deepEqual(entry!.facts, { intent: { names: ['a'] } }, 'the caller\'s copy is not the record')
  assert.ok(Object.isFrozen(entry) && Object.isFrozen(entry!.facts) && Object.isFrozen((entry!.facts['intent'] as { names: string[] }).names), 'frozen all the way down')
  assert.throws(() => { (entry!.facts as Record<string, unknown>)['intent'] = 'tampered' }, TypeError)
  assert.throws(() => { ((entry!.facts['intent'] as { names: string[] }).names).push('b') }, TypeError)
  const list = log.entries()
  list.pop() // the array is the reader's own
  assert.equal(log.entries().length, 1)
  assert.equal(log.head(), entry!.hash)
  await log.close()
  const reopened = await AuditLog.open(path, { planDigest: planDigestOf({ id: 'reads-1' }) })
  assert.deepEqual(reopened.entries()[0]!.facts, { intent: { names: ['a'] } }, 'the file verifies and holds what was appended')
  assert.ok(Object.isFrozen(reopened.entries()[0]), 'entries read from the file are frozen too')
  await reopened.close()
  assert.match(readFileSync(path, 'utf8'), /"names":\["a"\]/)
})

test('the witness gate reads the log once per growth, not once per earlier step', async () => {
  const f = await ceremonyFixture({ targets: 2 })
  try {
    const engine = await f.open()
    const last = engine.steps.at(-1)!
    // Everything up to the close, signed by the simulated witnesses; the ceremony stays open.
    await runToCompletion(engine, { credentials: f.creds, confirm: true, witnessing: { kind: 'simulated' }, stopAt: (s) => s === last })
    const signed = engine.steps.filter((s) => engine.witnesses.status(s) !== null).length
    assert.ok(signed > 10, `control: ${signed} steps have sign-offs to check`)
    const entries = AuditLog.prototype.entries
    let reads = 0
    AuditLog.prototype.entries = function (this: AuditLog) {
      reads++
      return entries.call(this)
    }
    try {
      assert.equal(engine.witnesses.firstUnsignedBefore(last), null, 'every earlier step is signed')
      for (const s of engine.steps) engine.witnesses.status(s)
      assert.equal(reads, 0, 'the log has not grown since the last check: no read at all')
      await engine.attendance('Witness One', 'leave', 'Rehearsal operator')
      reads = 0
      for (let i = 0; i < 3; i++) engine.witnesses.firstUnsignedBefore(last)
      assert.equal(reads, 1, 'one read after the log grew, however many steps are checked')
    } finally {
      AuditLog.prototype.entries = entries
    }
    await engine.shutdown()
  } finally {
    await f.cleanup()
  }
})

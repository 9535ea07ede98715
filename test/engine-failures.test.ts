/**
 * What goes wrong in a real room: denials, expiry, an approved operation that fails, flaky
 * appliances, swapped or damaged media. Each is refused by name, nothing is lost, and the ceremony
 * can still finish once the cause is dealt with.
 */
import assert from 'node:assert/strict'
import { copyFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import type { CeremonyEngine } from '../main/ceremony/engine'
import { runToCompletion } from '../main/ceremony/driver'
import { JOURNAL_VERSION } from '../main/ceremony/journal'
import { verifyRecord } from '../main/evidence'
import { ceremonyFixture, decide, signWhatIsDue, type Fixture } from './support/ceremony-fixture'

const VECTORS = join(__dirname, '../../shared/reference/vectors')

/** Runs steps in order (approving with the simulated custodians) until `stepId` is next. */
async function runUntil(f: Fixture, engine: CeremonyEngine, stepId: string): Promise<void> {
  while (engine.currentStep() && engine.currentStep()!.id !== stepId) {
    await signWhatIsDue(engine)
    const step = engine.currentStep()!
    if (step.interaction === 'approval') {
      await engine.runStep(step.id)
      const custodians = f.creds.appliances.find((a) => a.id === step.approval!.appliance)!.custodians!
      for (const c of custodians.slice(0, 2)) {
        await decide(engine, step.id, c, 'approve', { confirmation: engine.expectedConfirmation(step.id) ?? undefined })
      }
    } else {
      await engine.runStep(step.id, { confirmation: engine.expectedConfirmation(step.id) ?? undefined })
    }
  }
  await signWhatIsDue(engine)
}

/**
 * C.0 stops on what others did in the ceremony's groups (the appliances' own logs): returns the
 * findings' references and their refusal, then a witness acknowledges each by name.
 */
async function acknowledgeLogFindings(f: Fixture, engine: CeremonyEngine, note: string): Promise<string> {
  await runUntil(f, engine, 'appliance-logs')
  const err = await engine.runStep('appliance-logs').then(() => null, (e: { code: string; message: string }) => e)
  assert.equal(err?.code, 'APPLIANCE_LOG_FINDINGS')
  const refs = [...new Set(err.message.match(/AL-[0-9a-f]{8}/g) ?? [])]
  await engine.recordException('appliance-logs', 'Witness One', `${refs.join(', ')}: ${note}`)
  return err.message
}

function custodian(f: Fixture, appliance: number, i: number) {
  return f.creds.appliances[appliance]!.custodians![i]!
}

async function finishAndCheck(f: Fixture, engine: CeremonyEngine) {
  // The operator runs a refused step again once the cause is fixed.
  const current = engine.currentStep()
  if (current && engine.record(current.id).state === 'failed' && current.interaction !== 'approval') {
    await engine.runStep(current.id, { confirmation: engine.expectedConfirmation(current.id) ?? undefined })
  }
  await runToCompletion(engine, { credentials: f.creds, confirm: true, witnessing: { kind: 'simulated' } })
  const { path } = await engine.sealRecord()
  await engine.shutdown()
  const record = JSON.parse(readFileSync(path, 'utf8'))
  assert.equal(verifyRecord(record, { artifactsDir: f.mediaDir }).ok, true)
  const kcvs = f.sim.appliances.map((a) => a.state.sobjects().filter((o) => o.name === f.plan.cmk.name).map((o) => o.kcv))
  assert.deepEqual(kcvs, f.sim.appliances.map(() => [kcvs[0]![0]]), 'exactly one CMK on each appliance, with one KCV')
  return record
}

test('a denied export is reported by name; a fresh request then completes the ceremony', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    await runUntil(f, engine, 'wrap-approval:fips-2')
    await engine.runStep('wrap-approval:fips-2')
    const c = custodian(f, 0, 0)
    await decide(engine, 'wrap-approval:fips-2', c, 'deny', { reason: 'the fingerprint was not read aloud' })
    const rec = engine.record('wrap-approval:fips-2')
    assert.equal(rec.state, 'failed')
    assert.equal(rec.error?.code, 'QUORUM_DENIED')
    assert.equal(f.sim.appliances[0]!.state.approvalRequests().filter((r) => r.executions > 0).length, 0, 'nothing was exported')
    await assert.rejects(engine.runStep('wrap-result:fips-2'), { code: 'STEP_OUT_OF_ORDER' })
    await engine.restartApproval('wrap-approval:fips-2')
    const record = await finishAndCheck(f, engine)
    assert.ok(record.entries.some((e: { kind: string }) => e.kind === 'denial'))
    assert.ok(record.entries.some((e: { kind: string }) => e.kind === 'approval-restart'))
  } finally {
    await f.cleanup()
  }
})

test('an approval that expires (by the appliance clock) is reported as APPROVAL_EXPIRED and can be requested again', async () => {
  let offsetMs = 0
  const f = await ceremonyFixture({ targets: 1, sim: { now: () => Date.now() + offsetMs, approvalTtlSeconds: 600 } })
  try {
    const engine = await f.open()
    await runUntil(f, engine, 'wrap-approval:fips-2')
    offsetMs = 3600_000
    await assert.rejects(engine.runStep('wrap-approval:fips-2'), { code: 'APPROVAL_EXPIRED' })
    assert.equal(engine.record('wrap-approval:fips-2').error?.code, 'APPROVAL_EXPIRED')
    await engine.restartApproval('wrap-approval:fips-2')
    await finishAndCheck(f, engine)
  } finally {
    await f.cleanup()
  }
})

test('a wrong typed confirmation does nothing; a wrong custodian password is refused by the appliance', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    await runUntil(f, engine, 'wrap-approval:fips-2')
    await engine.runStep('wrap-approval:fips-2')
    const c = custodian(f, 0, 0)
    await assert.rejects(decide(engine, 'wrap-approval:fips-2', c, 'approve', { confirmation: 'ZZZZ' }), { code: 'CONFIRMATION_WRONG' })
    await assert.rejects(decide(engine, 'wrap-approval:fips-2', c, 'approve'), { code: 'CONFIRMATION_REQUIRED' })
    await assert.rejects(decide(engine, 'wrap-approval:fips-2', { user: c.user, password: 'not-the-password' }, 'approve', { confirmation: engine.expectedConfirmation('wrap-approval:fips-2')! }), { code: 'UNAUTHORIZED' })
    assert.equal(f.sim.appliances[0]!.state.approvalRequests()[0]!.status, 'PENDING')
    await finishAndCheck(f, engine)
  } finally {
    await f.cleanup()
  }
})

test('a swapped public-key file (every bad vector, and another valid key) is refused by name and nothing is imported', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    await runUntil(f, engine, 'import-pubkey:fips-2')
    const file = join(f.mediaDir, readdirSync(f.mediaDir).find((n) => n.endsWith('.pub.pem'))!)
    const original = readFileSync(file)
    const swaps = readdirSync(VECTORS).filter((n) => n.startsWith('bad.')).concat('transfer-rsa2048.pub.pem')
    for (const vector of swaps) {
      copyFileSync(join(VECTORS, vector), file)
      await assert.rejects(engine.runStep('import-pubkey:fips-2'), (err: { code?: string }) => ['DIGEST_MISMATCH', 'KEY_REFUSED', 'FINGERPRINT_MISMATCH'].includes(err.code ?? ''), vector)
      assert.equal(f.sim.appliances[0]!.state.sobjects().filter((o) => o.name?.includes('transfer')).length, 0, `${vector}: nothing imported on the source`)
    }
    writeFileSync(file, original)
    await finishAndCheck(f, engine)
  } finally {
    await f.cleanup()
  }
})

test('a tampered or substituted wrapped file is refused before anything is loaded on the target', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    await runUntil(f, engine, 'load-blob:fips-2')
    const blobFile = join(f.mediaDir, readdirSync(f.mediaDir).find((n) => n.endsWith('wrapped_master_key.out'))!)
    const manifestFile = blobFile.replace('.out', '.manifest.json')
    const blob = readFileSync(blobFile)
    const manifest = readFileSync(manifestFile)

    // One flipped bit (the OpenSSL-made bit-flip vector, as the raw bytes the media carries) -> digest mismatch.
    const raw = (vector: string) => Buffer.from(readFileSync(join(VECTORS, vector), 'ascii').trim(), 'base64')
    writeFileSync(blobFile, raw('bad.cmk.wrapped.bitflip.b64'))
    await assert.rejects(engine.runStep('load-blob:fips-2'), { code: 'DIGEST_MISMATCH' })
    // A substituted blob with a manifest edited to match it -> the manifest is not the one written.
    const other = raw('cmk.wrapped.oaep-sha256.b64')
    writeFileSync(blobFile, other)
    const forged = JSON.parse(manifest.toString())
    forged.blobSha256 = (await import('node:crypto')).createHash('sha256').update(other).digest('hex')
    writeFileSync(manifestFile, JSON.stringify(forged))
    await assert.rejects(engine.runStep('load-blob:fips-2'), { code: 'MANIFEST_MISMATCH' })
    assert.equal(f.sim.appliances[1]!.state.approvalRequests().length, 0, 'no unwrap was requested on the target')

    writeFileSync(blobFile, blob)
    writeFileSync(manifestFile, manifest)
    await finishAndCheck(f, engine)
  } finally {
    await f.cleanup()
  }
})

test('flaky appliances (latency, 503s and 429s) do not stop or duplicate anything', async () => {
  const f = await ceremonyFixture({ targets: 1, sim: { faults: { latencyMs: 20, errorRate: 0.08, rateLimitRate: 0.05, seed: 7 } } })
  try {
    const engine = await f.open()
    const seen: string[] = []
    await runToCompletion(engine, { credentials: f.creds, confirm: true, witnessing: { kind: 'simulated' }, progress: (line: string) => seen.push(line) })
    await finishAndCheck(f, engine)
    const fired = f.sim.appliances.flatMap((a) => a.faults.history.map((h) => h.kind))
    assert.ok(fired.includes('503') && fired.includes('429'), `faults fired: ${fired.join(',')}`)
    assert.equal(f.sim.appliances[1]!.state.approvalRequests().filter((r) => r.executions > 0).length, 1, 'one unwrap executed')
  } finally {
    await f.cleanup()
  }
})

test('no API key, password or token reaches any file the ceremony writes (canary scan)', async () => {
  const f = await ceremonyFixture({ targets: 2 })
  try {
    const engine = await f.open()
    await finishAndCheck(f, engine)
    const canaries = f.creds.appliances.flatMap((a) => [a.apiKey, Buffer.from(a.apiKey, 'base64').toString('utf8').split(':')[1]!, ...(a.custodians ?? []).map((c) => c.password)])
    const files: string[] = []
    const walk = (dir: string) => readdirSync(dir).forEach((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : files.push(join(dir, n))))
    walk(f.dir)
    assert.ok(files.length >= 8, `scanned ${files.length} files`)
    for (const file of files) {
      const text = readFileSync(file, 'latin1')
      for (const canary of canaries) assert.equal(text.includes(canary), false, `${file} contains a secret`)
      assert.doesNotMatch(text, /Bearer |Basic [A-Za-z0-9+/=]{12,}|access_token/, file)
    }
  } finally {
    await f.cleanup()
  }
})

test('approvals made in the DSM UI (outside the app) are picked up by polling', async () => {
  const { UserSession, DsmConnection } = await import('../main/dsm')
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open({ poll: { initialIntervalMs: 100, maxIntervalMs: 1000 } })
    await runUntil(f, engine, 'wrap-approval:fips-2')
    await engine.runStep('wrap-approval:fips-2')
    const waiting = engine.waitForApproval('wrap-approval:fips-2')
    const sim = f.sim.appliances[0]!
    const requestId = engine.record('wrap-request:fips-2').result!['requestId'] as string
    for (const c of sim.custodians.slice(0, 2)) {
      const session = await UserSession.login(new DsmConnection({ host: sim.host, port: sim.port, trust: { spkiSha256: sim.spkiSha256 } }), { username: c.user, password: Buffer.from(c.password), accountId: sim.accountId })
      await session.approvals.approve(requestId, { password: Buffer.from(c.password) })
      await session.logout()
    }
    await waiting // how fast is measured by `npm run bench`, not here
    assert.equal(engine.record('wrap-approval:fips-2').state, 'done')
    assert.equal((engine.record('wrap-approval:fips-2').result!['approvers'] as string[]).length, 2)
    await finishAndCheck(f, engine)
  } finally {
    await f.cleanup()
  }
})

test('the wrapped CMK itself is never written to the journal or the audit log, only to the media', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    await runToCompletion(engine, { credentials: f.creds, confirm: true, witnessing: { kind: 'simulated' } })
    await engine.sealRecord()
    await engine.shutdown()
    // The media carries the raw bytes, exactly as `sdkms-cli task-result --out` writes them.
    const blob = readFileSync(join(f.mediaDir, readdirSync(f.mediaDir).find((n) => n.endsWith('.out'))!))
    assert.equal(blob.length, 256)
    const forms = [blob.toString('base64').slice(0, 64), blob.toString('hex').slice(0, 64), blob.subarray(0, 48).toString('latin1')]
    for (const name of readdirSync(f.stateDir).filter((n) => !statSync(join(f.stateDir, n)).isDirectory())) {
      const text = readFileSync(join(f.stateDir, name), 'latin1')
      for (const form of forms) assert.equal(text.includes(form), false, `${name} holds the wrapped key`)
    }
  } finally {
    await f.cleanup()
  }
})

test('an approved import that fails on the appliance is reported as APPROVAL_FAILED and creates nothing', async () => {
  const { AppSession, DsmConnection } = await import('../main/dsm')
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    await runUntil(f, engine, 'unwrap-approval:fips-2')
    await engine.runStep('unwrap-approval:fips-2')
    // Someone deletes the transfer key on the target while the request waits: the unwrap cannot succeed.
    const t = f.sim.appliances[1]!
    const admin = await AppSession.open(new DsmConnection({ host: t.host, port: t.port, trust: { spkiSha256: t.spkiSha256 } }), Buffer.from(t.apiKey))
    await admin.keys.delete(engine.record('transfer-key:fips-2').result!['kid'] as string)
    await admin.logout()
    // What the custodians were shown named the transfer key; the view is now different, so a decision
    // on the old one is refused, and the refreshed view says the unwrapping key is gone.
    const first = t.custodians[0]!
    await assert.rejects(decide(engine, 'unwrap-approval:fips-2', first, 'approve'), { code: 'VIEW_STALE' })
    assert.equal(engine.approvalEntry('unwrap-approval:fips-2')!.facts.checks.find((c) => /unwrapping key/.test(c.label))!.ok, false)
    for (const c of t.custodians.slice(0, 2)) {
      await decide(engine, 'unwrap-approval:fips-2', c, 'approve')
      if (engine.record('unwrap-approval:fips-2').state !== 'waiting') break
    }
    const rec = engine.record('unwrap-approval:fips-2')
    assert.equal(rec.state, 'failed')
    assert.equal(rec.error?.code, 'APPROVAL_FAILED')
    assert.deepEqual(t.state.sobjects().filter((o) => o.name === f.plan.cmk.name), [], 'no CMK was created on the target')
    await engine.shutdown()
  } finally {
    await f.cleanup()
  }
})

/** chattr +i makes a file or folder unwritable even for root (CI runs as root); skipped where it is not available. */
function immutable(path: string, on: boolean): boolean {
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process')
  return spawnSync('chattr', [on ? '+i' : '-i', path]).status === 0
}

test('an audit log that cannot be written stops the step before it acts; reopening resumes', async (t) => {
  const f = await ceremonyFixture({ targets: 1 })
  const log = join(f.stateDir, 'audit-log.jsonl')
  try {
    const engine = await f.open()
    await engine.runStep('preflight')
    await signWhatIsDue(engine)
    if (!immutable(log, true)) return t.skip('chattr is not available here')
    try {
      await assert.rejects(engine.runStep('transfer-key:fips-2'), { code: 'AUDIT_LOG_WRITE_FAILED' })
      assert.equal(engine.record('transfer-key:fips-2').state, 'pending', 'the step did not start')
      assert.deepEqual(f.sim.appliances[1]!.state.sobjects().filter((o) => o.name?.includes('transfer')), [], 'nothing was created')
    } finally {
      immutable(log, false)
    }
    await engine.shutdown()
    await finishAndCheck(f, await f.open())
  } finally {
    immutable(log, false)
    await f.cleanup()
  }
})

test('media that cannot be written (read-only, pulled) fails the step by name and leaves no partial file', async (t) => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    await runUntil(f, engine, 'export-pubkey:fips-2')
    if (!immutable(f.mediaDir, true)) return t.skip('chattr is not available here')
    try {
      await assert.rejects(engine.runStep('export-pubkey:fips-2'), { code: 'MEDIA_WRITE_FAILED' })
      assert.equal(engine.record('export-pubkey:fips-2').state, 'failed')
      assert.equal(engine.currentStep()?.id, 'export-pubkey:fips-2', 'the ceremony did not advance')
    } finally {
      immutable(f.mediaDir, false)
    }
    assert.deepEqual(readdirSync(f.mediaDir), [], 'no partial or temporary file on the media')
    await finishAndCheck(f, engine)
  } finally {
    immutable(f.mediaDir, false)
    await f.cleanup()
  }
})

test('a damaged or newer journal is refused by name and left untouched, never reset', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  const file = join(f.stateDir, 'journal.json')
  try {
    const engine = await f.open()
    await engine.runStep('preflight')
    await engine.shutdown()
    const good = readFileSync(file, 'utf8')
    const cases: Array<[string, string, string]> = [
      ['truncated', good.slice(0, good.length / 2), 'JOURNAL_CORRUPT'],
      ['garbage', '\u0000\u0001not json', 'JOURNAL_CORRUPT'],
      ['another shape', JSON.stringify({ version: JOURNAL_VERSION, hello: 'world' }), 'JOURNAL_CORRUPT'],
      ['an unknown step state', good.replace('"state":"done"', '"state":"teleported"').replace('"state": "done"', '"state": "teleported"'), 'JOURNAL_CORRUPT'],
      ['a newer format', JSON.stringify({ ...JSON.parse(good), version: JOURNAL_VERSION + 1 }), 'JOURNAL_UNSUPPORTED'],
    ]
    for (const [name, content, code] of cases) {
      writeFileSync(file, content)
      await assert.rejects(f.open(), { code }, name)
      assert.equal(readFileSync(file, 'utf8'), content, `${name}: the file was not rewritten`)
    }
    writeFileSync(file, good)
    await finishAndCheck(f, await f.open())
  } finally {
    await f.cleanup()
  }
})

test('an object with this ceremony’s name that it did not make is refused; one its failed attempt made is adopted', async () => {
  const { AppSession, DsmConnection } = await import('../main/dsm')
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const t = f.sim.appliances[1]!
    const engine = await f.open()
    await engine.runStep('preflight')
    await signWhatIsDue(engine)
    // Created after the inventory, and removed again below, so the final inventory diff stays exact.
    const admin = await AppSession.open(new DsmConnection({ host: t.host, port: t.port, trust: { spkiSha256: t.spkiSha256 } }), Buffer.from(t.apiKey))
    const squatter = await admin.keys.generate({ name: 'test-ceremony-transfer-fips-2', obj_type: 'RSA', key_size: 2048, key_ops: ['UNWRAPKEY', 'DECRYPT', 'APPMANAGEABLE'] })
    await assert.rejects(engine.runStep('transfer-key:fips-2'), { code: 'NAME_IN_USE' })
    await admin.keys.delete(squatter.kid)
    await admin.logout()

    // The appliance creates the key but answers 500: the step fails, and running it again adopts that key.
    t.faults.once({ method: 'POST', path: '/crypto/v1/keys', kind: '500', after: 'after-apply' })
    await assert.rejects(engine.runStep('transfer-key:fips-2'), { code: 'SERVER_ERROR' })
    assert.equal(t.state.sobjects().filter((o) => o.name === 'test-ceremony-transfer-fips-2').length, 1)
    await engine.runStep('transfer-key:fips-2')
    assert.equal(t.state.sobjects().filter((o) => o.name === 'test-ceremony-transfer-fips-2').length, 1, 'adopted, not made twice')
    // The squatter's key, made and deleted with the app's key outside the ceremony, is in the target's own log.
    const found = await acknowledgeLogFindings(f, engine, 'the key squatting on the transfer-key name, made and deleted outside the ceremony')
    assert.equal(found.match(new RegExp(`ADMINISTRATIVE on ${squatter.kid}`, 'g'))?.length, 2, found)
    assert.equal(found.match(/AL-[0-9a-f]{8} \(/g)?.length, 2, 'and nothing else')
    await finishAndCheck(f, engine)
  } finally {
    await f.cleanup()
  }
})

test('an appliance that stops answering while custodians approve does not end the wait', async () => {
  const { UserSession, DsmConnection } = await import('../main/dsm')
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    await runUntil(f, engine, 'wrap-approval:fips-2')
    await engine.runStep('wrap-approval:fips-2')
    const s = f.sim.appliances[0]!
    // Every read of the request fails for a while (more than the client's own retries).
    s.faults.add({ method: 'GET', path: /^\/sys\/v1\/approval_requests\//, kind: '503', times: 10 })
    const waiting = engine.waitForApproval('wrap-approval:fips-2')
    const requestId = engine.record('wrap-request:fips-2').result!['requestId'] as string
    for (const c of s.custodians.slice(0, 2)) {
      const session = await UserSession.login(new DsmConnection({ host: s.host, port: s.port, trust: { spkiSha256: s.spkiSha256 } }), { username: c.user, password: Buffer.from(c.password), accountId: s.accountId })
      await session.approvals.approve(requestId, { password: Buffer.from(c.password) })
      await session.logout()
    }
    await waiting
    assert.equal(engine.record('wrap-approval:fips-2').state, 'done')
    assert.ok(s.faults.history.filter((h) => h.kind === '503').length >= 5, 'the outage really happened')
    await finishAndCheck(f, engine)
  } finally {
    await f.cleanup()
  }
})

test('an unexpected inventory change blocks cleanup until an exception explains it, then stands in the record', async () => {
  const { AppSession, DsmConnection } = await import('../main/dsm')
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    await runUntil(f, engine, 'cleanup:fips-2')
    const t = f.sim.appliances[1]!
    const admin = await AppSession.open(new DsmConnection({ host: t.host, port: t.port, trust: { spkiSha256: t.spkiSha256 } }), Buffer.from(t.apiKey))
    await admin.keys.generate({ name: 'made-by-someone-else', obj_type: 'AES', key_size: 256, key_ops: ['ENCRYPT', 'DECRYPT'] })
    await admin.logout()
    const confirmation = engine.expectedConfirmation('cleanup:fips-2')!
    await assert.rejects(engine.runStep('cleanup:fips-2', { confirmation }), { code: 'INVENTORY_CHANGED' })
    await assert.rejects(engine.runStep('cleanup:fips-2', { confirmation }), { code: 'INVENTORY_CHANGED' }, 'still blocked without an exception')
    await engine.recordException('cleanup:fips-2', 'Witness One', 'The administrator created made-by-someone-else during the ceremony, as agreed by phone.')
    await engine.runStep('cleanup:fips-2', { confirmation })
    const result = engine.record('cleanup:fips-2').result!
    assert.deepEqual((result['inventoryDiff'] as Record<string, { added: string[] }>)['fips-2']!.added.sort(), ['cluster-master-key (AES)', 'made-by-someone-else (AES)'])
    assert.equal(typeof result['acceptedWithException'], 'number')
    // The appliance's own log shows the same key again at C.0, with who made it: acknowledged there too.
    const found = await acknowledgeLogFindings(f, engine, 'made-by-someone-else, as explained at the cleanup')
    assert.match(found, /^[^;]*1 difference\(s\).*"Created security object "made-by-someone-else""/)
    const record = await finishAndCheck(f, engine)
    assert.ok(record.exceptions.some((e: { facts: { note: string } }) => /made-by-someone-else/.test(e.facts.note)))
  } finally {
    await f.cleanup()
  }
})

test('errors kept in the journal, the log and on screen name files, never this workstation’s folders', async () => {
  const { rmSync: remove } = await import('node:fs')
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    await runUntil(f, engine, 'load-blob:fips-2')
    remove(join(f.mediaDir, readdirSync(f.mediaDir).find((n) => n.endsWith('.manifest.json'))!))
    await assert.rejects(engine.runStep('load-blob:fips-2'), { code: 'MANIFEST_MISMATCH' })
    remove(join(f.mediaDir, readdirSync(f.mediaDir).find((n) => n.endsWith('.pub.pem'))!))
    const error = engine.record('load-blob:fips-2').error!
    assert.match(error.message, /manifest .* is missing/)
    const logged = JSON.stringify(engine.logEntries()) + JSON.stringify(engine.record('load-blob:fips-2'))
    assert.equal(logged.includes(f.dir), false, 'no absolute folder in the log or journal')
    await engine.shutdown()
  } finally {
    await f.cleanup()
  }
})

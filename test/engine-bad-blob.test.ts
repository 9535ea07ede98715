/**
 * Bad wrapped-key files on the media (security.md §6 19–25): an empty, truncated, oversized or
 * wrong-target blob, or the wrong file picked for the slot, is refused by name before any request
 * is made with it: the target sees no request during the refused step, the step does not advance,
 * the file is not touched, and once the right file is back the ceremony finishes and verifies.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { ceremonyFixture } from './support/ceremony-fixture'
import { finishAndCheck, runUntil } from './support/ceremony-checks'

test('E19 E20 E21 E24 E25 E22 a bad file in the wrapped-key slot is refused by name before any request, and nothing is lost', async () => {
  const f = await ceremonyFixture({ targets: 2 })
  try {
    const engine = await f.open()
    await runUntil(f, engine, 'load-blob:fips-3')
    const media = readdirSync(f.mediaDir)
    const slot = join(f.mediaDir, media.find((n) => n.endsWith('-fips-3-wrapped_master_key.out'))!)
    const good = readFileSync(slot)
    assert.equal(good.length, 256)
    const otherTarget = readFileSync(join(f.mediaDir, media.find((n) => n.endsWith('-fips-2-wrapped_master_key.out'))!))
    const pem = readFileSync(join(f.mediaDir, media.find((n) => n.includes('fips-3') && n.endsWith('.pub.pem'))!))
    const manifest = readFileSync(slot.replace('.out', '.manifest.json'))
    const flipped = Buffer.from(good)
    flipped[100] = flipped[100]! ^ 0x01

    const cases: Array<[string, Buffer, string]> = [
      ['E19 empty', Buffer.alloc(0), 'WRAPPED_BLOB_EMPTY'],
      ['E20 truncated (the first 200 bytes)', good.subarray(0, 200), 'WRAPPED_BLOB_TRUNCATED'],
      ['E20 truncated by one byte', good.subarray(0, 255), 'WRAPPED_BLOB_TRUNCATED'],
      ['E24 oversized (the blob with bytes after it)', Buffer.concat([good, randomBytes(256)]), 'WRAPPED_BLOB_OVERSIZED'],
      ['E24 oversized beyond the read cap (2 MiB, never read)', randomBytes(2 * 1024 * 1024), 'WRAPPED_BLOB_OVERSIZED'],
      ['E25 the transfer public key (PEM) picked for the slot', pem, 'WRAPPED_BLOB_WRONG_FILE'],
      ['E25 the manifest picked for the slot', manifest, 'WRAPPED_BLOB_WRONG_FILE'],
      ['E22 the wrapped key made for another target', otherTarget, 'WRAPPED_BLOB_WRONG_TARGET'],
      ['E21 one flipped bit', flipped, 'DIGEST_MISMATCH'],
      ['E23 random bytes of the right size (another ceremony’s blob)', randomBytes(256), 'DIGEST_MISMATCH'],
    ]
    const target = f.sim.appliances[2]!
    for (const [name, bytes, code] of cases) {
      writeFileSync(slot, bytes)
      const before = target.state.requestLog().length
      await assert.rejects(engine.runStep('load-blob:fips-3'), (e: { code?: string; message?: string }) => {
        assert.equal(e.code, code, `${name}: ${e.message}`)
        assert.equal(e.message!.includes(f.dir), false, `${name}: the message names no folder`)
        return true
      })
      assert.equal(target.state.requestLog().length, before, `${name}: no request reached the target`)
      assert.equal(engine.record('load-blob:fips-3').state, 'failed', name)
      assert.equal(engine.record('load-blob:fips-3').error?.code, code, `${name}: the refusal is journaled by name`)
      assert.equal(engine.currentStep()?.id, 'load-blob:fips-3', `${name}: the ceremony did not advance`)
      assert.deepEqual(readFileSync(slot), bytes, `${name}: the file was left as it was, for inspection`)
      assert.ok(engine.logEntries().some((e) => e.kind === 'step-failed' && e.step === 'load-blob:fips-3' && e.facts['code'] === code), `${name}: logged`)
    }
    assert.equal(target.state.approvalRequests().length, 0, 'no unwrap was ever requested on the target')

    writeFileSync(slot, good)
    await finishAndCheck(f, engine)
  } finally {
    await f.cleanup()
  }
})

test('E19 E20 a blob damaged after the load check is refused when the unwrap request is built: no request is opened', async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    await runUntil(f, engine, 'unwrap-request:fips-2')
    const slot = join(f.mediaDir, readdirSync(f.mediaDir).find((n) => n.endsWith('-fips-2-wrapped_master_key.out'))!)
    const good = readFileSync(slot)
    for (const [bytes, code] of [[Buffer.alloc(0), 'WRAPPED_BLOB_EMPTY'], [good.subarray(0, 128), 'WRAPPED_BLOB_TRUNCATED']] as const) {
      writeFileSync(slot, bytes)
      await assert.rejects(engine.runStep('unwrap-request:fips-2'), { code })
      assert.equal(f.sim.appliances[1]!.state.approvalRequests().length, 0, 'no approval request was opened on the target')
      assert.equal(engine.currentStep()?.id, 'unwrap-request:fips-2')
    }
    writeFileSync(slot, good)
    await finishAndCheck(f, engine)
  } finally {
    await f.cleanup()
  }
})

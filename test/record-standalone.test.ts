/**
 * The record verifies without this app: docs/verify_record.py (the method of docs/record-format.md,
 * standard-library Python) accepts a real sealed record and its media, and names the first altered
 * entry of a tampered one — as `ceremony verify` does.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { runToCompletion } from '../main/ceremony/driver'
import { ceremonyFixture } from './support/ceremony-fixture'

const SCRIPT = join(__dirname, '../docs/verify_record.py')
const python = spawnSync('python3', ['--version']).status === 0

test('a sealed record verifies with the standalone Python method; a tampered entry, a dropped entry and a changed file are named', { skip: python ? false : 'python3 is not installed here' }, async () => {
  const f = await ceremonyFixture({ targets: 1 })
  try {
    const engine = await f.open()
    await runToCompletion(engine, { credentials: f.creds, confirm: true, witnessing: { kind: 'simulated' } })
    const { path, record } = await engine.sealRecord()
    await engine.shutdown()
    const run = (file: string, media?: string) => spawnSync('python3', [SCRIPT, file, ...(media ? [media] : [])], { encoding: 'utf8' })

    const ok = run(path, f.mediaDir)
    assert.equal(ok.status, 0, ok.stdout + ok.stderr)
    assert.equal(ok.stdout.trim(), `OK ${record.entries.length} ${record.finalDigest}`)

    const tampered = JSON.parse(readFileSync(path, 'utf8'))
    tampered.entries[6].facts.title = 'something else'
    writeFileSync(join(f.dir, 'tampered.json'), JSON.stringify(tampered))
    assert.equal(run(join(f.dir, 'tampered.json')).stdout.trim(), 'FAILED at entry 7: hash does not match the entry (it was altered)')

    const dropped = JSON.parse(readFileSync(path, 'utf8'))
    dropped.entries.splice(4, 1)
    writeFileSync(join(f.dir, 'dropped.json'), JSON.stringify(dropped))
    assert.match(run(join(f.dir, 'dropped.json')).stdout, /^FAILED at entry 5: seq is 6/)

    const blob = join(f.mediaDir, `${f.plan.id}-fips-2-wrapped_master_key.out`)
    const bytes = readFileSync(blob)
    bytes[0] = bytes[0]! ^ 1
    writeFileSync(blob, bytes)
    assert.match(run(path, f.mediaDir).stdout, /^FAILED at entry \d+: .*wrapped_master_key\.out is not the file the log recorded/)
  } finally {
    await f.cleanup()
  }
})

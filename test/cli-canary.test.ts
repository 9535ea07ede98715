// security.md §4.5 / §8 G: the canary scan over command-line runs. A whole ceremony run from the
// CLI against the simulator, with the simulator's real API keys and custodian passwords as
// canaries: neither stdout nor stderr nor any file the run leaves holds any of them, in any form.
// And the scan helper itself (test/support/cli-output.ts) catches every shape it claims to.
import assert from 'node:assert/strict'
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { startSimulator } from '../main/simulator'
import { canaryForms, runCeremonyAsync, secretShapesIn } from './support/cli-output'

const dirs: string[] = []
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : [path]
  })
}

describe('canary', () => {
  test('canary: a whole `ceremony plan` + `ceremony run` prints and leaves none of its credentials', async () => {
    const sim = await startSimulator({ appliances: 2 })
    const dir = mkdtempSync(join(tmpdir(), 'dsm-cli-canary-'))
    dirs.push(dir)
    try {
      const creds = join(tmpdir(), `dsm-cli-canary-creds-${randomBytes(4).toString('hex')}.json`)
      dirs.push(creds)
      writeFileSync(creds, sim.readyLine())
      const canaries = sim.appliances.flatMap((a) => [a.apiKey, ...a.custodians.map((c) => c.password)])
      const plan = await runCeremonyAsync(['plan', '--appliances', creds, '--targets', 'fips-2', '--id', 'canary-run'], { canaries })
      assert.equal(plan.status, 0, plan.stderr)
      writeFileSync(join(dir, 'plan.json'), plan.stdout)
      const run = await runCeremonyAsync(['run', '--plan', join(dir, 'plan.json'), '--credentials', creds, '--state', join(dir, 'state')], { canaries })
      assert.equal(run.status, 0, run.stderr)
      assert.equal(JSON.parse(run.stdout.trim().split('\n').at(-1)!).ok, true)
      assert.ok(run.stderr.length > 0, 'the run reported progress on stderr, which was scanned')
      const files = filesUnder(join(dir, 'state'))
      assert.ok(files.length >= 4, 'journal, audit log, record and media files were written')
      for (const file of files) {
        const text = readFileSync(file, 'latin1')
        for (const c of canaryForms(canaries)) assert.ok(!text.includes(c), `${file} holds a canary`)
        // The wrapped key's own file on the media is the one place its bytes belong.
        const blobFile = /[/\\]media[/\\][^/\\]*wrapped[^/\\]*$/.test(file)
        assert.deepEqual(secretShapesIn(text).filter((s) => !(blobFile && s.startsWith('key bytes'))), [], file)
      }
    } finally {
      await sim.close()
    }
  })

  test('canary scan: the helper finds every secret shape and every form of a canary, and passes ordinary output', () => {
    const uuid = randomUUID()
    const secret = randomBytes(48).toString('base64url')
    const apiKey = Buffer.from(`${uuid}:${secret}`).toString('base64')
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    const shapes: Array<[string, string]> = [
      [`key ${pem}`, 'a PEM private key'],
      ['authorization: Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', 'a Bearer token'],
      [`Authorization: Basic ${Buffer.from('user:pass').toString('base64')}`, 'a Basic credential'],
      [`{"apiKey":"${apiKey}"}`, 'an API key (base64 of uuid:secret)'],
      [`blob=${randomBytes(256).toString('base64')}`, 'key bytes (a long base64 run)'],
    ]
    for (const [text, shape] of shapes) assert.deepEqual(secretShapesIn(text), [shape], shape)
    assert.deepEqual(canaryForms([apiKey]).sort(), [apiKey, `${uuid}:${secret}`, secret].sort())
    const ordinary = JSON.stringify({ ok: true, record: '/tmp/x/REHEARSAL-record.json', finalDigest: randomBytes(32).toString('hex'), kid: uuid, note: 'Basic settings key', requests: 42 })
    assert.deepEqual(secretShapesIn(ordinary), [])
  })
})

/**
 * A ceremony across two sites (design §3b), end to end through the CLI: every appliance in its own
 * simulator process, one state folder per station, nothing shared but the media folder and the
 * words read out. B: preflight, transfer key, export → A: import, wrap, delete the imported key →
 * B: check, unwrap, KCV against A's as carried, delete the transfer key, close.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { tripsOfPlan } from '../main/ceremony/handoff'
import { verifyRecord } from '../main/evidence'
import { assertCliOutputClean, canaryForms, secretShapesIn } from './support/cli-output'
import { stopAllSimulators } from './support/sim-processes'
import { replicationProblems, runCli, twoSite, type TwoSite } from './support/two-site'

after(() => stopAllSimulators())

const secretsOf = (s: TwoSite) => s.creds.appliances.flatMap((a) => [a.apiKey, ...(a.custodians ?? []).map((c) => c.password)])

/** No API key, password, token or key-bytes shape in any text file of the media or a state folder. */
function assertNoSecretsIn(s: TwoSite, folders: string[]): void {
  const canaries = canaryForms(secretsOf(s))
  for (const folder of folders) {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name)
      if (!statSync(path).isFile() || name.endsWith('.out')) continue // the wrapped CMK is ciphertext, raw bytes
      const text = readFileSync(path, 'utf8')
      assert.deepEqual(secretShapesIn(text), [], `${name} holds a secret shape`)
      for (const c of canaries) assert.ok(!text.includes(c), `${name} holds a credential`)
    }
  }
}

async function playAll(s: TwoSite) {
  const trips = tripsOfPlan(s.plan)
  let words: string[] | undefined
  const runs = []
  for (const trip of trips) {
    const r = await s.run(trip.station, words ? { words } : {})
    assert.equal(r.code, 0, `leg ${trip.n} at ${trip.station}: ${r.stderr.slice(-1500)}`)
    assertCliOutputClean(`leg ${trip.n}`, r, secretsOf(s))
    runs.push(r)
    words = r.summary.handoff?.words
    if (trip.n < trips.length) {
      assert.equal(r.summary.handoff.to, trips[trip.n]!.station)
      assert.equal(r.summary.handoff.words.length, 32)
      assert.match(r.summary.handoff.finalDigest, /^[0-9a-f]{64}$/)
      assert.ok(r.stderr.includes(r.summary.handoff.words.join(' ')), 'the words are printed for the operator to read out')
    }
  }
  return runs
}

describe('a replication across two sites', { concurrency: 2 }, () => {
  for (const targets of [1, 2]) {
    test(`${targets} target(s): B → A → B with two hand-offs, the merged record verifies, an independent inventory agrees`, async () => {
      const s = await twoSite({ targets, id: `two-site-${targets}` })
      try {
        const trips = tripsOfPlan(s.plan)
        assert.deepEqual(trips.map((t) => t.station), ['site-b', 'site-a', 'site-b'], 'two hand-offs, whatever the number of targets')
        assert.deepEqual(trips[0]!.steps, ['station-preflight:site-b', ...s.plan.targets.flatMap((t) => [`transfer-key:${t}`, `export-pubkey:${t}`])])
        const runs = await playAll(s)
        const last = runs.at(-1)!.summary
        assert.equal(last.ok, true)
        for (const t of s.plan.targets) {
          assert.equal(last.outcome.targets[t].kcvMatches, true)
          assert.equal(last.outcome.targets[t].transferKeysDeleted, true)
        }
        assert.deepEqual(replicationProblems(await s.inventory(), s.plan), [])

        // The record is at the last station; it holds the whole chain, leg by leg.
        const record = JSON.parse(readFileSync(last.record, 'utf8'))
        assert.equal(record.segments.length, 3)
        assert.deepEqual(record.segments.map((x: { station: string }) => x.station), ['site-b', 'site-a', 'site-b'])
        assert.equal(record.segments[0].finalDigest, runs[0]!.summary.handoff.finalDigest)
        assert.equal(record.segments[1].finalDigest, runs[1]!.summary.handoff.finalDigest)
        const received = record.entries.filter((e: { kind: string }) => e.kind === 'handoff-received')
        assert.deepEqual(received.map((e: { facts: { station: string } }) => e.facts.station), ['site-a', 'site-b'])
        // B checked the KCV against A's as carried in the evidence.
        const preflightA = record.entries.find((e: { kind: string; step: string }) => e.kind === 'step-done' && e.step === 'station-preflight:site-a')
        const unwrap = record.entries.find((e: { kind: string; step: string }) => e.kind === 'step-done' && e.step === `unwrap-result:${s.plan.targets[0]}`)
        assert.equal(unwrap.facts.result.kcvSource, preflightA.facts.result.cmk.kcv)
        // C.0 at each station: its own appliances' logs, every call of the ceremony found there, nothing else.
        for (const [station, appliances] of [['site-a', [s.plan.source]], ['site-b', s.plan.targets]] as const) {
          const logs = record.entries.find((e: { kind: string; step: string }) => e.kind === 'step-done' && e.step === `appliance-logs:${station}`)
          assert.ok(logs, `${station} captured its appliances' logs`)
          assert.deepEqual(Object.keys(logs.facts.result.appliances).sort(), [...appliances].sort())
          assert.deepEqual(logs.facts.result.findings, [])
          assert.ok(logs.facts.result.ceremonyCalls >= 2 * targets && logs.facts.result.corroborated === logs.facts.result.ceremonyCalls, `${station}: ${logs.facts.result.corroborated} of ${logs.facts.result.ceremonyCalls}`)
        }
        assert.equal(record.artifacts.filter((a: { name: string }) => a.name.includes('-appliance-log-')).length, 1 + targets)
        assert.equal(verifyRecord(record, { artifactsDir: s.media }).ok, true)
        const verify = await runCli(['verify', last.record, '--artifacts', s.media])
        assert.equal(verify.code, 0, verify.stdout)
        assert.match(verify.stdout, /3 legs, 2 hand-offs/)
        assert.match(verify.stdout, /leg 2 at site-a/)

        // The stations shared only the media; nothing secret is on it or in either state folder.
        assertNoSecretsIn(s, [s.media, s.state('site-a'), s.state('site-b')])
        const onMedia = readdirSync(s.media).filter((n) => !n.startsWith('.'))
        for (const n of onMedia) assert.ok(n.startsWith(`${s.plan.id}-`), `${n} says which ceremony it belongs to`)
        assert.ok(onMedia.some((n) => n.endsWith('.audit-log-segment.jsonl')) && onMedia.some((n) => n.endsWith('.README.txt')))
        assert.deepEqual(readdirSync(s.state('site-a')).filter((n) => n.includes('record')), [], 'the record is sealed at the last station only')

        // A tampered merged record is named by station and entry.
        const tampered = structuredClone(record)
        const bad = tampered.entries.find((e: { step: string; kind: string }) => e.kind === 'step-done' && e.step === 'station-preflight:site-a')
        bad.facts.result.cmk.kcv = '000000'
        const badPath = join(s.dir, 'tampered-record.json')
        require('node:fs').writeFileSync(badPath, JSON.stringify(tampered))
        const refused = await runCli(['verify', badPath])
        assert.equal(refused.code, 1)
        assert.match(refused.stdout, new RegExp(`^FAILED at station site-a, entry ${bad.seq}: hash does not match`))
      } finally {
        await s.cleanup()
      }
    })
  }
})

describe('a station refuses what is not its to run', () => {
  test('site A cannot start the ceremony, and site B cannot go on without the media', async () => {
    const s = await twoSite({ targets: 1, id: 'two-site-order' })
    try {
      const early = await s.run('site-a')
      assert.equal(early.code, 1)
      assert.equal(early.summary.error.code, 'HANDOFF_WORDS_REQUIRED')
      assert.equal(early.summary.requests, 0)
      const b1 = await s.run('site-b')
      assert.equal(b1.code, 0)
      // Rerun at B after the hand-off: the same bundle, the same words, nothing new logged.
      const again = await s.run('site-b')
      assert.equal(again.code, 0)
      assert.deepEqual(again.summary.handoff.words, b1.summary.handoff.words)
      assert.equal(again.summary.requests, 0)
      // B cannot run A's steps: it waits for the media to come back with hand-off 2.
      const waitB = await s.run('site-b', { words: b1.summary.handoff.words })
      assert.equal(waitB.code, 1)
      assert.equal(waitB.summary.error.code, 'HANDOFF_NOT_FOUND')
      const noWords = await s.run('site-a', { words: 'not words' })
      assert.equal(noWords.summary.error.code, 'HANDOFF_WORDS_MISMATCH')
      const a = await s.run('site-a', { words: b1.summary.handoff.words })
      assert.equal(a.code, 0, a.stderr.slice(-800))
      // Site A's state holds the refusal, and its receipt lists it.
      const log = readFileSync(join(s.state('site-a'), 'audit-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
      const receipt = log.find((e) => e.kind === 'handoff-received')
      assert.deepEqual(receipt.facts.refusedBefore.map((r: { code: string }) => r.code), ['HANDOFF_WORDS_MISMATCH'])
    } finally {
      await s.cleanup()
    }
  })
})

describe('production media', () => {
  test('a folder that is not a removable drive is refused before anything runs, unless an exception says why (then it is logged)', async () => {
    const s = await twoSite({ targets: 1, id: 'two-site-prod' })
    try {
      const { planWithStations } = await import('../main/ceremony/station-plan')
      const plan = planWithStations(s.creds, { sites: 2, id: 'two-site-prod', mode: 'production' })
      const creds = { appliances: s.creds.appliances.map(({ custodians: _c, ...a }) => a) }
      const fs = await import('node:fs')
      fs.writeFileSync(join(s.dir, 'prod-plan.json'), JSON.stringify(plan))
      fs.writeFileSync(join(s.dir, 'prod-creds.json'), JSON.stringify(creds))
      const args = ['run', '--plan', join(s.dir, 'prod-plan.json'), '--credentials', join(s.dir, 'prod-creds.json'), '--station', 'site-b', '--media', s.media, '--state', s.state('site-b'), '--yes',
        '--present', 'Operator at Site B,Witness at Site B']
      // Site B's witness signs every step of this leg at the terminal.
      const witnessSigns = 'Witness at Site B\nWASB\n'.repeat(12)
      const untagged = await runCli(args)
      assert.equal(untagged.code, 2, 'production needs the media label and bag number')
      assert.match(untagged.stderr, /--media-label and --bag/)
      const tagged = [...args, '--media-label', 'USB-0042', '--bag', 'TEB-1001']
      const refused = await runCli(tagged)
      assert.equal(refused.code, 1)
      assert.equal(refused.summary.error.code, 'MEDIA_NOT_REMOVABLE')
      assert.equal(refused.summary.requests, 0)
      assert.deepEqual(fs.readdirSync(s.media), [], 'nothing was written to the folder')
      const excepted = await runCli([...tagged, '--media-exception', 'Test bench: the drive is emulated by a folder'], {}, witnessSigns)
      assert.equal(excepted.code, 0, excepted.stderr.slice(-800))
      assert.equal(excepted.summary.handoff.to, 'site-a')
      const segment = fs.readFileSync(join(s.media, `two-site-prod-handoff-1-site-b-to-site-a.audit-log-segment.jsonl`), 'utf8')
      assert.match(segment, /Media folder is not a removable volume: Test bench[^\n]*"kind":"exception"/)
      assert.match(segment, /"media":\{"bag":"TEB-1001","label":"USB-0042"\}/)
    } finally {
      await s.cleanup()
    }
  })
})

/**
 * Crash safety across sites (design §3b, §6): the station's runner is SIGKILLed at every step
 * boundary of each leg, between appending the hand-off entry and writing the bundle, between the
 * bundle's files, and in the middle of a receipt (journal taken, log not yet replaced; log replaced,
 * receipt not yet appended); then the same command is run again. Every run must end with one CMK
 * per target with the source's KCV, no transfer key anywhere, and a merged record that verifies.
 *
 * Every kill point is played, but three at a time: each scenario kills once in each of the three
 * legs (the points of a leg taken in turn), so 17 scenarios cover all 40 points.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { tripsOfPlan } from '../main/ceremony/handoff'
import { verifyRecord } from '../main/evidence'
import { bundleNames } from '../main/media/handoff-bundle'
import { stopAllSimulators } from './support/sim-processes'
import { replicationProblems, twoSite } from './support/two-site'

after(() => stopAllSimulators())

const boundaries = (steps: string[], extra: string[] = []) => [...steps.flatMap((s) => [`${s}@after-intent`, `${s}@after-done`]), ...extra]

const LEGS = [
  [
    ...boundaries(['station-preflight:site-b', 'transfer-key:fips-2', 'export-pubkey:fips-2']),
    'export-pubkey:fips-2@after-artifact', 'handoff-1@after-entry', 'handoff-1@after-segment',
  ],
  [
    'receive-1@after-journal', 'receive-1@after-log',
    ...boundaries(['station-preflight:site-a', 'import-pubkey:fips-2', 'wrap-request:fips-2', 'wrap-approval:fips-2', 'wrap-result:fips-2', 'delete-pubkey:fips-2']),
    'wrap-result:fips-2@after-artifact', 'handoff-2@after-entry', 'handoff-2@after-segment',
  ],
  [
    'receive-2@after-journal', 'receive-2@after-log',
    ...boundaries(['load-blob:fips-2', 'unwrap-request:fips-2', 'unwrap-approval:fips-2', 'unwrap-result:fips-2', 'delete-transfer-key:fips-2', 'close']),
  ],
]
const SCENARIOS = Math.max(...LEGS.map((l) => l.length))

describe('SIGKILL at every boundary of each station, during the bundle write and the receipt, then resume', { concurrency: 2 }, () => {
  for (let i = 0; i < SCENARIOS; i++) {
    const points = LEGS.map((leg) => leg[i % leg.length]!)
    test(points.join(' · '), async () => {
      const s = await twoSite({ targets: 1, id: `kill-${i}` })
      try {
        const trips = tripsOfPlan(s.plan)
        assert.equal(trips.length, LEGS.length)
        let words: string[] | undefined
        for (const trip of trips) {
          const point = points[trip.n - 1]!
          const killed = await s.run(trip.station, { ...(words ? { words } : {}), env: { CEREMONY_KILL_AT: point } })
          assert.equal(killed.signal, 'SIGKILL', `leg ${trip.n} was killed at ${point} (exit ${killed.code}): ${killed.stderr.slice(-800)}`)
          if (point === 'handoff-1@after-entry') {
            // As if the kill had come in the middle of writing the segment: its temp file is left on the media.
            writeFileSync(join(s.media, `.${bundleNames(s.plan.id, 1, 'site-b', 'site-a').segment}.0123456789ab.tmp`), 'torn')
          }
          const resumed = await s.run(trip.station, words ? { words } : {})
          assert.equal(resumed.code, 0, `leg ${trip.n} resumed after ${point}: ${resumed.stderr.slice(-1500)}`)
          if (point === 'handoff-1@after-entry') assert.equal(resumed.summary.handoff.swept.length, 1, 'the temp file was swept')
          words = resumed.summary.handoff?.words
          if (trip.n < trips.length) assert.equal(words?.length, 32)
        }
        const last = JSON.parse(readFileSync(join(s.state('site-b'), `${s.plan.id}-REHEARSAL-record.json`), 'utf8'))
        const verified = verifyRecord(last, { artifactsDir: s.media })
        assert.equal(verified.ok, true, JSON.stringify(verified))
        assert.equal(last.entries.filter((e: { kind: string }) => e.kind === 'handoff').length, 2)
        assert.equal(last.entries.filter((e: { kind: string }) => e.kind === 'handoff-received').length, 2)
        assert.deepEqual(replicationProblems(await s.inventory(), s.plan), [])
        assert.deepEqual(readdirSync(s.media).filter((n) => n.endsWith('.tmp')), [], 'no temp file left on the media')
        assert.ok(!existsSync(join(s.state('site-a'), `${s.plan.id}-REHEARSAL-record.json`)))
      } finally {
        await s.cleanup()
      }
    })
  }
})

/**
 * `ceremony rehearse --sites N`: a ceremony across N sites against in-process simulated appliances.
 * Each site has its own state folder; the only thing they share is the media folder, and the only
 * thing passed from one to the next besides it is the digest's words (as a phone call would).
 */
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tripsOfPlan } from '../ceremony/handoff'
import { parseCredentials } from '../ceremony/simulated-plan'
import { planWithStations } from '../ceremony/station-plan'
import { checkSegments, verifyRecord } from '../evidence'
import { startSimulator } from '../simulator'
import { runStation, type StationSummary } from './station-run'
import { rehearsalAddendum } from './rehearse-addendum'

export async function rehearseSites(input: { sites: number; targets: number; state?: string }): Promise<StationSummary> {
  const sim = await startSimulator({ appliances: input.targets + 1 })
  try {
    const credentials = parseCredentials(sim.readyLine())
    // The simulated rooms hold a materials manifest, as at one site: each station's chassis, bags and safe, typed by its simulated operator.
    const plan = planWithStations(credentials, { sites: input.sites, materials: true })
    const root = input.state ?? mkdtempSync(join(tmpdir(), 'dsm-rehearsal-sites-'))
    const mediaDir = join(root, 'media')
    mkdirSync(mediaDir, { recursive: true })
    const trips = tripsOfPlan(plan)
    process.stderr.write(`REHEARSAL across ${input.sites} sites, ${trips.length} legs (${trips.map((t) => t.stationLabel).join(' → ')}); state in ${root}\n`)
    let words: string | undefined
    let last: StationSummary | null = null
    for (const trip of trips) {
      process.stderr.write(`\n== leg ${trip.n} at ${trip.stationLabel}\n`)
      last = await runStation({
        plan, credentials, station: trip.station, stateDir: join(root, `state-${trip.station}`), mediaDir,
        ...(words !== undefined ? { words } : {}), media: { label: 'REHEARSAL MEDIA', bag: `REHEARSAL BAG ${trip.n}` },
        ...(trip.n > 1 ? { receivedMedia: { label: 'REHEARSAL MEDIA', bag: `REHEARSAL BAG ${trip.n - 1}` } } : {}),
        confirm: true, progress: (line) => process.stderr.write(`${line}\n`),
      })
      if (!last.ok) return last
      words = last.handoff?.words.join(' ')
    }
    if (last?.record) {
      const record = JSON.parse(readFileSync(last.record, 'utf8')) as { entries: Parameters<typeof checkSegments>[0] }
      const verified = verifyRecord(record, { artifactsDir: mediaDir })
      if (!verified.ok) {
        last.ok = false
        last.error = { code: 'RECORD_INVALID', message: `the record does not verify: entry ${verified.firstBadEntry}: ${verified.reason}` }
      } else {
        process.stderr.write(`record verified across ${trips.length} legs: ${verified.entries} entries, final digest ${verified.finalWords.join(' ')}\n`)
        await rehearsalAddendum(last, record, root) // the whole auditor's package, as at one site
      }
    }
    return last!
  } finally {
    await sim.close()
  }
}

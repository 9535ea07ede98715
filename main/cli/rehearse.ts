// `ceremony rehearse [--kind KIND] [--targets N] [--sites N] [--load-balancer] [--state DIR]`: a whole rehearsal in
// one command against simulated systems in this process; every record is verified before the summary
// line is printed. The chain of ceremonies each kind stands on is rehearsal-chain.ts (the app's too):
// replicate-cmk (default): the CMK from the first appliance to N others (across --sites N sites:
// rehearse-sites.ts).
// link-cluster: that replication, then the link of every appliance to a simulated non-FIPS cluster
// (through a load balancer with --load-balancer, as every later kind can be), with the failover drill.
// verify-cluster: all of that, then a check of the group on its own, building on the link's record.
// add-appliance: all of that, then a spare appliance is added, proved with every other appliance down.
// replace-appliance: all of that, then fips-1 fails for good and the spare (fips-4 with one target), a fresh
// appliance in its own simulator, is onboarded through the API and replaces it (its app's key shown once here).
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { inProcessOutage } from '../ceremony/outage'
import { CLUSTER_KINDS, REHEARSAL_KINDS, isRehearsalKind, putOnMedia, rehearsalApplianceIds, rehearsalChain, rehearsalSpare, type ChainCeremony } from '../ceremony/rehearsal-chain'
import { verifyRecord } from '../evidence'
import { startClusterSimulator, startLoadBalancer, startSimulator, type RunningCluster, type RunningLoadBalancer, type RunningSimulator } from '../simulator'
import { runHeadless, type HeadlessOptions, type HeadlessSummary } from './headless'
import { rehearsalAddendum } from './rehearse-addendum'
import { rehearseSites } from './rehearse-sites'
import { showOnTerminal } from './run'

const USAGE = `usage: ceremony rehearse [--kind ${REHEARSAL_KINDS.join('|')}] [--targets N] [--sites N] [--load-balancer] [--state DIR]\n`

function usage(message: string): number {
  process.stderr.write(`${message}\n${USAGE}`)
  return 2
}

/** Runs one ceremony of the chain and verifies its record; the summary carries any failure. */
async function ceremony(stateDir: string, options: Omit<HeadlessOptions, 'stateDir' | 'confirm' | 'progress' | 'witnessing' | 'showApiKey'>): Promise<{ summary: HeadlessSummary; record: unknown }> {
  // A rehearsal's witnesses are simulated: their sign-offs are marked so, never anyone's real signature.
  // A key the ceremony made (replace-appliance's onboarding of the fresh spare) is shown once, on a terminal only, as `ceremony run` does.
  const summary = await runHeadless({ ...options, stateDir, confirm: true, witnessing: { kind: 'simulated' }, progress: (line) => process.stderr.write(`${line}\n`), showApiKey: showOnTerminal(options.plan) })
  if (!summary.ok || !summary.record) return { summary, record: null }
  const record = JSON.parse(readFileSync(summary.record, 'utf8')) as unknown
  const verified = verifyRecord(record, { artifactsDir: join(stateDir, 'media') })
  if (!verified.ok) {
    summary.ok = false
    summary.error = { code: 'RECORD_INVALID', message: `the record does not verify: entry ${verified.firstBadEntry}: ${verified.reason}` }
  } else {
    process.stderr.write(`${options.plan.kind} record verified: ${verified.entries} entries, final digest ${verified.finalWords.join(' ')}\n`)
    await rehearsalAddendum(summary, record, stateDir) // the whole auditor's package: a sample video addendum
  }
  return { summary, record }
}

export async function run(argv: string[]): Promise<number> {
  let values
  try {
    ;({ values } = parseArgs({ args: argv, options: { kind: { type: 'string' }, targets: { type: 'string' }, sites: { type: 'string' }, 'load-balancer': { type: 'boolean' }, state: { type: 'string' } }, strict: true }))
  } catch (err) {
    return usage(err instanceof Error ? err.message : String(err))
  }
  const kind = values.kind ?? 'replicate-cmk'
  if (!isRehearsalKind(kind)) return usage(`--kind must be one of ${REHEARSAL_KINDS.join(', ')}`)
  const targets = values.targets === undefined ? 1 : Number(values.targets)
  if (!Number.isInteger(targets) || targets < 1 || targets > 10) return usage('--targets must be a whole number from 1 to 10')
  if (values['load-balancer'] && !CLUSTER_KINDS.includes(kind)) return usage(`--load-balancer is for ${CLUSTER_KINDS.join(', ')}`)
  const sites = values.sites === undefined ? 1 : Number(values.sites)
  if (!Number.isInteger(sites) || sites < 1 || sites > Math.min(8, targets + 1)) return usage(`--sites must be a whole number from 1 to ${Math.min(8, targets + 1)} (the source's site and one per target at most)`)
  if (sites > 1 && kind !== 'replicate-cmk') return usage('--sites is for replicate-cmk rehearsals only')
  if (sites > 1) {
    // Each site its own state folder; they share only the media folder (and the words, read out).
    const summary = await rehearseSites({ sites, targets, ...(values.state ? { state: values.state } : {}) })
    process.stdout.write(`${JSON.stringify(summary)}\n`)
    return summary.ok ? 0 : 1
  }
  // Only the first appliance holds a CMK; a membership kind's spare (last) has none.
  const ids = rehearsalApplianceIds(kind, targets)
  const sim = await startSimulator({ appliances: ids.length, ids })
  let spare: RunningSimulator | undefined
  let cluster: RunningCluster | undefined
  let balancer: RunningLoadBalancer | undefined
  try {
    const stateDir = values.state ?? mkdtempSync(join(tmpdir(), 'dsm-rehearsal-'))
    const spareOptions = rehearsalSpare(kind, targets, sim)
    if (spareOptions) spare = await startSimulator(spareOptions)
    process.stderr.write(`REHEARSAL (${kind}) against ${sim.appliances.length + (spare?.appliances.length ?? 0)} simulated appliances${spare ? ` (${spare.appliances[0]!.id} fresh, onboarded through the API)` : ''}; state in ${stateDir}\n`)
    if (CLUSTER_KINDS.includes(kind)) {
      cluster = await startClusterSimulator({ fipsConnectTimeoutMs: 1500, fipsResponseTimeoutMs: 5000 })
      // The group's appliances are its backends; add-appliance's spare (last of `sim`) is added by the chain, before its ceremony.
      const group = kind === 'add-appliance' ? sim.appliances.slice(0, -1) : sim.appliances
      if (values['load-balancer']) balancer = await startLoadBalancer({ backends: group.map((a) => ({ host: a.host, port: a.port })) })
    }
    const outage = inProcessOutage(spare ? [sim, spare] : [sim])
    const chain: HeadlessSummary[] = []
    // The replication's state is the folder itself (as before kinds existed); later ceremonies get a subfolder each.
    const runOne = async (c: ChainCeremony) => {
      const dir = c.plan.kind === 'replicate-cmk' ? stateDir : join(stateDir, c.plan.kind)
      putOnMedia(join(dir, 'media'), c.mediaFiles)
      const done = await ceremony(dir, {
        plan: c.plan, credentials: c.set.credentials, records: c.records,
        ...(c.plan.kind === 'replicate-cmk' ? {} : { outage, passwords: new Map([...c.passwords].map(([id, p]) => [id, Buffer.from(p, 'utf8')])) }),
      })
      chain.push(done.summary)
      return done.summary.ok ? { record: done.record, finalDigest: done.summary.finalDigest! } : null
    }
    // The simulated room holds a materials manifest: chassis, bags and safes, typed by the simulated operator.
    const rehearsed = await rehearsalChain(kind, { sim, outage, ...(spare ? { spare } : {}), ...(cluster ? { cluster } : {}), ...(balancer ? { loadBalancer: balancer } : {}) }, runOne, { materials: true, progress: (line) => process.stderr.write(`${line}\n`) })
    if (rehearsed) await runOne(rehearsed)
    // The last line is the summary of the last ceremony run, with the ones it built on.
    const last = chain.at(-1)!
    const summary = chain.length > 1 ? { ...last, earlier: chain.slice(0, -1) } : last
    process.stdout.write(`${JSON.stringify(summary)}\n`)
    return chain.every((s) => s.ok) && chain.at(-1)!.kind === kind ? 0 : 1
  } finally {
    await balancer?.close()
    await cluster?.close()
    await spare?.close()
    await sim.close()
  }
}

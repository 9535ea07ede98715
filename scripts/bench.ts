/**
 * `npm run bench`: the performance budget of design §11, measured.
 *  - a rehearsal through a latency proxy on loopback (1 and 10 targets, 25 ms one way): wall time
 *    ÷ (requests × round trip), TLS handshakes per appliance, requests per target against the
 *    step table's minimum (scripts/bench-network.ts)
 *  - how soon an approval made elsewhere is noticed (polling with backoff, capped at 1 s)
 *  - audit-log verification of 100k entries
 *  - the renderer, gzipped: what loads at start-up against its 100 kB budget, and every chunk
 *    (`npm run bench -- --renderer`: that alone)
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileJournalStore } from '../main/ceremony/journal-file'
import { CeremonyEngine, type EngineOptions } from '../main/ceremony/engine'
import { runToCompletion } from '../main/ceremony/driver'
import { planForAppliances, parseCredentials } from '../main/ceremony/simulated-plan'
import { DsmConnection, UserSession } from '../main/dsm'
import { benchVerify } from '../main/evidence'
import { startSimulator } from '../main/simulator'
import { networkBench } from './bench-network'
import { allFiles, startupFiles, sum, type RendererFile } from './renderer-size'

const rows: Array<[string, string]> = []
const row = (name: string, value: string) => {
  rows.push([name, value])
  console.log(`${name.padEnd(58)} ${value}`)
}

async function engineFor(targets: number, latencyMs: number, poll = { initialIntervalMs: 100, maxIntervalMs: 1000 }) {
  const sim = await startSimulator({ appliances: targets + 1, faults: { latencyMs } })
  const creds = parseCredentials(sim.readyLine())
  const plan = planForAppliances(creds, { id: `bench-${targets}` })
  const dir = mkdtempSync(join(tmpdir(), 'dsm-bench-'))
  mkdirSync(join(dir, 'media'))
  let requests = 0
  const engine = await CeremonyEngine.open({
    plan, stateDir: dir, mediaDir: join(dir, 'media'),
    openJournalStore: () => fileJournalStore(dir),
    connect: (a) => new DsmConnection({ host: a.host, port: a.port, trust: { spkiSha256: a.trust.spkiSha256! }, onRequest: () => void requests++ }),
    apiKey: (id) => Buffer.from(creds.appliances.find((a) => a.id === id)!.apiKey),
    operator: 'bench', poll,
  })
  return { sim, creds, engine, dir, requests: () => requests }
}

async function approvalNoticed() {
  const { sim, creds, engine, dir } = await engineFor(1, 0)
  const samples: number[] = []
  // Walk to the first approval, then approve from "the DSM UI" (a separate custodian session) several times.
  for (let round = 0; round < 3; round++) {
    // The headless driver runs (and the simulated witnesses sign) every step up to the next approval.
    await runToCompletion(engine, { credentials: creds, confirm: true, witnessing: { kind: 'simulated' }, stopAt: (s) => s.interaction === 'approval' })
    const step = engine.currentStep()
    if (!step || step.interaction !== 'approval') break
    await engine.runStep(step.id)
    const waiting = engine.waitForApproval(step.id)
    const appliance = sim.appliances.find((a) => a.id === step.approval!.appliance)!
    const requestId = engine.approvalEntry(step.id)!.request.request_id
    await new Promise((r) => setTimeout(r, 2500)) // the poller has backed off to its 1 s cap by now
    let last = 0
    for (const c of appliance.custodians.slice(0, 2)) {
      const session = await UserSession.login(new DsmConnection({ host: appliance.host, port: appliance.port, trust: { spkiSha256: appliance.spkiSha256 } }), { username: c.user, password: Buffer.from(c.password), accountId: appliance.accountId })
      await session.approvals.approve(requestId, { password: Buffer.from(c.password) })
      last = performance.now()
      await session.logout()
    }
    await waiting
    samples.push(performance.now() - last)
  }
  await engine.shutdown()
  await sim.close()
  rmSync(dir, { recursive: true, force: true })
  row('approval made in the DSM UI noticed after (max of samples)', `${Math.max(...samples).toFixed(0)} ms (samples: ${samples.map((s) => s.toFixed(0)).join(', ')})`)
}

/** Design §11: the renderer under 100 kB gzip; kB = 1024 bytes here. */
const RENDERER_BUDGET_GZIP_BYTES = 100 * 1024

/** The over/under line for a gzip size against the renderer budget. */
function rendererBudgetVerdict(gzipBytes: number, budget = RENDERER_BUDGET_GZIP_BYTES): string {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`
  const margin = budget - gzipBytes
  return margin > 0 ? `under the ${kb(budget)} gzip budget by ${kb(margin)}` : `OVER the ${kb(budget)} gzip budget by ${kb(-margin)}`
}

function rendererBundle() {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`
  let startup: RendererFile[]
  let all: RendererFile[]
  try {
    startup = startupFiles()
    all = allFiles()
  } catch {
    row('renderer bundle', 'not built (run npm run build)')
    return
  }
  // The budget is judged on what must load before the first screen; the other screens' chunks come from the app's own files when first opened.
  const gz = sum(startup, 'gzipBytes')
  row('renderer at start-up (entry js + imports + css), min / gzip', `${kb(sum(startup, 'bytes'))} / ${kb(gz)} (${gz} B, ${startup.length} files): ${rendererBudgetVerdict(gz)} (design §11)`)
  const total = sum(all, 'gzipBytes')
  row('renderer, every chunk (+ the screens loaded on demand)', `${kb(sum(all, 'bytes'))} / ${kb(total)} (${total} B, ${all.length} files)`)
}

async function main() {
  console.log('DSM Key Ceremony benchmarks\n')
  if (process.argv.includes('--renderer')) return rendererBundle() // the bundle alone, after npm run build
  await networkBench(row)
  await approvalNoticed()
  const v = benchVerify(100_000)
  row('audit log: verify 100k entries (wall / CPU)', `${v.verifyMs.toFixed(0)} ms / ${v.verifyCpuMs.toFixed(0)} ms`)
  rendererBundle()
}

void main().then(() => process.exit(0), (err) => {
  console.error(err)
  process.exit(1)
})

// A ceremony across sites, as the tests play it: every appliance in its own simulator process, one
// state folder per station, and nothing shared between the stations but the media folder (and the
// words, passed as a phone call would). Each station runs the real CLI in its own process.
import { spawn } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Credentials } from '../../main/ceremony/simulated-plan'
import { planWithStations } from '../../main/ceremony/station-plan'
import type { ReplicateCmkPlan } from '../../main/ceremony/kinds/replicate-cmk/plan'
import { SimClient } from './sim-client'
import { spawnFipsAppliance, type SimProcess } from './sim-processes'

const CLI = join(__dirname, '../../bin/ceremony.cjs')

export interface CliOutcome {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  summary: any
}

/** `input` is what people type at the terminal (a production witness signing); without it stdin is closed. */
export function runCli(args: string[], env: Record<string, string> = {}, input?: string): Promise<CliOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] })
    if (input !== undefined) child.stdin!.end(input)
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d) => (stdout += d))
    child.stderr!.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      let summary: unknown = null
      try {
        summary = JSON.parse(stdout.trim().split('\n').at(-1) ?? 'null')
      } catch {
        summary = null
      }
      resolve({ code, signal, stdout, stderr, summary })
    })
  })
}

export interface InventoryItem { name: string; kcv: string | null; type: string }

export interface TwoSite {
  plan: ReplicateCmkPlan
  creds: Credentials
  dir: string
  media: string
  state(station: string): string
  /** `ceremony run --station S --media DIR --state DIR …` */
  run(station: string, opts?: { words?: string[] | string; extra?: string[]; env?: Record<string, string> }): Promise<CliOutcome>
  /** Every appliance's keys, read over its REST API by the test itself (not through the app). */
  inventory(): Promise<Record<string, InventoryItem[]>>
  /** Copies of the media folder, to tamper with one copy and restore the original. */
  saveMedia(name: string): void
  restoreMedia(name: string): void
  /** The bytes of every file in a station's state folder (to prove a refusal changed nothing). */
  snapshotState(station: string, except?: RegExp): Record<string, string>
  sims: SimProcess[]
  cleanup(): Promise<void>
}

function pemOf(der: string): string {
  return `-----BEGIN CERTIFICATE-----\n${der.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`
}

export async function twoSite(options: { targets: number; sites?: number; id?: string }): Promise<TwoSite> {
  const spawned = await Promise.all([spawnFipsAppliance('fips-1'), ...Array.from({ length: options.targets }, (_, i) => spawnFipsAppliance(`fips-${i + 2}`, { cmk: false }))])
  const creds = { appliances: spawned.map((s) => s.appliance) } as Credentials
  const plan = planWithStations(creds, { sites: options.sites ?? 2, id: options.id ?? 'two-site' })
  const dir = mkdtempSync(join(tmpdir(), 'dsm-two-site-'))
  const media = join(dir, 'media')
  mkdirSync(media)
  writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan))
  writeFileSync(join(dir, 'appliances.json'), JSON.stringify(creds))
  const state = (station: string) => join(dir, `state-${station}`)
  const clients = spawned.map((s) => ({ id: s.appliance.id as string, apiKey: s.appliance.apiKey as string, client: new SimClient({ url: s.appliance.url, certPem: pemOf(s.appliance.certDer), spkiSha256: s.appliance.spkiSha256 }) }))
  return {
    plan, creds, dir, media, state, sims: spawned.map((s) => s.process),
    run: (station, opts = {}) => {
      const words = Array.isArray(opts.words) ? opts.words.join(' ') : opts.words
      return runCli(['run', '--plan', join(dir, 'plan.json'), '--credentials', join(dir, 'appliances.json'), '--station', station, '--media', media, '--state', state(station),
        ...(words !== undefined ? ['--handoff-words', words] : []), ...(opts.extra ?? [])], opts.env)
    },
    inventory: async () => {
      const out: Record<string, InventoryItem[]> = {}
      for (const c of clients) {
        const auth = await c.client.appSession(c.apiKey)
        const r = await c.client.request('GET', '/crypto/v1/keys', { auth })
        if (r.status !== 200) throw new Error(`listing keys on ${c.id}: ${r.status}`)
        out[c.id] = (r.body as Array<{ name?: string; kcv?: string; obj_type: string }>).map((k) => ({ name: k.name ?? '', kcv: k.kcv ?? null, type: k.obj_type }))
      }
      return out
    },
    saveMedia: (name) => cpSync(media, join(dir, `media-copy-${name}`), { recursive: true }),
    restoreMedia: (name) => {
      rmSync(media, { recursive: true, force: true })
      cpSync(join(dir, `media-copy-${name}`), media, { recursive: true })
    },
    snapshotState: (station, except) => {
      const snap: Record<string, string> = {}
      const folder = state(station)
      for (const name of readdirSync(folder).sort()) {
        if (except?.test(name) || !statSync(join(folder, name)).isFile()) continue
        snap[name] = readFileSync(join(folder, name)).toString('base64')
      }
      return snap
    },
    cleanup: async () => {
      await Promise.all(spawned.map((s) => s.process.kill()))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** One CMK per target with the source's KCV, and no transfer key anywhere (checked by the test, not the app). */
export function replicationProblems(inv: Record<string, InventoryItem[]>, plan: ReplicateCmkPlan): string[] {
  const problems: string[] = []
  const source = inv[plan.source]!.filter((k) => k.name === plan.cmk.name)
  if (source.length !== 1) return [`${source.length} CMKs on the source`]
  for (const t of plan.targets) {
    const cmks = inv[t]!.filter((k) => k.name === plan.cmk.name)
    if (cmks.length !== 1) problems.push(`${cmks.length} CMKs on ${t}`)
    else if (cmks[0]!.kcv?.toLowerCase() !== source[0]!.kcv?.toLowerCase()) problems.push(`KCV on ${t} is ${cmks[0]!.kcv}, the source's ${source[0]!.kcv}`)
  }
  for (const [id, keys] of Object.entries(inv)) for (const k of keys.filter((x) => x.name.includes('transfer'))) problems.push(`transfer key ${k.name} on ${id}`)
  return problems
}

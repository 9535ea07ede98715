/**
 * Shared by `ceremony run` and `ceremony rehearse`: open the engine on a state folder, run the whole
 * ceremony, seal the record, and end with one JSON summary line. Rerunning the same command after a
 * crash resumes from the journal.
 */
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileJournalStore } from '../ceremony/journal-file'
import { runToCompletion, type Witnessing } from '../ceremony/driver'
import { CeremonyEngine } from '../ceremony/engine'
import type { Json } from '../ceremony/journal'
import { trustOf, type Plan } from '../ceremony/plan'
import { cliSoftware } from '../ceremony/software'
import type { Credentials } from '../ceremony/simulated-plan'
import type { ApplianceOutage } from '../ceremony/outage'
import { DsmConnection } from '../dsm'
import { errorCode } from '../errors'
import { killSwitch } from './kill-switch'

export interface HeadlessOptions {
  plan: Plan
  credentials: Credentials
  stateDir: string
  mediaDir?: string
  confirm: boolean
  witnessing: Witnessing
  progress?(line: string): void
  /** Passwords of the kind's sign-ins by sign-in id (a rehearsal cluster file, or typed at the terminal). */
  passwords?: Map<string, Buffer>
  /** Earlier records the plan builds on (parsed JSON; the steps verify them). */
  records?: unknown[]
  /** Rehearsal only: how the failover drill takes a simulated appliance down. */
  outage?: ApplianceOutage
  /**
   * Shows an API key the ceremony made (replace-appliance's onboarding) once to the operator;
   * returns whether it did. Without it the key is held in memory only and not shown.
   */
  showApiKey?(applianceId: string, key: Buffer): boolean
}

export interface HeadlessSummary {
  ok: boolean
  ceremonyId: string
  kind: string
  mode: string
  /** The kind's own summary (for a replication: the source KCV and, per target, its KCV and cleanup). */
  outcome: Record<string, Json>
  record: string | null
  finalDigest: string | null
  /** HTTP requests this run sent to the appliances (the human is the bottleneck, not the engine). */
  requests: number
  error?: { code: string; message: string }
}

export async function runHeadless(options: HeadlessOptions): Promise<HeadlessSummary> {
  const stateDir = resolve(options.stateDir)
  const mediaDir = resolve(options.mediaDir ?? join(stateDir, 'media'))
  mkdirSync(stateDir, { recursive: true, mode: 0o700 })
  mkdirSync(mediaDir, { recursive: true, mode: 0o700 })
  let requests = 0
  const keys = new Map(options.credentials.appliances.filter((a) => a.apiKey !== '').map((a) => [a.id, a.apiKey]))
  // Keys the ceremony made: memory only, zeroed when the run ends (never in a file).
  const made = new Map<string, Buffer>()
  const summary: HeadlessSummary = { ok: false, ceremonyId: options.plan.id, kind: options.plan.kind, mode: options.plan.mode, outcome: {}, record: null, finalDigest: null, requests: 0 }
  const faults = killSwitch()
  let engine: CeremonyEngine
  try {
    engine = await openEngine()
  } catch (err) {
    // Refused before anything ran (STATE_LOCKED, JOURNAL_MISSING, a torn log …): still one JSON line.
    summary.error = { code: errorCode(err, 'INTERNAL'), message: err instanceof Error ? err.message : String(err) }
    return summary
  }
  function openEngine() {
    return CeremonyEngine.open({
      plan: options.plan,
      stateDir,
      mediaDir,
      openJournalStore: () => fileJournalStore(stateDir),
      connect: (a) => new DsmConnection({ host: a.host, port: a.port, trust: trustOf(a), onRequest: () => void requests++ }),
      apiKey: (id) => {
        const held = made.get(id)
        if (held) return Buffer.from(held)
        const key = keys.get(id)
        return key === undefined ? undefined : Buffer.from(key, 'utf8')
      },
      madeApiKey: (id, key, show) => {
        made.get(id)?.fill(0)
        made.set(id, Buffer.from(key))
        return show && options.showApiKey ? options.showApiKey(id, key) : false
      },
      operator: options.plan.participants.operator,
      software: cliSoftware(),
      password: (id) => {
        const p = options.passwords?.get(id)
        return p ? Buffer.from(p) : undefined
      },
      records: () => options.records ?? [],
      ...(options.outage ? { outage: options.outage } : {}),
      ...faults,
    })
  }
  try {
    await runToCompletion(engine, { credentials: options.credentials, confirm: options.confirm, witnessing: options.witnessing, ...(options.progress ? { progress: options.progress } : {}) })
    const sealed = await engine.sealRecord()
    summary.ok = true
    summary.record = sealed.path
    summary.finalDigest = sealed.record.finalDigest
  } catch (err) {
    const code = errorCode(err, 'INTERNAL')
    summary.error = { code, message: err instanceof Error ? err.message : String(err) }
  } finally {
    summary.outcome = engine.kind.summary(engine.plan, engine.results())
    summary.requests = requests
    await engine.shutdown()
    for (const key of made.values()) key.fill(0)
    made.clear()
  }
  return summary
}

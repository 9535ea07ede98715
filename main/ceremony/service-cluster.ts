/**
 * What the app's ceremony service holds for kinds that sign in as a named DSM user or build on
 * earlier records (link-cluster, verify-cluster): the sign-ins' passwords, checked here and held in
 * the vault with the API keys (api-key-vault.ts: main memory only, wiped at the seal, after the idle
 * time-out and on quit), the earlier records the operator opened in main's dialog (read and
 * verified here; the renderer never sees a path), and, in a rehearsal, the simulator's outage
 * control (the rehearsal itself: service-rehearsal.ts).
 */
import { basename } from 'node:path'
import type { CeremonySnapshot } from '../../preload/contract'
import { verifyRecord } from '../evidence'
import { CeremonyError } from '../errors'
import type { RunningSimulator } from '../simulator'
import type { ApiKeyVault } from './api-key-vault'
import type { EngineOptions } from './engine'
import { inProcessOutage, type ApplianceOutage } from './outage'
import type { Plan } from './plan'
import { RECORD_MAX_BYTES, readCappedTextSync } from './plan-file'
import { kindOf } from './registry'
import { digestView } from './views'

export class SignInsAndRecords {
  private records: unknown[] = []
  private outage: ApplianceOutage | null = null

  constructor(private readonly vault: ApiKeyVault) {}

  /** A new plan: no records, no outage control (the vault is wiped by its owner). */
  reset(): void {
    this.records = []
    this.outage = null
  }

  setPassword(plan: Plan, signInId: string, password: string): void {
    const signIn = (kindOf(plan).signIns?.(plan) ?? []).find((s) => s.id === signInId)
    if (!signIn) throw new CeremonyError('SIGN_IN_UNKNOWN', `This ceremony has no sign-in "${signInId}"`)
    this.vault.setPassword(signInId, password)
  }

  /** Reads, verifies and keeps a record the plan names; a record the plan does not name is refused. */
  openRecord(plan: Plan, path: string): void {
    // Capped and never through a link (plan-file.ts): a refusal names the file, not its folder.
    const text = readCappedTextSync(path, RECORD_MAX_BYTES)
    let record: unknown
    try {
      record = JSON.parse(text)
    } catch {
      throw new CeremonyError('RECORD_INVALID', `${basename(path)} is not a JSON ceremony record`)
    }
    const verified = verifyRecord(record)
    if (!verified.ok) throw new CeremonyError('RECORD_INVALID', `${basename(path)} does not verify: entry ${verified.firstBadEntry}: ${verified.reason}`)
    if (!(kindOf(plan).buildsOn?.(plan) ?? []).includes(verified.finalDigest)) {
      throw new CeremonyError('RECORD_MISMATCH', `${basename(path)} (final digest ${verified.finalDigest.slice(0, 16)}…) is not a record this plan builds on`)
    }
    this.records = [...this.records.filter((r) => (r as { finalDigest?: unknown }).finalDigest !== verified.finalDigest), record]
  }

  engineOptions(): Pick<EngineOptions, 'password' | 'records' | 'outage'> {
    return {
      password: (id) => this.vault.passwordCopy(id),
      records: () => [...this.records],
      ...(this.outage ? { outage: this.outage } : {}),
    }
  }

  views(plan: Plan | null): Pick<CeremonySnapshot, 'signIns' | 'buildsOn'> {
    if (!plan) return { signIns: [], buildsOn: [] }
    const kind = kindOf(plan)
    const provided = new Set(this.records.map((r) => (r as { finalDigest?: unknown }).finalDigest))
    return {
      signIns: (kind.signIns?.(plan) ?? []).map((s) => ({ id: s.id, label: s.label, user: s.user, host: `${s.host}:${s.port}`, hasPassword: this.vault.hasPassword(s.id) })),
      buildsOn: (kind.buildsOn?.(plan) ?? []).map((d) => ({ digest: digestView(d), provided: provided.has(d) })),
    }
  }

  /** A cluster rehearsal's inputs: the password from the simulated cluster, the records, the outage control. */
  rehearse(passwords: Map<string, string>, records: unknown[], sims: RunningSimulator[]): void {
    for (const [id, p] of passwords) this.vault.setPassword(id, p)
    this.records = records
    this.outage = inProcessOutage(sims)
  }
}

/**
 * The connection checks the setup screen shows, with the API keys the vault holds (api-key-vault.ts:
 * main-process memory only, wiped at the seal, after the idle time-out and on quit): version, clock
 * skew and the TLS pin to confirm out of band, or the named error. The keys themselves are never
 * kept here, so wiping the vault leaves nothing behind.
 */
import type { ConnectionView } from '../../preload/contract'
import { AppSession, DsmConnection } from '../dsm'
import { errorCode } from '../errors'
import type { ApiKeyVault } from './api-key-vault'
import { trustOf, type Plan, type PlanAppliance } from './plan'
import { kindOf } from './registry'
import { digestView } from './views'

export function connectTo(appliance: PlanAppliance): DsmConnection {
  return new DsmConnection({ host: appliance.host, port: appliance.port, trust: trustOf(appliance), responseTimeoutMs: 30_000 })
}

type Check = Pick<ConnectionView, 'state' | 'version' | 'clockSkewSeconds' | 'error'>

export class ApplianceConnections {
  /** The last check of each appliance with its current key; a new key is unchecked. */
  private readonly checks = new Map<string, Check>()
  /**
   * Bumped whenever what a check would be judged with changes (a key entered, the checks forgotten
   * for another plan or a wipe): a check that began before keeps its answer to itself, so a key
   * replaced while the appliances are being checked is never shown as checked.
   */
  private readonly changes = new Map<string, number>()
  private epoch = 0

  constructor(private readonly vault: ApiKeyVault) {}

  private version(applianceId: string): string {
    return `${this.epoch}:${this.changes.get(applianceId) ?? 0}`
  }

  /** Forgets every check (a new plan, or the keys were wiped and the sessions ended). */
  forgetChecks(): void {
    this.epoch++
    this.checks.clear()
  }

  setKey(applianceId: string, apiKey: string): void {
    this.vault.set(applianceId, apiKey)
    this.changes.set(applianceId, (this.changes.get(applianceId) ?? 0) + 1)
    this.checks.delete(applianceId)
  }

  /**
   * Connects to every appliance that has a key, signs in and out: what answered, and how. The
   * appliances are checked at once (on a real network each is several round trips, and one by one
   * eleven of them kept the setup screen waiting for all in turn); each result is its own.
   */
  async check(plan: Plan): Promise<void> {
    const untouched = notContacted(plan)
    const made = keysMadeHere(plan)
    await Promise.all(plan.appliances.map(async (appliance) => {
      const began = this.version(appliance.id)
      const record = (check: Check) => { if (this.version(appliance.id) === began) this.checks.set(appliance.id, check) }
      const key = untouched.has(appliance.id) ? undefined : this.vault.copy(appliance.id) // the session zeroes its copy on logout
      // An appliance whose key the ceremony makes is checked before there is a key: reached over its pinned TLS key, no sign-in.
      if (!key && !made.has(appliance.id)) {
        this.checks.delete(appliance.id)
        return
      }
      // The check owns its connection (the session only borrows it): closed on every path.
      let connection: DsmConnection | undefined
      try {
        connection = connectTo(appliance)
        const version = await connection.version()
        if (key) {
          const session = await AppSession.open(connection, key)
          await session.logout()
        }
        record({ state: 'ok', version: version.version, clockSkewSeconds: version.skewMs === undefined ? null : Math.round(version.skewMs / 1000), error: null })
      } catch (err) {
        record({ state: 'failed', version: null, clockSkewSeconds: null, error: { code: errorCode(err, 'INTERNAL'), message: err instanceof Error ? err.message : String(err) } })
      } finally {
        key?.fill(0) // already zeroed by the session, unless the version check failed before it began
        connection?.close()
      }
    }))
  }

  views(plan: Plan): ConnectionView[] {
    const untouched = notContacted(plan)
    const made = keysMadeHere(plan)
    const keyed = keysWithoutContact(plan)
    return plan.appliances.map((a) => ({
      applianceId: a.id, label: a.label, hasApiKey: this.vault.has(a.id),
      // A check made with a key since wiped says nothing about the connection now (one made without a key still does).
      ...(this.vault.has(a.id) || made.has(a.id) ? this.checks.get(a.id) : undefined) ?? { state: 'unknown', version: null, clockSkewSeconds: null, error: null },
      pin: a.trust.spkiSha256 ? digestView(a.trust.spkiSha256) : null,
      ...(untouched.has(a.id) ? { contacted: false } : {}),
      ...(untouched.has(a.id) && keyed.has(a.id) ? { keyNeeded: true } : {}),
      ...(made.has(a.id) ? { keyMadeHere: true } : {}),
    }))
  }
}

/** The appliances the kind never signs in to: no check connects to them, and no key is asked unless keysWithoutContact names it. */
function notContacted(plan: Plan): Set<string> {
  return new Set(kindOf(plan).notContacted?.(plan) ?? [])
}

/** Of the appliances never signed in to, those whose key is still asked (never used for a check). */
function keysWithoutContact(plan: Plan): Set<string> {
  return new Set(kindOf(plan).keysWithoutContact?.(plan) ?? [])
}

/** The appliances whose API key the ceremony makes: the setup screen asks no key for them. */
function keysMadeHere(plan: Plan): Set<string> {
  return new Set(kindOf(plan).keysMadeHere?.(plan) ?? [])
}

/**
 * The appliances' API keys as the app's service holds them (main-process memory only, zeroed when
 * replaced or dropped) and the connection checks the setup screen shows: version, clock skew and
 * the TLS pin to confirm out of band, or the named error.
 */
import type { ConnectionView } from '../../preload/contract'
import { AppSession, DsmConnection } from '../dsm'
import { errorCode } from '../errors'
import { trustOf, type Plan, type PlanAppliance } from './plan'
import { digestView } from './views'

export function connectTo(appliance: PlanAppliance): DsmConnection {
  return new DsmConnection({ host: appliance.host, port: appliance.port, trust: trustOf(appliance), responseTimeoutMs: 30_000 })
}

type Check = Pick<ConnectionView, 'state' | 'version' | 'clockSkewSeconds' | 'error'>

export class ApplianceConnections {
  private readonly keys = new Map<string, Buffer>()
  /** The last check of each appliance with its current key; a new key is unchecked. */
  private readonly checks = new Map<string, Check>()

  /** Zeroes and drops every key, and forgets every check. */
  clear(): void {
    for (const key of this.keys.values()) key.fill(0)
    this.keys.clear()
    this.checks.clear()
  }

  setKey(applianceId: string, apiKey: string): void {
    this.keys.get(applianceId)?.fill(0)
    this.keys.set(applianceId, Buffer.from(apiKey.trim(), 'utf8'))
    this.checks.delete(applianceId)
  }

  /** A fresh copy of the key for the engine (its session zeroes the copy on logout), or undefined. */
  keyCopy(applianceId: string): Buffer | undefined {
    const key = this.keys.get(applianceId)
    return key ? Buffer.from(key) : undefined
  }

  /** Connects to every appliance that has a key, signs in and out: what answered, and how. */
  async check(plan: Plan): Promise<void> {
    for (const appliance of plan.appliances) {
      const key = this.keyCopy(appliance.id)
      if (!key) {
        this.checks.delete(appliance.id)
        continue
      }
      try {
        const connection = connectTo(appliance)
        const version = await connection.version()
        const session = await AppSession.open(connection, key)
        await session.logout()
        this.checks.set(appliance.id, { state: 'ok', version: version.version, clockSkewSeconds: version.skewMs === undefined ? null : Math.round(version.skewMs / 1000), error: null })
      } catch (err) {
        this.checks.set(appliance.id, { state: 'failed', version: null, clockSkewSeconds: null, error: { code: errorCode(err, 'INTERNAL'), message: err instanceof Error ? err.message : String(err) } })
      }
    }
  }

  views(plan: Plan): ConnectionView[] {
    return plan.appliances.map((a) => ({
      applianceId: a.id, label: a.label, hasApiKey: this.keys.has(a.id),
      ...(this.checks.get(a.id) ?? { state: 'unknown', version: null, clockSkewSeconds: null, error: null }),
      pin: a.trust.spkiSha256 ? digestView(a.trust.spkiSha256) : null,
    }))
  }
}

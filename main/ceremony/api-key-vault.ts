/**
 * The API keys the operator entered, in main-process memory only (security.md §4.2, §4.4), and when
 * they go: each key is a Buffer the vault owns (copies are handed out, so a session zeroing its copy
 * on logout leaves the vault's intact) and every one is zeroed and dropped
 *   - when the ceremony's record is sealed (nothing more needs them),
 *   - after an idle time-out the operator sees counting down (no operator action for that long),
 *   - when the app quits.
 * What the screens show is `view()`: the time-out, when the keys will be wiped, and why and when
 * they were. The caller ends the DSM sessions when keys are wiped (`onIdle`).
 */
import type { SecretsView } from '../../preload/contract'

export type WipeReason = 'idle' | 'sealed' | 'quit' | 'new-plan'

export interface VaultOptions {
  /** No operator action for this long wipes the keys; 0 disables the time-out (asked at each action). */
  idleTimeoutMs(): number
  now: () => Date
  /** Called after an idle wipe (the caller ends the DSM sessions and tells the screens). */
  onIdle(): void
}

export class ApiKeyVault {
  private readonly keys = new Map<string, Buffer>()
  private timer: NodeJS.Timeout | null = null
  private clearsAt: Date | null = null
  private last: { reason: WipeReason; at: string } | null = null

  constructor(private readonly options: VaultOptions) {}

  /** Stores the key as typed (trimmed), replacing and zeroing any earlier one; counts as activity. */
  set(applianceId: string, key: string): void {
    this.keys.get(applianceId)?.fill(0)
    this.keys.set(applianceId, Buffer.from(key.trim(), 'utf8'))
    this.last = null
    this.touch()
  }

  /** A fresh copy for a session to own (and zero on logout), or undefined. */
  copy(applianceId: string): Buffer | undefined {
    const key = this.keys.get(applianceId)
    return key ? Buffer.from(key) : undefined
  }

  has(applianceId: string): boolean {
    return this.keys.has(applianceId)
  }

  get size(): number {
    return this.keys.size
  }

  /** The operator did something: the idle count starts again (while keys are held). */
  touch(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.clearsAt = null
    const timeout = this.options.idleTimeoutMs()
    if (this.keys.size === 0 || timeout <= 0) return
    this.clearsAt = new Date(this.options.now().getTime() + timeout)
    this.timer = setTimeout(() => {
      this.wipe('idle')
      this.options.onIdle()
    }, timeout)
    this.timer.unref()
  }

  /** Zeroes and drops every key; remembers why (shown until a key is entered again). */
  wipe(reason: WipeReason): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.clearsAt = null
    const held = this.keys.size > 0
    for (const key of this.keys.values()) key.fill(0)
    this.keys.clear()
    if (held) this.last = { reason, at: this.options.now().toISOString() }
  }

  view(): SecretsView {
    return {
      idleTimeoutSeconds: Math.round(this.options.idleTimeoutMs() / 1000),
      wipesAt: this.clearsAt?.toISOString() ?? null,
      wiped: this.last,
    }
  }
}

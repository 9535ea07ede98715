/**
 * The secrets the operator entered, in main-process memory only (security.md §4.2, §4.4): the
 * appliances' API keys and, for kinds that sign in as a named DSM user (link-cluster,
 * verify-cluster: the cluster administrator, sign-in.ts), those users' passwords. Each is a Buffer
 * the vault owns (copies are handed out, so a session zeroing its copy on logout leaves the
 * vault's intact) and every one is zeroed and dropped
 *   - when the ceremony's record is sealed (nothing more needs them),
 *   - after an idle time-out the operator sees counting down (no operator action for that long),
 *   - when the app quits.
 * Passwords are held and wiped exactly as the keys are: one holder, one time-out, one view, so no
 * secret outlives the others. What the screens show is `view()`: the time-out, when the secrets
 * will be wiped, and why and when they were. The caller ends the DSM sessions when they are wiped
 * (`onIdle`).
 */
import type { SecretsView } from '../../preload/contract'

export type WipeReason = 'idle' | 'sealed' | 'quit' | 'new-plan'

export interface VaultOptions {
  /** No operator action for this long wipes the secrets; 0 disables the time-out (asked at each action). */
  idleTimeoutMs(): number
  now: () => Date
  /** Called after an idle wipe (the caller ends the DSM sessions and tells the screens). */
  onIdle(): void
  /** Called at every wipe, whatever its reason (a key's one-time reveal lapses: key-reveal.ts). */
  onWipe?(reason: WipeReason): void
}

export class ApiKeyVault {
  private readonly keys = new Map<string, Buffer>()
  /** Sign-in passwords by sign-in id, as typed (a password's spaces are its own: not trimmed). */
  private readonly passwords = new Map<string, Buffer>()
  private timer: NodeJS.Timeout | null = null
  private clearsAt: Date | null = null
  private last: { reason: WipeReason; at: string } | null = null

  constructor(private readonly options: VaultOptions) {}

  /** Stores the key as typed (trimmed), replacing and zeroing any earlier one; counts as activity. */
  set(applianceId: string, key: string): void {
    this.hold(this.keys, applianceId, Buffer.from(key.trim(), 'utf8'))
  }

  /** Stores a copy of a key the ceremony made (the caller zeroes its own); counts as activity. */
  setCopy(applianceId: string, key: Buffer): void {
    this.hold(this.keys, applianceId, Buffer.from(key))
  }

  /** Stores a sign-in's password, replacing and zeroing any earlier one; counts as activity. */
  setPassword(signInId: string, password: string): void {
    this.hold(this.passwords, signInId, Buffer.from(password, 'utf8'))
  }

  private hold(map: Map<string, Buffer>, id: string, secret: Buffer): void {
    map.get(id)?.fill(0)
    map.set(id, secret)
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

  /** A fresh copy of a sign-in's password for one login (the DSM client zeroes it), or undefined. */
  passwordCopy(signInId: string): Buffer | undefined {
    const password = this.passwords.get(signInId)
    return password ? Buffer.from(password) : undefined
  }

  hasPassword(signInId: string): boolean {
    return this.passwords.has(signInId)
  }

  /** Secrets held: API keys and passwords. */
  get size(): number {
    return this.keys.size + this.passwords.size
  }

  /** The operator did something: the idle count starts again (while any secret is held). */
  touch(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.clearsAt = null
    const timeout = this.options.idleTimeoutMs()
    if (this.size === 0 || timeout <= 0) return
    this.clearsAt = new Date(this.options.now().getTime() + timeout)
    this.timer = setTimeout(() => {
      this.wipe('idle')
      this.options.onIdle()
    }, timeout)
    this.timer.unref()
  }

  /** Zeroes and drops every key and password; remembers why (shown until a secret is entered again). */
  wipe(reason: WipeReason): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.clearsAt = null
    const held = this.size > 0
    for (const map of [this.keys, this.passwords]) {
      for (const secret of map.values()) secret.fill(0)
      map.clear()
    }
    if (held) this.last = { reason, at: this.options.now().toISOString() }
    this.options.onWipe?.(reason)
  }

  view(): SecretsView {
    return {
      idleTimeoutSeconds: Math.round(this.options.idleTimeoutMs() / 1000),
      wipesAt: this.clearsAt?.toISOString() ?? null,
      wiped: this.last,
    }
  }
}

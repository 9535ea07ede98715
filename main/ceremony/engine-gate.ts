/**
 * The rule every action of the engine (engine.ts) goes through: one action at a time — a second call
 * waits for the first, whatever became of it — and, for an action that changes the ceremony, only
 * while the ceremony is open: not after this station handed it on, not once the last step sealed the
 * log (the digest read aloud must stay the record's digest), not after it was stopped. Separate so
 * the rule is stated once, apart from what the actions do.
 */
import { CeremonyError } from '../errors'

export class ActionGate {
  private busy: Promise<unknown> = Promise.resolve()
  private handedOff = false

  constructor(private readonly ceremony: { isComplete(): boolean; isAborted(): boolean }) {}

  /** Runs `fn` once every action before it has finished (failed or not). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.busy.then(fn, fn)
    this.busy = run.catch(() => undefined)
    return run
  }

  /** One action at a time, and only while the ceremony is open. */
  whileOpen<T>(fn: () => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      this.assertOpen()
      return fn()
    })
  }

  assertOpen(): void {
    if (this.handedOff) throw new CeremonyError('HANDED_OFF', 'This station has handed the ceremony on; it continues when the media comes back')
    if (this.ceremony.isComplete()) throw new CeremonyError('CEREMONY_CLOSED', 'This ceremony is closed and its record sealed')
    if (this.ceremony.isAborted()) throw new CeremonyError('CEREMONY_ABORTED', 'This ceremony was stopped; its record holds why and what was left')
  }

  /** Stations: the hand-off entry is written; nothing more is appended here until the media comes back. */
  handOff(): void {
    this.handedOff = true
  }

  /** Resolves once the running action has finished, or after `ms` (a stuck call is bounded by its own timeout). */
  async settled(ms: number): Promise<void> {
    await Promise.race([this.busy, new Promise((r) => setTimeout(r, ms).unref())])
  }
}

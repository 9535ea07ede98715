/**
 * What opens a ceremony engine (engine.ts): the plan and its state folder, how the appliances and
 * named users are reached and with which secrets (fresh copies each time: the sessions zero them),
 * the operator, and the test-only fault injection. The app's service, the CLI and the tests each
 * fill it in their own way; the engine reads it and nothing else.
 */
import type { DsmConnection } from '../dsm'
import type { LogFileHandle } from '../evidence'
import type { JournalStore } from './journal'
import type { ApplianceOutage } from './outage'
import type { Plan, PlanAppliance } from './plan-envelope'
import type { Boundary } from './runner'
import type { Software } from './software'

/** What became of a key the ceremony made (EngineOptions.madeApiKey). */
export type MadeKeyShown = 'shown' | 'offered' | 'held'

export interface EngineOptions {
  plan: Plan
  /** Journal, audit log, lock and the sealed record live here. */
  stateDir: string
  /** Where artifacts go: the transfer public key, the wrapped CMK and its manifest. */
  mediaDir: string
  /** Opens the journal's store on the state folder (journal-file.ts; tests may use conf); may throw on a damaged file. */
  openJournalStore(): JournalStore
  /** A new connection on every call: the session it is made for owns it and closes it when it ends. */
  connect(appliance: PlanAppliance): DsmConnection
  /** A fresh copy of the appliance's API key (the session zeroes its copy on logout), or undefined. */
  apiKey(applianceId: string): Buffer | undefined
  /**
   * An API key the ceremony made (replace-appliance's onboarding), to be held like a typed one (the
   * vault: never persisted) so `apiKey` answers it from now on, and, when `show`, shown once to the
   * operator: at once on a terminal ('shown'), or offered for one reveal the operator asks for on
   * the run screen ('offered'; the reveal is its own log entry, made by `stepId`'s key). 'held': not
   * shown. `key` is the caller's: copy it. Without this option a ceremony that makes a key refuses
   * (API_KEY_NOT_HELD).
   */
  madeApiKey?(applianceId: string, key: Buffer, show: boolean, stepId?: string): MadeKeyShown
  operator: string
  now?: () => Date
  poll?: { initialIntervalMs?: number; maxIntervalMs?: number }
  /** Called whenever something the screens show has changed. */
  onChange?(): void
  /** Fault injection for the kill-and-resume tests (a real SIGKILL at a protocol boundary). */
  boundary?(stepId: string, phase: Boundary): void
  /** A fresh copy of a sign-in's password (zeroed by the login); earlier records (parsed JSON, verified by steps). */
  password?(signInId: string): Buffer | undefined
  records?(): unknown[]
  /** Rehearsal only: the simulator's outage control for the failover drill. Ignored for a production plan. */
  outage?: ApplianceOutage
  /** Which software runs the ceremony (recorded in the first entry). */
  software?: Software
  /** Multi-site plans: the station this workstation is; it runs only its own legs (stations.ts). */
  station?: string
  /** Fault injection for the state-write kill tests (F9, F10): before each journal save; how the log is opened. */
  stateFaults?: { beforeJournalWrite?(): void; openLogForAppend?(path: string): Promise<LogFileHandle> }
}

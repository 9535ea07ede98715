/**
 * A ceremony kind (design §3b, §6): its plan schema, the steps its plan expands into, and what the
 * review, the board and the headless summary say about it. The service, the CLI and the renderer
 * work only from this interface and from what each step declares; they know no kind by name.
 */
import type { z } from 'zod'
import type { Plan } from './plan-envelope'
import type { AnyStep, Json, StepRef } from './step'
import type { JournalState } from './journal'
import type { SignIn } from './sign-in'

export type ScriptedStep = AnyStep & { readonly scriptId: string }

/** Read-only access to finished results, for outcomes and summaries. */
export interface ResultReader {
  find<R>(ref: StepRef<R>): R | null
  state(stepId: string): JournalState
}

export interface CeremonyKind<P extends Plan = Plan> {
  readonly kind: P['kind']
  /** In words, for the plan review and the record ("CMK replication"). */
  readonly title: string
  readonly schema: z.ZodType<P, unknown>
  /** The plan's steps in order, each with the id it is read aloud and printed by (unique: "T2.7"). */
  steps(plan: P): ScriptedStep[]
  /** The kind's own plan fields, in words, for the review and the printed script. */
  describe(plan: P): { label: string; value: string }[]
  /** Each appliance's role in this ceremony ("Source", "Target 1"). */
  roles(plan: P): Record<string, string>
  /** The board's groups in order (steps with `group` set belong to one). */
  groups(plan: P): { id: string; label: string }[]
  /** One line per group for the board (e.g. "KCV 1a2b 3c"), or null while unknown. */
  groupOutcome(plan: P, group: string, results: ResultReader): string | null
  /** The kind's part of the headless JSON summary. */
  summary(plan: P, results: ResultReader): Record<string, Json>
  /** Named DSM users who sign in with a password entered at run time (the cluster administrator). */
  signIns?(plan: P): SignIn[]
  /** Final digests of the earlier ceremony records this plan builds on (the operator provides the files). */
  buildsOn?(plan: P): string[]
  /**
   * Appliances the plan names that this ceremony never signs in to (replace-appliance's failed one,
   * named so its config in the group is found): no API key is asked for them, nor a connection checked.
   */
  notContacted?(plan: P): string[]
  /**
   * Of those, the ones whose API key is still asked at setup, though never used to sign in or checked:
   * behind a load balancer a replacement's join re-sends the balancer's whole credentials list, the
   * failed appliance's key included, until the removal drops it.
   */
  keysWithoutContact?(plan: P): string[]
  /**
   * Appliances whose API key this ceremony makes itself (replace-appliance's onboarding, P.2): no key
   * is asked for them at setup; their connection is checked without signing in (version, clock and
   * the pinned TLS key), and the key is held once the step has made it.
   */
  keysMadeHere?(plan: P): string[]
  /**
   * API keys this ceremony made (replace-appliance's onboarding), by the appliance, the sign-in that
   * may read them again and the app: the vault never outlives the process, so after a restart the
   * engine reads each one again through its credential endpoint (made-keys.ts).
   */
  madeApiKeys?(plan: P, results: ResultReader): { applianceId: string; signInId: string; appId: string }[]
  /** What an aborted ceremony leaves on which appliance or medium, in words, for the record. */
  leftBehind?(plan: P, results: ResultReader): string[]
}

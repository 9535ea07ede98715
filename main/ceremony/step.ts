/**
 * The one step contract (design §6). Every step of every ceremony kind implements it; the runner
 * (runner.ts) alone drives it: intent -> look ?? act -> verify -> done, with the journal and the
 * audit log written around each phase. A step never touches the journal or the log itself: it reads
 * earlier results through typed references (`ctx.get(ref)`) and writes files through `ctx.media`.
 *
 * - `intent`   what this attempt will do (the exact request, names, nonces); journaled before acting.
 * - `look`     called only when the journal records an earlier attempt of this step: finds what that
 *              attempt made and adopts it if, and only if, it equals what that attempt intended.
 *              Anything else carrying our name or nonce is a named error, never used.
 * - `act`      does it (or, for an approval step, reports WAITING until the quorum decides).
 * - `verify`   checks the result before the step counts as done (fingerprints, KCVs, absence).
 * - `evidence` the facts for the log and the screen, from the result: one source for both.
 */
import type { z } from 'zod'
import type { AppSession, ApprovalRequest, UserSession } from '../dsm'
import type { LogEntry } from '../evidence'
import type { ApplianceOutage } from './outage'
import type { Plan } from './plan-envelope'
import type { StepInput, Typed } from './step-input'

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export type JsonObject = { [key: string]: Json }

/** A typed handle on another step's result: `ctx.get(ref)` parses the journal with `schema`. */
export interface StepRef<R> {
  readonly id: string
  readonly schema: z.ZodType<R>
}

export function stepRef<R>(id: string, schema: z.ZodType<R>): StepRef<R> {
  return { id, schema }
}

export type EvidenceFormat = 'text' | 'fingerprint' | 'digest' | 'kcv'

export interface EvidenceItem {
  label: string
  value: string
  format: EvidenceFormat
}

export interface EvidenceComparison {
  label: string
  format: Exclude<EvidenceFormat, 'text'>
  left: { label: string; value: string }
  right: { label: string; value: string }
  match: boolean
}

export interface Evidence {
  items: EvidenceItem[]
  comparisons: EvidenceComparison[]
}

/** What the operator types before an irreversible step: the last 4 characters of `value`. */
export interface Confirmation {
  prompt: string
  /** What the characters are taken from, shown beside the box (e.g. "Transfer-key fingerprint"). */
  label: string
  value(ctx: StepContext): string
}

/** Returned by `act` while an approval step waits for the quorum. */
export const WAITING = Symbol('waiting for the quorum')
export type Waiting = typeof WAITING

/** Files on the media, written and read only through the runner (digest journaled before writing). */
export interface MediaAccess {
  /**
   * Writes `data` under `name` (never overwriting). Its SHA-256 is journaled for this step before
   * the first byte is written; a file already there is adopted only if an earlier attempt of this
   * step journaled exactly its digest, and refused as UNEXPECTED_FILE otherwise.
   */
  write(name: string, data: Buffer): Promise<{ name: string; sha256: string; bytes: number }>
  /** The digest an earlier attempt of this step journaled for `name` before writing it, if any. */
  journaled(name: string): string | null
  /** Reads a file and checks it is the one recorded (size-capped, no symlinks). */
  read(name: string, sha256: string, maxBytes: number): Promise<Buffer>
  /** Reads a small file without a recorded digest (a manifest to be checked field by field). */
  readUnverified(name: string, maxBytes: number): Promise<Buffer>
  exists(name: string): boolean
}

export interface StepContext<P extends Plan = Plan> {
  readonly plan: P
  readonly planDigest: string
  readonly stepId: string
  label(applianceId: string): string
  now(): Date
  /** The operator's app session on an appliance (opened on first use, with the API key entered). */
  app(applianceId: string): Promise<AppSession>
  /** An earlier step's result; JOURNAL_INCOMPLETE if that step is not done. */
  get<R>(ref: StepRef<R>): R
  /** An earlier step's result, or null when it did not run (skipped, or not in this plan). */
  find<R>(ref: StepRef<R>): R | null
  media: MediaAccess
  /** What a look found and adopted (or refused): shown after a resume and logged. */
  note(finding: string): void
  /** Exceptions recorded at this step, newest last (some checks accept a difference only with one). */
  exceptionsHere(): LogEntry[]
  /** A fresh copy of an appliance's API key, only for a request that carries it to another system (an hmg config); zero it after use. */
  apiKey(applianceId: string): Buffer
  /**
   * An API key this ceremony made (replace-appliance's onboarding): handed to the secrets vault like
   * a typed one, never journaled, logged or written, and, when `show`, shown once to the operator.
   * Returns whether it was shown (false: this workstation has no screen for it). The caller keeps
   * and zeroes its own Buffer.
   */
  madeApiKey(applianceId: string, key: Buffer, show: boolean): boolean
  /** A named DSM user's session at one of the kind's sign-ins (the cluster administrator, sign-in.ts). */
  user(signInId: string): Promise<UserSession>
  /** Earlier ceremony records the operator provided, as parsed JSON: unverified until a step verifies them. */
  records(): unknown[]
  /** Rehearsal only: takes a simulated appliance down and back (outage.ts); null in production. */
  readonly outage: ApplianceOutage | null
  /** The ceremony's audit log as written so far, read-only: for a step that checks the record against the appliances' own logs. */
  recorded(): readonly LogEntry[]
  /**
   * A value typed in the room (or reported by an appliance) that differs from what the plan or an
   * earlier record says: logged as a `materials-mismatch` entry, which the deviation register lists.
   * The step then refuses by the mismatch's code until an exception at the step names its reference.
   */
  mismatch(m: Mismatch): void
}

/** One typed or reported value that is not what was expected, with the reference an exception names to let it stand. */
export interface Mismatch {
  /** BAG_NUMBER_MISMATCH, APPLIANCE_SERIAL_MISMATCH, TAMPER_LABEL_MISMATCH … */
  code: string
  /** The item or appliance (its plan id) and how it is called. */
  item: string
  description: string
  /** Which value: the step's input field, or what the appliance reported. */
  field: string
  expected: string
  typed: string
  /** Who gave the value: the operator typed it, the appliance reported it, or the plan says it (against an earlier record). */
  source: 'operator' | 'appliance' | 'plan'
  /** What it was compared with ("the plan", "the record …"). */
  against: string
  reference: string
}

export interface StepText {
  title: string
  explain: string
  where: string
  witnessItems: string[]
}

/** How an approval step finds, shows and decides its request. */
export interface ApprovalBinding {
  /** The appliance whose custodians decide. */
  appliance: string
  /** The step that opened the request. */
  request: StepRef<{ requestId: string; nonce: string }>
  /** Steps that start over when a fresh request is opened (request, approval, result). */
  resets: string[]
  /** What custodians see, built from the request exactly as the appliance returns it. */
  describe(ctx: StepContext, request: ApprovalRequest): Promise<ApprovalFacts>
  /** The quorum on that appliance (from an earlier step), and the account custodians sign in to. */
  quorum(ctx: StepContext): { n: number; of: number; requirePassword: boolean; acctId: string }
}

/** The approval view's content: what the request will do, and the checks that must all pass. */
export interface ApprovalFacts {
  items: EvidenceItem[]
  checks: { label: string; ok: boolean }[]
}

export interface Step<R, I extends JsonObject = JsonObject, P extends Plan = Plan> {
  readonly id: string
  /** How the step is read aloud and printed in the ceremony script, unique in the ceremony ("T2.7"). */
  readonly scriptId?: string
  /** The step's name within its kind (e.g. "transfer-key"); shown as a data attribute, never switched on. */
  readonly name: string
  /** Board group (e.g. the target appliance id), or null for ceremony-wide steps. */
  readonly group: string | null
  /** Appliances this step talks to. */
  readonly appliances: string[]
  /**
   * Across sites: the station a step that talks to no appliance still runs at (the materials at one
   * site: its bags opened, its items stored). Absent: the station of its appliances, or none.
   */
  readonly station?: string
  readonly text: StepText
  readonly interaction: 'run' | 'approval'
  readonly confirmation: Confirmation | null
  /** Approval steps only. */
  readonly approval?: ApprovalBinding
  /** Steps that share one approval request (request, approval, result): restarted together. */
  readonly approvalGroup?: string
  readonly result: z.ZodType<R>
  /**
   * What the operator types to run this step (step-input.ts): validated in main before anything is
   * recorded and given to `intent`, which must keep it (it is journaled and logged with the intent).
   * A step that takes input must be safe to act again from its journaled intent: `look` judges the
   * values typed at the earlier attempt, and new values are a new attempt.
   */
  readonly input?: StepInput<P>
  /** A reason to skip this step, decided from earlier results (e.g. a target already replicated). */
  skip?(ctx: StepContext<P>): string | null
  /** `typed`: the validated input of a step that declares one (null for every other step). */
  intent(ctx: StepContext<P>, typed?: Typed | null): Promise<I> | I
  look(ctx: StepContext<P>, earlier: I): Promise<R | null>
  act(ctx: StepContext<P>, intent: I): Promise<R | Waiting>
  verify(ctx: StepContext<P>, result: R): Promise<void> | void
  evidence(result: R, ctx: StepContext<P>): Evidence
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStep = Step<any, any, any>

/** Identity function that lets TypeScript infer R and I from the object literal. */
export function defineStep<R, I extends JsonObject, P extends Plan = Plan>(step: Step<R, I, P>): Step<R, I, P> {
  return step
}

export function item(label: string, value: string | number | boolean | null | undefined, format: EvidenceFormat = 'text'): EvidenceItem[] {
  return value === null || value === undefined || value === '' ? [] : [{ label, value: String(value), format }]
}

/**
 * Evidence as the log keeps it, beside the result it was computed from. Shown values are under
 * `shown`: the log's secret filter refuses any field named `value`, the name DSM gives key material.
 */
export function itemsForLog(items: EvidenceItem[]): JsonObject[] {
  return items.map((i) => ({ label: i.label, shown: i.value, format: i.format }))
}

export function evidenceForLog(evidence: Evidence): JsonObject {
  const side = (s: { label: string; value: string }) => ({ label: s.label, shown: s.value })
  return {
    items: itemsForLog(evidence.items),
    comparisons: evidence.comparisons.map((c) => ({ label: c.label, format: c.format, left: side(c.left), right: side(c.right), match: c.match })),
  }
}

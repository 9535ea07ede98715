/**
 * The view half of the IPC contract (preload/contract.ts re-exports all of it): what the main
 * process shows the renderer, as zod schemas. Views only — no key material, no secret, no file path.
 * Split from contract.ts to keep files small; contract.ts stays the one module everyone imports.
 */
import { z } from 'zod'

export const IpcErrorSchema = z.strictObject({ code: z.string(), message: z.string() })
export type IpcError = z.infer<typeof IpcErrorSchema>

export const ModeSchema = z.enum(['production', 'rehearsal'])
export type Mode = z.infer<typeof ModeSchema>

// ---------------------------------------------------------------------------------------------
// The ceremony: what the engine shows the renderer. Views only — no key material, no secret, no
// file path. Fingerprints and digests always come with their hex groups and PGP words.

/** A digest or fingerprint as it is read aloud: lowercase hex, groups of 4, and PGP words. */
export const DigestViewSchema = z.strictObject({ hex: z.string(), hexGroups: z.string(), words: z.array(z.string()) })
export type DigestView = z.infer<typeof DigestViewSchema>

export const PlanIssueSchema = z.strictObject({ path: z.string(), message: z.string() })

export const PlanSummarySchema = z.strictObject({
  /** The ceremony kind (e.g. "replicate-cmk") and what it is called in words. */
  kind: z.string(),
  kindTitle: z.string(),
  id: z.string(),
  title: z.string(),
  mode: ModeSchema,
  digest: DigestViewSchema,
  appliances: z.array(z.strictObject({ id: z.string(), label: z.string(), host: z.string(), port: z.number(), spkiSha256: z.string().nullable(), hasCa: z.boolean(), role: z.string() })),
  /** The kind's own fields in words (source, targets, key names …), as the kind describes them. */
  details: z.array(z.strictObject({ label: z.string(), value: z.string() })),
  participants: z.strictObject({ operator: z.string(), custodians: z.record(z.string(), z.array(z.string())), witnesses: z.array(z.string()) }),
  /** The cameras the plan names (its id, the label read aloud, what it films); none when it names none. */
  cameras: z.array(z.strictObject({ id: z.string(), label: z.string(), films: z.string() })),
  /** The plan file's canonical JSON, for the printable review. */
  json: z.string(),
  /** Kinds that build on earlier ceremonies: each earlier record's final digest, as the plan names them (read aloud, opened at setup). */
  buildsOn: z.array(DigestViewSchema).optional(),
  /** Across sites only: the legs in order, each at one station, with its steps' titles (the media travels between legs). */
  trips: z.array(z.strictObject({ n: z.number(), station: z.string(), stationLabel: z.string(), steps: z.array(z.string()) })).optional(),
})
export type PlanSummary = z.infer<typeof PlanSummarySchema>

export const StepStateSchema = z.enum(['pending', 'running', 'waiting', 'done', 'failed', 'skipped'])
export type StepState = z.infer<typeof StepStateSchema>

export const EvidenceItemSchema = z.strictObject({
  label: z.string(),
  value: z.string(),
  /** Set for fingerprints, digests and KCVs, so they can be read aloud. */
  digest: DigestViewSchema.optional(),
})
export type EvidenceItemView = z.infer<typeof EvidenceItemSchema>

/** Two values a witness must see are equal (e.g. KCV on source and target). */
export const ComparisonSchema = z.strictObject({
  label: z.string(),
  left: z.strictObject({ label: z.string(), value: DigestViewSchema }),
  right: z.strictObject({ label: z.string(), value: DigestViewSchema }),
  match: z.boolean(),
})

export const ApprovalViewSchema = z.strictObject({
  requestId: z.string(),
  appliance: z.string(),
  applianceLabel: z.string(),
  operation: z.string(),
  status: z.enum(['PENDING', 'APPROVED', 'DENIED', 'FAILED', 'EXPIRED']),
  quorum: z.strictObject({ n: z.number(), of: z.number() }),
  approvals: z.array(z.strictObject({ user: z.string(), at: z.string() })),
  denials: z.array(z.strictObject({ user: z.string(), at: z.string(), reason: z.string().nullable() })),
  expiresAt: z.string().nullable(),
  requirePassword: z.boolean(),
  description: z.string(),
  /** What the request will do, built from the request as the appliance returns it. */
  facts: z.array(EvidenceItemSchema),
  /** Checks of that request against this ceremony; custodians deny if any fails. */
  checks: z.array(z.strictObject({ label: z.string(), ok: z.boolean() })),
  /** SHA-256 of what this view shows; a decision carries it and is refused if it is no longer current. */
  viewDigest: z.string(),
  /** The custodians the plan names for this appliance (sign-in candidates). */
  custodians: z.array(z.string()),
})
export type ApprovalView = z.infer<typeof ApprovalViewSchema>

/** One value the operator reads in the room and types for a step (a serial, tamper labels, a bag number, a receiver). */
export const InputFieldViewSchema = z.strictObject({
  id: z.string(),
  /** The heading it is shown under (the item or appliance). */
  group: z.string(),
  label: z.string(),
  /** Where to read it from. */
  hint: z.string(),
  format: z.enum(['bag', 'serial', 'labels', 'choice']),
  options: z.array(z.strictObject({ value: z.string(), label: z.string() })).nullable(),
  /** Typed twice (a new bag number, which nothing else records). */
  twice: z.boolean(),
  /** Rehearsal only: what the simulated item shows. Never sent for a production plan, whose values are read in the room. */
  simulatedShows: z.string().nullable(),
})
export type InputFieldView = z.infer<typeof InputFieldViewSchema>

export const StepViewSchema = z.strictObject({
  id: z.string(),
  /** How the step is read aloud and printed in the script ("T2.7"): unique in the ceremony. */
  scriptId: z.string(),
  /** The step's name within its kind (e.g. "transfer-key"), for styling and tests; never switched on. */
  name: z.string(),
  /** Position within its group (or the ceremony), 1-based. */
  number: z.number(),
  /** Board group (e.g. a target appliance), or null for ceremony-wide steps. */
  group: z.string().nullable(),
  interaction: z.enum(['run', 'approval']),
  /** The ceremony's last step: running it seals the log, so its checklist is signed before it runs. */
  seals: z.boolean(),
  where: z.string(),
  title: z.string(),
  /** What is about to happen and why, in plain words. */
  explain: z.string(),
  state: StepStateSchema,
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  /** Irreversible steps: what the operator types (the last `length` characters of `value`), shown with what it refers to. */
  confirmation: z.strictObject({ prompt: z.string(), length: z.number(), label: z.string(), value: DigestViewSchema.nullable() }).nullable(),
  /** Steps that take typed values: the fields, and what an earlier attempt typed (run again with it, or type anew). */
  input: z.strictObject({ fields: z.array(InputFieldViewSchema), earlier: z.record(z.string(), z.string()).nullable() }).nullable(),
  evidence: z.array(EvidenceItemSchema),
  comparisons: z.array(ComparisonSchema),
  approval: ApprovalViewSchema.nullable(),
  witnessItems: z.array(z.string()),
  /** Sign-offs of the step's current attempt (a fresh approval request needs fresh ones). */
  signoffs: z.array(z.strictObject({ witness: z.string(), at: z.string(), items: z.array(z.string()), simulated: z.boolean() })),
  /** Whether the step can be left: how many must sign, and the exception that allowed going on unsigned. Null: nothing to sign (yet). */
  signoff: z.strictObject({ required: z.number(), complete: z.boolean(), waivedBy: z.string().nullable() }).nullable(),
  exceptions: z.array(z.strictObject({ by: z.string(), at: z.string(), note: z.string(), waivesSignoff: z.boolean() })),
  /** A refusal, with what is safe, what to do, and the one way on that main decides (the renderer keeps no list of codes). */
  error: IpcErrorSchema.extend({ safe: z.string(), next: z.string(), recovery: z.enum(['run-again', 'fresh-request', 'stop']) }).nullable(),
})
export type StepView = z.infer<typeof StepViewSchema>

export const ConnectionViewSchema = z.strictObject({
  applianceId: z.string(),
  label: z.string(),
  hasApiKey: z.boolean(),
  state: z.enum(['unknown', 'ok', 'failed']),
  version: z.string().nullable(),
  clockSkewSeconds: z.number().nullable(),
  /** The pin the workstation enforces, to confirm out of band with the appliance's administrator. */
  pin: DigestViewSchema.nullable(),
  error: IpcErrorSchema.nullable(),
  /** False for an appliance the plan names but this ceremony never signs in to (a replaced, failed one): no key, no check. */
  contacted: z.boolean().optional(),
  /** True for such an appliance whose API key is still needed (a failed one behind a load balancer: the join re-sends it): it is asked, never checked. */
  keyNeeded: z.boolean().optional(),
  /** True for an appliance whose API key this ceremony makes (a replacement onboarded through the API): no key is asked; its check does not sign in. */
  keyMadeHere: z.boolean().optional(),
})
export type ConnectionView = z.infer<typeof ConnectionViewSchema>

// -- Ceremony kinds that sign in as a named DSM user or build on earlier records (link-cluster, verify-cluster).
/** A named DSM user who signs in with a password entered at run time (the cluster administrator): never the password. */
export const SignInViewSchema = z.strictObject({ id: z.string(), label: z.string(), user: z.string(), host: z.string(), hasPassword: z.boolean() })
/** An earlier record the plan builds on, by final digest, and whether the operator has opened it (main read and verified it). */
export const EarlierRecordViewSchema = z.strictObject({ digest: DigestViewSchema, provided: z.boolean() })
// ---------------------------------------------------------------------------------------------
// Stations (design §3b): a plan across sites, the removable drive, hand-offs and receipts.

/** A mounted removable drive, as the renderer may see it: an opaque id, never a path. */
export const VolumeViewSchema = z.strictObject({ id: z.string(), label: z.string(), sizeBytes: z.number(), freeBytes: z.number(), fsType: z.string() })
export type VolumeView = z.infer<typeof VolumeViewSchema>

export const StationsViewSchema = z.strictObject({
  stations: z.array(z.strictObject({ id: z.string(), label: z.string(), appliances: z.array(z.strictObject({ id: z.string(), label: z.string() })), operator: z.string(), witnesses: z.array(z.string()) })),
  trips: z.array(z.strictObject({ n: z.number(), station: z.string(), stationLabel: z.string(), steps: z.number() })),
  /** The station this workstation is, once chosen at setup. */
  chosen: z.string().nullable(),
  /** The first step of this station's first leg: what "Begin" runs (or resumes) here. */
  beginStep: z.string().nullable(),
  /** What this station does next. */
  next: z.enum(['choose-station', 'choose-media', 'receive', 'run', 'hand-off', 'handed-off', 'done']),
  /** Which station holds the ceremony now, as far as this station knows. */
  holder: z.strictObject({ station: z.string(), label: z.string() }).nullable(),
  media: z.strictObject({ label: z.string(), removable: z.boolean(), exception: z.string().nullable() }).nullable(),
  /** The hand-off this station waits for. */
  receive: z.strictObject({ n: z.number(), fromLabel: z.string() }).nullable(),
  /** The hand-off due (digest null until written) or written: what to carry, the words to read, when the drive is safe to remove. */
  handoff: z.strictObject({
    n: z.number(), to: z.string(), toLabel: z.string(), digest: DigestViewSchema.nullable(),
    files: z.array(z.strictObject({ name: z.string(), what: z.string() })), safeToRemove: z.string().nullable(),
  }).nullable(),
  /** The last receipt: what was checked. */
  received: z.strictObject({ n: z.number(), fromLabel: z.string(), digest: DigestViewSchema, artifactsChecked: z.array(z.string()) }).nullable(),
})
export type StationsView = z.infer<typeof StationsViewSchema>

/**
 * The API keys in main's memory: wiped after `idleTimeoutSeconds` without operator action (at
 * `wipesAt`, null when no key is held or there is no time-out), when the record is sealed, and on quit.
 */
export const SecretsViewSchema = z.strictObject({
  idleTimeoutSeconds: z.number(),
  wipesAt: z.string().nullable(),
  /** The last wipe, until a key is entered again. */
  wiped: z.strictObject({ reason: z.enum(['idle', 'sealed', 'quit', 'new-plan']), at: z.string() }).nullable(),
})
export type SecretsView = z.infer<typeof SecretsViewSchema>

/**
 * An API key the ceremony made (replace-appliance's onboarding) that the operator may reveal once on
 * the run screen (main/ceremony/key-reveal.ts). Never the key: only whether it may still be shown.
 */
export const KeyRevealViewSchema = z.strictObject({
  applianceId: z.string(), label: z.string(), stepId: z.string(),
  state: z.enum(['offered', 'shown', 'lapsed']),
  shownAt: z.string().nullable(),
  /** Why it can no longer be shown: the secrets were wiped, or another key was entered for it. */
  lapsed: z.enum(['wiped', 'replaced']).nullable(),
})
export type KeyRevealView = z.infer<typeof KeyRevealViewSchema>

/** One line of the deviation register: what departed from the script, and how it was resolved. */
export const DeviationSchema = z.strictObject({
  id: z.string(), seq: z.number(), ts: z.string(), step: z.string(), scriptId: z.string().nullable(),
  source: z.enum(['exception', 'failure', 'denial', 'retry', 'interruption', 'repair', 'refusal']),
  what: z.string(), raisedBy: z.string(),
  resolution: z.strictObject({
    seq: z.number(), ts: z.string(), resolution: z.string(), allowedBy: z.string(),
    initials: z.array(z.strictObject({ witness: z.string(), initials: z.string() })), simulated: z.boolean(),
  }).nullable(),
})
export type DeviationView = z.infer<typeof DeviationSchema>

export const CeremonySnapshotSchema = z.strictObject({
  plan: PlanSummarySchema.nullable(),
  phase: z.enum(['no-plan', 'setup', 'running', 'complete', 'failed', 'aborted']),
  /** Everyone the plan names, with their role and whether they are recorded as in the room. */
  people: z.array(z.strictObject({ name: z.string(), role: z.string(), present: z.boolean() })),
  /** The approval of the plan and its script by the approvers the plan names (null: it names none, or the ceremony is not open). */
  scriptApproval: z.strictObject({ digest: DigestViewSchema, approvers: z.array(z.strictObject({ name: z.string(), signed: z.boolean() })) }).nullable(),
  /** A break in progress: who stayed in the room, since when. */
  onBreak: z.strictObject({ stays: z.array(z.string()), since: z.string() }).nullable(),
  /** The deviation register as the log has it, kept by the plan's internal witness (null: the plan names none). */
  deviations: z.strictObject({
    keeper: z.string().nullable(), lines: z.array(DeviationSchema),
    /** Who in the room may allow going on (an operator, the internal witness, an approver), and the witnesses who initial. */
    allowers: z.array(z.string()), witnessesPresent: z.array(z.string()),
  }),
  /** Rehearsal only: the simulated custodians' sign-ins, shown on screen as the simulator prints them. */
  rehearsalCredentials: z.array(z.strictObject({ applianceId: z.string(), user: z.string(), password: z.string() })),
  participantsConfirmed: z.boolean(),
  connections: z.array(ConnectionViewSchema),
  steps: z.array(StepViewSchema),
  currentStepId: z.string().nullable(),
  /** Before the first step has run (no steps yet): the step Begin runs, the plan's first (across sites, see stations.beginStep). */
  beginStep: z.string().optional(),
  /** The board: one line per group of steps (e.g. per target), with the kind's outcome for it. */
  groups: z.array(z.strictObject({ id: z.string(), label: z.string(), state: StepStateSchema, outcome: z.string().nullable(), done: z.number(), total: z.number() })),
  /** What a resume found on the appliances for interrupted steps. */
  reconcile: z.array(z.strictObject({ stepId: z.string(), finding: z.string() })),
  log: z.strictObject({ entries: z.number(), head: DigestViewSchema.nullable() }),
  record: z.strictObject({ finalDigest: DigestViewSchema, exported: z.array(z.enum(['json', 'pdf'])) }).nullable(),
  /** Sign-ins the plan's kind needs (empty for most kinds), and the earlier records it builds on. */
  signIns: z.array(SignInViewSchema),
  buildsOn: z.array(EarlierRecordViewSchema),
  /** The kinds a rehearsal can be started for (main's registry), in words, for the home screen. */
  rehearsalKinds: z.array(z.strictObject({ kind: z.string(), title: z.string() })),
  /** Across sites only (absent for a plan without stations). */
  stations: StationsViewSchema.nullable().optional(),
  /** When the API keys are wiped (absent from snapshots made before this field existed). */
  secrets: SecretsViewSchema.optional(),
  /** Keys the ceremony made that the operator may reveal once (absent from snapshots made before this field existed). */
  keyReveals: z.array(KeyRevealViewSchema).optional(),
})
export type CeremonySnapshot = z.infer<typeof CeremonySnapshotSchema>

/** The printed ceremony script: made from the plan alone, before the ceremony (read aloud by its ids). */
export const ScriptSchema = z.strictObject({
  plan: PlanSummarySchema,
  steps: z.array(z.strictObject({
    scriptId: z.string(), title: z.string(), where: z.string(), explain: z.string(), witnessItems: z.array(z.string()),
    confirmation: z.string().nullable(), interaction: z.enum(['run', 'approval']), group: z.string().nullable(),
  })),
  witnesses: z.array(z.string()),
  signersPerStep: z.string(),
  /** What approvers sign: the SHA-256 of the plan digest and these steps. */
  digest: DigestViewSchema,
  approvers: z.array(z.string()),
})
export type ScriptView = z.infer<typeof ScriptSchema>

/** One audit-log entry (main/evidence/entry.ts has the format and the hash chain). */
export const LogEntrySchema = z.strictObject({
  seq: z.number(), ts: z.string(), prev: z.string(), planDigest: z.string(), actor: z.string(), step: z.string(), kind: z.string(),
  facts: z.record(z.string(), z.unknown()), hash: z.string(),
})
export type LogEntryView = z.infer<typeof LogEntrySchema>

/** A summary line of the record: one log entry of a given kind, with its facts. */
export const RecordItemSchema = z.strictObject({ seq: z.number(), ts: z.string(), step: z.string(), actor: z.string(), facts: z.record(z.string(), z.unknown()) })
export type RecordItem = z.infer<typeof RecordItemSchema>

/** The ceremony record (main/evidence/record.ts builds and verifies it; docs of the format there). */
export const CeremonyRecordSchema = z.strictObject({
  format: z.literal('dsm-key-ceremony-record'),
  version: z.literal(1),
  mode: ModeSchema,
  watermark: z.literal('REHEARSAL').optional(),
  plan: z.unknown(),
  planDigest: z.string(),
  entries: z.array(LogEntrySchema),
  artifacts: z.array(z.strictObject({ name: z.string(), sha256: z.string(), bytes: z.number(), seq: z.number() })),
  approvals: z.array(RecordItemSchema),
  signoffs: z.array(RecordItemSchema),
  exceptions: z.array(RecordItemSchema),
  /** The deviation register, derived from the log (main/evidence/deviations.ts). */
  deviations: z.array(DeviationSchema),
  finalDigest: z.string(),
  finalWords: z.array(z.string()),
  /** Across sites only: one segment per station leg, each ended by a hand-off whose digest was read out of band (main/evidence/segments.ts). */
  segments: z.array(z.strictObject({ n: z.number(), station: z.string(), firstSeq: z.number(), lastSeq: z.number(), finalDigest: z.string(), finalWords: z.array(z.string()) })).optional(),
})
export type CeremonyRecord = z.infer<typeof CeremonyRecordSchema>

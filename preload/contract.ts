/**
 * The one IPC contract. Every channel between the renderer and the main process is listed here
 * with zod schemas for what goes in and what comes back. Main validates against it, the preload
 * exposes exactly these names, and the renderer's bridge type is derived from it (type-only import,
 * so no zod reaches the renderer bundle).
 */
import { z } from 'zod'
import { multiLine, oneLine } from './free-text'
import { CeremonyRecordSchema, CeremonySnapshotSchema, DigestViewSchema, ModeSchema, PlanIssueSchema, PlanSummarySchema, ScriptSchema, VolumeViewSchema, type IpcError } from './contract-views'

// The view schemas (what main shows the renderer) live in contract-views.ts; they are part of this
// contract and re-exported from here, so main, preload and renderer still import one module.
export * from './contract-views'

/** The global the preload exposes on `window`. */
export const BRIDGE_KEY = 'ceremony'

export type Result<T> = { ok: true; data: T } | { ok: false; error: IpcError }

/** Error codes the IPC layer itself produces (services add their own). */
export const IPC_ERRORS = {
  untrustedSender: 'UNTRUSTED_SENDER',
  invalidPayload: 'INVALID_PAYLOAD',
  invalidResponse: 'INVALID_RESPONSE',
  internal: 'INTERNAL',
} as const

export const AppInfoSchema = z.strictObject({
  name: z.string(),
  version: z.string(),
  platform: z.string(),
  arch: z.string(),
  mode: ModeSchema,
})
export type AppInfo = z.infer<typeof AppInfoSchema>

export const SettingsSchema = z.strictObject({
  /** Who drives the ceremony at this workstation; pre-fills the participants list. */
  operatorName: oneLine(z.string().trim().max(80)),
  /** Text size in percent; custodians read fingerprints aloud from this screen. */
  textScale: z.number().int().min(100).max(200),
  highContrast: z.boolean(),
})
export type Settings = z.infer<typeof SettingsSchema>
export const DEFAULT_SETTINGS: Settings = { operatorName: '', textScale: 100, highContrast: false }

const StepRef = z.strictObject({ stepId: oneLine(z.string().min(1).max(120)) })
const Secret = z.string().min(1).max(4096)

const Empty = z.strictObject({})

/** What was typed for a step, by field id; main checks each value's format before anything is recorded. */
const TypedInputSchema = z.record(oneLine(z.string().min(1).max(160)), oneLine(z.string().max(400))).refine((r) => Object.keys(r).length <= 256, 'at most 256 values')

interface InvokeSpec {
  channel: string
  request: z.ZodType
  response: z.ZodType
}
interface EventSpec {
  channel: string
  payload: z.ZodType
}

/** Renderer → main calls. Key = the bridge method name. */
export const invokes = {
  /** App name, version, platform and whether this session is a rehearsal. */
  appInfo: { channel: 'app:info', request: Empty, response: AppInfoSchema },
  /** The workstation settings. */
  getSettings: { channel: 'settings:get', request: Empty, response: SettingsSchema },
  /** Change some settings; returns the whole new settings object. */
  updateSettings: { channel: 'settings:set', request: SettingsSchema.partial().strict(), response: SettingsSchema },

  /** Main shows the open-file dialog, reads and validates the plan; the renderer never sees the path. */
  openPlan: { channel: 'plan:open', request: Empty, response: z.strictObject({ cancelled: z.boolean(), snapshot: CeremonySnapshotSchema }) },
  /** Validates plan text as the operator edits it; returns every issue by field. */
  validatePlan: { channel: 'plan:validate', request: z.strictObject({ text: multiLine(z.string().max(1_000_000)) }), response: z.strictObject({ issues: z.array(PlanIssueSchema), summary: PlanSummarySchema.nullable() }) },
  /** Main shows the save dialog and writes the (valid) plan file. */
  savePlan: { channel: 'plan:save', request: z.strictObject({ text: multiLine(z.string().max(1_000_000)) }), response: z.strictObject({ cancelled: z.boolean(), digest: DigestViewSchema.nullable() }) },
  /** Starts simulated appliances in main and loads a rehearsal plan for them. */
  startRehearsal: { channel: 'rehearsal:start', request: z.strictObject({ targets: z.number().int().min(1).max(5), kind: oneLine(z.string().min(1).max(64)).optional(), sites: z.number().int().min(1).max(3).optional(), /** a materials manifest: chassis, bags and safes to type (replicate-cmk; across sites each station its own) */ materials: z.boolean().optional() }), response: CeremonySnapshotSchema },
  /** The API key for one appliance: goes straight to main memory, never comes back. */
  setApiKey: { channel: 'session:set-api-key', request: z.strictObject({ applianceId: oneLine(z.string().min(1).max(64)), apiKey: Secret }), response: CeremonySnapshotSchema },
  /** Connects to every appliance with its key: version, clock skew, TLS pin. */
  checkConnections: { channel: 'session:check', request: Empty, response: CeremonySnapshotSchema },
  /** The operator confirms who is in the room, from the plan's participants (the operator is the plan's). */
  confirmParticipants: { channel: 'session:confirm-participants', request: z.strictObject({ present: z.array(oneLine(z.string().trim().min(1).max(254))).min(1).max(64) }), response: CeremonySnapshotSchema },
  /** Someone named in the plan arrives in or leaves the room (the attendance log). */
  attendance: { channel: 'ceremony:attendance', request: z.strictObject({ person: oneLine(z.string().trim().min(1).max(254)), event: z.enum(['arrive', 'leave']) }), response: CeremonySnapshotSchema },
  /** The current state of everything. */
  status: { channel: 'ceremony:status', request: Empty, response: CeremonySnapshotSchema },
  /** Runs one step (or resumes it after a restart). Irreversible steps need their typed confirmation. */
  runStep: { channel: 'ceremony:run-step', request: StepRef.extend({ confirmation: oneLine(z.string().max(64)).optional(), input: TypedInputSchema.optional() }), response: CeremonySnapshotSchema },
  /** A custodian signs in with their own DSM user and approves or denies the step's request. */
  decideApproval: {
    channel: 'ceremony:decide-approval',
    request: StepRef.extend({
      user: oneLine(z.string().min(1).max(254)), password: Secret, decision: z.enum(['approve', 'deny']),
      /** The request and the digest of the view the custodian read: refused (VIEW_STALE) if either is no longer current. */
      requestId: oneLine(z.string().min(1).max(64)), viewDigest: z.string().length(64).regex(/^[0-9a-f]{64}$/),
      reason: multiLine(z.string().trim().min(1).max(500)).optional(),
      confirmation: oneLine(z.string().max(64)).optional(),
    }),
    response: CeremonySnapshotSchema,
  },
  /** After DENIED, FAILED or expiry: open a fresh approval request for the same operation. */
  restartApproval: { channel: 'ceremony:restart-approval', request: StepRef, response: CeremonySnapshotSchema },
  /** A named witness signs off a step's checklist items. */
  /** A witness signs a step's whole checklist, typing their initials (as the plan holds them). */
  signOff: { channel: 'ceremony:sign-off', request: StepRef.extend({ witness: oneLine(z.string().trim().min(1).max(80)), initials: oneLine(z.string().trim().min(1).max(4)), items: z.array(oneLine(z.string().max(300))).min(1).max(20) }), response: CeremonySnapshotSchema },
  /** Anyone records an exception note at any step. */
  recordException: {
    channel: 'ceremony:exception',
    request: StepRef.extend({ by: oneLine(z.string().trim().min(1).max(80)), note: multiLine(z.string().trim().min(1).max(2000)), /** This exception allows going on past the step's missing sign-offs. */ waivesSignoff: z.boolean().optional() }),
    response: CeremonySnapshotSchema,
  },
  /**
   * Resolves a line of the deviation register: the resolution, who allowed going on (an operator, the
   * internal witness or an approver, present), and the initials of every witness in the room.
   */
  resolveDeviation: {
    channel: 'ceremony:resolve-deviation',
    request: z.strictObject({
      deviation: oneLine(z.string().trim().min(3).max(12)), resolution: multiLine(z.string().trim().min(1).max(2000)), allowedBy: oneLine(z.string().trim().min(1).max(80)),
      initials: z.array(z.strictObject({ witness: oneLine(z.string().trim().min(1).max(80)), initials: oneLine(z.string().trim().min(1).max(4)) })).min(1).max(16),
    }),
    response: CeremonySnapshotSchema,
  },
  /** An approver named in the plan signs the plan and its script (their initials), before the first step. */
  approveScript: { channel: 'ceremony:approve-script', request: z.strictObject({ approver: oneLine(z.string().trim().min(1).max(254)), initials: oneLine(z.string().trim().min(1).max(4)) }), response: CeremonySnapshotSchema },
  /** A break starts (who stays in the room, at least two) or ends; no step runs during it. */
  takeBreak: { channel: 'ceremony:break', request: z.strictObject({ event: z.enum(['start', 'end']), stays: z.array(oneLine(z.string().trim().min(1).max(254))).max(16).optional() }), response: CeremonySnapshotSchema },
  /** Stops the ceremony for good, recording why and what is left on which appliance. */
  abort: { channel: 'ceremony:abort', request: z.strictObject({ reason: multiLine(z.string().trim().min(1).max(2000)) }), response: CeremonySnapshotSchema },
  /** The ceremony script of the loaded plan, from the plan alone: every step, what to compare, lines to initial. */
  getScript: { channel: 'plan:script', request: Empty, response: ScriptSchema },
  /** Main shows the save dialog and writes the ceremony record as JSON or PDF. */
  exportRecord: {
    channel: 'ceremony:export-record',
    request: z.strictObject({ format: z.enum(['json', 'pdf']) }),
    /** What was written: the file's name (never its folder), size and SHA-256, to read aloud or compare later. */
    response: z.strictObject({ cancelled: z.boolean(), file: z.strictObject({ name: z.string(), bytes: z.number(), sha256: DigestViewSchema }).nullable() }),
  },
  /** The record as the printable page shows it (plan, steps, approvals, sign-offs, exceptions, digests). */
  getRecord: { channel: 'ceremony:record', request: Empty, response: z.strictObject({ record: CeremonyRecordSchema, finalDigest: DigestViewSchema }) },

  // -- Kinds that sign in as a named user or build on earlier records (link-cluster, verify-cluster).
  /** A named DSM user's password (the cluster administrator's): goes straight to main memory, never comes back. */
  setPassword: { channel: 'session:set-password', request: z.strictObject({ signInId: oneLine(z.string().min(1).max(64)), password: Secret }), response: CeremonySnapshotSchema },
  /** Main shows the open-file dialog for an earlier ceremony record, reads and verifies it; the renderer never sees the path. */
  openRecord: { channel: 'session:open-record', request: Empty, response: z.strictObject({ cancelled: z.boolean(), snapshot: CeremonySnapshotSchema }) },
  /** Stations: which station this workstation is (a plan across sites). */
  chooseStation: { channel: 'station:choose', request: z.strictObject({ stationId: oneLine(z.string().min(1).max(64)) }), response: CeremonySnapshotSchema },
  /** The mounted removable drives (main reads them; no path is sent). */
  listVolumes: { channel: 'media:volumes', request: Empty, response: z.strictObject({ volumes: z.array(VolumeViewSchema) }) },
  /** The drive that carries the files: one from the list by id, or a folder main asks for (production needs an exception). */
  chooseMedia: {
    channel: 'media:choose',
    request: z.strictObject({ volumeId: z.string().length(16).regex(/^[0-9a-f]{16}$/).optional(), viaDialog: z.boolean().optional(), exception: multiLine(z.string().trim().min(1).max(500)).optional() }),
    response: CeremonySnapshotSchema,
  },
  /** Ends this station's leg: the hand-off entry (with the media's label and bag number), the bundle on the drive, the volume flushed. */
  handOff: { channel: 'station:hand-off', request: z.strictObject({ mediaLabel: oneLine(z.string().trim().min(1).max(120)), bag: oneLine(z.string().trim().min(1).max(120)) }), response: CeremonySnapshotSchema },
  /** Checks the drive and the words read out by the other site, then continues the ceremony here. */
  receiveHandoff: {
    channel: 'station:receive',
    request: z.strictObject({ words: multiLine(z.string().trim().min(1).max(2000)), mediaLabel: oneLine(z.string().trim().min(1).max(120)), bag: oneLine(z.string().trim().min(1).max(120)) }),
    response: CeremonySnapshotSchema,
  },
} as const satisfies Record<string, InvokeSpec>

/** Main → renderer notifications. Key = the bridge method name that subscribes. */
export const events = {
  /** Settings changed (by this window or another path in main). */
  onSettingsChanged: { channel: 'settings:changed', payload: SettingsSchema },
  /** The ceremony moved: a step started, finished, an approval arrived, a sign-off was recorded. */
  onCeremonyChanged: { channel: 'ceremony:changed', payload: CeremonySnapshotSchema },
} as const satisfies Record<string, EventSpec>

export type Invokes = typeof invokes
export type Events = typeof events
export type InvokeName = keyof Invokes
export type EventName = keyof Events
export type RequestOf<K extends InvokeName> = z.input<Invokes[K]['request']>
export type ResponseOf<K extends InvokeName> = z.output<Invokes[K]['response']>
export type PayloadOf<K extends EventName> = z.output<Events[K]['payload']>

/** A call whose request has no required field may be made with no argument. */
type ArgsOf<K extends InvokeName> = {} extends RequestOf<K> ? [request?: RequestOf<K>] : [request: RequestOf<K>]

/** What the renderer sees on `window.ceremony`: derived from the tables above, never hand-written. */
export type CeremonyBridge = {
  readonly [K in InvokeName]: (...args: ArgsOf<K>) => Promise<Result<ResponseOf<K>>>
} & {
  readonly [K in EventName]: (listener: (payload: PayloadOf<K>) => void) => () => void
}

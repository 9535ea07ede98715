/**
 * The one IPC contract. Every channel between the renderer and the main process is listed here
 * with zod schemas for what goes in and what comes back. Main validates against it, the preload
 * exposes exactly these names, and the renderer's bridge type is derived from it (type-only import,
 * so no zod reaches the renderer bundle).
 */
import { z } from 'zod'

/** The global the preload exposes on `window`. */
export const BRIDGE_KEY = 'ceremony'

export const IpcErrorSchema = z.strictObject({ code: z.string(), message: z.string() })
export type IpcError = z.infer<typeof IpcErrorSchema>
export type Result<T> = { ok: true; data: T } | { ok: false; error: IpcError }

/** Error codes the IPC layer itself produces (services add their own). */
export const IPC_ERRORS = {
  untrustedSender: 'UNTRUSTED_SENDER',
  invalidPayload: 'INVALID_PAYLOAD',
  invalidResponse: 'INVALID_RESPONSE',
  internal: 'INTERNAL',
} as const

export const ModeSchema = z.enum(['production', 'rehearsal'])
export type Mode = z.infer<typeof ModeSchema>

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
  operatorName: z.string().trim().max(80),
  /** Text size in percent; custodians read fingerprints aloud from this screen. */
  textScale: z.number().int().min(100).max(200),
  highContrast: z.boolean(),
})
export type Settings = z.infer<typeof SettingsSchema>
export const DEFAULT_SETTINGS: Settings = { operatorName: '', textScale: 100, highContrast: false }

const Empty = z.strictObject({})

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
} as const satisfies Record<string, InvokeSpec>

/** Main → renderer notifications. Key = the bridge method name that subscribes. */
export const events = {
  /** Settings changed (by this window or another path in main). */
  onSettingsChanged: { channel: 'settings:changed', payload: SettingsSchema },
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

/**
 * The only module that touches ipcMain. For every contract channel: check the sender, cap the size,
 * validate the payload, run the handler, validate what it returns, and answer with a Result.
 * Nothing else in main may register an IPC listener.
 */
import type { z } from 'zod'
import {
  IPC_ERRORS,
  events,
  invokes,
  type EventName,
  type InvokeName,
  type IpcError,
  type PayloadOf,
  type RequestOf,
  type ResponseOf,
  type Result,
} from '../../preload/contract'
import { exceedsPayloadSize, MAX_IPC_PAYLOAD_UNITS } from './payload-size'

/** Refused by size before any schema runs (the contract's IPC_ERRORS holds the schema-level codes). */
export const PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE'

/** What an IPC event tells us about who sent it (the subset of Electron's IpcMainInvokeEvent we use). */
export interface IpcSender {
  sender: { id: number }
  senderFrame: { url: string; parent: unknown } | null
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcSender, ...args: unknown[]) => Promise<unknown>): void
}

export interface HandlerContext {
  senderId: number
}

export type Handlers = {
  [K in InvokeName]: (
    request: z.output<(typeof invokes)[K]['request']>,
    context: HandlerContext,
  ) => Promise<z.input<(typeof invokes)[K]['response']>> | z.input<(typeof invokes)[K]['response']>
}

export { CeremonyError } from '../errors'

export function toIpcError(err: unknown): IpcError {
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined
  // Node's own errors (ENOENT, ERR_…) carry paths and internals: they stay in main.
  if (err instanceof Error && typeof code === 'string' && !/^(E[A-Z0-9]+|ERR_[A-Z0-9_]+)$/.test(code)) {
    return { code, message: err.message }
  }
  // Unknown failures may carry internals; the operator gets a generic message, the details stay in main.
  return { code: IPC_ERRORS.internal, message: 'Unexpected error in the main process' }
}

/**
 * The refusal in words: each issue's path and message. A path can hold a key the renderer chose (a
 * record key), so any character the contract refuses in free text is shown escaped, never echoed;
 * a refused key says why, not only that it is invalid.
 */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.length ? issue.path.map((p) => escapeControls(String(p))).join('.') : '(request)'
      const inner = issue.code === 'invalid_key' ? issue.issues.map((i) => i.message).join(', ') : ''
      return `${path}: ${issue.message}${inner ? ` (${inner})` : ''}`
    })
    .join('; ')
}

// eslint-disable-next-line no-control-regex
const escapeControls = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

export interface RegisterOptions {
  isTrustedSender(event: IpcSender): boolean
  /** Told about unexpected handler failures (never about payload contents). */
  onInternalError?(channel: string, err: unknown): void
}

/** Runs one call through the checks; exported so tests and the harness exercise the same path. */
export async function dispatch<K extends InvokeName>(
  name: K,
  handlers: Handlers,
  options: RegisterOptions,
  event: IpcSender,
  payload: unknown,
): Promise<Result<ResponseOf<K>>> {
  const spec = invokes[name]
  if (!options.isTrustedSender(event)) {
    return { ok: false, error: { code: IPC_ERRORS.untrustedSender, message: `Refused ${spec.channel}: the sender is not this app's window` } }
  }
  if (exceedsPayloadSize(payload)) {
    return { ok: false, error: { code: PAYLOAD_TOO_LARGE, message: `Refused ${spec.channel}: the request is larger than ${MAX_IPC_PAYLOAD_UNITS} characters` } }
  }
  const parsed = spec.request.safeParse(payload)
  if (!parsed.success) {
    return { ok: false, error: { code: IPC_ERRORS.invalidPayload, message: `Invalid ${spec.channel} request: ${describeIssues(parsed.error)}` } }
  }
  let result: unknown
  try {
    const handler = handlers[name] as (req: unknown, ctx: HandlerContext) => unknown
    result = await handler(parsed.data, { senderId: event.sender.id })
  } catch (err) {
    const error = toIpcError(err)
    if (error.code === IPC_ERRORS.internal) options.onInternalError?.(spec.channel, err)
    return { ok: false, error }
  }
  const checked = spec.response.safeParse(result)
  if (!checked.success) {
    options.onInternalError?.(spec.channel, checked.error)
    return { ok: false, error: { code: IPC_ERRORS.invalidResponse, message: `The main process produced an invalid ${spec.channel} response` } }
  }
  return { ok: true, data: checked.data as ResponseOf<K> }
}

/** Registers a handler for every contract channel; a missing handler is a startup error, not a silent gap. */
export function registerContract(ipcMain: IpcMainLike, handlers: Handlers, options: RegisterOptions): void {
  for (const name of Object.keys(invokes) as InvokeName[]) {
    if (typeof handlers[name] !== 'function') throw new Error(`No IPC handler for ${invokes[name].channel}`)
    ipcMain.handle(invokes[name].channel, (event, payload) => dispatch(name, handlers, options, event, payload))
  }
}

export interface EventTarget {
  send(channel: string, payload: unknown): void
}

/** Sends a contract event, validated like a response so the renderer never gets an off-contract payload. */
export function emit<K extends EventName>(target: EventTarget, name: K, payload: PayloadOf<K>): void {
  const spec = events[name]
  target.send(spec.channel, spec.payload.parse(payload))
}

export type { RequestOf }

// The appliance's own audit log (GET /sys/v1/logs, vendor GetAllLogs: `LogsParams` ->
// `EsAuditQueryResponse`). Read-only: an app needs the AUDIT permission in the groups whose entries
// it reads (a user, GET_AUDIT_LOGS). `window` reads every entry of a time range, page by page,
// whatever order the appliance returns them in, and never holds an entry twice.
//
// What is kept of an entry is what the document defines, minus `client_provided_context` (text a
// client chose, which this app cannot vouch for): zod drops every other field.
import { z } from 'zod'
import { UUID_RE } from './endpoints'
import { InvalidArgumentError } from './errors'
import type { AuthedCaller } from './session-core'

export const AUDIT_ACTION_TYPES = ['ADMINISTRATIVE', 'AUTH', 'CRYPTOOPERATION', 'RUNPLUGIN', 'CUSTOM', 'OTHER'] as const
export const AUDIT_SEVERITIES = ['INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const
export const AUDIT_ACTOR_TYPES = ['User', 'App', 'Plugin'] as const
export type AuditActionType = (typeof AUDIT_ACTION_TYPES)[number]
export type AuditSeverity = (typeof AUDIT_SEVERITIES)[number]

/** The document's upper limit for `size`. */
export const MAX_LOG_PAGE = 1000
/** How deep `from + size` may go before an Elasticsearch-backed query is refused (its default; unconfirmed for DSM). */
export const DEFAULT_MAX_RESULT_WINDOW = 10_000

const uuid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'expected a UUID').transform((s) => s.toLowerCase())
/** The document's `2017-05-09T07:09:12Z`; fractions of a second and DSM's compact form are read too. */
const auditTime = z.string().regex(/^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z|\d{8}T\d{6}Z)$/, 'expected a UTC time')

export const AuditLogEntrySchema = z.object({
  _id: z.string().min(1).max(200),
  _source: z.object({
    // Enum values the document may gain later are kept as text, not refused.
    action_type: z.string().regex(/^[A-Z_]{1,40}$/),
    actor_type: z.string().max(40),
    message: z.string().max(4096),
    severity: z.string().regex(/^[A-Z_]{1,40}$/),
    time: auditTime,
    acct_id: uuid,
    actor_id: uuid,
    group_ids: z.array(uuid),
    object_id: uuid,
    client_ip: z.string().max(64).nullish(),
    response_time: z.object({ secs: z.number().int().nonnegative(), nanos: z.number().int().nonnegative() }).nullish(),
  }),
})
export type AuditLogEntry = z.infer<typeof AuditLogEntrySchema>
export const AuditQueryResponseSchema = z.object({ hits: z.array(AuditLogEntrySchema) })

/** An entry's time in ms since the epoch. */
export function auditTimeMs(time: string): number {
  const compact = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(time)
  return compact ? Date.UTC(+compact[1]!, +compact[2]! - 1, +compact[3]!, +compact[4]!, +compact[5]!, +compact[6]!) : Date.parse(time)
}

export interface LogsQuery {
  /** Epoch seconds, inclusive. */
  rangeFrom?: number
  rangeTo?: number
  actionTypes?: readonly AuditActionType[]
  actorTypes?: readonly (typeof AUDIT_ACTOR_TYPES)[number][]
  actorId?: string
  objectId?: string
  severities?: readonly AuditSeverity[]
  /** 1..1000 */
  size?: number
  from?: number
  previousId?: string
}

export interface WindowOptions {
  /** Entries per request (default 500: a page stays well under the client's response-size cap). */
  pageSize?: number
  /** The appliance's deepest `from + size` (default 10000). */
  maxResultWindow?: number
  /** Refuse a window holding more (default 200000): AuditLogTooLargeError. */
  maxEntries?: number
}

/** More entries in the window than the caller will hold, or than one second of paging can reach. */
export class AuditLogTooLargeError extends Error {
  readonly code = 'APPLIANCE_LOG_TOO_LARGE'
  constructor(message: string) {
    super(message)
    this.name = 'AuditLogTooLargeError'
  }
}

function epochSeconds(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new InvalidArgumentError(`${what} must be whole seconds since the epoch`)
  return v
}

function oneOf<T extends string>(values: readonly T[] | undefined, allowed: readonly string[], what: string): string | undefined {
  if (values === undefined) return undefined
  if (!Array.isArray(values) || values.length === 0) throw new InvalidArgumentError(`${what} must be a non-empty list`)
  for (const v of values) if (!allowed.includes(v)) throw new InvalidArgumentError(`${what}: ${JSON.stringify(v)} is not one of ${allowed.join(', ')}`)
  return values.join(',') // comma-separated, as the vendor's own client sends lists
}

function uuidParam(v: unknown, what: string): string | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'string' || !UUID_RE.test(v)) throw new InvalidArgumentError(`${what} must be a UUID`)
  return v
}

function queryOf(q: LogsQuery): Record<string, string | number | undefined> {
  const rangeFrom = q.rangeFrom === undefined ? undefined : epochSeconds(q.rangeFrom, 'rangeFrom')
  const rangeTo = q.rangeTo === undefined ? undefined : epochSeconds(q.rangeTo, 'rangeTo')
  if (rangeFrom !== undefined && rangeTo !== undefined && rangeFrom > rangeTo) throw new InvalidArgumentError('rangeFrom is after rangeTo')
  if (q.size !== undefined && !(Number.isInteger(q.size) && q.size >= 1 && q.size <= MAX_LOG_PAGE)) throw new InvalidArgumentError(`size must be 1 to ${MAX_LOG_PAGE}`)
  if (q.from !== undefined && !(Number.isSafeInteger(q.from) && q.from >= 0)) throw new InvalidArgumentError('from must be a non-negative integer')
  return {
    size: q.size, from: q.from, range_from: rangeFrom, range_to: rangeTo,
    action_type: oneOf(q.actionTypes, AUDIT_ACTION_TYPES, 'actionTypes'),
    actor_type: oneOf(q.actorTypes, AUDIT_ACTOR_TYPES, 'actorTypes'),
    actor_id: uuidParam(q.actorId, 'actorId'), object_id: uuidParam(q.objectId, 'objectId'), previous_id: uuidParam(q.previousId, 'previousId'),
    severity: oneOf(q.severities, AUDIT_SEVERITIES, 'severities'),
  }
}

export class LogsApi {
  readonly #s: AuthedCaller
  constructor(session: AuthedCaller) {
    this.#s = session
  }

  /** One page: GET /sys/v1/logs with the query's filters. */
  async query(q: LogsQuery = {}): Promise<AuditLogEntry[]> {
    const r = await this.#s.call({ method: 'GET', path: '/sys/v1/logs', query: queryOf(q), expect: [200], schema: AuditQueryResponseSchema })
    return r.value.hits
  }

  /**
   * Every entry from `rangeFrom` to `rangeTo` (epoch seconds, inclusive), each once. Pages with
   * `from`/`size`; when the next page would pass the appliance's result window, the range is
   * narrowed to what is left (from whichever end the appliance lists first) and paging restarts.
   * Fix `rangeTo` in the past: the queries themselves become entries on some appliances.
   */
  async window(q: Omit<LogsQuery, 'size' | 'from' | 'previousId'> & { rangeFrom: number; rangeTo: number }, opts: WindowOptions = {}): Promise<{ entries: AuditLogEntry[]; pages: number }> {
    const size = opts.pageSize ?? 500
    const maxWindow = opts.maxResultWindow ?? DEFAULT_MAX_RESULT_WINDOW
    const maxEntries = opts.maxEntries ?? 200_000
    if (!(Number.isInteger(size) && size >= 1 && size <= MAX_LOG_PAGE)) throw new InvalidArgumentError(`pageSize must be 1 to ${MAX_LOG_PAGE}`)
    if (!(Number.isInteger(maxWindow) && maxWindow >= size)) throw new InvalidArgumentError('maxResultWindow must hold at least one page')
    queryOf(q) // refuse bad input before the first request
    const seen = new Map<string, AuditLogEntry>()
    let { rangeFrom: lo, rangeTo: hi } = q
    let from = 0
    let pages = 0
    let slice: number[] = [] // the times read since the range was last set, in the appliance's order
    for (;;) {
      if (from + size > maxWindow) {
        // The window is full: continue from the far end of what was read (deduplicating the seam).
        const [first, last] = [slice[0]!, slice.at(-1)!]
        const next = first > last ? { lo, hi: Math.min(...slice) } : first < last ? { lo: Math.max(...slice), hi } : null
        if (!next || (next.lo === lo && next.hi === hi)) throw new AuditLogTooLargeError(`More than ${maxWindow} log entries fall in one second; the appliance cannot page past them`)
        ;({ lo, hi } = next)
        from = 0
        slice = []
      }
      const page = await this.query({ ...q, rangeFrom: lo, rangeTo: hi, size, from })
      pages++
      for (const e of page) {
        seen.set(e._id, e)
        slice.push(Math.floor(auditTimeMs(e._source.time) / 1000))
      }
      if (seen.size > maxEntries) throw new AuditLogTooLargeError(`The log holds more than ${maxEntries} entries for this window`)
      if (page.length < size) return { entries: [...seen.values()], pages }
      from += size
    }
  }
}

/**
 * When another system acts with the ceremony's app (issue 14 part 6, the cluster kinds): the
 * non-FIPS cluster reaches the FIPS appliances with the API keys its group's connections hold, so
 * on a FIPS appliance the cluster's work is logged as the ceremony's app — a transient key, a wrap
 * or unwrap under the CMK — in calls this workstation never made and cannot count (which calls the
 * cluster makes, and how many, is the vendor's business). What the record can say is *when*: each
 * such entry must fall within something the cluster itself logged for the group (a key made, a
 * ciphertext encrypted or decrypted, a connection tested) or for the ceremony's session there. Any
 * other entry of the app — someone using that API key on their own — is judged as usual, and is a
 * finding. Whatever the cluster logged for the group that this ceremony did not do is a finding on
 * the cluster's own log, so an extra use through the group is named once, where it was made.
 *
 * Times are compared on the workstation's clock: each log's time minus that appliance's clock
 * difference at capture. Log times are whole seconds and the difference is read to the second, so
 * each side gets a margin.
 */
import type { LoggedEntry } from './log-corroboration'

/** Seconds either side of a window: a whole-second log time on each side, and a whole-second clock difference each. */
const MARGIN_MS = 4000

export interface ActingLog {
  /** The acting system's log entries (the cluster's). */
  entries: readonly LoggedEntry[]
  /** The ceremony's groups there; 'all' takes every entry. */
  groups: readonly string[] | 'all'
  /** The ceremony's session there (the cluster administrator). */
  actor: string
  /** That system's clock difference at capture (seconds, its clock minus the workstation's), if known. */
  skewSeconds: number | null
}

/**
 * A test for an entry of another appliance (with that appliance's clock difference): does it fall
 * within one of the acting system's logged actions for the ceremony's groups or session?
 */
export function actingWindows(log: ActingLog): (e: LoggedEntry, skewSeconds: number | null) => boolean {
  const inScope = (e: LoggedEntry) => e.action !== 'AUTH' && e.action !== 'OTHER' && (log.groups === 'all' || e.groups.some((g) => log.groups.includes(g)) || e.actor === log.actor)
  const shift = (log.skewSeconds ?? 0) * 1000
  const windows = log.entries.filter(inScope).map((e) => [e.at - shift - MARGIN_MS, e.at - shift + (e.ms ?? 0) + MARGIN_MS] as const)
  return (e, skewSeconds) => {
    const at = e.at - (skewSeconds ?? 0) * 1000
    return windows.some(([from, to]) => at >= from && at <= to)
  }
}

/** Seconds after its opening in which a ceremony's window may still hold the end of an earlier one. */
const OVERLAP_MS = 2 * MARGIN_MS

/**
 * The end of an earlier ceremony this one builds on (a rehearsal runs them back to back): log
 * times are whole seconds, so the first seconds of this window may hold that ceremony's last
 * changes. In those seconds only, an entry on an object the earlier record names (a key, a request,
 * a group), by an actor it names or by this ceremony's own session, is that ceremony's: its own
 * C.0 judged it. Only a record that ended within those seconds of this opening counts, and only
 * entries up to its end: a record weeks old accounts for nothing in this window.
 * `openedAt`: this ceremony's opening on the appliance's clock (ms); `skewMs`: that clock minus the
 * workstation's, by which the records' times (the workstation's) are compared.
 */
export function earlierCeremonies(records: readonly unknown[]): (e: LoggedEntry, self: string, openedAt: number, skewMs: number) => boolean {
  const ended = records.map((r) => {
    const ids = new Set<string>()
    const collect = (v: unknown): void => {
      if (typeof v === 'string') { if (UUID.test(v)) ids.add(v.toLowerCase()) }
      else if (Array.isArray(v)) v.forEach(collect)
      else if (v && typeof v === 'object') Object.values(v).forEach(collect)
    }
    const entries = (r as { entries?: { ts?: string; kind?: string; facts?: { result?: unknown } }[] } | null)?.entries ?? []
    for (const e of entries) if (e.kind === 'step-done') collect(e.facts?.result)
    return { ids, end: Date.parse(entries.at(-1)?.ts ?? '') }
  }).filter((r) => Number.isFinite(r.end))
  return (e, self, openedAt, skewMs) => e.at <= openedAt + OVERLAP_MS && ended.some((r) =>
    r.end + skewMs >= openedAt - OVERLAP_MS && e.at <= r.end + skewMs + MARGIN_MS && r.ids.has(e.object) && (r.ids.has(e.actor) || e.actor === self))
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

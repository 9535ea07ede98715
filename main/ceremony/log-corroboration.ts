/**
 * Corroborating the ceremony record with an appliance's own audit log (issue 14 part 6). Pure:
 * given the entries an appliance logged in the ceremony window, the calls this ceremony made there
 * and its groups, it names every difference as a finding.
 *
 * The matching rule (the vendor's message wording is not public, so it is never read):
 * - Relevant entries are those in the window that change something or use a key — every action
 *   type but AUTH (sign-ins) and OTHER (reads) — in the ceremony's groups, or on an object the
 *   ceremony made, used or opened.
 * - The ceremony's own calls are (actor, object, action type) triples, from its record: each key it
 *   created or deleted (ADMINISTRATIVE, by its app), each approved operation it had executed
 *   (CRYPTOOPERATION, by its app: the wrapped key for an export, the new key for an import), each
 *   approval request it opened (ADMINISTRATIVE, by its app), and each approval the appliance
 *   reported on a request it opened (ADMINISTRATIVE, by that custodian). A successful entry matches
 *   one unmatched call with the same triple; the same call twice needs two entries.
 * - Also the ceremony's: a decision on one of its requests that did not reach approval (denied,
 *   expired), once per user — only a request's reviewers can decide on it; and its own app using its
 *   own keys again (an export repeated after a lost result, each behind its own approved request).
 * - A refused entry (WARNING or worse) by the ceremony's app, or by a user on one of its requests,
 *   is an attempt of the ceremony's that changed nothing. A refused entry by anyone else is a finding:
 *   someone tried.
 * - Every other relevant entry is a finding ("unexplained"), and so is each of the ceremony's calls
 *   with no entry ("missing"), and each decision taken in the app with no entry.
 * - Log times are whole seconds: entries of one second are taken in the order given (the
 *   appliance's own). When like entries (same actor, object and action) share a second and one of
 *   them is extra, which one cannot always be told: the finding lists the others (`sameSecond`).
 * Each finding has a short reference (AL-xxxxxxxx) a witness names in the exception acknowledging it;
 * it names the entry (or the second's group of like entries), so it is the same on every reading.
 */
import { createHash } from 'node:crypto'
import { z } from 'zod'
import type { LogEntry } from '../evidence'
import { ENTRY } from './entry-kinds'

export type CallAction = 'ADMINISTRATIVE' | 'CRYPTOOPERATION'

/** One state-changing call of this ceremony that the appliance's log must show. */
export interface CeremonyCall {
  appliance: string
  /** DSM id of the app or user that made it. */
  actor: string
  /** The key, approval request or group it acted on. */
  object: string
  action: CallAction
  /** In words, for a finding when its entry is missing. */
  what: string
  /**
   * Made once and possibly again, up to this many more times (a key read again after each restart,
   * as the record's reconcile notes count them): that many further like entries are this call's
   * too; one more is a finding.
   */
  repeats?: number
  /**
   * The earliest log time this call's entry may have (ms, the appliance's clock): its step's first
   * intent, less the whole-second margins. An earlier entry on the same object — the end of the
   * ceremony before, the link's "Created group" — is never taken for it.
   */
  notBefore?: number
}

/** An entry of an appliance's log, as the corroboration reads it. */
export interface LoggedEntry {
  id: string
  /** ms since the epoch, by the appliance's clock */
  at: number
  action: string
  actorType: string
  actor: string
  object: string
  groups: string[]
  message: string
  severity: string
  /** How long the appliance took to answer (its `response_time`), if it says. */
  ms?: number
}

export const LogFinding = z.strictObject({
  ref: z.string(),
  appliance: z.string(),
  kind: z.enum(['unexplained', 'refused', 'missing']),
  /** When the appliance logged it (UTC), or null for a missing entry. */
  at: z.string().nullable(),
  actorType: z.string().nullable(),
  actor: z.string(),
  action: z.string(),
  object: z.string(),
  /** The appliance's message, or for a missing entry what the ceremony did. */
  message: z.string(),
  /**
   * Entries like this one (same actor, object and action) logged in the same second and taken as the
   * ceremony's: log times are whole seconds, so which of them is the extra one may not be told.
   */
  sameSecond: z.array(z.string()).optional(),
})
export type LogFinding = z.infer<typeof LogFinding>

/** This ceremony's approval requests on one appliance, from its record. */
export interface RecordedRequest {
  id: string
  /** Approvers the appliance reported when the request was approved, or null if it never was. */
  approvers: string[] | null
  /** Decisions custodians took in the app on it (approvals and denials the appliance answered). */
  decisionsInApp: number
}

export interface CorroborationInput {
  appliance: string
  entries: readonly LoggedEntry[]
  /**
   * The ceremony's groups; 'all' for an appliance whose app the ceremony gave to another system (a
   * FIPS appliance's app in a cluster group's connection): every change the app may read is in scope.
   */
  groups: readonly string[] | 'all'
  /** The ceremony's app on this appliance. */
  app: string
  calls: readonly CeremonyCall[]
  requests: readonly RecordedRequest[]
  /**
   * Another system acting with the ceremony's app on the ceremony's behalf (the cluster using a FIPS
   * appliance with the API key its group holds): true for a successful entry of the app that this
   * other system's own log accounts for. Such an entry is the ceremony's; any other is judged as usual.
   */
  through?: (e: LoggedEntry) => boolean
  /** True for a successful entry the earlier ceremony this one builds on accounts for (log-windows.ts). */
  earlier?: (e: LoggedEntry) => boolean
}

export interface Corroboration {
  relevant: number
  corroborated: number
  findings: LogFinding[]
}

const IGNORED_ACTIONS = new Set(['AUTH', 'OTHER'])

export function findingRef(...parts: string[]): string {
  return `AL-${createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 8)}`
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, 'Z')

export function corroborate(input: CorroborationInput): Corroboration {
  const { appliance, app } = input
  const groups = input.groups === 'all' ? null : new Set(input.groups)
  const requests = new Map(input.requests.map((r) => [r.id, r]))
  const objects = new Set([...input.calls.map((c) => c.object), ...requests.keys()])
  const keys = new Set(input.calls.filter((c) => !requests.has(c.object)).map((c) => c.object))
  const relevant = input.entries
    .filter((e) => !IGNORED_ACTIONS.has(e.action) && (groups === null || e.groups.some((g) => groups.has(g)) || objects.has(e.object)))
    // Stable: entries of one second stay in the order given (the appliance's own).
    .sort((a, b) => a.at - b.at)
  const pending = input.calls.map((c) => ({ call: c, found: false, again: 0 }))
  const decided = new Map<string, Set<string>>()
  const matched: LoggedEntry[] = []
  const extras = new Map<string, number>()
  const findings: LogFinding[] = []
  const fromEntry = (e: LoggedEntry, kind: 'unexplained' | 'refused'): LogFinding => ({
    ref: findingRef(appliance, e.id), appliance, kind, at: iso(e.at), actorType: e.actorType, actor: e.actor, action: e.action, object: e.object, message: e.message,
  })
  let corroborated = 0

  for (const e of relevant) {
    const request = requests.get(e.object)
    if (e.severity !== 'INFO') {
      if (e.actor !== app && !(request && e.actorType === 'User')) findings.push(fromEntry(e, 'refused'))
      continue
    }
    const match = pending.find((p) => !p.found && p.call.actor === e.actor && p.call.object === e.object && p.call.action === e.action && e.at >= (p.call.notBefore ?? -Infinity))
    const again = match ? null : pending.find((p) => p.found && p.again < (p.call.repeats ?? 0) && p.call.actor === e.actor && p.call.object === e.object && p.call.action === e.action)
    if (match || again) {
      if (match) match.found = true
      else again!.again++
      matched.push(e)
      corroborated++
      continue
    }
    if (e.actor === app && input.through?.(e)) continue
    if (input.earlier?.(e)) continue
    if (request && request.approvers === null && e.action === 'ADMINISTRATIVE' && e.actorType === 'User') {
      const users = decided.get(request.id) ?? new Set<string>()
      decided.set(request.id, users)
      if (!users.has(e.actor)) {
        users.add(e.actor)
        continue
      }
    }
    if (e.action === 'CRYPTOOPERATION' && e.actor === app && keys.has(e.object)) continue
    // Its reference names the second's group of like entries, not which of them is the extra one, so
    // the same finding keeps its reference however the appliance orders them on another reading.
    const like = (m: LoggedEntry) => m.severity === 'INFO' && m.actor === e.actor && m.object === e.object && m.action === e.action && Math.floor(m.at / 1000) === Math.floor(e.at / 1000)
    const group = relevant.filter(like).map((m) => m.id).sort().join(' ')
    const k = extras.get(group) ?? 0
    extras.set(group, k + 1)
    const twins = matched.filter(like)
    findings.push({ ...fromEntry(e, 'unexplained'), ref: findingRef(appliance, group, String(k)), ...(twins.length > 0 ? { sameSecond: twins.map((m) => m.message) } : {}) })
  }

  pending.forEach((p, i) => {
    if (p.found) return
    const c = p.call
    findings.push({ ref: findingRef(appliance, 'missing', c.actor, c.object, c.action, String(i)), appliance, kind: 'missing', at: null, actorType: null, actor: c.actor, action: c.action, object: c.object, message: c.what })
  })
  for (const r of input.requests) {
    const logged = decided.get(r.id)?.size ?? 0
    if (r.approvers !== null || r.decisionsInApp <= logged) continue
    findings.push({
      ref: findingRef(appliance, 'missing-decisions', r.id), appliance, kind: 'missing', at: null, actorType: 'User', actor: 'custodians', action: 'ADMINISTRATIVE', object: r.id,
      message: `${r.decisionsInApp} decision(s) on approval request ${r.id} were taken in the app, but the appliance logged ${logged}`,
    })
  }
  return { relevant: relevant.length, corroborated, findings }
}

// ---------------------------------------------------------------------------------------------
// What the record says this ceremony did with approval requests (any kind, any step).

const OpenedRequest = z.object({ requestId: z.string(), nonce: z.string(), appliance: z.string(), method: z.string(), operation: z.string(), bodySha256: z.string(), requester: z.string() })
const Approved = z.object({ requestId: z.string(), status: z.literal('APPROVED'), approvers: z.array(z.string()) })

/**
 * Every approval request this ceremony opened (including those a fresh request replaced), with the
 * approvals the appliance reported and the decisions taken in the app, from the log's entries.
 */
export function recordedRequests(entries: readonly LogEntry[]): { calls: CeremonyCall[]; requests: Map<string, RecordedRequest[]> } {
  const opened = new Map<string, z.infer<typeof OpenedRequest> & { scriptId: string }>()
  const approved = new Map<string, string[]>()
  const inApp = new Map<string, number>()
  for (const e of entries) {
    if (e.kind === ENTRY.stepDone) {
      const result = (e.facts as { result?: unknown }).result
      const o = OpenedRequest.safeParse(result)
      if (o.success) opened.set(o.data.requestId, { ...o.data, scriptId: String(e.facts['scriptId'] ?? e.step) })
      const a = Approved.safeParse(result)
      if (a.success) approved.set(a.data.requestId, a.data.approvers)
    } else if ((e.kind === ENTRY.approval || e.kind === ENTRY.denial) && typeof e.facts['requestId'] === 'string') {
      inApp.set(e.facts['requestId'], (inApp.get(e.facts['requestId']) ?? 0) + 1)
    }
  }
  const calls: CeremonyCall[] = []
  const requests = new Map<string, RecordedRequest[]>()
  for (const r of opened.values()) {
    const approvers = approved.get(r.requestId) ?? null
    calls.push({ appliance: r.appliance, actor: r.requester, object: r.requestId, action: 'ADMINISTRATIVE', what: `${r.scriptId}: opened approval request ${r.requestId} (${r.method} ${r.operation})` })
    for (const user of approvers ?? []) calls.push({ appliance: r.appliance, actor: user, object: r.requestId, action: 'ADMINISTRATIVE', what: `${r.scriptId}: custodian ${user} approved request ${r.requestId}` })
    const list = requests.get(r.appliance) ?? []
    list.push({ id: r.requestId, approvers, decisionsInApp: inApp.get(r.requestId) ?? 0 })
    requests.set(r.appliance, list)
  }
  return { calls, requests }
}

/**
 * The appliances' own audit logs, captured at the close and corroborated with the record (issue 14
 * part 6), as one step any kind can add before its close: `applianceLogsStep({ … })`.
 *
 * For each appliance the ceremony touched, its log for the ceremony window (GET /sys/v1/logs, read
 * with the ceremony's app, which needs the AUDIT permission in its group) is written to the media as
 * a file whose SHA-256 is journaled before its first byte and logged after: the record commits to
 * it, and an auditor can read it without the appliance, which purges entries after 3 months by
 * default. Then every state-changing entry in the ceremony's groups is matched with what the record
 * says the ceremony did (log-corroboration.ts). Each difference is a finding, on the record in the
 * step's result, and the step refuses to finish (APPLIANCE_LOG_FINDINGS) until an exception recorded
 * at this step names each finding's reference: someone else acting during a ceremony is exactly
 * what an auditor must see, and a witness must say what it was.
 *
 * Resume: an earlier attempt's files are adopted (byte for byte as journaled) and judged again, so
 * the findings a witness acknowledges are the ones first captured; if any file is missing the logs
 * are captured afresh under new names.
 */
import { z } from 'zod'
import { AuditLogTooLargeError, ForbiddenError, LogsApi, UserSession, auditTimeMs, type AppSession, type AuditLogEntry } from '../dsm'
import { assertNoSecrets, sha256Hex, type LogEntry } from '../evidence'
import { CeremonyError } from '../errors'
import { readEach } from './each-appliance'
import { ENTRY } from './entry-kinds'
import { actingWindows, earlierCeremonies } from './log-windows'
import { recordsReached } from './record-chain'
import { LogFinding, corroborate, recordedRequests, type CeremonyCall, type LoggedEntry } from './log-corroboration'
import type { Plan } from './plan-envelope'
import { defineStep, item, type Step, type StepContext } from './step'

export type { CeremonyCall } from './log-corroboration'

/** Seconds added at each end of the window: log times and the Date header are read to the second. */
const MARGIN_SECONDS = 2
/** When an appliance's clock difference cannot be read: the largest the preflight accepts. */
const UNKNOWN_SKEW_MARGIN_SECONDS = 300
const MAX_FILE_BYTES = 256 * 1024 * 1024
const FILE_FORMAT = 'dsm-key-ceremony/appliance-log'

export interface ApplianceLogsOptions<P extends Plan> {
  /** The step's id, unique in the kind. */
  id: string
  /** Every appliance (and cluster) the ceremony touched, by plan id. */
  appliances(plan: P): string[]
  /**
   * The ceremony's groups on an appliance (ids), from earlier results; 'all' where the app read with
   * is the one the ceremony gave another system (log-corroboration.ts): all it may read is in scope.
   */
  groups(ctx: StepContext<P>, appliance: string): string[] | 'all'
  /**
   * The kind's own state-changing calls (keys created and deleted, approved operations executed),
   * from earlier results; `app` gives the ceremony's app id on an appliance. Approval requests and
   * decisions are read from the record for every kind.
   */
  calls(ctx: StepContext<P>, app: (appliance: string) => string): CeremonyCall[]
  /** Where the step runs, as the script says it (default: every appliance the ceremony touched). */
  where?: string
  /** The appliance's clock difference (seconds, appliance minus workstation) when the ceremony began, if known. */
  skewAtStart?(ctx: StepContext<P>, appliance: string): number | null
  /** The session the log is read with (default: the ceremony's app; the cluster's is its administrator's). */
  session?(ctx: StepContext<P>, appliance: string): Promise<AppSession | UserSession>
  /** How an appliance is named (default: its label in the plan). */
  label?(ctx: StepContext<P>, appliance: string): string
  /**
   * The system that uses the other appliances with the ceremony's app on its behalf (the cluster,
   * through its group's connections): an entry of the app on another appliance is the ceremony's
   * when it falls within one of this system's logged actions in its groups or by its session
   * (log-windows.ts); any other is judged as usual.
   */
  through?: string
}

const Hit = z.object({ _id: z.string(), _source: z.record(z.string(), z.unknown()) })
const LogFile = z.object({
  format: z.literal(FILE_FORMAT),
  appliance: z.string(),
  app: z.string(),
  clockDifferenceSeconds: z.object({ atCapture: z.number().nullable() }).optional(),
  query: z.object({ range_from: z.number(), range_to: z.number(), pages: z.number() }),
  entries: z.array(Hit),
})

const PerAppliance = z.strictObject({
  file: z.string(), sha256: z.string(), bytes: z.number(),
  /** Entries captured, and of them those that change something in the ceremony's groups. */
  entries: z.number(), relevant: z.number(),
  /** The query's range, epoch seconds by the appliance's clock, both inclusive. */
  rangeFrom: z.number(), rangeTo: z.number(),
})

export const ApplianceLogsResult = z.strictObject({
  capturedAt: z.string(),
  appliances: z.record(z.string(), PerAppliance),
  /** This ceremony's state-changing calls, and how many of them the appliances' logs show. */
  ceremonyCalls: z.number(),
  corroborated: z.number(),
  findings: z.array(LogFinding),
  /** Finding reference -> the log entry (seq) of the exception that acknowledged it. */
  acknowledged: z.record(z.string(), z.number()),
})
export type ApplianceLogsResult = z.infer<typeof ApplianceLogsResult>

type Intent = { capturedAt: string; files: Record<string, string> }

const stamp = (iso: string) => iso.replace(/[-:.]/g, '')

/** An appliance's message, unless it looks like a secret: then only its digest is kept. */
function safeMessage(message: string): string {
  try {
    assertNoSecrets(message)
    return message
  } catch {
    return `[withheld by the ceremony app: it looked like a secret; SHA-256 ${sha256Hex(message)}]`
  }
}

function stored(hit: AuditLogEntry): AuditLogEntry {
  return { _id: hit._id, _source: { ...hit._source, message: safeMessage(hit._source.message) } }
}

function loggedEntry(hit: z.infer<typeof Hit>): LoggedEntry {
  const s = hit._source
  const text = (k: string) => (typeof s[k] === 'string' ? (s[k] as string) : '')
  return {
    id: hit._id, at: auditTimeMs(text('time')), action: text('action_type'), actorType: text('actor_type'), actor: text('actor_id').toLowerCase(),
    object: text('object_id').toLowerCase(), groups: Array.isArray(s['group_ids']) ? (s['group_ids'] as string[]).map((g) => g.toLowerCase()) : [],
    message: text('message'), severity: text('severity'), ...durationOf(s['response_time']),
  }
}

function durationOf(v: unknown): { ms?: number } {
  const t = v as { secs?: unknown; nanos?: unknown } | null | undefined
  return typeof t?.secs === 'number' && typeof t.nanos === 'number' ? { ms: t.secs * 1000 + Math.floor(t.nanos / 1e6) } : {}
}

function labelFor<P extends Plan>(opts: ApplianceLogsOptions<P>, ctx: StepContext<P>, id: string): string {
  return opts.label?.(ctx, id) ?? ctx.label(id)
}

function openedAt(entries: readonly LogEntry[]): number {
  const open = entries.find((e) => e.kind === ENTRY.ceremonyOpen) ?? entries[0]
  if (!open) throw new CeremonyError('JOURNAL_INCOMPLETE', 'The ceremony log has no opening entry')
  return Date.parse(open.ts)
}

async function capture<P extends Plan>(opts: ApplianceLogsOptions<P>, ctx: StepContext<P>, intent: Intent, id: string): Promise<Buffer> {
  const app = await (opts.session?.(ctx, id) ?? ctx.app(id))
  const version = await app.connection.version()
  const now = version.skewMs === undefined ? null : Math.round(version.skewMs / 1000)
  // A difference of a second is the resolution of the Date header (it is floored), not a clock
  // that is off: the margin covers it.
  const settle = (seconds: number) => (Math.abs(seconds) <= 1 ? 0 : seconds)
  const start = settle(opts.skewAtStart?.(ctx, id) ?? now ?? 0)
  const end = settle(now ?? start)
  const margin = MARGIN_SECONDS + (now === null ? UNKNOWN_SKEW_MARGIN_SECONDS : 0)
  const rangeFrom = Math.max(0, Math.floor(openedAt(ctx.recorded()) / 1000) + Math.min(start, end) - margin)
  const rangeTo = Math.ceil(Date.parse(intent.capturedAt) / 1000) + Math.max(start, end) + margin
  let read: { entries: AuditLogEntry[]; pages: number }
  try {
    read = await new LogsApi(app).window({ rangeFrom, rangeTo })
  } catch (err) {
    if (err instanceof ForbiddenError) {
      const fix = app instanceof UserSession ? `Give ${app.username} a role that may read the audit log (it only reads)` : 'Give the app the AUDIT permission in the group (it only reads)'
      throw new CeremonyError('APPLIANCE_LOG_FORBIDDEN', `${labelFor(opts, ctx, id)} does not let this ceremony's ${app instanceof UserSession ? 'administrator' : 'app'} read its audit log (${err.message}). ${fix}, then run the step again.`)
    }
    if (err instanceof AuditLogTooLargeError) throw new CeremonyError(err.code, `${labelFor(opts, ctx, id)}: ${err.message}`)
    throw err
  }
  // Log times are whole seconds: entries of one second keep the appliance's own order, read oldest
  // first (a request created and then deleted by hand in the same second stays in that order). An
  // appliance listing newest first shows it by its first entry being later than its last; a window
  // within one second cannot tell, and is taken as newest first, the vendor UI's order.
  const listed = read.entries.map(stored)
  const at = (e: AuditLogEntry) => auditTimeMs(e._source.time)
  const newestFirst = listed.length < 2 || at(listed[0]!) >= at(listed.at(-1)!)
  const entries = (newestFirst ? [...listed].reverse() : listed).map((e, i) => ({ e, i })).sort((a, b) => at(a.e) - at(b.e) || a.i - b.i).map((x) => x.e)
  const file = {
    format: FILE_FORMAT, version: 1, ceremonyId: ctx.plan.id, planDigest: ctx.planDigest, mode: ctx.plan.mode,
    appliance: id, label: labelFor(opts, ctx, id), app: app.entityId, capturedAt: intent.capturedAt,
    clockDifferenceSeconds: { atStart: opts.skewAtStart?.(ctx, id) ?? null, atCapture: now },
    query: { range_from: rangeFrom, range_to: rangeTo, pages: read.pages },
    order: `by time; entries of one second in the appliance's own order, read oldest first (it listed them ${newestFirst ? 'newest' : 'oldest'} first)`,
    entries,
  }
  return Buffer.from(JSON.stringify(file, null, 1) + '\n', 'utf8')
}

/** Judges the captured files against the record; `acknowledged` from the exceptions at this step. */
function judge<P extends Plan>(opts: ApplianceLogsOptions<P>, ctx: StepContext<P>, intent: Intent, files: Record<string, { name: string; sha256: string; data: Buffer }>): ApplianceLogsResult {
  const parsed = Object.fromEntries(Object.entries(files).map(([id, f]) => {
    const content = LogFile.safeParse(JSON.parse(f.data.toString('utf8')))
    if (!content.success || content.data.appliance !== id) throw new CeremonyError('UNEXPECTED_FILE', `${f.name} is not ${labelFor(opts, ctx, id)}'s log as this step wrote it`)
    return [id, content.data]
  }))
  const recorded = recordedRequests(ctx.recorded())
  const calls = [...recorded.calls, ...opts.calls(ctx, (id) => parsed[id]?.app ?? '')]
  const appliances: ApplianceLogsResult['appliances'] = {}
  const findings: LogFinding[] = []
  let corroborated = 0
  let ceremonyCalls = 0
  const groupsOf = (id: string) => {
    const g = opts.groups(ctx, id)
    return g === 'all' ? g : g.map((x) => x.toLowerCase())
  }
  // The records this ceremony builds on, and those they build on, as the operator provided them:
  // only one that verifies (its hash chain ends in a digest the chain names) may account for anything.
  const buildsOn = (ctx.plan as { buildsOn?: unknown }).buildsOn
  const earlierRecords = Array.isArray(buildsOn) ? recordsReached(ctx.records(), buildsOn.filter((d): d is string => typeof d === 'string')) : []
  const earlier = earlierRecords.length > 0 ? earlierCeremonies(earlierRecords) : null
  const opened = openedAt(ctx.recorded())
  const via = opts.through && parsed[opts.through] ? parsed[opts.through]! : null
  const through = via ? actingWindows({ entries: via.entries.map(loggedEntry), groups: groupsOf(opts.through!), actor: via.app.toLowerCase(), skewSeconds: via.clockDifferenceSeconds?.atCapture ?? null }) : null
  for (const id of Object.keys(files)) {
    const log = parsed[id]!
    const here = calls.filter((c) => c.appliance === id)
    const skew = log.clockDifferenceSeconds?.atCapture ?? null
    const judged = corroborate({
      appliance: id, entries: log.entries.map(loggedEntry), groups: groupsOf(id), app: log.app.toLowerCase(),
      ...(through && id !== opts.through ? { through: (e: LoggedEntry) => through(e, skew) } : {}),
      ...(earlier ? { earlier: (e: LoggedEntry) => earlier(e, log.app.toLowerCase(), opened + (skew ?? 0) * 1000, (skew ?? 0) * 1000) } : {}),
      calls: here.map((c) => ({ ...c, actor: c.actor.toLowerCase(), object: c.object.toLowerCase(), ...(c.notBefore === undefined ? {} : { notBefore: c.notBefore + (skew ?? 0) * 1000 - MARGIN_SECONDS * 1000 }) })), requests: (recorded.requests.get(id) ?? []).map((r) => ({ ...r, id: r.id.toLowerCase() })),
    })
    ceremonyCalls += here.length
    corroborated += judged.corroborated
    findings.push(...judged.findings)
    appliances[id] = { file: files[id]!.name, sha256: files[id]!.sha256, bytes: files[id]!.data.length, entries: log.entries.length, relevant: judged.relevant, rangeFrom: log.query.range_from, rangeTo: log.query.range_to }
  }
  const acknowledged: Record<string, number> = {}
  const exceptions = ctx.exceptionsHere()
  for (const f of findings) {
    const by = exceptions.filter((e) => String(e.facts['note'] ?? '').toUpperCase().includes(f.ref.toUpperCase())).at(-1)
    if (by) acknowledged[f.ref] = by.seq
  }
  return { capturedAt: intent.capturedAt, appliances, ceremonyCalls, corroborated, findings, acknowledged }
}

function describeFinding(f: LogFinding): string {
  const who = f.actorType ? `${f.actorType} ${f.actor}` : f.actor
  if (f.kind === 'missing') return `${f.ref} (${f.appliance}: no entry for ${f.message})`
  const twins = f.sameSecond?.length ? ` (or the same second's ${f.sameSecond.map((m) => `"${m.slice(0, 60)}"`).join(', ')}: log times are whole seconds)` : ''
  return `${f.ref} (${f.appliance} ${f.at}, ${who}: ${f.action} on ${f.object}${f.kind === 'refused' ? ', refused' : ''} — "${f.message.slice(0, 120)}"${twins})`
}

export function applianceLogsStep<P extends Plan>(plan: P, opts: ApplianceLogsOptions<P>): Step<ApplianceLogsResult, Intent, P> {
  const appliances = opts.appliances(plan)
  return defineStep<ApplianceLogsResult, Intent, P>({
    // The plan's appliances among them: the cluster is reached through its sign-in, not as an appliance.
    id: opts.id, name: 'appliance-logs', group: null, appliances: appliances.filter((id) => plan.appliances.some((a) => a.id === id)), interaction: 'run', confirmation: null, result: ApplianceLogsResult,
    text: {
      where: opts.where ?? 'all appliances → media',
      title: 'Capture the appliances\' own audit logs and check them against the record',
      explain: 'Each appliance\'s audit log for the ceremony window is read and written to the media, its SHA-256 recorded (the appliances purge entries after 3 months by default). Every change the appliances logged in the ceremony\'s groups must be one this ceremony made, and each of its own changes must be logged. Anything else — someone else acting during the ceremony — stops the step until a witness records an exception naming it.',
      witnessItems: ['Each appliance\'s log was captured and its digest recorded', 'Every finding was read out and acknowledged by an exception naming it'],
    },
    intent: (ctx) => {
      const capturedAt = ctx.now().toISOString()
      return { capturedAt, files: Object.fromEntries(appliances.map((id) => [id, `${ctx.plan.id}-${id}-appliance-log-${stamp(capturedAt)}.json`])) }
    },
    async look(ctx, earlier) {
      // The files an interrupted (or refused) attempt wrote, exactly as it journaled them.
      const files: Record<string, { name: string; sha256: string; data: Buffer }> = {}
      for (const [id, name] of Object.entries(earlier.files)) {
        const sha256 = ctx.media.journaled(name)
        if (!sha256 || !ctx.media.exists(name)) return null
        files[id] = { name, sha256, data: await ctx.media.read(name, sha256, MAX_FILE_BYTES) }
      }
      ctx.note(`the appliance logs captured at ${earlier.capturedAt} are on the media as journaled; judged again`)
      return judge(opts, ctx, earlier, files)
    },
    async act(ctx, intent) {
      // Read from every appliance at once (reads only), then written to the media one by one, in order.
      const captured = await readEach(appliances, (id) => capture(opts, ctx, intent, id))
      const files: Record<string, { name: string; sha256: string; data: Buffer }> = {}
      for (const [i, id] of appliances.entries()) {
        const written = await ctx.media.write(intent.files[id]!, captured[i]!)
        files[id] = { name: written.name, sha256: written.sha256, data: captured[i]! }
      }
      return judge(opts, ctx, intent, files)
    },
    verify(_ctx, r) {
      const open = r.findings.filter((f) => !(f.ref in r.acknowledged))
      if (open.length === 0) return
      const listed = open.slice(0, 8).map(describeFinding).join('; ')
      throw new CeremonyError('APPLIANCE_LOG_FINDINGS', `${open.length} difference(s) between the appliances' own logs and this ceremony's record: ${listed}${open.length > 8 ? `; and ${open.length - 8} more` : ''}. Find out what happened, record an exception at this step naming each reference (e.g. "${open[0]!.ref}: …"), then run the step again.`)
    },
    evidence: (r, ctx) => ({
      items: [
        ...Object.entries(r.appliances).flatMap(([id, a]) => item(`${labelFor(opts, ctx, id)}: audit log (${a.entries} entries; ${a.relevant} changes in the ceremony's groups) — SHA-256`, a.sha256, 'digest')),
        ...item('This ceremony\'s changes found in the appliances\' logs', `${r.corroborated} of ${r.ceremonyCalls}`),
        ...item('Findings', r.findings.length === 0 ? 'none' : `${r.findings.length}, each acknowledged by an exception`),
        ...r.findings.flatMap((f) => item(`Finding ${f.ref}`, `${describeFinding(f)}; acknowledged at log entry ${r.acknowledged[f.ref] ?? '?'}`)),
      ],
      comparisons: [],
    }),
  })
}

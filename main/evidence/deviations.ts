/**
 * The deviation register (WebTrust key-ceremony criteria; ICANN's "exceptions"): every departure
 * from the script, one line each, derived from the audit log so that nothing the engine saw can be
 * left out of it. A line is raised by an entry of one of the kinds below (an exception someone
 * wrote down, or a failure, denial, retry, interruption, repair or refused hand-off the engine
 * logged), and resolved by a `deviation-resolution` entry: the resolution, who allowed going on,
 * and the initials of every witness in the room. `verifyRecord` derives the register again from the
 * entries and refuses a record whose register differs.
 */
import type { LogEntry } from './entry'

export const DEVIATION_RESOLUTION = 'deviation-resolution'

export type DeviationSource = 'exception' | 'failure' | 'denial' | 'retry' | 'interruption' | 'repair' | 'refusal'

export interface DeviationResolution {
  seq: number
  ts: string
  resolution: string
  allowedBy: string
  initials: { witness: string; initials: string }[]
  simulated: boolean
}

export interface Deviation {
  /** "D-<seq>": the log entry that raised it, so the id never changes and never repeats. */
  id: string
  seq: number
  ts: string
  step: string
  scriptId: string | null
  source: DeviationSource
  what: string
  raisedBy: string
  resolution: DeviationResolution | null
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v))

/** What each raising kind says happened, in words an auditor reads without the code. */
const RAISED_BY: Record<string, (e: LogEntry) => { source: DeviationSource; what: string; by?: string } | null> = {
  exception: (e) => ({ source: 'exception', what: str(e.facts['note']), by: str(e.facts['by']) }),
  // A denial fails its step too; the denial's own line (who, and why) already says it.
  'step-failed': (e) => (e.facts['code'] === 'QUORUM_DENIED' ? null : { source: 'failure', what: `The step failed: ${str(e.facts['code'])}: ${str(e.facts['message'])}` }),
  denial: (e) => ({ source: 'denial', what: `${e.actor} denied the approval request${e.facts['reason'] ? `: ${str(e.facts['reason'])}` : ''}` }),
  'approval-restart': (e) => ({ source: 'retry', what: `A fresh approval request was opened (the previous one${e.facts['previousRequestId'] ? ` ${str(e.facts['previousRequestId'])}` : ''} was given up): ${str(e.facts['reason'])}` }),
  reconcile: (e) => ({ source: 'interruption', what: `After an interruption: ${str(e.facts['finding'])}` }),
  'log-repair': (e) => ({ source: 'repair', what: `The audit log's torn last line (${str(e.facts['removedBytes'])} bytes, SHA-256 ${str(e.facts['removedSha256'])}) was removed after the ${str(e.facts['entriesKept'])} entries before it verified` }),
  'handoff-received': (e) => {
    const refused = (e.facts['refusedBefore'] as { code?: string; message?: string }[] | undefined) ?? []
    if (refused.length === 0) return null
    return { source: 'refusal', what: `Before hand-off ${str(e.facts['n'])} was accepted, the receiving station refused: ${refused.map((r) => `${str(r.code)} (${str(r.message)})`).join('; ')}` }
  },
  'materials-mismatch': (e) => ({ source: 'refusal', what: `${str(e.facts['reference'])}: ${str(e.facts['item'])} ${str(e.facts['field'])}: ${str(e.facts['code'])}: expected ${str(e.facts['expected'])} (${str(e.facts['against'])}), read ${str(e.facts['typed'])}` }),
}

export function raisesDeviation(kind: string): boolean {
  return kind in RAISED_BY
}

/** The register, in the order the deviations were raised, each with its resolution (the first one logged). */
export function deviationsOf(entries: readonly LogEntry[]): Deviation[] {
  const out: Deviation[] = []
  const byId = new Map<string, Deviation>()
  // A denial or a retry carries no script id of its own; its step's intent, logged before it, does.
  const scriptIds = new Map<string, string>()
  for (const [i, e] of entries.entries()) {
    if (typeof e.facts['scriptId'] === 'string') scriptIds.set(e.step, e.facts['scriptId'])
    if (e.kind === DEVIATION_RESOLUTION) {
      const d = byId.get(str(e.facts['deviation']))
      if (d && !d.resolution) d.resolution = resolutionOf(e)
      continue
    }
    // A materials refusal is logged as its mismatches, then the step's failure: the mismatch lines say it.
    const previous = entries[i - 1]
    const restates = e.kind === 'step-failed' && previous?.kind === 'materials-mismatch' && previous.step === e.step
    const raised = restates ? null : RAISED_BY[e.kind]?.(e)
    if (!raised) continue
    const d: Deviation = {
      id: `D-${e.seq}`, seq: e.seq, ts: e.ts, step: e.step, scriptId: scriptIds.get(e.step) ?? null,
      source: raised.source, what: raised.what, raisedBy: raised.by || e.actor, resolution: null,
    }
    out.push(d)
    byId.set(d.id, d)
  }
  return out
}

function resolutionOf(e: LogEntry): DeviationResolution {
  const initials = Array.isArray(e.facts['initials']) ? (e.facts['initials'] as { witness?: unknown; initials?: unknown }[]) : []
  return {
    seq: e.seq, ts: e.ts, resolution: str(e.facts['resolution']), allowedBy: str(e.facts['allowedBy']),
    initials: initials.map((i) => ({ witness: str(i.witness), initials: str(i.initials) })), simulated: e.facts['simulated'] === true,
  }
}

/**
 * What the printed record says, read from the record main returns (its type is the contract's): the
 * approvals as one table, what happened at each step (denials, failures, restarts, exceptions,
 * findings), the attendance, the software and the seal. Pure functions over the log entries, so the
 * page shows exactly what the log — and so `ceremony verify` — holds.
 */
import type { CeremonyRecord, LogEntryView } from '../../../../preload/contract'
import { mismatchEvent } from './materials-model'

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v))

export interface ApprovalRow {
  seq: number
  at: string
  step: string
  scriptId: string
  requestId: string
  custodian: string
  decision: string
  viewDigest: string
  reason: string
}

/** Every decision on an approval request: in the app (named custodian, with the digest of what they read) or in the DSM UI. */
export function approvalRows(record: CeremonyRecord, scriptIds: Map<string, string>): ApprovalRow[] {
  const rows: ApprovalRow[] = []
  for (const e of record.entries) {
    if (e.kind === 'approval' || e.kind === 'denial') {
      rows.push({
        seq: e.seq, at: e.ts, step: e.step, scriptId: scriptIds.get(e.step) ?? e.step, requestId: str(e.facts['requestId']), custodian: e.actor,
        decision: e.kind === 'approval' ? 'approved' : 'denied', viewDigest: str(e.facts['viewDigest']), reason: str(e.facts['reason']),
      })
    }
  }
  return rows
}

export interface StepEvent {
  seq: number
  at: string
  text: string
}

/** What happened at a step besides running it: refusals, denials, restarts, exceptions and what a resume found. */
export function eventsByStep(record: CeremonyRecord): Map<string, StepEvent[]> {
  const events = new Map<string, StepEvent[]>()
  const add = (e: LogEntryView, text: string) => events.set(e.step, [...(events.get(e.step) ?? []), { seq: e.seq, at: e.ts, text }])
  for (const e of record.entries) {
    switch (e.kind) {
      case 'step-failed': add(e, `refused: ${str(e.facts['code'])} — ${str(e.facts['message'])}`); break
      case 'denial': add(e, `denied by ${e.actor}${e.facts['reason'] ? `: ${str(e.facts['reason'])}` : ''}`); break
      case 'approval-restart': add(e, `a fresh approval request was opened (the previous one ${str(e.facts['previousRequestId']) || 'was not opened'}: ${str(e.facts['reason'])})`); break
      case 'exception': add(e, `exception by ${str(e.facts['by'])}: ${str(e.facts['note'])}${e.facts['waivesSignoff'] === true ? ' (allowed going on without every sign-off)' : ''}`); break
      case 'reconcile': add(e, `found on resume: ${str(e.facts['finding'])}`); break
      case 'step-skipped': add(e, `skipped: ${str(e.facts['reason'])}`); break
      case 'log-repair': add(e, `audit log repaired: ${str(e.facts['removedBytes'])} bytes of a torn last line removed`); break
      case 'materials-mismatch': add(e, mismatchEvent(e)); break
      case 'api-key-shown': add(e, `the API key the ceremony made for ${str(e.facts['appliance'])} was shown once to ${str(e.facts['by'])}, at their request (never recorded)`); break
      case 'ceremony-abort': add(e, `the ceremony was stopped by ${str(e.facts['by'])}: ${str(e.facts['reason'])}`); break
      default: break
    }
  }
  return events
}

/** Who signed which step (initials), per step id. */
export function signersByStep(record: CeremonyRecord): Map<string, string[]> {
  const signers = new Map<string, string[]>()
  for (const s of record.signoffs) {
    const who = `${str(s.facts['initials']) || s.actor}${s.facts['simulated'] === true ? '*' : ''}`
    signers.set(s.step, [...(signers.get(s.step) ?? []), who])
  }
  return signers
}

export interface AttendanceRow {
  person: string
  role: string
  arrived: string
  left: string | null
}

export function attendanceRows(record: CeremonyRecord): AttendanceRow[] {
  const rows: AttendanceRow[] = []
  for (const e of record.entries) {
    if (e.kind !== 'attendance') continue
    const person = str(e.facts['person'])
    if (e.facts['event'] === 'arrive') rows.push({ person, role: str(e.facts['role']), arrived: e.ts, left: null })
    else {
      const open = [...rows].reverse().find((r) => r.person === person && r.left === null)
      if (open) open.left = e.ts
    }
  }
  return rows
}

/** The software that ran the ceremony, as the first entry recorded it. */
export function softwareOf(record: CeremonyRecord): { name: string; version: string; buildDigest: string } | null {
  const open = record.entries.find((e) => e.kind === 'ceremony-open')
  const s = open?.facts['software'] as Record<string, unknown> | undefined
  return s ? { name: str(s['name']), version: str(s['version']), buildDigest: str(s['buildDigest']) } : null
}

/** The time of the last entry: when the log was sealed (or, for an open ceremony, its latest entry). */
export function sealedAt(record: CeremonyRecord): string {
  return record.entries.at(-1)?.ts ?? ''
}

/** The aborted ceremony's reason and what it left, if it was stopped. */
export function abortOf(record: CeremonyRecord): { by: string; reason: string; leftBehind: string[] } | null {
  const e = record.entries.find((x) => x.kind === 'ceremony-abort')
  return e ? { by: str(e.facts['by']), reason: str(e.facts['reason']), leftBehind: (e.facts['leftBehind'] as string[] | undefined) ?? [] } : null
}

/** The script's approval: who signed which script digest, and when (before the first step). */
export function scriptApprovalRows(record: CeremonyRecord): { approver: string; initials: string; at: string; scriptDigest: string }[] {
  return record.entries
    .filter((e) => e.kind === 'script-approval')
    .map((e) => ({ approver: str(e.facts['approver']), initials: str(e.facts['initials']), at: e.ts, scriptDigest: str(e.facts['scriptDigest']) }))
}

/** Each break: when it started and ended, and who stayed in the room. */
export function breakRows(record: CeremonyRecord): { start: string; end: string | null; stays: string[] }[] {
  const rows: { start: string; end: string | null; stays: string[] }[] = []
  for (const e of record.entries) {
    if (e.kind !== 'break') continue
    if (e.facts['event'] === 'start') rows.push({ start: e.ts, end: null, stays: (e.facts['stays'] as string[] | undefined) ?? [] })
    else if (rows.at(-1) && rows.at(-1)!.end === null) rows.at(-1)!.end = e.ts
  }
  return rows
}

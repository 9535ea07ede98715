/**
 * The attacker's forgery of a whole record: plan and entries edited, every entry sealed again in
 * turn (each prev the SHA-256 of the line before, each planDigest the edited plan's), and the record
 * rebuilt with buildRecord exactly as the engine seals one. The result verifies on its own (its hash
 * chain, plan digest and summaries are self-consistent); only what other records say can expose it.
 */
import { buildRecord, GENESIS_PREV, planDigestOf, sealEntry, sha256Hex, type CeremonyRecord, type LogEntry } from '../../main/evidence'

export function resealRecord(record: CeremonyRecord, edit: (r: { plan: Record<string, unknown>; entries: LogEntry[] }) => void): CeremonyRecord {
  const plan = structuredClone(record.plan) as Record<string, unknown>
  const entries = structuredClone(record.entries) as LogEntry[]
  edit({ plan, entries })
  const planDigest = planDigestOf(plan)
  let prev = GENESIS_PREV
  const sealed = entries.map((e) => {
    const { hash: _hash, ...rest } = e
    const s = sealEntry({ ...rest, prev, planDigest })
    prev = sha256Hex(s.line)
    return s.entry
  })
  return buildRecord({ plan, planDigest, entries: sealed, mode: record.mode })
}

/** The result of the last step-done entry of `step` in a record's entries (to edit in place). */
export function stepResult(entries: readonly LogEntry[], step: string): Record<string, unknown> {
  const done = entries.filter((e) => e.kind === 'step-done' && e.step === step).at(-1)
  if (!done) throw new Error(`reseal-record: no step-done entry for ${step}`)
  return done.facts['result'] as Record<string, unknown>
}

/**
 * The materials manifest as the record holds it (issue 14 part 4): each appliance's chassis as typed
 * next to what its API reported, the bags opened (and the record that sealed each), where each item
 * went at the close with its new bag, and every mismatch with the exception that let it stand.
 * Pure functions over the log entries, like record-model.ts: the page shows what `ceremony verify`
 * checks. The step ids are the materials steps' (main/ceremony/materials); across sites each station
 * has its own (materials-unseal:site-b), and the view lists them all, station by station.
 */
import type { CeremonyRecord, LogEntryView } from '../../../../preload/contract'

const STEP = { appliances: 'materials-appliances', unseal: 'materials-unseal', storage: 'materials-storage' } as const

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v))
const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {})
const list = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.map(obj) : [])

export interface ApplianceRow { id: string; label: string; serial: string; tamperLabels: string; version: string; serverMode: string; fipsLevel: string; pluginsDigest: string }
export interface OpenedRow { id: string; description: string; bag: string; serial: string; sealedBy: string }
export interface StoredRow { item: string; description: string; serial: string; to: string; kind: string; bag: string }
export interface MismatchRow { seq: number; at: string; scriptId: string; reference: string; text: string; resolvedBy: string | null }
export interface MaterialsView { appliances: ApplianceRow[]; opened: OpenedRow[]; records: string[]; stored: StoredRow[]; mismatches: MismatchRow[] }

/** The last result of the step, or across sites of each station's step (`<step>:<station>`), in the order they ran. */
function resultsOf(record: CeremonyRecord, step: string): Record<string, unknown>[] {
  const last = new Map<string, Record<string, unknown>>()
  for (const e of record.entries) {
    if (e.kind === 'step-done' && (e.step === step || e.step.startsWith(`${step}:`))) last.set(e.step, obj(e.facts['result']))
  }
  return [...last.values()]
}

/** One list field of every result, end to end. */
const all = (results: Record<string, unknown>[], field: string) => results.flatMap((r) => list(r[field]))

function mismatchText(e: LogEntryView): string {
  const f = e.facts
  const given = f['source'] === 'appliance' ? 'the appliance reports' : f['source'] === 'plan' ? 'the plan says' : 'typed'
  return `${str(f['description'])}: ${given} "${str(f['typed'])}", ${str(f['against'])} says "${str(f['expected'])}" (${str(f['code'])})`
}

/** Null when the ceremony had no materials manifest (no materials step ran and nothing differed). */
export function materialsOf(record: CeremonyRecord, scriptIds: Map<string, string>): MaterialsView | null {
  const appliances = resultsOf(record, STEP.appliances)
  const unsealed = resultsOf(record, STEP.unseal)
  const storage = resultsOf(record, STEP.storage)
  const logged = record.entries.filter((e) => e.kind === 'materials-mismatch')
  if (appliances.length + unsealed.length + storage.length === 0 && logged.length === 0) return null
  const exceptions = record.entries.filter((e) => e.kind === 'exception')
  return {
    appliances: all(appliances, 'appliances').map((a) => {
      const r = obj(a['reported'])
      return {
        id: str(a['id']), label: str(a['label']), serial: str(a['serial']), tamperLabels: (Array.isArray(a['tamperLabels']) ? a['tamperLabels'] : []).map(str).join(' '),
        version: str(r['version']), serverMode: str(r['serverMode']), fipsLevel: r['fipsLevel'] === null ? 'none (not FIPS mode)' : str(r['fipsLevel']), pluginsDigest: str(r['pluginsDigest']),
      }
    }),
    opened: all(unsealed, 'items').map((i) => {
      const s = i['sealedBy'] ? obj(i['sealedBy']) : null
      return { id: str(i['id']), description: str(i['description']), bag: str(i['bag']) || 'not in a bag', serial: str(i['serial']), sealedBy: s ? `${str(s['ceremonyId'])}: bag ${str(s['bag'])}, given to ${str(s['to'])}` : 'the plan' }
    }),
    records: all(unsealed, 'records').map((r) => `${str(r['file'])} — ${str(r['ceremonyId'])} (${str(r['mode'])}), final digest ${str(r['finalDigest'])}`),
    stored: all(storage, 'allocation').map((a) => ({ item: str(a['item']), description: str(a['description']), serial: str(a['serial']), to: str(a['toLabel']) || str(a['to']), kind: str(a['kind']), bag: str(a['bag']) })),
    mismatches: logged.map((e) => {
      const reference = str(e.facts['reference'])
      const by = exceptions.filter((x) => x.step === e.step && str(x.facts['note']).toUpperCase().includes(reference.toUpperCase())).at(-1)
      return { seq: e.seq, at: e.ts, scriptId: scriptIds.get(e.step) ?? (str(e.facts['scriptId']) || e.step), reference, text: mismatchText(e), resolvedBy: by ? `${str(by.facts['by'])} (entry ${by.seq}): ${str(by.facts['note'])}` : null }
    }),
  }
}

/** One line for the step's events in the record (record-model.ts eventsByStep). */
export function mismatchEvent(e: LogEntryView): string {
  return `mismatch ${str(e.facts['reference'])}: ${mismatchText(e)}`
}

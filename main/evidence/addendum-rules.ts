// What makes an addendum acceptable, checked when it is sealed and again by `ceremony verify`: one
// set of rules, so a hand-edited addendum that the tool would have refused is refused on reading.
// Each refusal is an AddendumError with a stable code that names what is wrong.
//
// The record's plan is read as plain JSON (witnesses, cameras), not through this version's plan
// schema: an addendum to a record made by an older version still verifies.
import { CeremonyError } from '../errors'
import { spokenTextProblem } from '../ceremony/plan-names'
import type { ActionItem, AddendumVideo, Attestation, UnsealedAddendum } from './addendum-format'

export class AddendumError extends CeremonyError {
  constructor(code: string, message: string) {
    super(code, message)
    this.name = 'AddendumError'
  }
}

const refuse = (code: string, message: string): never => {
  throw new AddendumError(code, message)
}

/**
 * A recording may start before the first log entry (the room is opened, keys entered, people
 * confirmed before the ceremony opens) and stop after the seal (the record printed, read aloud):
 * two hours either side is "around the ceremony". Beyond that it is footage of something else,
 * unless a note says why.
 */
export const AROUND_MS = 2 * 60 * 60 * 1000
/** Recorders show whole seconds; the log keeps milliseconds. A gap shorter than this is no gap. */
export const GAP_TOLERANCE_MS = 1000

/** What the rules need of a sealed record: its id, mode, final digest, window, witnesses and cameras. */
export interface RecordFacts {
  ceremonyId: string
  mode: 'production' | 'rehearsal'
  finalDigest: string
  openedAt: string
  sealedAt: string
  witnesses: Attestation[]
  cameras: { id: string; label: string }[]
}

const asRecord = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {})
const initialsOf = (name: string) => name.split(/\s+/).filter(Boolean).map((w) => w[0]!.toUpperCase()).join('')

/** The record's facts for the rules (the record itself is verified first, by verifyRecord). */
export function recordFacts(record: { plan: unknown; mode: 'production' | 'rehearsal'; finalDigest: string; entries: ReadonlyArray<{ ts: string }> }): RecordFacts {
  const plan = asRecord(record.plan)
  const people = asRecord(plan['participants'])
  const listed = [...(Array.isArray(people['witnesses']) ? people['witnesses'] : []), ...(Array.isArray(asRecord(people['backups'])['witnesses']) ? (asRecord(people['backups'])['witnesses'] as unknown[]) : [])]
  // A plain name signs with its words' first letters; a { name, initials } witness with the initials given (witnessing.ts).
  const witnesses = listed.flatMap((w) => (typeof w === 'string' ? [{ name: w, initials: initialsOf(w) }] : typeof asRecord(w)['name'] === 'string' ? [{ name: String(asRecord(w)['name']), initials: String(asRecord(w)['initials'] ?? '').toUpperCase() }] : []))
  const cameras = (Array.isArray(plan['cameras']) ? plan['cameras'] : []).map(asRecord).filter((c) => typeof c['id'] === 'string').map((c) => ({ id: String(c['id']), label: String(c['label'] ?? c['id']) }))
  return { ceremonyId: String(plan['id'] ?? ''), mode: record.mode, finalDigest: record.finalDigest, openedAt: record.entries[0]?.ts ?? '', sealedAt: record.entries.at(-1)?.ts ?? '', witnesses, cameras }
}

const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?Z$/

/** A UTC time as the recorder shows it, written ISO 8601 with a Z: "2026-12-02T05:21:37Z". */
export function parseUtc(text: string, what: string): number {
  const m = ISO_UTC.exec(text)
  if (!m) return refuse('VIDEO_TIME_INVALID', `${what} "${text}" is not a UTC time written as 2026-12-02T05:21:37Z (read it from the recorder, in UTC, with the Z)`)
  const ms = Date.parse(text)
  // Date.parse rolls 2026-02-30 over to March; a time that does not read back the same was not a real one.
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 19) !== text.slice(0, 19)) return refuse('VIDEO_TIME_INVALID', `${what} "${text}" is not a real date and time`)
  return ms
}

function checkText(value: string, max: number, code: string, what: string): void {
  const problem = value.trim() === '' ? 'is empty' : value.length > max ? `is longer than ${max} characters` : spokenTextProblem(value)
  if (problem) refuse(code, `${what} ${problem}`)
}

/** A file's own name, as the recorder wrote it: no folder, nothing that could leave the folder it is looked for in. */
function checkFileName(name: string, i: number): void {
  if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name) || name.length > 255) refuse('VIDEO_NAME_INVALID', `video ${i + 1}: "${name}" is not a plain file name (no folder, at most 255 characters)`)
  checkText(name, 255, 'VIDEO_NAME_INVALID', `video ${i + 1}'s name`)
}

export function checkWitnesses(attested: readonly Attestation[], preparedBy: string, facts: RecordFacts, required: boolean): void {
  if (required && attested.length === 0) refuse('ADDENDUM_NOT_ATTESTED', 'A witness named in the plan must attest the addendum (name and initials)')
  const seen = new Set<string>()
  for (const a of attested) {
    const named = facts.witnesses.find((w) => w.name === a.name)
    if (!named) refuse('WITNESS_NOT_IN_PLAN', `"${a.name}" is not one of the plan's witnesses (${facts.witnesses.map((w) => w.name).join(', ') || 'none'})`)
    if (a.initials.trim().toUpperCase() !== named!.initials) refuse('WITNESS_INITIALS_MISMATCH', `The initials given for ${a.name} are not the ones the plan records for them`)
    if (seen.has(a.name)) refuse('WITNESS_LISTED_TWICE', `${a.name} attests the addendum twice`)
    seen.add(a.name)
  }
  // Someone checks the preparer's list: the preparer alone attesting it proves nothing.
  if (attested.length > 0 && attested.every((a) => a.name === preparedBy)) refuse('ADDENDUM_SELF_ATTESTED', `${preparedBy} prepared the addendum; another witness must attest it`)
}

export function checkActionItems(items: readonly ActionItem[]): void {
  items.forEach((item, i) => {
    checkText(item.text, 500, 'ACTION_ITEM_INVALID', `action item ${i + 1}: the text`)
    checkText(item.owner, 80, 'ACTION_ITEM_INVALID', `action item ${i + 1}: the owner`)
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(item.due)
    const real = m && new Date(`${item.due}T00:00:00Z`).toISOString().slice(0, 10) === item.due
    if (!real) refuse('ACTION_ITEM_INVALID', `action item ${i + 1}: the due date "${item.due}" is not a date written as 2026-12-31`)
  })
}

/** Each video: a camera of the plan, a plain name listed once, real UTC times in the right order, around the ceremony. */
export function checkVideos(videos: readonly AddendumVideo[], without: ReadonlyArray<{ camera: string; note: string }>, facts: RecordFacts): void {
  const opened = Date.parse(facts.openedAt)
  const sealed = Date.parse(facts.sealedAt)
  const names = new Set<string>()
  const digests = new Set<string>()
  videos.forEach((v, i) => {
    if (!facts.cameras.some((c) => c.id === v.camera)) refuse('CAMERA_NOT_IN_PLAN', `video ${i + 1} (${v.name}): "${v.camera}" is not a camera the plan names (${facts.cameras.map((c) => c.id).join(', ') || 'the plan names none'})`)
    checkFileName(v.name, i)
    if (names.has(v.name)) refuse('VIDEO_LISTED_TWICE', `${v.name} is listed twice`)
    if (digests.has(v.sha256)) refuse('VIDEO_LISTED_TWICE', `${v.name} has the same content (SHA-256) as a file listed before it`)
    names.add(v.name)
    digests.add(v.sha256)
    if (v.bytes === 0) refuse('VIDEO_EMPTY', `${v.name} is empty: a recording holds at least one frame`)
    if (v.note !== undefined) checkText(v.note, 500, 'VIDEO_NOTE_INVALID', `the note on ${v.name}`)
    const start = parseUtc(v.startedAt, `${v.name}: the start`)
    const stop = parseUtc(v.stoppedAt, `${v.name}: the stop`)
    if (stop <= start) refuse('VIDEO_TIMES_REVERSED', `${v.name} stops (${v.stoppedAt}) before it starts (${v.startedAt})`)
    const around = start >= opened - AROUND_MS && stop <= sealed + AROUND_MS && stop > opened && start < sealed
    if (!around && v.note === undefined) {
      refuse('VIDEO_TIME_OUTSIDE_CEREMONY', `${v.name} (${v.startedAt} to ${v.stoppedAt}) does not fall around the ceremony (${facts.openedAt} to ${facts.sealedAt}, give or take two hours). Check the recorder's clock and the time zone (UTC), or add a note saying why`)
    }
  })
  without.forEach((w, i) => {
    if (!facts.cameras.some((c) => c.id === w.camera)) refuse('CAMERA_NOT_IN_PLAN', `camera without video ${i + 1}: "${w.camera}" is not a camera the plan names`)
    if (videos.some((v) => v.camera === w.camera)) refuse('CAMERA_WITHOUT_VIDEO', `${w.camera} is said to have no video, but a file of it is listed`)
    checkText(w.note, 500, 'CAMERA_WITHOUT_VIDEO', `the note on why ${w.camera} has no video`)
  })
  for (const camera of facts.cameras) {
    const own = videos.filter((v) => v.camera === camera.id)
    if (own.length === 0 && !without.some((w) => w.camera === camera.id)) refuse('CAMERA_WITHOUT_VIDEO', `The plan names ${camera.label} (${camera.id}) but no file of it is listed; add its files, or say why there are none`)
    if (own.length === 0 || own.some((v) => v.note !== undefined)) continue
    const gap = firstGap(own, opened, sealed)
    if (gap) refuse('VIDEO_COVERAGE_GAP', `${camera.label} (${camera.id}) did not film ${new Date(gap.from).toISOString()} to ${new Date(gap.to).toISOString()} of the ceremony; list the file that covers it, or add a note on one of its files saying why`)
  }
}

/** The first stretch of [opened, sealed] that none of a camera's recordings covers. */
function firstGap(videos: readonly AddendumVideo[], opened: number, sealed: number): { from: number; to: number } | null {
  let covered = opened
  for (const v of [...videos].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt))) {
    const start = Date.parse(v.startedAt)
    if (start > covered + GAP_TOLERANCE_MS) return { from: covered, to: Math.min(start, sealed) }
    covered = Math.max(covered, Date.parse(v.stoppedAt))
    if (covered >= sealed) return null
  }
  return covered + GAP_TOLERANCE_MS < sealed ? { from: covered, to: sealed } : null
}

/** The fields every addendum shares: it belongs to this record, in this place in the chain, prepared after the seal by a named person. */
export function checkCommon(a: UnsealedAddendum, facts: RecordFacts, previous: string | null, n: number): void {
  if (a.ceremonyId !== facts.ceremonyId || a.extends.recordFinalDigest !== facts.finalDigest) {
    refuse('ADDENDUM_NOT_FOR_THIS_RECORD', `Addendum ${a.n} extends ${a.ceremonyId} with final digest ${a.extends.recordFinalDigest.slice(0, 16)}…; this record is ${facts.ceremonyId} with final digest ${facts.finalDigest.slice(0, 16)}…`)
  }
  if (a.n !== n) refuse('ADDENDUM_OUT_OF_ORDER', `The addendum numbered ${a.n} is in place ${n} of the chain`)
  if (a.extends.previousDigest !== previous) {
    refuse('ADDENDUM_CHAIN_BROKEN', previous === null ? `Addendum ${a.n} names a previous addendum, but it is the first` : `Addendum ${a.n} does not continue from addendum ${n - 1} (its previous digest is ${String(a.extends.previousDigest).slice(0, 16)}…, addendum ${n - 1}'s is ${previous.slice(0, 16)}…)`)
  }
  if (a.mode !== facts.mode || (a.mode === 'rehearsal') !== (a.watermark === 'REHEARSAL')) refuse('ADDENDUM_MODE_MISMATCH', `Addendum ${a.n} says ${a.mode}${a.watermark ? ` (${a.watermark})` : ''}; the record is a ${facts.mode} record`)
  checkText(a.preparedBy, 80, 'ADDENDUM_PREPARER_INVALID', 'who prepared the addendum')
  const at = Date.parse(a.preparedAt)
  if (!ISO_UTC.test(a.preparedAt) || Number.isNaN(at)) refuse('ADDENDUM_TIME_INVALID', `The preparation time "${a.preparedAt}" is not a UTC time`)
  if (at < Date.parse(facts.sealedAt)) refuse('ADDENDUM_TIME_INVALID', `Addendum ${a.n} was prepared at ${a.preparedAt}, before the record was sealed (${facts.sealedAt})`)
}

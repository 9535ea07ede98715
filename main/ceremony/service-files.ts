/**
 * The files the operator names in main's dialogs for the app's ceremony service: a plan checked
 * as it is edited and saved, and the record exported as JSON or PDF. Written atomically where the
 * operator chose; a failure names the file, never the folder it was in (paths stay in main).
 */
import { basename } from 'node:path'
import type { DigestView, PlanSummary } from '../../preload/contract'
import { CeremonyError, errorCode } from '../errors'
import { writeFileAtomic } from '../media'
import type { CeremonyEngine } from './engine'
import { isFileSystemCode } from './error-codes'
import { checkPlan, parsePlanText, planDigest } from './plan'
import { digestView, planSummary } from './views'

/** Writes where the operator chose in main's dialog; a failure names the file, not the folder it was in. */
async function writeChosenFile(path: string, data: string | Buffer): Promise<{ sha256: string; bytes: number }> {
  try {
    return await writeFileAtomic(path, data, { overwrite: true })
  } catch (err) {
    const code = errorCode(err, 'MEDIA_WRITE_FAILED')
    throw new CeremonyError(isFileSystemCode(code) ? 'MEDIA_WRITE_FAILED' : code, `Could not write ${basename(path)}: check that the folder is writable and has space`)
  }
}

/** The plan editor's check: every issue by its path in the plan, or the summary the setup screen shows. */
export function validatePlanText(text: string): { issues: { path: string; message: string }[]; summary: PlanSummary | null } {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    return { issues: [{ path: '(file)', message: `not valid JSON: ${err instanceof Error ? err.message : String(err)}` }], summary: null }
  }
  const checked = checkPlan(json)
  return checked.ok ? { issues: [], summary: planSummary(checked.plan) } : { issues: checked.issues, summary: null }
}

/** Saves a valid plan where the operator chose; the digest is read aloud when it is opened again. */
export async function savePlanText(text: string, choose: (defaultName: string) => Promise<string | null>): Promise<{ cancelled: boolean; digest: DigestView | null }> {
  const plan = parsePlanText(text)
  const path = await choose(`${plan.id}.plan.json`)
  if (!path) return { cancelled: true, digest: null }
  await writeChosenFile(path, JSON.stringify(plan, null, 2) + '\n')
  return { cancelled: false, digest: digestView(planDigest(plan)) }
}

export interface RecordExportDeps {
  saveRecordFile(defaultName: string, format: 'json' | 'pdf'): Promise<string | null>
  /** The record page as PDF (Electron's printToPDF); absent where no Electron renders the page. */
  printRecordPdf?(): Promise<Buffer>
}

/** The record as JSON or PDF where the operator chose: its name, size and SHA-256 to read aloud. */
export async function exportRecordFile(engine: CeremonyEngine | null, format: 'json' | 'pdf', deps: RecordExportDeps): Promise<{ cancelled: boolean; file: { name: string; bytes: number; sha256: DigestView } | null }> {
  if (!engine) throw new CeremonyError('NO_CEREMONY', 'No ceremony has started yet')
  const record = engine.buildRecord()
  const name = `${record.mode === 'rehearsal' ? 'REHEARSAL-' : ''}${engine.plan.id}-record.${format}`
  if (format === 'pdf' && !deps.printRecordPdf) {
    throw new CeremonyError('PDF_UNAVAILABLE', 'PDF export needs the desktop app; in the browser harness, print the record page instead')
  }
  const path = await deps.saveRecordFile(name, format)
  if (!path) return { cancelled: true, file: null }
  const data = format === 'json' ? JSON.stringify(record, null, 2) + '\n' : await deps.printRecordPdf!()
  const written = await writeChosenFile(path, data)
  return { cancelled: false, file: { name: basename(path), bytes: written.bytes, sha256: digestView(written.sha256) } }
}

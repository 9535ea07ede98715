/**
 * The Electronegativity gate (security.md §2, §8 B). Electronegativity 1.10.3 exits 0 whatever it
 * finds and only prints parse errors, so this script decides instead:
 *  - it scans the sources (main, preload, renderer, package.json) and what ships (out/ and
 *    package.json, as app.asar holds them) in one run each, with every check loaded (42);
 *  - the shipped main bundle uses syntax its parser cannot walk (`ClassPrivateProperty`), so the
 *    scan reads a *scan form* of it: the same bundle lowered to ES2020 by esbuild, with esbuild's
 *    `import_electron.X` namespaces written back as bare `X` (the checks match `new BrowserWindow`
 *    by name only). The scan form is never run;
 *  - it reads the SARIF each scan writes, and fails on any parse error, on any HIGH or MEDIUM
 *    finding not in the committed baseline (electronegativity.baseline.json, each entry with a
 *    one-line reason), on a baseline entry that no longer matches anything, and on fewer checks
 *    than 42.
 * Run: `node --import tsx scripts/electronegativity-gate.ts` (after `npm run build`). It prints a
 * `1 passed, 0 failed, 0 skipped` line so scripts/test.sh counts it as one step.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { transform } from 'esbuild'

const ROOT = resolve(__dirname, '..')
export const BASELINE_FILE = join(ROOT, 'electronegativity.baseline.json')
/** 36 atomic + 6 global checks in 1.10.3 (security.md §2). */
export const EXPECTED_CHECKS = 42

export type ScanName = 'sources' | 'shipped' | (string & {})
export type Severity = 'INFORMATIONAL' | 'LOW' | 'MEDIUM' | 'HIGH'

export interface Finding {
  scan: ScanName
  check: string
  file: string
  line: number
  severity: Severity
  confidence: string
  manualReview: boolean
}

export interface BaselineEntry {
  scan: ScanName
  check: string
  file: string
  reason: string
}

export interface ScanResult {
  scan: ScanName
  checksLoaded: number
  findings: Finding[]
  parseErrors: string[]
}

// The parts of Electronegativity's programmatic API this gate uses (the package has no types).
interface EngIssue { id: string; file: string; location: { line: number }; severity: { name: Severity }; confidence: { name: string }; manualReview: boolean }
interface EngRun { globalChecks: number; atomicChecks: number; errors: { file: string; message: string }[]; issues: EngIssue[] }
type EngRunner = (options: Record<string, unknown>) => Promise<EngRun>
interface Sarif { runs: { results: { ruleId: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region?: { startLine?: number } } }[] }[] }[] }

/** The scan form of a built bundle: parseable by Electronegativity, with Electron names as written in source. */
export async function scanForm(bundle: string): Promise<string> {
  const lowered = await transform(bundle, { target: 'es2020', format: 'cjs', platform: 'node', logLevel: 'silent' })
  return lowered.code.replace(/\bimport_electron\d*\.(?!default\b)(?=[A-Za-z_$])/g, '')
}

/** A folder holding what a scan reads, so test files and fixtures never get in. */
export async function stageSources(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'eng-sources-'))
  for (const part of ['main', 'preload', 'renderer', 'package.json']) cpSync(join(ROOT, part), join(dir, part), { recursive: true })
  return dir
}

export async function stageShipped(): Promise<string> {
  const out = join(ROOT, 'out')
  for (const bundle of ['main/index.js', 'preload/index.js', 'renderer/index.html']) {
    if (!existsSync(join(out, bundle))) throw new Error(`out/${bundle} is missing: run \`npm run build\` first`)
  }
  const dir = mkdtempSync(join(tmpdir(), 'eng-shipped-'))
  cpSync(out, dir, { recursive: true, filter: (src) => !src.endsWith('.map') })
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'))
  for (const bundle of ['main/index.js', 'preload/index.js']) {
    writeFileSync(join(dir, bundle), await scanForm(readFileSync(join(out, bundle), 'utf8')))
  }
  if (!readFileSync(join(dir, 'main/index.js'), 'utf8').includes('new BrowserWindow(')) {
    // Without it every webPreferences check would silently find nothing in the shipped bundle.
    throw new Error('the scan form of out/main/index.js has no `new BrowserWindow(`: the webPreferences checks would be skipped')
  }
  return dir
}

function electronVersion(): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }
  return pkg.devDependencies['electron']!
}

/**
 * Scans one folder and reads back its SARIF. `exclude` takes Electronegativity's class names in lower
 * case (tests leave out the network-bound AvailableSecurityFixesGlobalCheck to stay fast).
 */
export async function scan(scanName: ScanName, input: string, sarifPath: string, exclude: string[] = []): Promise<ScanResult> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const run = require('@doyensec/electronegativity') as EngRunner
  mkdirSync(resolve(sarifPath, '..'), { recursive: true })
  rmSync(sarifPath, { force: true })
  const r = await run({ input, output: sarifPath, isSarif: true, isRelative: true, electronVersionOverride: electronVersion(), excludeFromScan: exclude })
  const sarif = await readSarif(sarifPath)
  const results = sarif.runs[0]?.results ?? []
  // The SARIF is the record; the API's issues (same order) add the severity SARIF has no field for.
  if (results.length !== r.issues.length || results.some((x, i) => x.ruleId !== r.issues[i]!.id)) {
    throw new Error(`${scanName}: the SARIF (${results.length} results) does not match the scan (${r.issues.length} issues)`)
  }
  const findings = results.map((x, i): Finding => {
    const issue = r.issues[i]!
    const where = x.locations[0]?.physicalLocation
    return {
      scan: scanName,
      check: x.ruleId,
      file: where?.artifactLocation.uri === 'file:///' ? 'N/A' : (where?.artifactLocation.uri ?? 'N/A'),
      line: where?.region?.startLine ?? 0,
      severity: issue.severity.name,
      confidence: issue.confidence.name,
      manualReview: issue.manualReview,
    }
  })
  return { scan: scanName, checksLoaded: r.globalChecks + r.atomicChecks, findings, parseErrors: r.errors.map((e) => `${e.file}: ${e.message}`) }
}

/** The tool writes the SARIF with a fire-and-forget fs.writeFile after run() resolves: wait for it. */
async function readSarif(path: string): Promise<Sarif> {
  for (let waited = 0; ; waited += 50) {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as Sarif
    } catch (err) {
      if (waited >= 10_000) throw new Error(`no complete SARIF at ${path}: ${err instanceof Error ? err.message : err}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Reads and checks the baseline: known keys only, and a one-line reason on every entry. */
export function parseBaseline(text: string): BaselineEntry[] {
  const parsed = JSON.parse(text) as { findings?: unknown }
  if (!Array.isArray(parsed.findings)) throw new Error('baseline: expected {"findings": [...]}')
  return parsed.findings.map((raw, i) => {
    const e = raw as Record<string, unknown>
    const keys = Object.keys(e).sort().join(',')
    if (keys !== 'check,file,reason,scan') throw new Error(`baseline entry ${i}: keys must be scan, check, file, reason (got ${keys})`)
    for (const k of ['scan', 'check', 'file', 'reason']) {
      if (typeof e[k] !== 'string' || !(e[k] as string).trim()) throw new Error(`baseline entry ${i}: "${k}" must be a non-empty string`)
    }
    if (/[\r\n]/.test(e['reason'] as string)) throw new Error(`baseline entry ${i}: the reason must be one line`)
    return e as unknown as BaselineEntry
  })
}

export interface Verdict {
  ok: boolean
  problems: string[]
  baselined: Finding[]
  /** LOW and INFORMATIONAL findings: reported, not gating. */
  notes: Finding[]
}

const gates = (f: Finding) => f.severity === 'HIGH' || f.severity === 'MEDIUM'
const matches = (e: BaselineEntry, f: Finding) => e.scan === f.scan && e.check === f.check && e.file === f.file

export function evaluate(scans: ScanResult[], baseline: BaselineEntry[], expectedChecks = EXPECTED_CHECKS): Verdict {
  const problems: string[] = []
  const baselined: Finding[] = []
  const notes: Finding[] = []
  for (const s of scans) {
    if (s.checksLoaded !== expectedChecks) problems.push(`${s.scan}: ${s.checksLoaded} checks loaded, expected ${expectedChecks}`)
    for (const e of s.parseErrors) problems.push(`${s.scan}: parse error, file not checked: ${e}`)
    for (const f of s.findings) {
      if (!gates(f)) notes.push(f)
      else if (baseline.some((e) => matches(e, f))) baselined.push(f)
      else problems.push(`${s.scan}: ${f.severity} ${f.check} at ${f.file}:${f.line} is not in the baseline`)
    }
  }
  const scanned = new Set(scans.map((s) => s.scan))
  for (const e of baseline) {
    if (scanned.has(e.scan) && !scans.some((s) => s.findings.some((f) => gates(f) && matches(e, f)))) {
      problems.push(`baseline entry ${e.scan} ${e.check} ${e.file} matches no finding: remove it`)
    }
  }
  return { ok: problems.length === 0, problems, baselined, notes }
}

async function main(): Promise<void> {
  const started = Date.now()
  const sarifDir = join(ROOT, 'test-results/electronegativity')
  const staged = await Promise.all([stageSources(), stageShipped()])
  let verdict: Verdict
  try {
    const scans = await Promise.all([
      scan('sources', staged[0], join(sarifDir, 'sources.sarif')),
      scan('shipped', staged[1], join(sarifDir, 'shipped.sarif')),
    ])
    verdict = evaluate(scans, parseBaseline(readFileSync(BASELINE_FILE, 'utf8')))
    for (const s of scans) console.log(`electronegativity ${s.scan}: ${s.checksLoaded} checks, ${s.findings.length} findings, ${s.parseErrors.length} parse errors`)
  } finally {
    for (const dir of staged) rmSync(dir, { recursive: true, force: true })
  }
  for (const f of verdict.baselined) console.log(`  baselined ${f.severity} ${f.check} ${f.scan}:${f.file}:${f.line}`)
  for (const f of verdict.notes) console.log(`  note      ${f.severity} ${f.check} ${f.scan}:${f.file}:${f.line}`)
  for (const p of verdict.problems) console.log(`  FAIL      ${p}`)
  console.log(`electronegativity gate ${verdict.ok ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s (SARIF in test-results/electronegativity/)`)
  console.log(verdict.ok ? '1 passed, 0 failed, 0 skipped' : '0 passed, 1 failed, 0 skipped')
  process.exitCode = verdict.ok ? 0 : 1
}

if (require.main === module) {
  void main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err)
    console.log('0 passed, 1 failed, 0 skipped')
    process.exitCode = 1
  })
}

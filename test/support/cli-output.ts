/**
 * The canary scan for command-line runs (security.md §4.5: stdout and stderr are artifacts too).
 * Every test that runs a CLI can pass its output through `assertCliOutputClean`, or run it with
 * `runCeremony`, which does so: no known canary value (API keys, their decoded secrets, custodian
 * passwords) and no secret *shape* (a PEM private key, a Bearer token, a Basic credential, a base64
 * API key that decodes to uuid:secret, a long base64 run such as wrapped-key bytes) may appear.
 * Failures name the shape or the canary's first characters, never the whole value.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync, type SpawnOptions, type SpawnSyncOptionsWithStringEncoding, type SpawnSyncReturns } from 'node:child_process'
import { join } from 'node:path'

export const CEREMONY_BIN = join(__dirname, '../../bin/ceremony.cjs')

const UUID_COLON = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:\S+$/i

/** The names of secret shapes found in `text` (never the values). */
export function secretShapesIn(text: string): string[] {
  const found: string[] = []
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) found.push('a PEM private key')
  if (/\bBearer\s+[A-Za-z0-9._~+/=-]{16,}/i.test(text)) found.push('a Bearer token')
  for (const m of text.matchAll(/\bBasic\s+([A-Za-z0-9+/]{8,}={0,2})/gi)) {
    if (Buffer.from(m[1]!, 'base64').toString('latin1').includes(':')) found.push('a Basic credential')
  }
  for (const m of text.matchAll(/[A-Za-z0-9+/]{52,}={0,2}/g)) {
    if (UUID_COLON.test(Buffer.from(m[0], 'base64').toString('latin1'))) found.push('an API key (base64 of uuid:secret)')
    else if (m[0].length >= 172 && /[^0-9a-fA-F]/.test(m[0])) found.push('key bytes (a long base64 run)')
  }
  return [...new Set(found)]
}

/** The forms a credential can leak in: as given, and for an API key its decoded uuid:secret and secret. */
export function canaryForms(values: readonly string[]): string[] {
  const forms = new Set<string>()
  for (const v of values) {
    if (v.length < 6) throw new Error('cli-output: a canary must be at least 6 characters to be meaningful')
    forms.add(v)
    const decoded = Buffer.from(v, 'base64').toString('latin1')
    if (UUID_COLON.test(decoded)) {
      forms.add(decoded)
      forms.add(decoded.slice(decoded.indexOf(':') + 1))
    }
  }
  return [...forms]
}

export function assertCliOutputClean(label: string, run: { stdout?: string | Buffer | null; stderr?: string | Buffer | null }, canaries: readonly string[] = []): void {
  for (const stream of ['stdout', 'stderr'] as const) {
    const text = String(run[stream] ?? '')
    assert.deepEqual(secretShapesIn(text), [], `${label}: ${stream} holds a secret`)
    for (const c of canaryForms(canaries)) assert.ok(!text.includes(c), `${label}: ${stream} holds the canary ${c.slice(0, 4)}…`)
  }
}

/** `ceremony <args>` in a child process, with its stdout and stderr canary-scanned before returning. */
export function runCeremony(args: string[], options: Partial<SpawnSyncOptionsWithStringEncoding> & { canaries?: readonly string[] } = {}): SpawnSyncReturns<string> {
  const { canaries = [], ...spawnOptions } = options
  const r = spawnSync(process.execPath, [CEREMONY_BIN, ...args], { encoding: 'utf8', ...spawnOptions })
  assertCliOutputClean(`ceremony ${args[0] ?? ''}`, r, canaries)
  return r
}

/**
 * The same, without blocking this process: for runs against a simulator that lives in the test
 * process (spawnSync would stop it from answering).
 */
export async function runCeremonyAsync(args: string[], options: SpawnOptions & { canaries?: readonly string[]; timeoutMs?: number; input?: string } = {}): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const { canaries = [], timeoutMs = 120_000, input, ...spawnOptions } = options
  // `input` is what someone types at the terminal (then the terminal closes); without it stdin is empty.
  const child = spawn(process.execPath, [CEREMONY_BIN, ...args], { ...spawnOptions, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] })
  if (input !== undefined) child.stdin!.end(input)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (c: Buffer) => { stdout += c.toString() })
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const [status, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (code, sig) => resolve([code, sig])))
  clearTimeout(timer)
  const r = { status, signal, stdout, stderr }
  assertCliOutputClean(`ceremony ${args[0] ?? ''}`, r, canaries)
  return r
}

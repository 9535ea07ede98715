// `ceremony simulate`: starts simulated DSM FIPS appliances on 127.0.0.1, prints exactly one JSON
// line on stdout when they are ready (endpoints, SPKI pins, API keys, custodian credentials), and
// serves until SIGTERM or SIGINT. The credentials are throwaway values made at start; they are
// printed because a rehearsal operator has to type them in, and they exist nowhere else.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import path from 'node:path'
import { startSimulator } from '../simulator'
import type { FaultKind, FaultOptions, FaultPhase, FaultRule, SimulatorOptions } from '../simulator'

export const USAGE = `usage: ceremony simulate --appliances N [options]

  --appliances N        number of simulated FIPS appliances (1-64)
  --write-config DIR    also write the ready JSON to DIR/appliances.json (mode 0600)
  --no-cmk              do not create the Cluster Master Key on the first appliance
  --cmk-name NAME       name of that key (default cluster-master-key)
  --quorum N            approvals needed (default 2)
  --custodians M        custodian users per appliance (default 3)
  --session-ttl S       session expires_in, seconds (default 600)
  --approval-ttl S      approval request lifetime, seconds (default 30 days)
  --fault SPEC          repeatable:
                          latency=MS        delay every response
                          5xx=RATE          503 with probability RATE (0..1)
                          429=RATE          429 with probability RATE
                          reset=RATE        connection reset with probability RATE
                          stall=RATE        never answer, with probability RATE
                          token-ttl=S       short sessions (same as --session-ttl)
                          seed=N            seed for the random faults
                          once:METHOD:PATH:KIND[:PHASE[:APPLIANCE]]
                                            one fault on the next matching request;
                                            KIND reset|stall|500|502|503|429|expire-session|latency@MS,
                                            PHASE before-apply (default) | after-apply
`

class UsageError extends Error {}

interface TargetedFault { rule: FaultRule; appliance?: string }

interface Parsed {
  options: SimulatorOptions
  writeConfig?: string
  targeted: TargetedFault[]
}

function num(flag: string, v: string | undefined, opts: { int?: boolean; min?: number; max?: number } = {}): number {
  if (v === undefined || v === '' || v.startsWith('--')) throw new UsageError(`${flag} needs a value`)
  const n = Number(v)
  if (!Number.isFinite(n) || (opts.int && !Number.isInteger(n))) throw new UsageError(`${flag}: ${JSON.stringify(v)} is not a${opts.int ? 'n integer' : ' number'}`)
  if (opts.min !== undefined && n < opts.min) throw new UsageError(`${flag}: must be at least ${opts.min}`)
  if (opts.max !== undefined && n > opts.max) throw new UsageError(`${flag}: must be at most ${opts.max}`)
  return n
}

const KINDS: FaultKind[] = ['reset', 'stall', '500', '502', '503', '429', 'expire-session', 'latency']

function parseFault(spec: string, faults: FaultOptions, parsed: Parsed): void {
  if (spec.startsWith('once:')) {
    const [, method, p, kindSpec, phase, appliance] = spec.split(':')
    if (!method || !p || !kindSpec) throw new UsageError(`--fault ${spec}: expected once:METHOD:PATH:KIND[:PHASE[:APPLIANCE]]`)
    if (!p.startsWith('/')) throw new UsageError(`--fault ${spec}: PATH must start with /`)
    const [kind, ms] = kindSpec.split('@')
    if (!KINDS.includes(kind as FaultKind)) throw new UsageError(`--fault ${spec}: KIND must be one of ${KINDS.join(', ')}`)
    if (phase && phase !== 'before-apply' && phase !== 'after-apply') throw new UsageError(`--fault ${spec}: PHASE must be before-apply or after-apply`)
    const rule: FaultRule = {
      method: method.toUpperCase(),
      path: p,
      kind: kind as FaultKind,
      times: 1,
      ...(phase ? { after: phase as FaultPhase } : {}),
      ...(ms !== undefined ? { ms: num('--fault latency@MS', ms, { min: 0 }) } : {}),
    }
    parsed.targeted.push({ rule, ...(appliance ? { appliance } : {}) })
    return
  }
  const m = /^([a-z0-9-]+)=(.*)$/.exec(spec)
  if (!m) throw new UsageError(`--fault ${JSON.stringify(spec)}: expected NAME=VALUE or once:…`)
  const [, name, value] = m
  const rate = () => num(`--fault ${name}`, value, { min: 0, max: 1 })
  switch (name) {
    case 'latency': faults.latencyMs = num('--fault latency', value, { min: 0 }); break
    case '5xx': faults.errorRate = rate(); break
    case '429': faults.rateLimitRate = rate(); break
    case 'reset': faults.resetRate = rate(); break
    case 'stall': faults.stallRate = rate(); break
    case 'seed': faults.seed = num('--fault seed', value, { int: true, min: 0 }); break
    case 'token-ttl': parsed.options.sessionTtlSeconds = num('--fault token-ttl', value, { int: true, min: 1 }); break
    default: throw new UsageError(`--fault ${spec}: unknown fault ${JSON.stringify(name)}`)
  }
}

export function parseArgs(argv: string[]): Parsed {
  const faults: FaultOptions = {}
  const parsed: Parsed = { options: { appliances: 0 }, targeted: [] }
  let appliances: number | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined]
    const value = (): string => {
      if (inline !== undefined) return inline
      const v = argv[++i]
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`)
      return v
    }
    switch (flag) {
      case '--appliances': appliances = num(flag, value(), { int: true, min: 1, max: 64 }); break
      case '--write-config': parsed.writeConfig = value(); break
      case '--no-cmk': parsed.options.createCmk = false; break
      case '--cmk-name': parsed.options.cmkName = value(); break
      case '--quorum': parsed.options.quorum = num(flag, value(), { int: true, min: 1 }); break
      case '--custodians': parsed.options.custodians = num(flag, value(), { int: true, min: 1, max: 20 }); break
      case '--session-ttl': parsed.options.sessionTtlSeconds = num(flag, value(), { int: true, min: 1 }); break
      case '--approval-ttl': parsed.options.approvalTtlSeconds = num(flag, value(), { int: true, min: 1 }); break
      case '--fault': parseFault(value(), faults, parsed); break
      case '-h':
      case '--help': throw new UsageError('')
      default: throw new UsageError(`unknown argument ${JSON.stringify(arg)}`)
    }
  }
  if (appliances === undefined) throw new UsageError('--appliances N is required')
  parsed.options.appliances = appliances
  if ((parsed.options.quorum ?? 2) > (parsed.options.custodians ?? 3)) throw new UsageError('--quorum cannot exceed --custodians')
  if (Object.keys(faults).length > 0) parsed.options.faults = faults
  return parsed
}

/** Same directory, temp name, 0600 from creation, fsync, rename: readers see all or nothing. */
export function writeFileAtomic(file: string, content: string): void {
  const dir = path.dirname(file)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`)
  const fd = openSync(tmp, 'w', 0o600)
  try {
    writeSync(fd, content)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    renameSync(tmp, file)
  } catch (e) {
    rmSync(tmp, { force: true })
    throw e
  }
  try {
    const dfd = openSync(dir, 'r')
    try { fsyncSync(dfd) } finally { closeSync(dfd) }
  } catch { /* directory fsync is not possible everywhere (Windows) */ }
}

export async function run(argv: string[]): Promise<number> {
  let parsed: Parsed
  try {
    parsed = parseArgs(argv)
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(e.message ? `ceremony simulate: ${e.message}\n\n${USAGE}` : USAGE)
      return 2
    }
    throw e
  }
  const ids = parsed.options.ids ?? Array.from({ length: parsed.options.appliances }, (_, i) => `fips-${i + 1}`)
  for (const t of parsed.targeted) {
    if (t.appliance && !ids.includes(t.appliance)) {
      process.stderr.write(`ceremony simulate: --fault names appliance ${JSON.stringify(t.appliance)}, which does not exist (${ids.join(', ')})\n`)
      return 2
    }
  }

  const sim = await startSimulator(parsed.options)
  for (const t of parsed.targeted) {
    for (const a of sim.appliances) if (!t.appliance || t.appliance === a.id) a.faults.add(t.rule)
  }
  const line = sim.readyLine()
  if (parsed.writeConfig) {
    try {
      writeFileAtomic(path.join(parsed.writeConfig, 'appliances.json'), `${line}\n`)
    } catch (e) {
      await sim.close()
      process.stderr.write(`ceremony simulate: cannot write ${path.join(parsed.writeConfig, 'appliances.json')}: ${(e as Error).message}\n`)
      return 1
    }
  }
  process.stdout.write(`${line}\n`)

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop)
      process.off('SIGINT', stop)
      resolve()
    }
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
  })
  await sim.close()
  return 0
}

// `ceremony simulate`: starts simulated DSM FIPS appliances on 127.0.0.1 (or, with --role, a
// non-FIPS DSM cluster or a TCP load balancer: simulate-roles.ts), prints exactly one JSON line on
// stdout when they are ready (endpoints, SPKI pins, certificates, API keys, custodian
// credentials), and serves until SIGTERM or SIGINT. The credentials are throwaway values made at
// start; they are printed because a rehearsal operator has to type them in, and they exist
// nowhere else. Each appliance can run in its own process (--appliances 1 --id fips-2), so a test
// can kill one.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import path from 'node:path'
import { startSimulator } from '../simulator'
import type { FaultKind, FaultOptions, FaultPhase, FaultRule, SimulatorOptions } from '../simulator'

export class UsageError extends Error {}

export const USAGE = `usage: ceremony simulate [--role fips] --appliances N [options]
       ceremony simulate --role cluster [options]
       ceremony simulate --role load-balancer --backends HOST:PORT,HOST:PORT [--port N]

  --role R              fips (default): FIPS appliances; cluster: a non-FIPS DSM cluster for
                        FIPS-backed groups; load-balancer: a TCP pass-through balancer
  --appliances N        number of simulated FIPS appliances (1-64)
  --id ID[,ID…]         appliance ids, one per appliance (default fips-1, fips-2, …)
  --port P[,P…]         fixed ports, one per appliance (default: random)
  --write-config DIR    also write the ready JSON to DIR/appliances.json (mode 0600)
  --config-name FILE    the file name in DIR (default appliances.json), so that appliances
                        in separate processes can share DIR
  --no-cmk              do not create the Cluster Master Key on the first appliance
  --no-fips             report no fips_level: a non-FIPS appliance (to name as a FIPS one in tests)
  --fresh               a replacement before its onboarding: a system administrator and the
                        custodians' user accounts only (no group, no app, no key); the ready
                        line gives the administrator instead of an API key
  --custodian-users E,E…  with --fresh and one appliance: the custodians' e-mails (the same
                        people as on the failed appliance)
  --credential-approval reading an app's credential needs its quorum group's approval
                        (vendor choice appCredentialApproval=quorum-group)
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
  SIGUSR2               takes this process's appliances down (port closed, state kept) and,
                        sent again, brings them back: a rehearsal's failover drill

  --role cluster:
  --port P              fixed port (default: random)
  --write-config DIR    also write the ready JSON to DIR/cluster.json (mode 0600)
  --id ID               cluster id (default cluster)
  --fips-connect-timeout MS   a FIPS appliance that does not connect in MS is skipped (default 3000)
  --fips-response-timeout MS  … or does not answer a request in MS (default 15000)
  --cmk-name NAME       CMK name when a group names none (default cluster-master-key)
  --vendor NAME=VALUE   repeatable: hmgSecretsEchoed=true|false,
                        cmkNameLocation=group-wrapping_key_name|none, virtualKeyWrapMode=KWP|KW,
                        kcvCase=lower|upper

  --role load-balancer:
  --backends LIST       HOST:PORT,HOST:PORT… (TCP pass-through, no TLS termination)
  --port P              listening port (default: random)
  --connect-timeout MS  a backend that does not accept in MS is skipped (default 1000)
  --write-config DIR    also write the ready JSON to DIR/load-balancer.json (mode 0600)
`

interface TargetedFault { rule: FaultRule; appliance?: string }

interface Parsed {
  options: SimulatorOptions
  writeConfig?: string
  configName: string
  targeted: TargetedFault[]
}

export function num(flag: string, v: string | undefined, opts: { int?: boolean; min?: number; max?: number } = {}): number {
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
  const parsed: Parsed = { options: { appliances: 0 }, configName: 'appliances.json', targeted: [] }
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
      case '--config-name': parsed.configName = configName(value()); break
      case '--id': parsed.options.ids = listOf(flag, value()).map(checkId); break
      case '--port': parsed.options.ports = listOf(flag, value()).map((p) => num(flag, p, { int: true, min: 1, max: 65535 })); break
      case '--no-cmk': parsed.options.createCmk = false; break
      case '--no-fips': parsed.options.fipsMode = false; break
      case '--fresh': parsed.options.fresh = true; break
      case '--credential-approval': parsed.options.vendor = { ...parsed.options.vendor, appCredentialApproval: 'quorum-group' }; break
      case '--custodian-users': parsed.options.custodianUsers = listOf(flag, value()); break
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
  for (const [flag, list] of [['--id', parsed.options.ids], ['--port', parsed.options.ports]] as const) {
    if (list && list.length !== appliances) throw new UsageError(`${flag} must name ${appliances} value${appliances === 1 ? '' : 's'} (one per appliance), got ${list.length}`)
  }
  if (parsed.options.ids && new Set(parsed.options.ids).size !== parsed.options.ids.length) throw new UsageError('--id names an appliance twice')
  if ((parsed.options.quorum ?? 2) > (parsed.options.custodians ?? 3)) throw new UsageError('--quorum cannot exceed --custodians')
  if (parsed.options.custodianUsers && (!parsed.options.fresh || appliances !== 1)) throw new UsageError('--custodian-users needs --fresh and --appliances 1')
  if (Object.keys(faults).length > 0) parsed.options.faults = faults
  return parsed
}

function listOf(flag: string, v: string): string[] {
  const items = v.split(',').map((x) => x.trim())
  if (items.some((x) => x === '')) throw new UsageError(`${flag}: empty entry in ${JSON.stringify(v)}`)
  return items
}

function checkId(id: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,39}$/i.test(id)) throw new UsageError(`--id ${JSON.stringify(id)}: use letters, digits and '-' (at most 40)`)
  return id
}

export function configName(v: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(v) || v.includes('..')) throw new UsageError(`--config-name ${JSON.stringify(v)}: a plain file name (letters, digits, '.', '_', '-')`)
  return v
}

/** Waits for SIGTERM or SIGINT. */
export function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop)
      process.off('SIGINT', stop)
      resolve()
    }
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
  })
}

/** Writes the ready line to DIR/NAME (0600, atomic); false (with the reason on stderr) when it cannot. */
export function writeConfig(dir: string, name: string, line: string): boolean {
  const file = path.join(dir, name)
  try {
    writeFileAtomic(file, `${line}\n`)
    return true
  } catch (e) {
    process.stderr.write(`ceremony simulate: cannot write ${file}: ${(e as Error).message}\n`)
    return false
  }
}

/** The value of --role, wherever it stands (default fips). */
function roleOf(argv: string[]): string {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '--role') return argv[i + 1] ?? ''
    if (a.startsWith('--role=')) return a.slice('--role='.length)
  }
  return 'fips'
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
  const role = roleOf(argv)
  if (role === 'cluster' || role === 'load-balancer') {
    // Loaded only when asked for, like the commands in index.ts.
    const roles = require('./simulate-roles') as typeof import('./simulate-roles')
    return role === 'cluster' ? roles.runCluster(argv) : roles.runLoadBalancer(argv)
  }
  if (role !== 'fips') {
    process.stderr.write(`ceremony simulate: --role must be fips, cluster or load-balancer, got ${JSON.stringify(role)}\n\n${USAGE}`)
    return 2
  }
  let parsed: Parsed
  try {
    parsed = parseArgs(argv.filter((a, i) => !(a === '--role' || a.startsWith('--role=') || argv[i - 1] === '--role')))
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
  // Each appliance names this process, so a rehearsal's failover drill can take it down (SIGUSR2 below).
  const ready = JSON.parse(sim.readyLine()) as { appliances: Record<string, unknown>[] }
  const line = JSON.stringify({ appliances: ready.appliances.map((a) => ({ ...a, pid: process.pid })) })
  if (parsed.writeConfig && !writeConfig(parsed.writeConfig, parsed.configName, line)) {
    await sim.close()
    return 1
  }
  process.stdout.write(`${line}\n`)
  // SIGUSR2 toggles every appliance of this process down (port closed, state kept) and up again:
  // how a rehearsal's failover drill takes an appliance in its own process down and brings it back.
  const toggle = () => void Promise.all(sim.appliances.map((a) => (a.isUp ? a.down() : a.up()))).catch(() => undefined)
  process.on('SIGUSR2', toggle)
  // While its appliances are down nothing else keeps this process alive: a timer does, until SIGTERM.
  const alive = setInterval(() => undefined, 1 << 30)
  await untilSignal()
  clearInterval(alive)
  process.off('SIGUSR2', toggle)
  await sim.close()
  return 0
}

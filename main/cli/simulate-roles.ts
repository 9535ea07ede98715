// `ceremony simulate --role cluster` (a non-FIPS DSM cluster whose groups link FIPS appliances)
// and `ceremony simulate --role load-balancer` (a TCP pass-through balancer in front of FIPS
// appliances). Same conventions as the FIPS role (simulate.ts): one JSON ready line on stdout,
// the same line in DIR/<name>.json (0600) with --write-config, serve until SIGTERM or SIGINT,
// exit 2 with the usage on a bad argument.
import { startClusterSimulator, startLoadBalancer, type ClusterOptions, type VendorChoices } from '../simulator'
import { configName, num, untilSignal, USAGE, UsageError, writeConfig } from './simulate'

type Flags = Map<string, string[]>

/** --flag value / --flag=value pairs; `bare` flags take no value. Unknown flags are refused. */
function flags(argv: string[], known: string[], bare: string[] = []): Flags {
  const out: Flags = new Map()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1
    const flag = eq > 0 ? arg.slice(0, eq) : arg
    if (flag === '-h' || flag === '--help') throw new UsageError('')
    if (!known.includes(flag) && !bare.includes(flag)) throw new UsageError(`unknown argument ${JSON.stringify(arg)}`)
    let value = ''
    if (!bare.includes(flag)) {
      const v = eq > 0 ? arg.slice(eq + 1) : argv[++i]
      if (v === undefined || v === '' || v.startsWith('--')) throw new UsageError(`${flag} needs a value`)
      value = v
    }
    out.set(flag, [...(out.get(flag) ?? []), value])
  }
  return out
}

function one(f: Flags, flag: string): string | undefined {
  const v = f.get(flag)
  if (v && v.length > 1) throw new UsageError(`${flag} given more than once`)
  return v?.[0]
}

function vendorChoice(spec: string, vendor: VendorChoices): void {
  const [name, value] = spec.split('=', 2)
  const pick = <T extends string>(allowed: readonly T[]): T => {
    if (!allowed.includes(value as T)) throw new UsageError(`--vendor ${name}: expected ${allowed.join(' or ')}`)
    return value as T
  }
  switch (name) {
    case 'hmgSecretsEchoed': vendor.hmgSecretsEchoed = pick(['true', 'false'] as const) === 'true'; break
    case 'cmkNameLocation': vendor.cmkNameLocation = pick(['group-wrapping_key_name', 'none'] as const); break
    case 'virtualKeyWrapMode': vendor.virtualKeyWrapMode = pick(['KWP', 'KW'] as const); break
    case 'kcvCase': vendor.kcvCase = pick(['lower', 'upper'] as const); break
    default: throw new UsageError(`--vendor ${JSON.stringify(spec)}: unknown choice (hmgSecretsEchoed, cmkNameLocation, virtualKeyWrapMode, kcvCase)`)
  }
}

function usage(e: unknown): number {
  if (!(e instanceof UsageError)) throw e
  process.stderr.write(e.message ? `ceremony simulate: ${e.message}\n\n${USAGE}` : USAGE)
  return 2
}

async function serve(server: { readyLine(): string; close(): Promise<void> }, dir: string | undefined, name: string): Promise<number> {
  const line = server.readyLine()
  if (dir !== undefined && !writeConfig(dir, name, line)) {
    await server.close()
    return 1
  }
  process.stdout.write(`${line}\n`)
  await untilSignal()
  await server.close()
  return 0
}

export async function runCluster(argv: string[]): Promise<number> {
  let opts: ClusterOptions
  let dir: string | undefined
  let name: string
  try {
    const f = flags(argv, ['--role', '--port', '--write-config', '--config-name', '--id', '--fips-connect-timeout', '--fips-response-timeout', '--cmk-name', '--session-ttl', '--vendor'])
    const vendor: VendorChoices = {}
    for (const v of f.get('--vendor') ?? []) vendorChoice(v, vendor)
    const port = one(f, '--port')
    const id = one(f, '--id')
    const connect = one(f, '--fips-connect-timeout')
    const response = one(f, '--fips-response-timeout')
    const cmk = one(f, '--cmk-name')
    const ttl = one(f, '--session-ttl')
    if (id !== undefined && !/^[a-z0-9][a-z0-9-]{0,39}$/i.test(id)) throw new UsageError(`--id ${JSON.stringify(id)}: use letters, digits and '-'`)
    opts = {
      vendor,
      ...(port !== undefined ? { port: num('--port', port, { int: true, min: 1, max: 65535 }) } : {}),
      ...(id !== undefined ? { id } : {}),
      ...(connect !== undefined ? { fipsConnectTimeoutMs: num('--fips-connect-timeout', connect, { int: true, min: 1 }) } : {}),
      ...(response !== undefined ? { fipsResponseTimeoutMs: num('--fips-response-timeout', response, { int: true, min: 1 }) } : {}),
      ...(cmk !== undefined ? { defaultCmkName: cmk } : {}),
      ...(ttl !== undefined ? { sessionTtlSeconds: num('--session-ttl', ttl, { int: true, min: 1 }) } : {}),
    }
    dir = one(f, '--write-config')
    name = configName(one(f, '--config-name') ?? 'cluster.json')
  } catch (e) {
    return usage(e)
  }
  return serve(await startClusterSimulator(opts), dir, name)
}

export async function runLoadBalancer(argv: string[]): Promise<number> {
  let backends: { host: string; port: number }[]
  let port: number | undefined
  let timeout: number | undefined
  let dir: string | undefined
  let name: string
  try {
    const f = flags(argv, ['--role', '--backends', '--port', '--connect-timeout', '--write-config', '--config-name'])
    const list = one(f, '--backends')
    if (list === undefined) throw new UsageError('--backends HOST:PORT,HOST:PORT is required')
    backends = list.split(',').map((b) => {
      const m = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(b.trim())
      if (!m?.[1] || !m[2]) throw new UsageError(`--backends: ${JSON.stringify(b)} is not HOST:PORT`)
      return { host: m[1].replace(/^\[|\]$/g, ''), port: num('--backends port', m[2], { int: true, min: 1, max: 65535 }) }
    })
    const p = one(f, '--port')
    const t = one(f, '--connect-timeout')
    port = p === undefined ? undefined : num('--port', p, { int: true, min: 1, max: 65535 })
    timeout = t === undefined ? undefined : num('--connect-timeout', t, { int: true, min: 1 })
    dir = one(f, '--write-config')
    name = configName(one(f, '--config-name') ?? 'load-balancer.json')
  } catch (e) {
    return usage(e)
  }
  const lb = await startLoadBalancer({ backends, ...(port !== undefined ? { port } : {}), ...(timeout !== undefined ? { connectTimeoutMs: timeout } : {}) })
  return serve(lb, dir, name)
}

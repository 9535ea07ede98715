// `ceremony simulate` roles as an operator (or a test) runs them: the cluster's ready line and
// DIR/cluster.json (0600) with the sign-ins it prints, FIPS appliances in separate processes
// sharing one DIR (--id, --config-name, --port), and bad arguments refused with exit 2.
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import { SimClient } from './support/sim-client'
import { certPemOf } from './support/sim-cmk'
import { spawnSimulator, stopAllSimulators } from './support/sim-processes'

const dirs: string[] = []
after(async () => {
  await stopAllSimulators()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'sim-roles-'))
  dirs.push(d)
  return d
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => resolve(p))
    })
  })
}

describe('ceremony simulate --role cluster', () => {
  it('prints the cluster (no FIPS level), writes DIR/cluster.json 0600, and its users sign in', async () => {
    const dir = tempDir()
    const p = await spawnSimulator(['--role', 'cluster', '--write-config', dir, '--fips-connect-timeout', '500', '--vendor', 'hmgSecretsEchoed=false'])
    const { cluster } = p.ready
    for (const k of ['id', 'url', 'host', 'port', 'spkiSha256', 'certDer', 'accountId', 'users']) assert.ok(k in cluster, k)
    assert.deepEqual(cluster.users.map((u: { role: string }) => u.role), ['account-admin', 'group-admin'])
    const file = path.join(dir, 'cluster.json')
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), p.ready)
    const c = new SimClient({ url: cluster.url, spkiSha256: cluster.spkiSha256, certPem: certPemOf(cluster.certDer) })
    assert.equal((await c.request('GET', '/sys/v1/version')).body.fips_level, undefined)
    for (const u of cluster.users) {
      const s = await c.userSession(u.user, u.password, cluster.accountId)
      assert.equal((await c.request('GET', '/sys/v1/groups', { auth: s })).status, 200)
    }
    assert.equal(await p.stop(), 0)
  })
})

describe('FIPS appliances in separate processes', () => {
  it('--id, --port and --config-name: two processes share one DIR without overwriting each other', async () => {
    const dir = tempDir()
    const port = await freePort()
    const [one, two] = await Promise.all([
      spawnSimulator(['--appliances', '1', '--id', 'fips-1', '--write-config', dir, '--config-name', 'fips-1.json', '--port', String(port)]),
      spawnSimulator(['--appliances', '1', '--id', 'fips-2', '--no-cmk', '--write-config', dir, '--config-name', 'fips-2.json']),
    ])
    assert.equal(one.ready.appliances[0].id, 'fips-1')
    assert.equal(one.ready.appliances[0].port, port)
    assert.equal(one.ready.appliances[0].cmkName, 'cluster-master-key')
    assert.equal(two.ready.appliances[0].id, 'fips-2')
    assert.equal(two.ready.appliances[0].cmkName, undefined)
    assert.deepEqual(readdirSync(dir).sort(), ['fips-1.json', 'fips-2.json'])
    assert.deepEqual(JSON.parse(readFileSync(path.join(dir, 'fips-2.json'), 'utf8')), two.ready)
    await one.kill()
    assert.equal(one.child.signalCode, 'SIGKILL')
    assert.equal(await two.stop(), 0)
  })
})

describe('bad arguments', () => {
  const cases: [string[], RegExp][] = [
    [['--role', 'bogus'], /--role must be fips, cluster or load-balancer/],
    [['--appliances', '2', '--id', 'fips-1'], /--id must name 2 values/],
    [['--appliances', '2', '--id', 'a,a'], /names an appliance twice/],
    [['--appliances', '1', '--id', 'bad id'], /use letters, digits/],
    [['--appliances', '1', '--config-name', '../x.json'], /a plain file name/],
    [['--appliances', '1', '--port', '70000'], /at most 65535/],
    [['--role', 'cluster', '--vendor', 'cmkNameLocation=hmg'], /expected group-wrapping_key_name or none/],
    [['--role', 'cluster', '--vendor', 'nope=1'], /unknown choice/],
    [['--role', 'cluster', '--appliances', '1'], /unknown argument "--appliances"/],
    [['--role', 'cluster', '--fips-connect-timeout', '0'], /at least 1/],
    [['--role', 'load-balancer'], /--backends HOST:PORT,HOST:PORT is required/],
    [['--role', 'load-balancer', '--backends', '127.0.0.1'], /is not HOST:PORT/],
    [['--role', 'load-balancer', '--backends', '127.0.0.1:1', '--port'], /--port needs a value/],
  ]
  it('each is refused with exit 2 and a message that names it (in-process)', async () => {
    const { run } = await import('../main/cli/simulate')
    const write = process.stderr.write.bind(process.stderr)
    for (const [args, msg] of cases) {
      let err = ''
      process.stderr.write = ((chunk: string | Uint8Array) => { err += String(chunk); return true }) as typeof process.stderr.write
      let code: number
      try {
        code = await run(args)
      } finally {
        process.stderr.write = write
      }
      assert.equal(code, 2, args.join(' '))
      assert.match(err, msg, args.join(' '))
    }
  })
})

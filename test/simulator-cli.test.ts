// `ceremony simulate` as an operator runs it: one JSON line when ready, a reachable appliance per
// entry, --write-config written atomically with mode 0600, a clean exit on SIGTERM, exit 2 on
// bad arguments.
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import { SimClient } from './support/sim-client'
import { assertCliOutputClean } from './support/cli-output'

const ROOT = path.resolve(__dirname, '..')
const BIN = path.join(ROOT, 'bin', 'ceremony.cjs')
const children: ChildProcess[] = []
const dirs: string[] = []

after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function start(args: string[]): { child: ChildProcess; line: Promise<string>; exit: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, [BIN, 'simulate', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let out = ''
  let err = ''
  child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
  const line = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      const i = out.indexOf('\n')
      if (i >= 0) resolve(out.slice(0, i))
    })
    child.on('exit', (code) => reject(new Error(`exited ${code} before ready: ${err}`)))
  })
  const rest = () => err + (out.includes('\n') ? out.slice(out.indexOf('\n') + 1) : '')
  // The ready line carries the simulated credentials by design; everything else is canary-scanned.
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code))).then((code) => {
    assertCliOutputClean('ceremony simulate', { stderr: rest() })
    return code
  })
  return { child, line, exit, stderr: rest }
}

describe('ceremony simulate', () => {
  it('prints exactly one ready line, serves, writes the config, and exits 0 on SIGTERM', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sim-cli-'))
    dirs.push(dir)
    const cfgDir = path.join(dir, 'nested')
    const run = start(['--appliances', '2', '--write-config', cfgDir])
    const line = await run.line
    const ready = JSON.parse(line)
    assert.equal(ready.appliances.length, 2)
    const [x, y] = ready.appliances
    for (const a of ready.appliances) {
      for (const k of ['id', 'url', 'spkiSha256', 'apiKey', 'groupId', 'groupName', 'custodians', 'quorum']) assert.ok(k in a, k)
      assert.match(a.url, /^https:\/\/127\.0\.0\.1:\d+$/)
      assert.match(a.spkiSha256, /^[0-9a-f]{64}$/)
      assert.equal(a.custodians.length, 3)
      assert.ok(a.custodians.every((u: { user: string; password: string }) => u.user.includes('@') && u.password.length >= 16))
      assert.equal(a.quorum, 2)
    }
    assert.deepEqual([x.id, y.id], ['fips-1', 'fips-2'])
    assert.equal(x.cmkName, 'cluster-master-key')

    // reachable, and pinned: the ready line's SPKI is the served certificate's (certificate
    // trust is skipped here because the line carries only the pin, as a client would use it)
    const { request } = await import('node:https')
    const { createHash, X509Certificate } = await import('node:crypto')
    const served = await new Promise<string>((resolve, reject) => {
      const req = request(`${x.url as string}/sys/v1/version`, { rejectUnauthorized: false, agent: false }, (res) => {
        const cert = (res.socket as import('node:tls').TLSSocket).getPeerCertificate()
        res.resume()
        resolve(createHash('sha256').update(new X509Certificate(cert.raw).publicKey.export({ type: 'spki', format: 'der' })).digest('hex'))
      })
      req.on('error', reject)
      req.end()
    })
    assert.equal(served, x.spkiSha256)

    const cfgFile = path.join(cfgDir, 'appliances.json')
    assert.equal(readFileSync(cfgFile, 'utf8'), `${line}\n`)
    assert.equal(statSync(cfgFile).mode & 0o777, 0o600)
    assert.deepEqual(readdirSync(cfgDir), ['appliances.json'], 'no temp file left behind')

    run.child.kill('SIGTERM')
    assert.equal(await run.exit, 0)
    assert.equal(run.stderr(), '', 'nothing else on stdout or stderr')
  })

  it('accepts --fault specs, applies them, and the app credentials work', async () => {
    const run = start(['--appliances=1', '--fault', 'once:GET:/sys/v1/version:503', '--fault', 'seed=3', '--no-cmk'])
    const ready = JSON.parse(await run.line)
    const a = ready.appliances[0]
    assert.equal(a.cmkName, undefined)
    // SimClient needs the certificate; fetch it from the server for this check only.
    const { connect } = await import('node:tls')
    const u = new URL(a.url)
    const certPem = await new Promise<string>((resolve, reject) => {
      const s = connect({ host: u.hostname, port: Number(u.port), rejectUnauthorized: false }, () => {
        const der = s.getPeerCertificate().raw
        s.end()
        resolve(`-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`)
      })
      s.on('error', reject)
    })
    const c = new SimClient({ url: a.url, spkiSha256: a.spkiSha256, certPem })
    assert.equal((await c.request('GET', '/sys/v1/version')).status, 503)
    assert.equal((await c.request('GET', '/sys/v1/version')).status, 200)
    const auth = await c.appSession(a.apiKey)
    const g = await c.request('GET', `/sys/v1/groups/${a.groupId as string}`, { auth })
    assert.equal(g.body.name, a.groupName)
    run.child.kill('SIGINT')
    assert.equal(await run.exit, 0)
  })

  for (const [args, msg] of [
    [[], /--appliances N is required/],
    [['--appliances', '1', '--bogus'], /unknown argument "--bogus"/],
  ] as const) {
    it(`bad arguments (${args.join(' ') || 'none'}): exit 2 with a clear message, nothing on stdout`, () => {
      const r = spawnSync(process.execPath, [BIN, 'simulate', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 15_000 })
      assertCliOutputClean('ceremony simulate', r)
      assert.equal(r.status, 2, r.stderr)
      assert.match(r.stderr, msg)
      assert.equal(r.stdout, '')
    })
  }

  it('every other bad argument is refused by the same path (in-process: exit 2, message on stderr)', async () => {
    const { run } = await import('../main/cli/simulate')
    const cases: [string[], RegExp][] = [
      [['--appliances', 'x'], /not an integer/],
      [['--appliances', '0'], /at least 1/],
      [['--appliances', '65'], /at most 64/],
      [['--appliances', '1', '--fault', 'reset=2'], /at most 1/],
      [['--appliances', '1', '--fault', 'nope=1'], /unknown fault "nope"/],
      [['--appliances', '1', '--fault', 'once:GET:/x:explode'], /KIND must be one of/],
      [['--appliances', '1', '--fault', 'once:GET:x:503'], /PATH must start with \//],
      [['--appliances', '1', '--fault', 'once:GET:/x:503:sometime'], /PHASE must be/],
      [['--appliances', '1', '--quorum', '4'], /cannot exceed/],
      [['--appliances', '1', '--session-ttl', '1.5'], /not an integer/],
      [['--appliances', '1', '--write-config'], /--write-config needs a value/],
      [['--appliances', '2', '--fault', 'once:GET:/x:503:before-apply:fips-9'], /fips-9/],
    ]
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


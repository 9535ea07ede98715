// Load-balancer mode (guide §4.0): one hmg config whose `url` is a TCP pass-through balancer in
// front of two FIPS appliances and whose `credentials` hold both appliances' API keys. The
// balancer (`ceremony simulate --role load-balancer`) and the appliances run in their own
// processes; with one backend killed, the balancer skips it and the group keeps working.
import assert from 'node:assert/strict'
import { connect, createServer } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { startClusterSimulator, startLoadBalancer, type RunningCluster } from '../main/simulator'
import { SimClient } from './support/sim-client'
import { replicateCmk, type ApplianceEntry } from './support/sim-cmk'
import { spawnFipsAppliance, spawnSimulator, stopAllSimulators, type SimProcess } from './support/sim-processes'

type Fips = { process: SimProcess; appliance: ApplianceEntry & { host: string; port: number } }
let fips: Fips[]
let lb: SimProcess
let cluster: RunningCluster
let c: SimClient
let admin: string

const lbConfig = (credentials: string[]) => ({
  kind: 'FortanixFipsCluster',
  url: lb.ready.loadBalancer.address,
  tls: { mode: 'required', validate_hostname: true, ca: { pinned: fips.map((f) => f.appliance.certDer) } },
  credentials,
})

before(async () => {
  fips = await Promise.all([spawnFipsAppliance('fips-a'), spawnFipsAppliance('fips-b', { cmk: false })])
  await replicateCmk(fips[0]!.appliance, fips[1]!.appliance)
  lb = await spawnSimulator(['--role', 'load-balancer', '--backends', fips.map((f) => `${f.appliance.host}:${f.appliance.port}`).join(','), '--connect-timeout', '500'])
  cluster = await startClusterSimulator({ fipsConnectTimeoutMs: 2000, fipsResponseTimeoutMs: 5000 })
  c = new SimClient(cluster)
  const u = cluster.users[0]!
  admin = await c.userSession(u.user, u.password, cluster.accountId)
})
after(async () => {
  await cluster?.close()
  await stopAllSimulators()
})

describe('a FIPS-backed group behind a load balancer', () => {
  let groupId: string
  let kid: string

  it('the balancer prints where it listens and its backends', () => {
    assert.match(lb.ready.loadBalancer.address, /^127\.0\.0\.1:\d+$/)
    assert.deepEqual(lb.ready.loadBalancer.backends, fips.map((f) => `${f.appliance.host}:${f.appliance.port}`))
  })

  it('hmg/check accepts the balancer with every appliance\'s API key in credentials', async () => {
    const r = await c.request('POST', '/sys/v1/groups/hmg/check', { auth: admin, body: lbConfig(fips.map((f) => f.appliance.apiKey)) })
    assert.equal(r.status, 204, r.text)
  })

  it('a credential no appliance accepts is named by its position', async () => {
    const wrong = Buffer.from(`${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}:nope`).toString('base64')
    const r = await c.request('POST', '/sys/v1/groups/hmg/check', { auth: admin, body: lbConfig([fips[0]!.appliance.apiKey, wrong]) })
    assert.equal(r.status, 400)
    assert.match(r.body, /refused the API key: 401 for any of the 2 credentials \(checking credentials\[1\]\)/)
  })

  it('keys made and used through the balancer; with one backend dead the balancer skips it', async () => {
    const g = await c.request('POST', '/sys/v1/groups', { auth: admin, body: { name: 'FIPS GROUP (LB)', add_hmg: [lbConfig(fips.map((f) => f.appliance.apiKey))] } })
    assert.equal(g.status, 200, g.text)
    groupId = g.body.group_id
    assert.equal(g.body.hmg_redundancy, undefined)
    const k = await c.request('POST', '/crypto/v1/keys', { auth: admin, body: { name: 'lb-key', obj_type: 'AES', key_size: 256, group_id: groupId } })
    assert.equal(k.status, 201, k.text)
    kid = k.body.kid
    const roundTrips = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const plain = Buffer.from(`message ${i}`).toString('base64')
        const e = await c.request('POST', '/crypto/v1/encrypt', { auth: admin, body: { key: { kid }, alg: 'AES', mode: 'GCM', plain } })
        assert.equal(e.status, 200, e.text)
        const d = await c.request('POST', '/crypto/v1/decrypt', { auth: admin, body: { key: { kid }, alg: 'AES', mode: 'GCM', cipher: e.body.cipher, iv: e.body.iv, tag: e.body.tag } })
        assert.equal(d.status, 200, d.text)
        assert.equal(d.body.plain, plain)
      }
    }
    await roundTrips(4)
    await fips[0]!.process.kill()
    const t0 = Date.now()
    await roundTrips(4)
    process.stderr.write(`# 4 round trips through the balancer with one backend dead: ${Date.now() - t0} ms\n`)
    await fips[1]!.process.kill()
    const none = await c.request('POST', '/crypto/v1/encrypt', { auth: admin, body: { key: { kid }, alg: 'AES', mode: 'GCM', plain: 'AAAA' } })
    assert.equal(none.status, 503)
    assert.match(none.body, new RegExp(`No FIPS appliance reachable for group "FIPS GROUP \\(LB\\)" \\(tried 1\\): FIPS appliance ${lb.ready.loadBalancer.address.replace(/\./g, '\\.')} is unreachable`))
  })
})

describe('the load balancer on its own', () => {
  it('hands connections to the backends in turn, skips a dead one, and closes the client when none is alive', async () => {
    const echo = (tag: string) => createServer((s) => s.end(tag))
    const servers = [echo('A'), echo('B')]
    const ports = await Promise.all(servers.map((s) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)))))
    const dead = await new Promise<number>((r) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => r(p)) }) })
    const balancer = await startLoadBalancer({ backends: [{ host: '127.0.0.1', port: ports[0]! }, { host: '127.0.0.1', port: dead }, { host: '127.0.0.1', port: ports[1]! }], connectTimeoutMs: 300 })
    const read = () => new Promise<string>((resolve, reject) => {
      const s = connect({ host: balancer.host, port: balancer.port })
      let data = ''
      s.on('data', (d: Buffer) => { data += d.toString() })
      s.on('close', () => resolve(data))
      s.on('error', reject)
    })
    try {
      const got = [await read(), await read(), await read(), await read()]
      assert.deepEqual(got, ['A', 'B', 'B', 'A'], 'the dead backend\'s turn goes to the next one')
      assert.equal(balancer.connections()[`127.0.0.1:${dead}`], 0)
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
      assert.equal(await read(), '', 'no backend alive: the connection is closed')
    } finally {
      await balancer.close()
    }
  })

  it('takes a backend its administrator adds while running in turn from the next connection; a duplicate or malformed one is refused and changes nothing', async () => {
    const echo = (tag: string) => createServer((s) => s.end(tag))
    const servers = [echo('A'), echo('B')]
    const ports = await Promise.all(servers.map((s) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)))))
    const balancer = await startLoadBalancer({ backends: [{ host: '127.0.0.1', port: ports[0]! }] })
    const read = () => new Promise<string>((resolve, reject) => {
      const s = connect({ host: balancer.host, port: balancer.port })
      let data = ''
      s.on('data', (d: Buffer) => { data += d.toString() })
      s.on('close', () => resolve(data))
      s.on('error', reject)
    })
    try {
      assert.deepEqual([await read(), await read()], ['A', 'A'])
      balancer.addBackend({ host: '127.0.0.1', port: ports[1]! })
      assert.throws(() => balancer.addBackend({ host: '127.0.0.1', port: ports[1]! }), /already in the list/)
      assert.throws(() => balancer.addBackend({ host: '', port: 1 }), /invalid backend/)
      assert.deepEqual(balancer.backends, [{ host: '127.0.0.1', port: ports[0]! }, { host: '127.0.0.1', port: ports[1]! }])
      assert.deepEqual(JSON.parse(balancer.readyLine()).loadBalancer.backends, [`127.0.0.1:${ports[0]}`, `127.0.0.1:${ports[1]}`])
      const got = [await read(), await read(), await read(), await read()]
      assert.deepEqual([...got].sort(), ['A', 'A', 'B', 'B'], 'both backends in turn')
      assert.equal(balancer.connections()[`127.0.0.1:${ports[1]}`], 2)
    } finally {
      await balancer.close()
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
    }
  })

  it('refuses to start without backends or with a malformed one', async () => {
    await assert.rejects(startLoadBalancer({ backends: [] }), /at least one backend/)
    await assert.rejects(startLoadBalancer({ backends: [{ host: '127.0.0.1', port: 0 }] }), /invalid backend/)
  })
})

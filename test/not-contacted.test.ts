/**
 * A replacement's failed appliance is named in the plan (so its config in the group is found, and
 * D.1 can see it no longer answers) but never signed in to: the setup's connection views mark it
 * not contacted, and a connection check never uses a key for it, even one entered by mistake.
 * Every other appliance still needs its key and its check.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:net'
import { after, test } from 'node:test'
import { ApiKeyVault } from '../main/ceremony/api-key-vault'
import { ApplianceConnections } from '../main/ceremony/service-connections'
import { membershipPlan } from './fakes/membership-snapshot'

const servers: Server[] = []
after(() => servers.forEach((s) => s.close()))

const vault = () => new ApiKeyVault({ idleTimeoutMs: () => 0, now: () => new Date(), onIdle: () => undefined })

test('the failed appliance of a replacement is not contacted: no key asked, no check made; the others are', async () => {
  const conns = new ApplianceConnections(vault())
  const replace = membershipPlan('replace-appliance', 'production')
  assert.deepEqual(conns.views(replace).map((c) => [c.applianceId, c.contacted ?? true, c.hasApiKey]), [['fips-1', false, false], ['fips-2', true, false], ['fips-4', true, false]])
  // A key typed for it by mistake is never used to connect: fips-1's address gets no connection at all.
  let connected = 0
  const listener = createServer((socket) => {
    connected++
    socket.destroy()
  })
  servers.push(listener)
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  const port = (listener.address() as { port: number }).port
  const plan = { ...replace, appliances: replace.appliances.map((a) => (a.id === 'fips-1' ? { ...a, port } : a)) }
  conns.setKey('fips-1', 'a key typed by mistake')
  await conns.check(plan)
  assert.equal(connected, 0)
  assert.equal(conns.views(plan).find((c) => c.applianceId === 'fips-1')!.state, 'unknown')
})

test('behind a load balancer the failed appliance\'s key is asked (the join re-sends it), yet it is still never contacted', async () => {
  const conns = new ApplianceConnections(vault())
  const node = membershipPlan('replace-appliance', 'production')
  const lb = { ...node, loadBalancer: { host: '127.0.0.1', port: 4450 } }
  assert.deepEqual(conns.views(lb).map((c) => [c.applianceId, c.contacted ?? true, c.keyNeeded ?? false]), [['fips-1', false, true], ['fips-2', true, false], ['fips-4', true, false]])
  assert.deepEqual(conns.views(node).map((c) => c.keyNeeded ?? false), [false, false, false], 'replaced node by node, the failed appliance\'s key is never needed')
  // Its key entered, it is held, and still no check connects to it.
  let connected = 0
  const listener = createServer((socket) => {
    connected++
    socket.destroy()
  })
  servers.push(listener)
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  const port = (listener.address() as { port: number }).port
  const plan = { ...lb, appliances: lb.appliances.map((a) => (a.id === 'fips-1' ? { ...a, port } : a)) }
  conns.setKey('fips-1', 'the failed appliance\'s key')
  await conns.check(plan)
  assert.equal(connected, 0)
  const failed = conns.views(plan).find((c) => c.applianceId === 'fips-1')!
  assert.deepEqual([failed.hasApiKey, failed.state, failed.contacted, failed.keyNeeded], [true, 'unknown', false, true])
})

test('an addition contacts every appliance it names', () => {
  const views = new ApplianceConnections(vault()).views(membershipPlan('add-appliance', 'production'))
  assert.deepEqual(views.map((c) => c.contacted), [undefined, undefined, undefined])
})

/**
 * A cluster sign-in's password copy is zeroed on every path, as an appliance session's API key is:
 * also when the connection cannot even be made (an endpoint the plan names with unusable trust),
 * before any login begins.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { UserSessions, type SignIn } from '../main/ceremony/sign-in'
import { CeremonyError } from '../main/errors'

const cluster = { id: 'cluster', label: 'Cluster', host: 'cluster.example', port: 443, trust: { spkiSha256: '00'.repeat(32) }, user: 'admin@example.com', accountId: '00000000-0000-4000-8000-000000000000' } as unknown as SignIn

test('a sign-in whose connection cannot be made zeroes its password copy and says why', async () => {
  const copy = Buffer.from('a-cluster-password')
  const sessions = new UserSessions({
    signIns: [cluster],
    connect: () => { throw new CeremonyError('INVALID_TRUST', 'the pinned SPKI SHA-256 must be 64 hex digits') },
    password: () => copy,
    now: () => Date.now(),
  })
  await assert.rejects(sessions.session('cluster'), { code: 'INVALID_TRUST' })
  assert.ok(copy.every((b) => b === 0), 'the password copy was left in memory')
})

test('two steps asking at once for a sign-in whose session idled out share one new login: no session left open', async () => {
  const { startClusterSimulator } = await import('../main/simulator')
  const { DsmConnection } = await import('../main/dsm')
  const cluster = await startClusterSimulator({})
  try {
    const u = cluster.users.find((x) => x.role === 'account-admin')!
    const signIn = { id: 'cluster', label: 'Cluster', host: cluster.host, port: cluster.port, trust: { spkiSha256: cluster.spkiSha256 }, user: u.user, accountId: cluster.accountId } as unknown as SignIn
    let connections = 0
    let clock = Date.now()
    const sessions = new UserSessions({
      signIns: [signIn],
      connect: (e) => { connections++; return new DsmConnection({ host: e.host, port: e.port, trust: { spkiSha256: cluster.spkiSha256 } }) },
      password: () => Buffer.from(u.password),
      now: () => clock,
    })
    const first = await sessions.session('cluster')
    clock += 24 * 3600 * 1000 // the session has idled out by the workstation's reckoning
    const [a, b] = await Promise.all([sessions.session('cluster'), sessions.session('cluster')])
    assert.notEqual(a, first, 'a new session')
    assert.equal(a, b, 'one new session for both')
    assert.equal(connections, 2, 'the first login and one new one')
    assert.equal(cluster.state.liveSessions(), 1, 'the idle one ended, one open')
    await sessions.closeAll()
    assert.equal(cluster.state.liveSessions(), 0, 'and none left once signed out')
  } finally {
    await cluster.close()
  }
})

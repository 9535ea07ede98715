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

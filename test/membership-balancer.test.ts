/**
 * Load-balancer mode of the membership kinds, the parts that decide without a network
 * (main/ceremony/kinds/add-appliance/balancer.ts): the plan's mode against the records' and the
 * group's, the balancer's config before / as planned / changed by someone else, the removal of a
 * failed appliance's key and certificate, and the plan's own checks.
 */
import assert from 'node:assert/strict'
import { createHash, randomUUID, X509Certificate } from 'node:crypto'
import { test } from 'node:test'
import { BadRequestError, buildFipsClusterConfig, type Group } from '../main/dsm'
import { sendTestedRemoval } from '../main/ceremony/kinds/replace-appliance/remove-balancer'
import { balancerState, checkMode, pinnedKeys, removalOf } from '../main/ceremony/kinds/add-appliance/balancer'
import type { MembershipPlan } from '../main/ceremony/kinds/add-appliance/plan'
import { membershipPlanFor } from '../main/ceremony/simulated-membership-plan'
import type { CredentialSet } from '../main/ceremony/simulated-cluster-plan'
import { makeCert } from './support/certs'

const ids = [makeCert({ cn: 'fips-1' }), makeCert({ cn: 'fips-2' }), makeCert({ cn: 'fips-3' })]
const ders = ids.map((i) => Buffer.from(new X509Certificate(i.certPem).raw))
const sha = ders.map((d) => createHash('sha256').update(d).digest('hex'))
const GROUP_ID = '11111111-1111-4111-8111-111111111111'
const CONFIG_ID = '22222222-2222-4222-8222-222222222222'

const set: CredentialSet = {
  credentials: { appliances: ['fips-1', 'fips-2', 'fips-3'].map((id, i) => ({ id, host: '127.0.0.1', port: 4001 + i, spkiSha256: ids[i]!.spkiSha256, apiKey: 'x' })) } as CredentialSet['credentials'],
  cluster: { id: 'cluster', host: '127.0.0.1', port: 4100, spkiSha256: 'a'.repeat(64), accountId: '33333333-3333-4333-8333-333333333333', users: [{ user: 'admin@example.com', password: 'p', role: 'account-admin' }] },
  loadBalancer: null,
}
const plan = (loadBalancer?: { host: string; port: number }) => membershipPlanFor(set, { kind: 'add-appliance', added: 'fips-3', buildsOn: ['b'.repeat(64)], ...(loadBalancer ? { loadBalancer } : {}) }) as unknown as MembershipPlan
const LB = { host: '127.0.0.1', port: 4443 }

function group(hmg: Record<string, { url: string; hsm_order?: number | null; pinned: Buffer[] }>): Group {
  return {
    group_id: GROUP_ID, acct_id: '33333333-3333-4333-8333-333333333333', name: 'FIPS GROUP', created_at: '20260101T000000Z',
    hmg: Object.fromEntries(Object.entries(hmg).map(([id, c]) => [id, { kind: 'FortanixFipsCluster', url: c.url, hsm_order: c.hsm_order ?? null, tls: { mode: 'required', validate_hostname: true, ca: { pinned: c.pinned.map((d) => d.toString('base64')) } } }])),
  } as Group
}
const balanced = (pinned: Buffer[]) => group({ [CONFIG_ID]: { url: '127.0.0.1:4443', pinned } })
const planned = { ref: 'load-balancer', url: '127.0.0.1:4443', hsmOrder: null, validateHostname: true, certificates: sha, keysOf: ['fips-1', 'fips-2', 'fips-3'], balanced: true }

test('a plan through a balancer for a group with one config per appliance, and the other way round, are named GROUP_MODE_MISMATCH', () => {
  const perNode = group({ [CONFIG_ID]: { url: '127.0.0.1:4001', hsm_order: 0, pinned: [ders[0]!] }, '44444444-4444-4444-8444-444444444444': { url: '127.0.0.1:4002', hsm_order: 1, pinned: [ders[1]!] } })
  assert.throws(() => checkMode(plan(LB), undefined, perNode), (e: Error & { code?: string }) => e.code === 'GROUP_MODE_MISMATCH' && /one per appliance/.test(e.message))
  assert.throws(() => checkMode(plan(), undefined, balanced(ders.slice(0, 2))), (e: Error & { code?: string }) => e.code === 'GROUP_MODE_MISMATCH' && /a load balancer's/.test(e.message))
  assert.throws(() => checkMode(plan(), '127.0.0.1:4443', perNode), (e: Error & { code?: string }) => e.code === 'GROUP_MODE_MISMATCH' && /the records link through the load balancer at 127\.0\.0\.1:4443/.test(e.message))
  checkMode(plan(LB), '127.0.0.1:4443', balanced(ders.slice(0, 2)))
  checkMode(plan(), null, perNode)
})

test('the balancer\'s config is "before", "planned", or what differs: someone else\'s certificate is named', () => {
  assert.equal(balancerState(balanced(ders.slice(0, 2)), CONFIG_ID, sha.slice(0, 2), planned), 'before')
  assert.equal(balancerState(balanced([ders[2]!, ders[0]!, ders[1]!]), CONFIG_ID, sha.slice(0, 2), planned), 'planned')
  const other = Buffer.from(new X509Certificate(makeCert({ cn: 'intruder' }).certPem).raw)
  assert.deepEqual(balancerState(balanced([...ders.slice(0, 2), other]), CONFIG_ID, sha.slice(0, 2), planned), ['its pinned certificates are neither those found by the preflight nor those planned'])
  assert.deepEqual(balancerState(balanced(ders.slice(0, 2)), '55555555-5555-4555-8555-555555555555', sha.slice(0, 2), planned), ['the config 55555555-5555-4555-8555-555555555555 is gone'])
  const moved = group({ [CONFIG_ID]: { url: '127.0.0.1:9999', pinned: ders } })
  assert.ok((balancerState(moved, CONFIG_ID, sha.slice(0, 2), planned) as string[]).includes('its address is 127.0.0.1:9999'))
})

test('a pinned certificate is known by its key: the failed appliance\'s, which cannot be asked', () => {
  const keys = pinnedKeys(balanced(ders).hmg![CONFIG_ID]!.tls)
  assert.deepEqual(keys.map((k) => k.spkiSha256), ids.map((i) => i.spkiSha256))
  assert.deepEqual(keys.map((k) => k.sha256), sha)
})

test('the removal keeps the key of every appliance of the group after the change and drops the failed one\'s certificate only', () => {
  const p = { ...plan(LB), fips: ['fips-2', 'fips-3'] } as MembershipPlan
  const facts = { configId: CONFIG_ID, url: '127.0.0.1:4443', pinned: sha.slice(0, 2), keysOf: ['fips-2', 'fips-1'], failedPinned: [sha[0]!] }
  const r = removalOf(p, facts, { ...planned, keysOf: ['fips-2', 'fips-1', 'fips-3'] })
  assert.deepEqual([r.keysOf, r.certificates], [['fips-2', 'fips-3'], [sha[1], sha[2]]])
})

test('a balancer at an appliance\'s own address is refused by the plan', () => {
  assert.throws(() => plan({ host: '127.0.0.1', port: 4002 }), /the load balancer must have its own address/)
  assert.deepEqual(plan(LB).loadBalancer, LB)
})

test('the removal is tested by the cluster before it is sent: a wrong key for an appliance that stays is named HMG_API_KEY_REFUSED and nothing is sent', async () => {
  // A key retyped wrongly after the idle wipe: sent untested, it would replace fips-2's working key in the group.
  const config = buildFipsClusterConfig({ address: '127.0.0.1:4443', certificates: ders.slice(1), validateHostname: true, apiKeys: ['fips-2-key-mistyped', 'fips-3-key'].map((k) => Buffer.from(Buffer.from(`${randomUUID()}:${k}`).toString('base64'))) })
  const calls: string[] = []
  const admin = (refuse: boolean) => ({
    groups: {
      checkHmgConfig: async () => {
        calls.push('check')
        if (refuse) throw new BadRequestError('FIPS appliance 127.0.0.1:4443 refused the API key: 401 for credential 1')
      },
      patch: async (groupId: string, req: unknown) => {
        calls.push(`patch ${groupId} ${JSON.stringify(req).length > 0}`)
        return balanced(ders.slice(1))
      },
    },
  }) as never
  await assert.rejects(sendTestedRemoval(admin(true), GROUP_ID, CONFIG_ID, config, 'the load balancer\'s config without fips-1\'s key'),
    (e: Error & { code?: string }) => e.code === 'HMG_API_KEY_REFUSED' && /^The cluster refused the load balancer's config without fips-1's key: .*refused the API key/.test(e.message))
  assert.deepEqual(calls, ['check'], 'refused: the group is never patched')
  calls.length = 0
  await sendTestedRemoval(admin(false), GROUP_ID, CONFIG_ID, config, 'the load balancer\'s config without fips-1\'s key')
  assert.deepEqual(calls, ['check', `patch ${GROUP_ID} true`], 'tested first, then sent')
})

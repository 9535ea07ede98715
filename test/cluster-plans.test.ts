/**
 * The plans of link-cluster and verify-cluster: defaults of the named options, and every bad input
 * refused by the field it is in; the group configuration witnesses confirm (API keys masked, the
 * digest over it) and the comparisons that decide adoption and "already linked"; the README lists
 * every named option.
 */
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { checkPlan } from '../main/ceremony/plan'
import { groupDifferences, groupDigest, plannedGroup, sentAsPlanned, shownGroup } from '../main/ceremony/kinds/link-cluster/group'
import type { LinkClusterPlan } from '../main/ceremony/kinds/link-cluster/plan'
import { buildFipsClusterConfig, type Group } from '../main/dsm'
import { makeServerIdentity } from '../main/simulator/tls-cert'

const hex = () => randomBytes(32).toString('hex')
const base = () => ({
  kind: 'link-cluster', format: 'dsm-key-ceremony/plan', version: 1, id: 'link-test', title: 'Link', mode: 'rehearsal',
  appliances: [{ id: 'fips-1', label: 'F1', host: 'fips1.example', trust: { spkiSha256: hex() } }, { id: 'fips-2', label: 'F2', host: 'fips2.example', trust: { spkiSha256: hex() } }],
  cluster: { host: 'dsm.example', trust: { spkiSha256: hex() }, accountId: randomUUID(), admin: 'admin@example.com' },
  fips: ['fips-1', 'fips-2'], buildsOn: [hex()], participants: { operator: 'Op', custodians: {}, witnesses: ['W1'] },
})

function issues(plan: unknown): string[] {
  const r = checkPlan(plan)
  return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`)
}

describe('link-cluster and verify-cluster plans', () => {
  test('the named options and their defaults', () => {
    const r = checkPlan(base())
    assert.ok(r.ok, JSON.stringify(r))
    const p = r.plan as LinkClusterPlan
    assert.equal(p.groupName, 'FIPS GROUP')
    assert.equal(p.cmkName, 'cluster-master-key')
    assert.equal(p.cmkNameLocation, 'none')
    assert.equal(p.canaryName, '{ceremony}-recovery-canary')
    assert.equal(p.failoverDrill, true)
    assert.equal(p.validateHostname, true)
    assert.equal(p.loadBalancer, undefined)
    assert.deepEqual([p.cluster.id, p.cluster.port], ['cluster', 443])
    const verify = checkPlan({ ...base(), kind: 'verify-cluster', buildsOn: undefined })
    assert.ok(verify.ok && (verify.plan as unknown as { buildsOn: string[] }).buildsOn.length === 0, 'verify-cluster may build on no record')
  })

  test('bad input is refused by the field it is in', () => {
    const cases: Array<[string, (p: ReturnType<typeof base> & Record<string, unknown>) => void, RegExp]> = [
      ['no replication record', (p) => { p.buildsOn = [] }, /^buildsOn: name the record/],
      ['a record digest that is not one', (p) => { p.buildsOn = ['abc'] }, /^buildsOn\.0: a SHA-256 digest/],
      ['the same record twice', (p) => { p.buildsOn = [p.buildsOn[0]!, p.buildsOn[0]!] }, /^buildsOn\.1: the same record is named twice/],
      ['a FIPS appliance the plan does not have', (p) => { p.fips = ['fips-1', 'fips-3'] }, /^fips\.1: no appliance with id "fips-3"/],
      ['an appliance left out of the priority order', (p) => { p.fips = ['fips-1'] }, /^appliances\.1\.id: "fips-2" is not in fips/],
      ['an appliance listed twice', (p) => { p.fips = ['fips-1', 'fips-2', 'fips-1'] }, /^fips\.2: "fips-1" is listed twice/],
      ['the cluster at an appliance\'s address', (p) => { p.cluster.host = 'fips1.example' }, /^cluster\.host: fips1\.example:443 is given for the cluster and for a FIPS appliance/],
      ['the cluster under an appliance\'s id', (p) => { (p.cluster as Record<string, unknown>)['id'] = 'fips-1' }, /^cluster\.id: "fips-1" is also an appliance id/],
      ['an account id that is not one', (p) => { (p.cluster as Record<string, unknown>)['accountId'] = 'acct-1' }, /^cluster\.accountId: a DSM account id/],
      ['an administrator name with a space', (p) => { p.cluster.admin = 'cluster admin' }, /^cluster\.admin: a DSM user name/],
      ['a canary name that is not per ceremony', (p) => { p['canaryName'] = 'canary' }, /^canaryName: must contain \{ceremony\}/],
      ['an unknown CMK-name location', (p) => { p['cmkNameLocation'] = 'hmg-config' }, /^cmkNameLocation: /],
      ['a load balancer at the cluster\'s address', (p) => { p['loadBalancer'] = { host: 'dsm.example' } }, /^loadBalancer\.host: the load balancer must have its own address/],
      ['a scheme in the cluster address', (p) => { p.cluster.host = 'https://dsm.example' }, /^cluster\.host: /],
      ['a password in the plan', (p) => { (p.cluster as Record<string, unknown>)['password'] = 'x' }, /^cluster\.password: unknown field/],
      ['stations across sites', (p) => {
        p['stations'] = [{ id: 'site-a', label: 'A', appliances: ['fips-1'], operator: 'Op', witnesses: ['W1'] }, { id: 'site-b', label: 'B', appliances: ['fips-2'], operator: 'Op', witnesses: ['W1'] }]
      }, /^stations: a cluster ceremony runs at one station/],
    ]
    for (const [what, change, expected] of cases) {
      const plan = base() as ReturnType<typeof base> & Record<string, unknown>
      change(plan)
      const found = issues(plan)
      assert.ok(found.some((i) => expected.test(i)), `${what}: ${JSON.stringify(found)}`)
    }
  })
})

describe('the group configuration witnesses confirm', () => {
  const idA = makeServerIdentity('fips-1.dsm-sim.test', '127.0.0.1')
  const idB = makeServerIdentity('fips-2.dsm-sim.test', '127.0.0.1')
  const certA = Buffer.from(idA.certDer, 'base64')
  const certB = Buffer.from(idB.certDer, 'base64')
  const sha = (b: Buffer) => require('node:crypto').createHash('sha256').update(b).digest('hex') as string
  const plan = (checkPlan(base()) as unknown as { plan: LinkClusterPlan }).plan
  const planned = plannedGroup(plan, { 'fips-1': [sha(certA)], 'fips-2': [sha(certB)] }, 'DSM Key Ceremony link-test [nonce 01]')
  const key = Buffer.from(`${randomUUID()}:${randomBytes(32).toString('base64url')}`).toString('base64')

  test('shown with every API key masked, each certificate by its SHA-256; the digest changes with any field', () => {
    const shown = JSON.stringify(shownGroup(plan, planned))
    assert.match(shown, /"pin":"•••••••• \(the API key of F1\)"/)
    assert.ok(!/[A-Za-z0-9+/]{100,}/.test(shown), 'no certificate bytes')
    assert.deepEqual(planned.configs.map((c) => [c.url, c.hsmOrder]), [['fips1.example:443', 0], ['fips2.example:443', 1]])
    const other = { ...planned, configs: [planned.configs[1]!, planned.configs[0]!] }
    assert.notEqual(groupDigest(plan, planned), groupDigest(plan, other))
    const lb = plannedGroup({ ...plan, loadBalancer: { host: 'lb.example', port: 8443 } }, { 'fips-1': [sha(certA)], 'fips-2': [sha(certB)] }, null)
    assert.equal(lb.configs.length, 1)
    assert.deepEqual([lb.configs[0]!.url, lb.configs[0]!.keysOf, lb.configs[0]!.certificates.length, lb.redundancy], ['lb.example:8443', ['fips-1', 'fips-2'], 2, null])
    assert.match(JSON.stringify(shownGroup(plan, lb)), /"credentials":\["•••••••• \(the API key of F1\)","•••••••• \(the API key of F2\)"\]/)
  })

  test('what is sent must be what was shown; a group found must match field by field', () => {
    const real = buildFipsClusterConfig({ address: 'fips1.example:443', certificates: [certA], apiKey: Buffer.from(key), hsmOrder: 0 })
    assert.equal(sentAsPlanned(real, planned.configs[0]!), true)
    assert.equal(sentAsPlanned(real, planned.configs[1]!), false)
    assert.equal(sentAsPlanned(buildFipsClusterConfig({ address: 'fips1.example:443', certificates: [certB], apiKey: Buffer.from(key), hsmOrder: 0 }), planned.configs[0]!), false, 'another certificate')
    const view = (url: string, order: number, cert: Buffer) => ({ kind: 'FortanixFipsCluster', url, hsm_order: order, tls: { mode: 'required', validate_hostname: true, ca: { pinned: [cert.toString('base64')] } } })
    const found: Group = {
      group_id: randomUUID(), acct_id: randomUUID(), name: 'FIPS GROUP', created_at: '20261201T000000Z', description: planned.description,
      hmg: { [randomUUID()]: view('fips1.example:443', 0, certA), [randomUUID()]: view('fips2.example:443', 1, certB) }, hmg_redundancy: 'PriorityFailover',
    } as Group
    assert.deepEqual(groupDifferences(found, planned, true), [])
    assert.deepEqual(groupDifferences({ ...found, description: 'someone else' }, planned, true), ['description (not made by this ceremony)'])
    assert.deepEqual(groupDifferences({ ...found, description: 'someone else' }, planned, false), [], 'already linked: any description')
    const swapped = { ...found, hmg: { a: view('fips1.example:443', 0, certB), b: view('fips2.example:443', 1, certB) } } as unknown as Group
    assert.deepEqual(groupDifferences(swapped, planned, true), ['fips1.example:443: pinned certificates'])
    assert.deepEqual(groupDifferences({ ...found, hmg_redundancy: null }, planned, true), ['redundancy none'])
    assert.deepEqual(groupDifferences({ ...found, wrapping_key_name: 'other-cmk' }, planned, true), ['wrapping_key_name other-cmk'])
  })
})

test('the README lists every named option of the cluster kinds', () => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8')
  for (const option of ['groupName', 'cmkName', 'cmkNameLocation', 'loadBalancer', 'validateHostname', 'canaryName', 'failoverDrill', 'buildsOn', 'cluster.admin', 'cluster.accountId']) {
    assert.ok(readme.includes(`\`${option}\``), `README names ${option}`)
  }
})

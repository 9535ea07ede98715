/**
 * verify-cluster proves the group the link made, not a group of the same name. Someone with the
 * cluster administrator's credential renames the linked group and makes another one under its name,
 * linked to the same FIPS appliances (so the cluster's own test passes it): the verification must
 * name the difference with the link record it builds on, before it makes its canary there.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { inProcessOutage } from '../main/ceremony/outage'
import { rehearsalApplianceIds, rehearsalChain, type ChainCeremony } from '../main/ceremony/rehearsal-chain'
import { runHeadless } from '../main/cli/headless'
import { buildFipsClusterConfig, DsmConnection, UserSession } from '../main/dsm'
import { startClusterSimulator, startSimulator } from '../main/simulator'

test('a group swapped under the linked group\'s name is refused by name at the verification\'s first step', async () => {
  const sim = await startSimulator({ appliances: rehearsalApplianceIds('verify-cluster', 1).length, ids: rehearsalApplianceIds('verify-cluster', 1) })
  const cluster = await startClusterSimulator({ fipsConnectTimeoutMs: 1500, fipsResponseTimeoutMs: 5000 })
  const dir = mkdtempSync(join(tmpdir(), 'dsm-verify-group-'))
  const outage = inProcessOutage([sim])
  const run = async (c: ChainCeremony) => {
    const summary = await runHeadless({
      plan: c.plan, credentials: c.set.credentials, records: c.records, stateDir: join(dir, c.plan.kind), confirm: true, witnessing: { kind: 'simulated' },
      ...(c.plan.kind === 'replicate-cmk' ? {} : { outage, passwords: new Map([...c.passwords].map(([id, p]) => [id, Buffer.from(p, 'utf8')])) }),
    })
    return summary
  }
  try {
    const verify = await rehearsalChain('verify-cluster', { sim, cluster, outage }, async (c) => {
      const s = await run(c)
      assert.equal(s.ok, true, `${c.plan.kind}: ${s.error?.code} ${s.error?.message}`)
      const { readFileSync } = await import('node:fs')
      return { record: JSON.parse(readFileSync(s.record!, 'utf8')), finalDigest: s.finalDigest! }
    })
    assert.ok(verify)
    const groupName = (verify.plan as unknown as { groupName: string }).groupName

    // The swap, with the administrator's credential: the linked group renamed, another made under its name.
    const u = cluster.users.find((x) => x.role === 'account-admin')!
    const admin = await UserSession.login(new DsmConnection({ host: cluster.host, port: cluster.port, trust: { spkiSha256: cluster.spkiSha256 } }), { username: u.user, password: Buffer.from(u.password), accountId: cluster.accountId }, { ownsConnection: true })
    const linked = (await admin.groups.list()).find((g) => g.name === groupName)!
    await admin.groups.patch(linked.group_id, { name: `${groupName} (old)` })
    const configs = sim.appliances.filter((a) => (verify.plan as unknown as { fips: string[] }).fips.includes(a.id)).map((a) => buildFipsClusterConfig({ address: `${a.host}:${a.port}`, certificates: [Buffer.from(a.certDer, 'base64')], apiKey: Buffer.from(a.apiKey) }))
    const swapped = await admin.groups.create({ name: groupName, add_hmg: configs, hmg_redundancy: 'PriorityFailover' })
    await admin.logout()
    assert.notEqual(swapped.group_id, linked.group_id)

    const s = await run(verify)
    assert.equal(s.ok, false)
    assert.equal(s.error?.code, 'RECORD_MISMATCH', s.error?.message)
    assert.match(s.error!.message, new RegExp(`${swapped.group_id}.*${linked.group_id}`))
    assert.equal(cluster.state.sobjects().filter((k) => k.group_id === swapped.group_id).length, 0, 'no canary was made in the swapped group')
  } finally {
    await cluster.close()
    await sim.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

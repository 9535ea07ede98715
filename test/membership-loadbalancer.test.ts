/**
 * Issue 12, add-appliance in load-balancer mode (guide §4.0): every FIPS appliance, the balancer
 * and the cluster in its own simulator process. fips-1 → fips-2 replicated and linked through the
 * balancer (one config, both API keys in `credentials`); the balancer is then given fips-3 as a
 * backend (its administrator's step, restarted on the same address), and `ceremony plan --kind
 * add-appliance` (the mode taken from the link record) and `ceremony run` bring fips-3 in: the
 * balancer's config, replaced by mod_hmg, holds the three keys and the three certificates, the
 * saved group passes the cluster's test, and the canary decrypts with fips-1 and fips-2 down. A
 * key planted in the balancer's config by someone else before the join, and a plan whose mode
 * differs from the group's, are refused by name; a key slipped in at a crash is not adopted. Then
 * replace-appliance, built on that record: fips-1 fails for good, fips-4 joins with fips-1's key
 * still in the config, and only after the proof is fips-1's key removed.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { CANARY_MESSAGE } from '../main/ceremony/cluster-plan'
import { CeremonyEngine } from '../main/ceremony/engine'
import { fileJournalStore } from '../main/ceremony/journal-file'
import { checkPlan, trustOf } from '../main/ceremony/plan'
import { DsmConnection } from '../main/dsm'
import { buildFipsClusterConfig, type UserSession } from '../main/dsm'
import { readPeerCertificates } from '../main/dsm/peer-certificate'
import { verifyRecord } from '../main/evidence'
import { runCeremonyAsync } from './support/cli-output'
import { adminOf, clusterProcess, fipsProcess, groupsNamed, replicate, secretsOf, type ClusterProcess, type FipsProcess } from './support/cluster-fixture'
import { SimClient } from './support/sim-client'
import { spawnSimulator, stopAllSimulators, type SimProcess } from './support/sim-processes'

const dir = mkdtempSync(join(tmpdir(), 'dsm-add-lb-'))
let f1: FipsProcess
let f2: FipsProcess
let f3: FipsProcess
let cluster: ClusterProcess
let lb: SimProcess
let admin: UserSession
let canaries: string[]
let replicationFile = ''
let linkFile = ''
let addFile = ''
const lbFile = () => join(dir, 'load-balancer.json')
const last = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!)
const backends = (list: FipsProcess[]) => list.map((f) => `127.0.0.1:${f.entry.port}`).join(',')

/** The balancer in its own process; `port` keeps its address when its administrator reconfigures it. */
async function balancer(list: FipsProcess[], port?: number): Promise<SimProcess> {
  return spawnSimulator(['--role', 'load-balancer', '--backends', backends(list), ...(port ? ['--port', String(port)] : []), '--write-config', dir])
}

async function der(f: FipsProcess): Promise<Buffer> {
  return (await readPeerCertificates({ host: f.entry.host, port: f.entry.port, trust: { spkiSha256: f.entry.spkiSha256 } }))[0]!.der
}

/** The group as the cluster sends it, read with the test's own HTTPS client (this cluster echoes hmg secrets). */
async function rawGroup(groupId: string): Promise<{ hmg: Record<string, { url: string; credentials?: string[]; tls: { ca: { pinned: string[] } } }> }> {
  const r = cluster.ready
  const chain = await readPeerCertificates({ host: r.host, port: r.port, trust: { spkiSha256: r.spkiSha256 } })
  const pem = chain.map((c) => `-----BEGIN CERTIFICATE-----\n${c.der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`).join('')
  const client = new SimClient({ url: `https://${r.host}:${r.port}`, certPem: pem, spkiSha256: r.spkiSha256 })
  const u = r.users.find((x: { role: string }) => x.role === 'account-admin')!
  const auth = await client.userSession(u.user, u.password, r.accountId)
  const g = await client.request('GET', `/sys/v1/groups/${groupId}`, { auth, validate: false })
  assert.equal(g.status, 200, g.text)
  return g.body
}

const records = () => ['--record', replicationFile, '--record', linkFile]

/** `ceremony run` of the plan NAME (again, to resume it); `killAt` makes it SIGKILL itself there (kill-switch.ts). */
async function runPlan(name: string, killAt?: string) {
  const run = await runCeremonyAsync(['run', '--plan', join(dir, `${name}.plan.json`), ...[f1.file, f2.file, f3.file, cluster.file].flatMap((c) => ['--credentials', c]), ...records(), '--state', join(dir, 'state', name)],
    { canaries, ...(killAt ? { env: { ...process.env, CEREMONY_KILL_AT: killAt } } : {}) })
  return { run, summary: killAt ? null : last(run.stdout) }
}

/**
 * A witness acknowledges C.0's findings the way the app's register does (an exception naming each
 * reference), on the state the headless run left; the run is then resumed.
 */
async function acknowledge(name: string, refs: string[], why: string): Promise<void> {
  const checked = checkPlan(JSON.parse(readFileSync(join(dir, `${name}.plan.json`), 'utf8')))
  assert.ok(checked.ok)
  const stateDir = join(dir, 'state', name)
  const engine = await CeremonyEngine.open({
    plan: checked.plan, stateDir, mediaDir: join(stateDir, 'media'), openJournalStore: () => fileJournalStore(stateDir), operator: checked.plan.participants.operator,
    connect: (a) => new DsmConnection({ host: a.host, port: a.port, trust: trustOf(a) }), apiKey: () => undefined,
  })
  try {
    await engine.recordException('appliance-logs', 'Witness One', `${refs.join(', ')}: ${why}`)
  } finally {
    await engine.shutdown()
  }
}

async function planAndRun(name: string, edit: (plan: Record<string, unknown>) => void = () => {}, killAt?: string) {
  const planOut = await runCeremonyAsync(['plan', '--kind', 'add-appliance', '--appliances', `${f1.file},${f2.file},${f3.file}`, '--added', 'fips-3', '--cluster', cluster.file, ...records(), '--id', name], { canaries })
  assert.equal(planOut.status, 0, planOut.stderr)
  const plan = JSON.parse(planOut.stdout)
  edit(plan)
  writeFileSync(join(dir, `${name}.plan.json`), JSON.stringify(plan))
  return { plan, ...(await runPlan(name, killAt)) }
}

before(async () => {
  ;[f1, f2, f3, cluster] = await Promise.all([
    fipsProcess(dir, 'fips-1'), fipsProcess(dir, 'fips-2', { cmk: false }), fipsProcess(dir, 'fips-3', { cmk: false }),
    spawnSimulator(['--role', 'cluster', '--write-config', dir, '--fips-connect-timeout', '1000', '--fips-response-timeout', '4000', '--vendor', 'hmgSecretsEchoed=true'])
      .then((p) => ({ process: p, ready: p.ready.cluster, file: join(dir, 'cluster.json') })),
  ])
  lb = await balancer([f1, f2])
  canaries = secretsOf([f1, f2, f3], cluster)
  admin = await adminOf(cluster)
  replicationFile = (await replicate(join(dir, 'state'), [f1, f2], 'replicate-lb-add')).file
  const planOut = await runCeremonyAsync(['plan', '--kind', 'link-cluster', '--appliances', `${f1.file},${f2.file}`, '--cluster', cluster.file, '--load-balancer', lbFile(), '--record', replicationFile, '--no-failover-drill', '--id', 'link-lb-add'], { canaries })
  assert.equal(planOut.status, 0, planOut.stderr)
  writeFileSync(join(dir, 'link.plan.json'), planOut.stdout)
  const link = await runCeremonyAsync(['run', '--plan', join(dir, 'link.plan.json'), '--credentials', f1.file, '--credentials', f2.file, '--credentials', cluster.file, '--record', replicationFile, '--state', join(dir, 'state', 'link-lb-add')], { canaries })
  assert.equal(link.status, 0, link.stderr.slice(-2000))
  linkFile = last(link.stdout).record
})
after(async () => {
  await admin?.logout().catch(() => undefined)
  await stopAllSimulators()
  rmSync(dir, { recursive: true, force: true })
})

describe('add-appliance through a load balancer, every system in its own process', () => {
  test('a plan adding one config per appliance to a group linked through a balancer is refused at preflight, both modes named', async () => {
    const { run, summary } = await planAndRun('add-lb-mode', (plan) => { delete plan['loadBalancer'] })
    assert.equal(run.status, 1)
    assert.equal(summary.error.code, 'GROUP_MODE_MISMATCH', summary.error.message)
    assert.match(summary.error.message, /one config per appliance.*load balancer at 127\.0\.0\.1:\d+/)
    assert.equal(Object.keys((await groupsNamed(admin, 'FIPS GROUP'))[0]!.hmg ?? {}).length, 1, 'the group was not changed')
  })

  test('fips-3\'s key and certificate planted in the balancer\'s config by someone else before the join are not adopted: GROUP_CONFLICT, nothing sent', async () => {
    const [group] = await groupsNamed(admin, 'FIPS GROUP')
    const [configId, config] = Object.entries(group!.hmg ?? {})[0]!
    const pinned = ((config.tls?.['ca'] as { pinned: string[] }).pinned).map((b) => Buffer.from(b, 'base64'))
    const planted = buildFipsClusterConfig({ address: config.url!, certificates: [...pinned, await der(f3)], validateHostname: true, apiKeys: [f1.entry.apiKey, f2.entry.apiKey, f3.entry.apiKey].map((k) => Buffer.from(k)) })
    await admin.groups.patch(group!.group_id, { mod_hmg: { [configId]: planted } })
    try {
      const { run, summary } = await planAndRun('add-lb-planted')
      assert.equal(run.status, 1)
      assert.equal(summary.error.code, 'GROUP_CONFLICT', summary.error.message)
      assert.match(summary.error.message, /pins 1 certificate\(s\) none of .* presents .*someone else's/)
      const raw = await rawGroup(group!.group_id)
      assert.deepEqual(raw.hmg[configId]!.credentials, [f1.entry.apiKey, f2.entry.apiKey, f3.entry.apiKey], 'left as the intruder made it: nothing was sent')
    } finally {
      const restored = buildFipsClusterConfig({ address: config.url!, certificates: pinned, validateHostname: true, apiKeys: [f1.entry.apiKey, f2.entry.apiKey].map((k) => Buffer.from(k)) })
      await admin.groups.patch(group!.group_id, { mod_hmg: { [configId]: restored } })
    }
  })

  test('fips-3 added: the balancer\'s one config holds the three keys and certificates, the saved group passes, the canary decrypts through fips-3 alone', async () => {
    // The balancer's administrator adds fips-3 as a backend, at the same address (the app cannot configure a balancer).
    const port = lb.ready.loadBalancer.port as number
    await lb.kill()
    lb = await balancer([f1, f2, f3], port)
    const { plan, run: killed } = await planAndRun('add-lb', undefined, 'join-group@after-intent')
    assert.deepEqual(plan.loadBalancer, { host: '127.0.0.1', port }, 'the mode and the address come from the link record')
    assert.equal(killed.signal, 'SIGKILL', killed.stderr.slice(-1500))

    // The power cut came as the change went out: the config pins the planned certificates, but someone slipped a key of their own in with it,
    // while the workstation was down (a few seconds: well after the link's last change, as log times are whole seconds).
    await new Promise((r) => setTimeout(r, 5000))
    const [before] = await groupsNamed(admin, 'FIPS GROUP')
    const [configId, config] = Object.entries(before!.hmg ?? {})[0]!
    const certs = await Promise.all([f1, f2, f3].map(der))
    const keys = [f1, f2, f3].map((f) => f.entry.apiKey)
    await admin.groups.patch(before!.group_id, { mod_hmg: { [configId]: buildFipsClusterConfig({ address: config.url!, certificates: certs, validateHostname: true, apiKeys: [...keys, Buffer.from(`${randomUUID()}:intruders-own-secret`).toString('base64')].map((k) => Buffer.from(k)) }) } })

    // The intruder's change of the group is in the cluster's own log: C.0 names it, and the ceremony
    // cannot close until a witness acknowledges it (what an auditor must see).
    const stopped = await runPlan('add-lb')
    assert.equal(stopped.summary.error?.code, 'APPLIANCE_LOG_FINDINGS', stopped.run.stdout.slice(-1500))
    assert.match(stopped.run.stderr, /cannot be read back, so the whole config as shown is sent again/)
    const refs = [...new Set<string>(stopped.summary.error.message.match(/AL-[0-9a-f]{8}/g) ?? [])]
    // At least the key slipped in; every difference named is a change of the group on the cluster (the
    // planted change and the resend that took it out look alike in the log: both are named if in one second).
    assert.ok(refs.length >= 1 && refs.length <= 2, stopped.summary.error.message)
    assert.equal(stopped.summary.error.message.match(/\(cluster [^)]*"Updated group"/g)?.length, refs.length, stopped.summary.error.message)
    await acknowledge('add-lb', refs, 'a key was slipped into the balancer\'s config while the workstation was down; the config was sent again without it')
    const { run, summary } = await runPlan('add-lb')
    assert.equal(run.status, 0, run.stderr.slice(-2500) + run.stdout.slice(-1500))
    assert.equal(summary.outcome.addedKcv, summary.outcome.kcv)
    assert.deepEqual([summary.outcome.provedAlone, summary.outcome.canaryMatch], [true, true], 'fips-1 and fips-2 were down when the canary decrypted')
    assert.deepEqual(summary.outcome.members, ['fips-1', 'fips-2', 'fips-3'])

    const groups = await groupsNamed(admin, 'FIPS GROUP')
    assert.equal(groups.length, 1)
    const raw = await rawGroup(groups[0]!.group_id)
    const configs = Object.values(raw.hmg)
    assert.equal(configs.length, 1, 'still one config, at the balancer')
    assert.equal(configs[0]!.url, `127.0.0.1:${port}`)
    assert.deepEqual(configs[0]!.credentials, keys, 'no key lost, the new one added, the intruder\'s not adopted')
    assert.deepEqual([...configs[0]!.tls.ca.pinned].sort(), certs.map((c) => c.toString('base64')).sort(), 'every appliance\'s certificate pinned')
    await admin.groups.checkHmg(groups[0]!.group_id) // the saved group, with the others back

    const record = JSON.parse(readFileSync(summary.record, 'utf8'))
    assert.equal(verifyRecord(record, { artifactsDir: join(dir, 'state', 'add-lb', 'media') }).ok, true)
    const shown = record.entries.find((e: { kind: string; step: string }) => e.kind === 'step-done' && e.step === 'join-config').facts.result.shown as string
    assert.match(shown, /"mod_hmg"/)
    for (const f of [f1, f2, f3]) assert.equal(shown.includes(f.entry.apiKey), false, 'every key masked in what was shown')
    assert.equal(readFileSync(summary.record, 'utf8').includes(f3.entry.apiKey), false)

    addFile = summary.record
  })

  test('replace-appliance behind the balancer: fips-1 fails for good, fips-4 joins; only after the proof is fips-1\'s key removed, once, an intruder\'s key slipped in at a crash not adopted; the canary decrypts through fips-4 alone', async () => {
    assert.ok(addFile, 'builds on the add-appliance record')
    await f1.process.kill() // for good
    const f4 = await fipsProcess(dir, 'fips-4', { cmk: false })
    canaries.push(...secretsOf([f4], cluster))
    const port = lb.ready.loadBalancer.port as number
    await lb.kill() // its administrator adds fips-4 (fips-1, dead, is still listed: the balancer skips it)
    lb = await balancer([f1, f2, f3, f4], port)
    const recs = ['--record', replicationFile, '--record', linkFile, '--record', addFile]
    const planOut = await runCeremonyAsync(['plan', '--kind', 'replace-appliance', '--appliances', [f1, f2, f3, f4].map((f) => f.file).join(','), '--cluster', cluster.file, ...recs,
      '--added', 'fips-4', '--failed', 'fips-1', '--failed-serial', 'FX2200-SIM-0001', '--disposition', 'destroyed', '--evidence-file', 'fips-1-destruction.txt', '--id', 'replace-lb'], { canaries })
    assert.equal(planOut.status, 0, planOut.stderr)
    const plan = JSON.parse(planOut.stdout)
    assert.deepEqual([plan.fips, plan.loadBalancer], [['fips-2', 'fips-3', 'fips-4'], { host: '127.0.0.1', port }])
    writeFileSync(join(dir, 'replace-lb.plan.json'), planOut.stdout)
    const state = join(dir, 'state', 'replace-lb')
    mkdirSync(join(state, 'media'), { recursive: true })
    writeFileSync(join(state, 'media', 'fips-1-destruction.txt'), 'REHEARSAL: destruction certificate of FX2200-SIM-0001\n')
    const args = ['run', '--plan', join(dir, 'replace-lb.plan.json'), ...[f1, f2, f3, f4].map((f) => f.file).concat(cluster.file).flatMap((c) => ['--credentials', c]), ...recs, '--state', state]
    const killed = await runCeremonyAsync(args, { canaries, env: { ...process.env, CEREMONY_KILL_AT: 'remove-failed@after-intent' } })
    assert.equal(killed.signal, 'SIGKILL', killed.stderr.slice(-1500))
    // The removal went out as the power cut came, and someone slipped a key of their own in with it,
    // while the workstation was down (a few seconds: well after the add's last change, as log times are whole seconds).
    await new Promise((r) => setTimeout(r, 5000))
    const [mid] = await groupsNamed(admin, 'FIPS GROUP')
    const [configId, config] = Object.entries(mid!.hmg ?? {})[0]!
    const staying = [f2, f3, f4]
    await admin.groups.patch(mid!.group_id, { mod_hmg: { [configId]: buildFipsClusterConfig({ address: config.url!, certificates: await Promise.all(staying.map(der)), validateHostname: true, apiKeys: [...staying.map((f) => f.entry.apiKey), Buffer.from(`${randomUUID()}:intruders-own-secret`).toString('base64')].map((k) => Buffer.from(k)) }) } })
    // The intruder's change is in the cluster's own log: C.0 names it until a witness acknowledges it.
    const stopped = await runCeremonyAsync(args, { canaries })
    assert.match(stopped.stderr, /no longer pins .* sent again/)
    const stoppedAt = last(stopped.stdout)
    assert.equal(stoppedAt.error?.code, 'APPLIANCE_LOG_FINDINGS', stopped.stdout.slice(-1500))
    const refs = [...new Set<string>(stoppedAt.error.message.match(/AL-[0-9a-f]{8}/g) ?? [])]
    assert.ok(refs.length >= 1 && refs.length <= 2, stoppedAt.error.message)
    assert.equal(stoppedAt.error.message.match(/\(cluster [^)]*"Updated group"/g)?.length, refs.length, stoppedAt.error.message)
    await acknowledge('replace-lb', refs, 'a key was slipped into the balancer\'s config while the workstation was down; the config was sent again without it')
    const run = await runCeremonyAsync(args, { canaries })
    assert.equal(run.status, 0, run.stderr.slice(-2500) + run.stdout.slice(-1500))
    const summary = last(run.stdout)
    assert.deepEqual([summary.outcome.members, summary.outcome.removed, summary.outcome.provedAlone], [['fips-2', 'fips-3', 'fips-4'], 'fips-1', true])

    const [group] = await groupsNamed(admin, 'FIPS GROUP')
    const configs = Object.values((await rawGroup(group!.group_id)).hmg)
    assert.equal(configs.length, 1)
    assert.deepEqual(configs[0]!.credentials, [f2, f3, f4].map((f) => f.entry.apiKey), 'fips-1\'s key gone, every other kept, fips-4\'s added, the intruder\'s not adopted')
    assert.deepEqual([...configs[0]!.tls.ca.pinned].sort(), (await Promise.all([f2, f3, f4].map(der))).map((c) => c.toString('base64')).sort(), 'fips-1\'s certificate no longer pinned')

    const record = JSON.parse(readFileSync(summary.record, 'utf8'))
    assert.equal(verifyRecord(record, { artifactsDir: join(state, 'media') }).ok, true)
    const done = record.entries.filter((e: { kind: string }) => e.kind === 'step-done').map((e: { step: string }) => e.step)
    assert.ok(done.indexOf('prove-canary') < done.indexOf('remove-failed'), 'removed only after the proof')
    assert.equal(done.filter((s: string) => s === 'remove-failed').length, 1, 'removed once')
    const joined = record.entries.find((e: { kind: string; step: string }) => e.kind === 'step-done' && e.step === 'join-config').facts.result.planned
    assert.deepEqual(joined.keysOf, ['fips-2', 'fips-3', 'fips-1', 'fips-4'], 'the failed appliance\'s key stayed through the join')

    // fips-2 and fips-3 gone too: the canary made by the link, before the failure, decrypts through the balancer and fips-4.
    await Promise.all([f2.process.kill(), f3.process.kill()])
    const linkRecord = JSON.parse(readFileSync(linkFile, 'utf8'))
    const c = linkRecord.entries.find((e: { kind: string; step: string }) => e.kind === 'step-done' && e.step === 'canary-crypto').facts.result
    const plain = await admin.crypto.decrypt({ key: { kid: c.kid }, mode: 'GCM', cipher: Buffer.from(c.cipher, 'base64'), iv: Buffer.from(c.iv, 'base64'), tag: Buffer.from(c.tag, 'base64') })
    assert.equal(plain.toString('utf8'), CANARY_MESSAGE)
  })
})

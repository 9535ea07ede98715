/**
 * Issue 12: `ceremony rehearse --kind replace-appliance|add-appliance` in one command (replicate →
 * link → verify → fips-1 fails for good → fips-4 replaces it → prove; or → fips-3 added, proved with
 * the others down), and `ceremony verify RECORD --record EARLIER …` following the chain of records
 * back by the final digests each plan names: a good chain verifies, a tampered middle record, a
 * missing one and one that is not part of the chain are each named. With --load-balancer both
 * membership kinds rehearse through a balancer whose administrator adds the spare as a backend.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { rehearsalChain, rehearsalSpare } from '../main/ceremony/rehearsal-chain'
import { verifyRecord } from '../main/evidence'
import type { RunningCluster, RunningSimulator } from '../main/simulator'
import { CEREMONY_BIN, canaryForms, runCeremonyAsync } from './support/cli-output'
import { filesUnder } from './support/cluster-fixture'

const dir = mkdtempSync(join(tmpdir(), 'dsm-membership-rehearsal-'))
after(() => rmSync(dir, { recursive: true, force: true }))

type Summary = { ok: boolean; kind: string; record: string; finalDigest: string; outcome: Record<string, unknown>; earlier: { kind: string; ok: boolean; record: string; finalDigest: string }[] }
const last = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Summary
const doneResult = (record: { entries: { kind: string; step: string; facts: Record<string, unknown> }[] }, step: string) =>
  record.entries.find((e) => e.kind === 'step-done' && e.step === step)!.facts['result'] as Record<string, unknown>

let replace: Summary
let replaceErr = ''
/** The replacement's chain: replication, link, verification, replacement (record files). */
let files: { replication: string; link: string; verify: string; replace: string }

before(async () => {
  const r = await runCeremonyAsync(['rehearse', '--kind', 'replace-appliance', '--state', join(dir, 'replace')])
  assert.equal(r.status, 0, r.stderr.slice(-2500) + r.stdout.slice(-1500))
  replace = last(r.stdout)
  replaceErr = r.stderr
  const [replication, link, verify] = replace.earlier
  files = { replication: replication!.record, link: link!.record, verify: verify!.record, replace: replace.record }
})

describe('ceremony rehearse, membership kinds', () => {
  test('--kind replace-appliance: replicate, link, verify, fips-1 fails for good, fips-4 replaces it; the group names fips-2 and fips-4, every record verifies', () => {
    assert.equal(replace.ok, true)
    assert.equal(replace.kind, 'replace-appliance')
    assert.deepEqual(replace.earlier.map((s) => [s.kind, s.ok]), [['replicate-cmk', true], ['link-cluster', true], ['verify-cluster', true]])
    assert.match(replaceErr, /fips-1 has failed for good/)
    assert.match(replaceErr, /replicate-cmk record verified[\s\S]*link-cluster record verified[\s\S]*verify-cluster record verified[\s\S]*replace-appliance record verified/)
    assert.deepEqual([replace.outcome['members'], replace.outcome['removed'], replace.outcome['provedAlone'], replace.outcome['canaryMatch']], [['fips-2', 'fips-4'], 'fips-1', true, true])
    assert.equal(replace.outcome['addedKcv'], replace.outcome['kcv'], 'fips-4 holds the CMK the records name')

    const record = JSON.parse(readFileSync(files.replace, 'utf8'))
    const media = join(dirname(files.replace), 'media')
    assert.equal(verifyRecord(record, { artifactsDir: media }).ok, true)
    assert.deepEqual(record.plan.buildsOn, replace.earlier.map((s) => s.finalDigest), 'the plan names the three records it builds on, by final digest')
    // What the cluster said of the group after the removal, not what the plan hoped.
    assert.deepEqual(doneResult(record, 'group-afterwards')['members'], ['fips-2', 'fips-4'])
    const removed = doneResult(record, 'remove-failed')
    const fips1 = JSON.parse(readFileSync(files.link, 'utf8')).plan.appliances.find((a: { id: string }) => a.id === 'fips-1')
    assert.equal(removed['url'], `${fips1.host}:${fips1.port}`, 'the config removed is fips-1\'s')
    const destruction = doneResult(record, 'destruction-record')
    assert.deepEqual([destruction['serial'], destruction['disposition']], ['FX2200-SIM-0001', 'zeroised'])
    assert.equal(destruction['evidenceSha256'], createHash('sha256').update(readFileSync(join(media, 'fips-1-zeroisation.txt'))).digest('hex'))
  })

  test('--kind replace-appliance onboards the fresh spare through the API: its group made with the custodians the records name for fips-1, its app made; the key, with no terminal to show it on, is held and not shown', () => {
    const record = JSON.parse(readFileSync(files.replace, 'utf8'))
    assert.ok(/fips-4 fresh, onboarded through the API/.test(replaceErr), replaceErr.slice(0, 500))
    assert.equal(typeof record.plan.onboarding?.sysadmin, 'string', 'the plan onboards fips-4 through the API')
    const replication = JSON.parse(readFileSync(files.replication, 'utf8'))
    const recorded = replication.plan.participants.custodians['fips-1'] as string[]
    assert.equal(recorded.length, 3)
    assert.deepEqual(record.plan.participants.custodians['fips-4'], recorded, 'the same people as the records name')
    const group = doneResult(record, 'onboard-group') as { groupId: string; n: number; members: { email: string }[] }
    assert.deepEqual([group.groupId, group.n, group.members.map((m) => m.email)], [replace.outcome['onboardedGroup'], 2, recorded], 'P.1 made the quorum group, quorum 2 of the three')
    const app = doneResult(record, 'onboard-app')
    assert.deepEqual([app['appId'], app['groupId'], app['keyShown']], [replace.outcome['onboardedApp'], group.groupId, false], 'P.2 made the app in that group')
    assert.deepEqual(record.entries.filter((e: { kind: string }) => e.kind === 'api-key-shown'), [], 'stderr is a pipe here: the key is not shown, and nothing says it was')
  })

  test('a replace-appliance chain without its fresh spare is refused by name before anything runs; the other kinds start no spare of their own', async () => {
    let ran = 0
    const systems = { sim: { readyLine: () => { throw new Error('not read') } } as unknown as RunningSimulator, cluster: {} as RunningCluster, outage: { how: 'x', takeDown: async () => {}, bringBack: async () => {} } }
    await assert.rejects(rehearsalChain('replace-appliance', systems, async () => { ran++; return null }), { code: 'UNKNOWN_KIND', message: /needs its fresh spare/ })
    assert.equal(ran, 0)
    const sim = { appliances: [{ id: 'fips-1', custodians: [{ user: 'a@x.test' }, { user: 'b@x.test' }] }] } as unknown as RunningSimulator
    assert.deepEqual(rehearsalSpare('replace-appliance', 2, sim), { appliances: 1, fresh: true, ids: ['fips-5'], custodianUsers: ['a@x.test', 'b@x.test'] })
    for (const kind of ['add-appliance', 'verify-cluster', 'replicate-cmk'] as const) assert.equal(rehearsalSpare(kind, 1, sim), null)
  })

  // `script` gives the rehearsal a terminal, as an operator's: the key P.2 made is shown there once.
  const hasScript = spawnSync('script', ['--version']).status === 0
  test('--kind replace-appliance at a terminal: the key P.2 made is shown once on it, the log says so, and no file of the rehearsal holds it; the chain of records verifies', { skip: hasScript ? false : 'no `script` to give the rehearsal a terminal' }, async () => {
    const state = join(dir, 'replace-tty')
    const child = spawn('script', ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(CEREMONY_BIN)} rehearse --kind replace-appliance --state ${JSON.stringify(state)}`, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let terminal = ''
    child.stdout.on('data', (c: Buffer) => { terminal += c.toString() })
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve))
    clearTimeout(timer)
    assert.equal(status, 0, terminal.slice(-2500))
    const lines = terminal.split(/\r?\n/)
    const at = lines.flatMap((l, i) => (/^The API key of the app made on FIPS appliance \d \(fips-4\), shown once \(held in memory for this run; do not write it down\):$/.test(l) ? [i] : []))
    assert.equal(at.length, 1, 'shown once')
    const key = lines[at[0]! + 1]!.trim()
    assert.match(Buffer.from(key, 'base64').toString('latin1'), /^[0-9a-f-]{36}:\S+$/, 'the key as DSM gives it: base64 of app id:secret')
    const summary = last(lines.filter((l) => l.startsWith('{"ok"')).join('\n'))
    const record = JSON.parse(readFileSync(summary.record, 'utf8'))
    assert.deepEqual(record.entries.filter((e: { kind: string }) => e.kind === 'api-key-shown').map((e: { step: string; facts: Record<string, unknown> }) => [e.step, e.facts['appliance']]), [['onboard-app', 'fips-4']])
    // The canary scan: the key, its decoded app id:secret and the secret, in no file of the rehearsal.
    const kept = filesUnder(state)
    assert.ok(kept.length > 20, String(kept.length))
    for (const f of kept) {
      const text = readFileSync(f, 'latin1')
      for (const form of canaryForms([key])) assert.ok(!text.includes(form), `${f} holds the API key (${form.slice(0, 4)}…)`)
    }
    const verified = await runCeremonyAsync(['verify', summary.record, ...summary.earlier.flatMap((e) => ['--record', e.record])], { canaries: [key] })
    assert.equal(verified.status, 0, verified.stdout + verified.stderr)
    assert.match(verified.stdout, /builds on: {5}3 record\(s\), followed by final digest/)
  })

  test('--kind add-appliance: fips-3 added and proved with fips-1 and fips-2 down', async () => {
    const r = await runCeremonyAsync(['rehearse', '--kind', 'add-appliance', '--state', join(dir, 'add')])
    assert.equal(r.status, 0, r.stderr.slice(-2500) + r.stdout.slice(-1500))
    const s = last(r.stdout)
    assert.equal(s.kind, 'add-appliance')
    assert.deepEqual(s.earlier.map((e) => e.kind), ['replicate-cmk', 'link-cluster', 'verify-cluster'])
    assert.deepEqual([s.outcome['members'], s.outcome['provedAlone'], s.outcome['canaryMatch']], [['fips-1', 'fips-2', 'fips-3'], true, true])
    const record = JSON.parse(readFileSync(s.record, 'utf8'))
    assert.equal(verifyRecord(record, { artifactsDir: join(dirname(s.record), 'media') }).ok, true)
    assert.deepEqual(doneResult(record, 'prove-canary')['down'], ['fips-1', 'fips-2'])
    assert.deepEqual(doneResult(record, 'group-afterwards')['members'], ['fips-1', 'fips-2', 'fips-3'])
  })
})

/** A load-balancer rehearsal of a membership kind, its chain verified by `ceremony verify --record`; its records' plans and the join's result. */
async function rehearseBehindBalancer(kind: 'add-appliance' | 'replace-appliance', added: string) {
  const r = await runCeremonyAsync(['rehearse', '--kind', kind, '--load-balancer', '--state', join(dir, `${kind}-lb`)])
  assert.equal(r.status, 0, r.stderr.slice(-2500) + r.stdout.slice(-1500))
  const s = last(r.stdout)
  assert.equal(s.kind, kind)
  assert.deepEqual(s.earlier.map((e) => [e.kind, e.ok]), [['replicate-cmk', true], ['link-cluster', true], ['verify-cluster', true]])
  const link = JSON.parse(readFileSync(s.earlier[1]!.record, 'utf8'))
  const record = JSON.parse(readFileSync(s.record, 'utf8'))
  const lb = link.plan.loadBalancer as { host: string; port: number }
  assert.ok(lb, 'the link was through the balancer')
  assert.deepEqual(record.plan.loadBalancer, lb, `the ${kind} plan is in load-balancer mode, at the link's balancer`)
  assert.ok(!record.plan.appliances.some((a: { port: number }) => a.port === lb.port), 'the balancer is no appliance')
  // The administrator's step is said, before the ceremony starts.
  const said = r.stderr.indexOf(`REHEARSAL: the load balancer's administrator adds ${added} as a backend`)
  assert.ok(said > r.stderr.indexOf('verify-cluster record verified') && said < r.stderr.indexOf(`${kind} record verified`), r.stderr.slice(-3000))
  const joined = doneResult(record, 'join-group')
  assert.deepEqual([joined['url'], joined['hsmOrder'], joined['configId']], [`${lb.host}:${lb.port}`, null, s.outcome['configId']], 'the new appliance joined the balancer\'s one config')
  assert.equal(doneResult(record, 'join-config')['planned'] && (doneResult(record, 'join-config')['planned'] as { balanced: boolean }).balanced, true)
  const verified = await runCeremonyAsync(['verify', s.record, ...s.earlier.flatMap((e) => ['--record', e.record])])
  assert.equal(verified.status, 0, verified.stdout + verified.stderr)
  assert.match(verified.stdout, /builds on: {5}3 record\(s\), followed by final digest/)
  return { s, record, lb, stderr: r.stderr }
}

describe('ceremony rehearse --load-balancer, membership kinds', () => {
  test('--kind add-appliance --load-balancer: the balancer\'s administrator adds fips-3 as a backend, fips-3 joins the balancer\'s one config and is proved with the others down; the chain verifies', async () => {
    const { s, record } = await rehearseBehindBalancer('add-appliance', 'fips-3')
    assert.deepEqual([s.outcome['members'], s.outcome['provedAlone'], s.outcome['canaryMatch']], [['fips-1', 'fips-2', 'fips-3'], true, true])
    assert.deepEqual(doneResult(record, 'appliance-preflight')['balancer'] && (doneResult(record, 'appliance-preflight')['balancer'] as { keysOf: string[] }).keysOf, ['fips-1', 'fips-2'], 'the balancer\'s config held the group\'s keys before')
    assert.deepEqual(doneResult(record, 'prove-canary')['down'], ['fips-1', 'fips-2'])
    assert.equal(doneResult(record, 'group-afterwards')['configs'], 1, 'the group holds one config, the balancer\'s, whatever the appliances behind it')
  })

  test('--kind replace-appliance --load-balancer: fips-1 fails for good, then the balancer\'s administrator adds fips-4 as a backend; fips-4 joins the balancer\'s one config and fips-1\'s key is removed from it; the chain verifies', async () => {
    const { s, record, lb, stderr } = await rehearseBehindBalancer('replace-appliance', 'fips-4')
    assert.ok(stderr.indexOf('fips-1 has failed for good') < stderr.indexOf('adds fips-4 as a backend'), 'the replacement comes after the failure')
    assert.deepEqual([s.outcome['members'], s.outcome['removed'], s.outcome['provedAlone'], s.outcome['canaryMatch']], [['fips-2', 'fips-4'], 'fips-1', true, true])
    const removed = doneResult(record, 'remove-failed')
    assert.deepEqual([removed['url'], removed['removed']], [`${lb.host}:${lb.port}`, true], 'the failed key goes from the balancer\'s config, not a config of its own')
    assert.deepEqual(doneResult(record, 'group-afterwards')['members'], ['fips-2', 'fips-4'])
    assert.equal(doneResult(record, 'group-afterwards')['configs'], 1)
  })

  test('--load-balancer is refused for replicate-cmk, by name, and no longer for the membership kinds', async () => {
    const r = await runCeremonyAsync(['rehearse', '--kind', 'replicate-cmk', '--load-balancer'])
    assert.equal(r.status, 2)
    assert.match(r.stderr, /^--load-balancer is for link-cluster, verify-cluster, add-appliance, replace-appliance$/m)
    const bare = await runCeremonyAsync(['rehearse', '--load-balancer'])
    assert.equal(bare.status, 2, 'replicate-cmk is the default kind')
    assert.match(bare.stderr, /--load-balancer is for/)
  })
})

describe('ceremony verify --record: the chain of records', () => {
  test('a good chain verifies: each record it builds on found by its final digest and verified; without --record the records are counted, not followed', async () => {
    const r = await runCeremonyAsync(['verify', files.replace, '--record', files.replication, '--record', files.link, '--record', files.verify])
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /builds on: {5}3 record\(s\), followed by final digest/)
    for (const k of ['replicate-cmk', 'link-cluster', 'verify-cluster']) assert.match(r.stdout, new RegExp(`: ${k} `))
    // replication → link: the link's own chain, one record back.
    const link = await runCeremonyAsync(['verify', files.link, '--record', files.replication])
    assert.equal(link.status, 0, link.stdout)
    assert.match(link.stdout, /1 record\(s\), followed/)
    const alone = await runCeremonyAsync(['verify', files.replace])
    assert.equal(alone.status, 0)
    assert.match(alone.stdout, /builds on: {5}3 record\(s\), not followed \(pass --record FILE for each\)/)
  })

  test('a tampered middle record is named, by its file, as not verifying', async () => {
    const link = JSON.parse(readFileSync(files.link, 'utf8'))
    doneResult(link, 'canary-crypto')['cipher'] = Buffer.from('someone else\'s ciphertext').toString('base64')
    const tampered = join(dir, 'tampered-link.json')
    writeFileSync(tampered, JSON.stringify(link))
    const r = await runCeremonyAsync(['verify', files.replace, '--record', files.replication, '--record', tampered, '--record', files.verify])
    assert.equal(r.status, 1, r.stdout)
    assert.match(r.stdout, /^FAILED at record tampered-link\.json: RECORD_CHAIN_BROKEN: RECORD_INVALID: replace-appliance replace-rehearsal-\S+ \(the record\) builds on it: .*does not verify/m)
  })

  test('a missing record is named by the final digest the chain names', async () => {
    const r = await runCeremonyAsync(['verify', files.replace, '--record', files.replication, '--record', files.verify])
    assert.equal(r.status, 1, r.stdout)
    const linkDigest = replace.earlier[1]!.finalDigest
    assert.match(r.stdout, new RegExp(`^FAILED at record final digest ${linkDigest.slice(0, 16)}… \\(not given\\): RECORD_CHAIN_BROKEN: RECORD_MISSING`, 'm'))
  })

  test('a record the chain does not name is reported as not part of it', async () => {
    // The replacement itself is not something the verification builds on.
    const r = await runCeremonyAsync(['verify', files.verify, '--record', files.link, '--record', files.replication, '--record', files.replace])
    assert.equal(r.status, 1, r.stdout)
    assert.match(r.stdout, new RegExp(`^FAILED at record ${files.replace.split('/').at(-1)!.replace(/\./g, '\\.')}: RECORD_NOT_IN_CHAIN: no record of the chain names it`, 'm'))
    const usage = await runCeremonyAsync(['verify', files.replace, '--record'])
    assert.equal(usage.status, 2)
    assert.match(usage.stderr, /--record needs a file/)
    const unreadable = await runCeremonyAsync(['verify', files.replace, '--record', join(dir, 'no-such-record.json')])
    assert.equal(unreadable.status, 2)
    assert.match(unreadable.stderr, /cannot read .*no-such-record\.json: ENOENT/)
  })
})

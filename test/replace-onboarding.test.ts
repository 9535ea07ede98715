/**
 * Issue 12, replace-appliance with its onboarding through the API, every appliance and the cluster
 * in its own simulator process. fips-1 → fips-2 replicated and linked; fips-1 dies; fips-4 is a
 * fresh appliance (`ceremony simulate --fresh`): a system administrator and the custodians' user
 * accounts, made by its account administrators (the witnessed checklist), and nothing else.
 *
 * - The attack first: someone pre-makes a "Quorum Group" with a weaker policy on a replacement
 *   (fips-5): the onboarding refuses it by name (QUORUM_WEAKER) and makes nothing. So are a group
 *   with the exact policy made by someone else (fips-6), custodians other than the records name or
 *   without an account (fips-7), and an app of the ceremony's name made by someone else (fips-8).
 * - An appliance that keeps an app's key behind the quorum (fips-9): a named stop, then the key the
 *   custodians let the operator read is checked to be the app's and used.
 * - The replacement: the group on fips-4 is made with exactly the policy and members the earlier
 *   records show; the app's API key never appears in the journal, the log, the record, the media
 *   or the output. The run is killed between the group's creation and its result, the app's answer
 *   is lost once, and the run is killed again after the app was made: each rerun adopts what the
 *   earlier attempt made (one group, one app) and reads the key again.
 */
import assert from 'node:assert/strict'
import { readFileSync, rmSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { parsePlan } from '../main/ceremony/plan'
import { kindOf } from '../main/ceremony/registry'
import { guidanceFor } from '../main/ceremony/errors'
import { verifyRecord } from '../main/evidence'
import { AccountsApi, DsmConnection, LogsApi, UserSession, groupQuorum, type Group } from '../main/dsm'
import { spawn } from 'node:child_process'
import { CEREMONY_BIN, canaryForms, runCeremonyAsync } from './support/cli-output'
import { adminOf, clusterProcess, failedStep, filesUnder, fipsProcess, replicate, secretsOf, type ClusterProcess, type FipsProcess } from './support/cluster-fixture'
import { spawnSimulator, stopAllSimulators } from './support/sim-processes'
import { SimClient } from './support/sim-client'
import { CeremonyEngine } from '../main/ceremony/engine'
import { fileJournalStore } from '../main/ceremony/journal-file'
import { trustOf } from '../main/ceremony/plan'
import { clusterPasswordFor, readCredentialFiles } from '../main/ceremony/simulated-cluster-plan'

const dir = mkdtempSync(join(tmpdir(), 'dsm-onboard-'))
let f1: FipsProcess
let f2: FipsProcess
let f4: FipsProcess & { sysadmin: { user: string; password: string }; accountId: string }
let f5: typeof f4
let f6: typeof f4
let f7: typeof f4
let f8: typeof f4
let f9: typeof f4
let cluster: ClusterProcess
let canaries: string[]
let records: string[]
const last = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!)

/** A fresh replacement in its own process: the custodians' accounts carry the e-mails the records name. */
async function freshProcess(id: string, emails: string[], faults: string[] = [], extra: string[] = []): Promise<typeof f4> {
  const p = await spawnSimulator(['--appliances', '1', '--id', id, '--fresh', '--custodian-users', emails.join(','), '--write-config', dir, '--config-name', `${id}.json`, ...faults.flatMap((f) => ['--fault', f]), ...extra])
  const entry = p.ready.appliances[0]
  return { id, process: p, entry, file: join(dir, `${id}.json`), sysadmin: entry.sysadmin, accountId: entry.accountId }
}

async function sysadminOf(a: typeof f4): Promise<UserSession> {
  const conn = new DsmConnection({ host: a.entry.host, port: a.entry.port, trust: { spkiSha256: a.entry.spkiSha256 }, retry: { maxAttempts: 1 } })
  return UserSession.login(conn, { username: a.sysadmin.user, password: Buffer.from(a.sysadmin.password), accountId: a.accountId })
}

async function planFor(added: typeof f4, id: string): Promise<string> {
  const out = await runCeremonyAsync(['plan', '--kind', 'replace-appliance', '--appliances', `${f1.file},${f2.file},${added.file}`, '--cluster', cluster.file, ...records,
    '--added', added.id, '--failed', 'fips-1', '--failed-serial', 'FX2200-SIM-0001', '--disposition', 'zeroised', '--evidence-file', 'fips-1-zeroisation.txt', '--id', id], { canaries })
  assert.equal(out.status, 0, out.stderr)
  const plan = JSON.parse(out.stdout)
  assert.deepEqual(plan.onboarding, { sysadmin: added.sysadmin.user, accountId: added.accountId, appName: 'Key Ceremony App' }, 'a fresh replacement is onboarded through the API')
  const file = join(dir, `${id}.plan.json`)
  writeFileSync(file, out.stdout)
  const state = join(dir, 'state', id)
  mkdirSync(join(state, 'media'), { recursive: true })
  writeFileSync(join(state, 'media', 'fips-1-zeroisation.txt'), 'REHEARSAL: zeroisation report of FX2200-SIM-0001\n')
  return file
}

const runArgs = (planFile: string, added: typeof f4, id: string) => ['run', '--plan', planFile, ...[f1.file, f2.file, added.file, cluster.file].flatMap((c) => ['--credentials', c]), ...records, '--state', join(dir, 'state', id)]

before(async () => {
  ;[f1, f2, cluster] = await Promise.all([fipsProcess(dir, 'fips-1'), fipsProcess(dir, 'fips-2', { cmk: false }), clusterProcess(dir)])
  const emails = f1.entry.custodians.map((c) => c.user)
  // fips-4 holds back the answer to its first group creation and drops the one to its first app creation, after making them.
  ;[f4, f5, f6, f7, f8, f9] = await Promise.all([
    freshProcess('fips-4', emails, ['once:POST:/sys/v1/groups:stall:after-apply', 'once:POST:/sys/v1/apps:reset:after-apply']),
    freshProcess('fips-5', emails),
    freshProcess('fips-6', emails),
    freshProcess('fips-7', emails.slice(0, 2)),
    freshProcess('fips-8', emails),
    // fips-9 keeps an app's credential behind the quorum of its group.
    freshProcess('fips-9', emails, [], ['--credential-approval']),
  ])
  canaries = [...secretsOf([f1, f2], cluster), ...[f4, f5, f6, f7, f8, f9].flatMap((a) => [a.sysadmin.password, ...a.entry.custodians.map((c) => c.password)])]
  const replication = await replicate(join(dir, 'state'), [f1, f2], 'replicate-ob')
  const linkPlan = await runCeremonyAsync(['plan', '--kind', 'link-cluster', '--appliances', `${f1.file},${f2.file}`, '--cluster', cluster.file, '--record', replication.file, '--no-failover-drill', '--id', 'link-ob'], { canaries })
  writeFileSync(join(dir, 'link.plan.json'), linkPlan.stdout)
  const link = await runCeremonyAsync(['run', '--plan', join(dir, 'link.plan.json'), '--credentials', f1.file, '--credentials', f2.file, '--credentials', cluster.file, '--record', replication.file, '--state', join(dir, 'state', 'link-ob')], { canaries })
  assert.equal(link.status, 0, link.stderr.slice(-2000))
  records = ['--record', replication.file, '--record', last(link.stdout).record as string]
  await f1.process.kill() // for good
})
after(async () => {
  await stopAllSimulators()
  rmSync(dir, { recursive: true, force: true })
})

test('a weaker "Quorum Group" someone made on the replacement beforehand is refused by name, and nothing is made', async () => {
  const admin = await sysadminOf(f5)
  const api = new AccountsApi(admin)
  const custodian = (await api.users()).find((u) => u.user_email === f5.entry.custodians[0]!.user)!
  // One member, quorum of one, no password: the attacker's group.
  const planted = await admin.groups.create({ name: 'Quorum Group', description: 'Quorum group for the Cluster Master Key', approval_policy: { quorum: { n: 1, members: [{ user: custodian.user_id }], require_password: false, require_2fa: false }, protect_crypto_operations: true } })
  const planFile = await planFor(f5, 'replace-weak')
  const run = await runCeremonyAsync(runArgs(planFile, f5, 'replace-weak'), { canaries })
  assert.equal(run.status, 1, run.stderr.slice(-1500))
  assert.equal(last(run.stdout).error.code, 'QUORUM_WEAKER')
  assert.match(last(run.stdout).error.message, /quorum 1 where the records show 2; 1 member\(s\) where the records show 3; no password asked at approval/)
  assert.deepEqual(failedStep(join(dir, 'state', 'replace-weak')), { step: 'onboard-group', code: 'QUORUM_WEAKER' })
  const groups = (await admin.groups.list()).filter((g) => g.name === 'Quorum Group')
  assert.deepEqual(groups.map((g) => [g.group_id, groupQuorum(g)?.n]), [[planted.group_id, 1]], 'the planted group is left as it was, and no second one made')
  assert.deepEqual(await api.apps(), [], 'no app was made')
  await admin.logout()
})

test('a group with exactly the records\' policy, made by someone else, is not adopted either (GROUP_CONFLICT)', async () => {
  const admin = await sysadminOf(f6)
  const api = new AccountsApi(admin)
  const ids = (await api.users()).filter((u) => f6.entry.custodians.some((c) => c.user === u.user_email)).map((u) => ({ user: u.user_id }))
  await admin.groups.create({ name: 'Quorum Group', description: 'Quorum group for the Cluster Master Key', approval_policy: { quorum: { n: 2, members: ids, require_password: true, require_2fa: false }, protect_crypto_operations: true } })
  const planFile = await planFor(f6, 'replace-twin')
  const run = await runCeremonyAsync(runArgs(planFile, f6, 'replace-twin'), { canaries })
  assert.equal(run.status, 1, run.stderr.slice(-1500))
  assert.equal(last(run.stdout).error.code, 'GROUP_CONFLICT')
  assert.match(last(run.stdout).error.message, /not made by this ceremony/)
  assert.equal((await admin.groups.list()).length, 1)
  assert.deepEqual(await api.apps(), [])
  await admin.logout()
})

test('custodians other than the records name, or without an account on the replacement, are refused by name, and nothing is made', async () => {
  // fips-7's account administrators made accounts for two of the three custodians only.
  const planFile = await planFor(f7, 'replace-members')
  const run = await runCeremonyAsync(runArgs(planFile, f7, 'replace-members'), { canaries })
  assert.equal(last(run.stdout).error?.code, 'QUORUM_MEMBERS_DIFFER', run.stderr.slice(-1500))
  assert.match(last(run.stdout).error.message, /the records name .* for FIPS appliance 1 \(fips-1\)/)
  // The plan corrected to the records' three: the third has no account there.
  const plan = JSON.parse(readFileSync(planFile, 'utf8'))
  const recorded = f1.entry.custodians.map((c) => c.user)
  plan.participants.custodians['fips-7'] = recorded
  writeFileSync(planFile, JSON.stringify(plan))
  const again = await runCeremonyAsync(runArgs(planFile, f7, 'replace-members-2'), { canaries })
  assert.equal(last(again.stdout).error?.code, 'CUSTODIAN_ACCOUNT_MISSING', again.stderr.slice(-1500))
  assert.match(last(again.stdout).error.message, new RegExp(`${recorded[2]!.replace(/[.]/g, '\\.')} has no user account on FIPS appliance 3 \\(fips-7\\)`))
  const admin = await sysadminOf(f7)
  assert.deepEqual([(await admin.groups.list()).length, (await new AccountsApi(admin).apps()).length], [0, 0])
  await admin.logout()
})

test('an app of the ceremony\'s name made by someone else is refused (APP_CONFLICT) and its key never read', async () => {
  const admin = await sysadminOf(f8)
  const api = new AccountsApi(admin)
  const other = await admin.groups.create({ name: 'Other group' })
  const planted = await api.create({ name: 'Key Ceremony App', description: 'planted', groupId: other.group_id, permissions: ['ENCRYPT'] })
  const planFile = await planFor(f8, 'replace-app')
  const run = await runCeremonyAsync(runArgs(planFile, f8, 'replace-app'), { canaries })
  assert.equal(last(run.stdout).error?.code, 'APP_CONFLICT', run.stderr.slice(-1500))
  assert.deepEqual(failedStep(join(dir, 'state', 'replace-app')), { step: 'onboard-app', code: 'APP_CONFLICT' })
  assert.deepEqual((await api.apps()).map((a) => a.app_id), [planted.app_id], 'no second app')
  const messages = (await new LogsApi(admin).query({ size: 1000 })).map((e) => e._source.message)
  assert.ok(messages.some((m) => m.startsWith('Created app "Key Ceremony App"')), 'the appliance logs what it serves')
  assert.ok(!messages.some((m) => m.startsWith('Read the credential')), 'the planted app\'s credential was never read')
  await admin.logout()
})

test('an appliance that keeps the app\'s key behind the quorum: a named stop, then the key the custodians let the operator read is used', async () => {
  const planFile = await planFor(f9, 'replace-cred')
  const state = join(dir, 'state', 'replace-cred')
  const run = await runCeremonyAsync(runArgs(planFile, f9, 'replace-cred'), { canaries })
  assert.equal(last(run.stdout).error?.code, 'APP_KEY_NEEDS_APPROVAL', run.stderr.slice(-1500))
  assert.deepEqual(failedStep(state), { step: 'onboard-app', code: 'APP_KEY_NEEDS_APPROVAL' })
  // The custodians approve reading the credential (as in the DSM UI); the operator enters the key.
  const c = new SimClient({ url: `https://${f9.entry.host}:${f9.entry.port}`, spkiSha256: f9.entry.spkiSha256, certPem: `-----BEGIN CERTIFICATE-----\n${(f9.entry as unknown as { certDer: string }).certDer}\n-----END CERTIFICATE-----\n` })
  const sys = await c.userSession(f9.sysadmin.user, f9.sysadmin.password, f9.accountId)
  const apps = (await c.request('GET', '/sys/v1/apps', { auth: sys })).body as { app_id: string; name: string }[]
  assert.deepEqual(apps.map((a) => a.name), ['Key Ceremony App'], 'the app was made once')
  const direct = await c.request('GET', `/sys/v1/apps/${apps[0]!.app_id}/credential`, { auth: sys })
  assert.deepEqual([direct.status, direct.text], [403, 'This operation requires approval'])
  const req = await c.request('POST', '/sys/v1/approval_requests', { auth: sys, body: { method: 'GET', operation: `/sys/v1/apps/${apps[0]!.app_id}/credential` } })
  assert.equal(req.status, 201, req.text)
  for (const custodian of f9.entry.custodians.slice(0, 2)) {
    const s = await c.userSession(custodian.user, custodian.password, f9.accountId)
    const ok = await c.request('POST', `/sys/v1/approval_requests/${req.body.request_id}/approve`, { auth: s, body: { password: custodian.password } })
    assert.equal(ok.status, 200, ok.text)
  }
  const result = await c.request('POST', `/sys/v1/approval_requests/${req.body.request_id}/result`, { auth: sys })
  const apiKey = Buffer.from(`${apps[0]!.app_id}:${result.body.body.credential.secret}`).toString('base64')
  const entered = JSON.parse(readFileSync(f9.file, 'utf8'))
  entered.appliances[0].apiKey = apiKey
  writeFileSync(f9.file, JSON.stringify(entered))
  // `ceremony run` stops at a refused step; the operator runs it again (as on the run screen) with the key entered.
  const set = readCredentialFiles([f1.file, f2.file, f9.file, cluster.file].map((f) => ({ name: f, text: readFileSync(f, 'utf8') })))
  const plan = parsePlan(JSON.parse(readFileSync(planFile, 'utf8')))
  const passwords = clusterPasswordFor(set, plan)
  const engine = await CeremonyEngine.open({
    plan, stateDir: state, mediaDir: join(state, 'media'), openJournalStore: () => fileJournalStore(state), operator: plan.participants.operator,
    connect: (a) => new DsmConnection({ host: a.host, port: a.port, trust: trustOf(a) }),
    apiKey: (id) => { const k = set.credentials.appliances.find((a) => a.id === id)?.apiKey; return k ? Buffer.from(k) : undefined },
    password: (id) => (passwords.has(id) ? Buffer.from(passwords.get(id)!) : undefined),
    records: () => records.filter((r) => r !== '--record').map((f) => JSON.parse(readFileSync(f, 'utf8')) as unknown),
    madeApiKey: () => assert.fail('no key is made or read: the entered one is used'),
  })
  try {
    await engine.runStep('onboard-app')
    assert.equal(engine.record('onboard-app').state, 'done')
  } finally {
    await engine.shutdown()
  }
  const logged = readFileSync(join(state, 'audit-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; step: string; facts: { result?: { appId: string; keyShown: boolean }; finding?: string } })
  const done = logged.find((e) => e.kind === 'step-done' && e.step === 'onboard-app')!
  assert.deepEqual([done.facts.result!.appId, done.facts.result!.keyShown], [apps[0]!.app_id, false])
  assert.ok(logged.some((e) => e.kind === 'reconcile' && /keeps the credential of the app .* behind the quorum; the API key entered for it is this app's/.test(e.facts.finding ?? '')))
  assert.equal(((await c.request('GET', '/sys/v1/apps', { auth: sys })).body as unknown[]).length, 1, 'still one app')
  for (const file of filesUnder(state)) assert.ok(!readFileSync(file, 'latin1').includes(result.body.body.credential.secret), `${file} holds the secret`)
})

test('the plan: the system administrator is no custodian of the group they make, and the new appliance\'s custodians are named', async () => {
  const plan = JSON.parse(readFileSync(await planFor(f6, 'replace-plan'), 'utf8'))
  assert.deepEqual(kindOf(parsePlan(plan)).signIns!(parsePlan(plan)).map((x) => [x.id, x.user, x.port]), [['cluster', plan.cluster.admin, cluster.ready.port], ['onboarding-sysadmin', f6.sysadmin.user, f6.entry.port]])
  assert.deepEqual(kindOf(parsePlan(plan)).steps(parsePlan(plan)).slice(0, 4).map((x) => `${x.scriptId} ${x.id}`), ['P.0 onboarding', 'P.1 onboard-group', 'P.2 onboard-app', 'P.3 appliance-preflight'])
  const custodians = plan.participants.custodians['fips-6']
  assert.throws(() => parsePlan({ ...plan, onboarding: { ...plan.onboarding, sysadmin: custodians[0] } }), /ROLE_CONFLICT: the system administrator who makes the quorum group/)
  const { 'fips-6': _gone, ...others } = plan.participants.custodians
  assert.throws(() => parsePlan({ ...plan, participants: { ...plan.participants, custodians: others } }), /name the custodians of "fips-6"/)
  for (const code of ['QUORUM_WEAKER', 'QUORUM_MEMBERS_DIFFER', 'CUSTODIAN_ACCOUNT_MISSING', 'GROUP_CONFLICT', 'APP_CONFLICT', 'APP_NEEDS_APPROVAL', 'API_KEY_NOT_HELD', 'API_KEY_MISSING']) {
    assert.notEqual(guidanceFor(code).next, guidanceFor('NO_SUCH_CODE').next, `${code} has its own guidance`)
  }
  const { onboarding: _o, ...witnessedOnly } = plan
  assert.deepEqual(kindOf(parsePlan(witnessedOnly)).steps(parsePlan(witnessedOnly)).slice(0, 2).map((x) => x.id), ['onboarding', 'appliance-preflight'], 'without onboarding the group and the app are witnessed, as before')
})

test('fips-4 is onboarded through the API: the group as the records show it, the key never recorded, lost answers and a kill adopted', async () => {
  const planFile = await planFor(f4, 'replace-ob')
  const state = join(dir, 'state', 'replace-ob')
  const outputs: string[] = []
  const attempt = async (env: Record<string, string> = {}) => {
    const r = await runCeremonyAsync(runArgs(planFile, f4, 'replace-ob'), { canaries, env: { ...process.env, ...env } })
    outputs.push(r.stdout, r.stderr)
    return r
  }
  // 1. A crash between the group's creation and its result: the appliance made the group and holds
  //    the answer back; the ceremony process is killed as soon as the group is there.
  const admin = await sysadminOf(f4)
  const child = spawn(process.execPath, [CEREMONY_BIN, ...runArgs(planFile, f4, 'replace-ob')], { stdio: ['ignore', 'pipe', 'pipe'] })
  let crashed = ''
  child.stdout!.on('data', (c: Buffer) => { crashed += c.toString() })
  child.stderr!.on('data', (c: Buffer) => { crashed += c.toString() })
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)))
  const deadline = Date.now() + 60_000
  while (!(await admin.groups.list()).some((g) => g.name === 'Quorum Group')) {
    assert.ok(Date.now() < deadline && child.exitCode === null, `the group was never made: ${crashed.slice(-1500)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  child.kill('SIGKILL')
  assert.equal(await exited, 'SIGKILL')
  outputs.push(crashed)
  const logged = readFileSync(join(state, 'audit-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; step: string })
  assert.deepEqual(logged.filter((e) => e.step === 'onboard-group').map((e) => e.kind), ['step-intent'], 'the group step was left with its intent only')
  // 2. The rerun adopts the group (no second one); the app is made but its answer is lost (the
  //    driver looks again and adopts it); the run is killed once the app's result is journaled.
  const second = await attempt({ CEREMONY_KILL_AT: 'onboard-app@after-done' })
  assert.equal(second.signal, 'SIGKILL', second.stderr.slice(-1500))
  // 3. The key lost with the process is read again before the next step needs it; the ceremony completes.
  const run = await attempt()
  assert.equal(run.status, 0, run.stderr.slice(-2500) + run.stdout.slice(-1500))
  const summary = last(run.stdout)
  assert.deepEqual([summary.outcome.members, summary.outcome.removed], [['fips-2', 'fips-4'], 'fips-1'])
  assert.equal(summary.outcome.addedKcv, summary.outcome.kcv)

  // One group and one app on fips-4, made by this ceremony.
  const api = new AccountsApi(admin)
  const groups: Group[] = (await admin.groups.list()).filter((g) => g.name === 'Quorum Group')
  assert.equal(groups.length, 1, 'one quorum group')
  const apps = await api.apps()
  assert.deepEqual(apps.map((a) => a.name), ['Key Ceremony App'], 'one app')
  assert.deepEqual(summary.outcome.onboardedGroup, groups[0]!.group_id)
  assert.deepEqual(summary.outcome.onboardedApp, apps[0]!.app_id)

  // The group's policy is the records': 2 of the 3 custodians the replication record names for fips-1, password at approval.
  const q = groupQuorum(groups[0]!)!
  const users = await api.users()
  const emailOf = (id: string | null | undefined) => users.find((u) => u.user_id === id)?.user_email
  const replicationRecord = JSON.parse(readFileSync(records[1]!, 'utf8'))
  assert.deepEqual([q.n, q.require_password, groups[0]!.approval_policy?.protect_crypto_operations], [2, true, true])
  assert.deepEqual(q.members.map((m) => emailOf(m.user)).sort(), [...replicationRecord.plan.participants.custodians['fips-1']].sort())
  const record = JSON.parse(readFileSync(summary.record, 'utf8'))
  assert.equal(verifyRecord(record, { artifactsDir: join(state, 'media') }).ok, true, 'the record verifies')
  const done = (step: string) => record.entries.find((e: { kind: string; step: string }) => e.kind === 'step-done' && e.step === step).facts.result
  assert.deepEqual([done('onboard-group').n, done('onboard-group').members.length, done('onboard-group').baseline], [2, 3, { n: 2, of: 3, approveWithLogin: true }])
  assert.deepEqual([done('onboard-app').appId, done('onboard-app').keyShown], [apps[0]!.app_id, false], 'the record holds the app id, and that the key was not shown (no terminal)')
  const found = record.entries.filter((e: { kind: string }) => e.kind === 'reconcile').map((e: { facts: { finding: string } }) => e.facts.finding).join('\n')
  assert.match(found, /quorum group "Quorum Group" this ceremony made before the interruption is there exactly as intended/)
  assert.match(found, /the app "Key Ceremony App" \(.*\) this ceremony made before the interruption was adopted; its API key was read again/)
  assert.match(found, /was read again after the restart \(held in memory, not shown\)/)

  // The API key: in no file of the state folder (journal, log, record, media) and in no output.
  const key = await api.apiKey(apps[0]!.app_id)
  const forms = canaryForms([key.toString('utf8')])
  assert.equal(forms.length, 3, 'the key, its app id and secret, and the secret alone')
  for (const file of filesUnder(state)) {
    const text = readFileSync(file, 'latin1')
    for (const f of forms) assert.ok(!text.includes(f), `${file} holds the API key (${f.slice(0, 4)}…)`)
  }
  for (const text of outputs) for (const f of forms) assert.ok(!text.includes(f), 'the output holds the API key')
  key.fill(0)
  await admin.logout()
})

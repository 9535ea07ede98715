// A fresh replacement appliance (`ceremony simulate --fresh`) and the calls its onboarding makes as
// the system administrator: ListUsers, CreateGroup with a quorum approval_policy, CreateApp,
// GetAppCredential. Every request and answer is checked against the vendor's OpenAPI document
// (SimClient), each call is an entry of the appliance's own log, and no log entry carries the secret.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startSimulator, type RunningSimulator, type SimulatedAppliance } from '../main/simulator'
import { AccountsApi, DsmConnection, UserSession } from '../main/dsm'
import { validateRequest } from './support/openapi'
import { SimClient } from './support/sim-client'
import { parseArgs } from '../main/cli/simulate'

describe('a fresh appliance onboarded through the API', () => {
  let sim: RunningSimulator
  let a: SimulatedAppliance
  let c: SimClient
  let admin: string
  const emails = ['alice@corp.example', 'bob@corp.example', 'carol@corp.example']

  before(async () => {
    sim = await startSimulator({ appliances: 1, ids: ['fips-4'], fresh: true, custodianUsers: emails })
    a = sim.appliances[0]!
    c = new SimClient(a)
    admin = await c.userSession(a.sysadmin!.user, a.sysadmin!.password, a.accountId)
  })
  after(() => sim.close())

  it('starts with the administrator and the custodians\' accounts only: no group, no app, no key, no API key in the ready line', async () => {
    const ready = JSON.parse(sim.readyLine()).appliances[0]
    assert.equal(ready.apiKey, undefined)
    assert.deepEqual(ready.sysadmin.user, 'sysadmin@fips-4.dsm-sim.test')
    assert.deepEqual(ready.custodians.map((x: { user: string }) => x.user), emails)
    assert.deepEqual((await c.request('GET', '/sys/v1/groups', { auth: admin })).body, [])
    assert.deepEqual((await c.request('GET', '/sys/v1/apps', { auth: admin })).body, [])
    const users = (await c.request('GET', '/sys/v1/users', { auth: admin })).body as { user_email: string }[]
    assert.deepEqual(users.map((u) => u.user_email).sort(), [...emails, 'sysadmin@fips-4.dsm-sim.test'].sort())
  })

  it('makes the quorum group and the app; the credential makes a working API key; every call is in the log, the secret in none', async () => {
    const users = (await c.request('GET', '/sys/v1/users', { auth: admin })).body as { user_email: string; user_id: string }[]
    const members = users.filter((u) => emails.includes(u.user_email)).map((u) => ({ user: u.user_id }))
    const g = await c.request('POST', '/sys/v1/groups', { auth: admin, body: { name: 'Quorum Group', description: 'made by test', approval_policy: { quorum: { n: 2, members, require_password: true, require_2fa: false }, protect_crypto_operations: true } } })
    assert.equal(g.status, 200, g.text)
    assert.deepEqual([g.body.approval_policy.quorum.n, g.body.approval_policy.quorum.members.length, g.body.approval_policy.protect_crypto_operations], [2, 3, true])
    const app = await c.request('POST', '/sys/v1/apps', { auth: admin, body: { name: 'Key Ceremony App', description: 'd', app_type: 'default', role: 'crypto', add_groups: { [g.body.group_id]: ['ENCRYPT', 'WRAPKEY', 'AUDIT'] }, default_group: g.body.group_id } })
    assert.equal(app.status, 200, app.text)
    assert.deepEqual([app.body.default_group, app.body.groups[g.body.group_id]], [g.body.group_id, ['ENCRYPT', 'WRAPKEY', 'AUDIT']])
    const again = await c.request('POST', '/sys/v1/apps', { auth: admin, body: { name: 'Key Ceremony App', add_groups: { [g.body.group_id]: [] } } })
    assert.equal(again.status, 409, 'the name is unique within the account')
    const cred = await c.request('GET', `/sys/v1/apps/${app.body.app_id}/credential`, { auth: admin })
    assert.equal(cred.status, 200, cred.text)
    const apiKey = Buffer.from(`${app.body.app_id}:${cred.body.credential.secret}`).toString('base64')
    const session = await c.appSession(apiKey)
    const seen = await c.request('GET', '/sys/v1/groups', { auth: session })
    assert.deepEqual(seen.body.map((x: { name: string }) => x.name), ['Quorum Group'])
    // Only an account administrator reads a credential: the app itself is refused.
    assert.equal((await c.request('GET', `/sys/v1/apps/${app.body.app_id}/credential`, { auth: session, validate: false })).status, 403)

    const hits = (await c.request('GET', '/sys/v1/logs?size=1000', { auth: session })).body.hits as { _source: { message: string; actor_id: string; object_id: string } }[]
    const messages = hits.map((h) => h._source.message)
    for (const m of ['Created group', 'Created app "Key Ceremony App"', 'Read the credential of app "Key Ceremony App"']) assert.ok(messages.some((x) => x.startsWith(m)), `${m} is logged: ${messages.join(' | ')}`)
    assert.ok(hits.some((h) => h._source.message.startsWith('Read the credential') && h._source.object_id === app.body.app_id && h._source.actor_id === users.find((u) => u.user_email === 'sysadmin@fips-4.dsm-sim.test')!.user_id))
    assert.ok(!JSON.stringify(hits).includes(cred.body.credential.secret), 'no log entry carries the secret')
  })

  it('refuses by name what the vendor would: an unknown member, a bad permission, an app outside any group', async () => {
    const bad = await c.request('POST', '/sys/v1/groups', { auth: admin, body: { name: 'G2', approval_policy: { quorum: { n: 1, members: [{ user: '6d5c1a8e-3f5e-4a7e-9b0a-1c2d3e4f5a6b' }] } } } })
    assert.equal(bad.status, 400)
    assert.match(bad.text, /user .* does not exist/)
    const perm = await c.request('POST', '/sys/v1/apps', { auth: admin, body: { name: 'A2', add_groups: { '6d5c1a8e-3f5e-4a7e-9b0a-1c2d3e4f5a6b': ['ENCRYPT'] } } })
    assert.equal(perm.status, 400)
    const none = await c.request('POST', '/sys/v1/apps', { auth: admin, body: { name: 'A3' } })
    assert.equal(none.status, 400)
    assert.match(none.text, /add_groups/)
  })

  it('the product\'s own client sends what the OpenAPI document describes (ListUsers, CreateGroup with a quorum, CreateApp, GetAppCredential)', async () => {
    const sent: { method: string; path: string; body: unknown }[] = []
    const conn = new DsmConnection({ host: a.host, port: a.port, trust: { spkiSha256: a.spkiSha256 }, retry: { maxAttempts: 1 }, onRequest: (e) => void sent.push({ method: e.method, path: e.path, body: e.body }) })
    const session = await UserSession.login(conn, { username: a.sysadmin!.user, password: Buffer.from(a.sysadmin!.password), accountId: a.accountId })
    const api = new AccountsApi(session)
    const members = (await api.users()).filter((u) => emails.includes(u.user_email)).map((u) => ({ user: u.user_id }))
    const group = await session.groups.create({ name: 'Client Group', description: 'd', approval_policy: { quorum: { n: 2, members, require_password: true, require_2fa: false }, protect_crypto_operations: true } })
    const app = await api.create({ name: 'Client App', description: 'd', groupId: group.group_id, permissions: ['ENCRYPT', 'AUDIT'] })
    assert.equal(await api.appByName('Client App').then((x) => x?.app_id), app.app_id)
    const key = await api.apiKey(app.app_id)
    assert.match(Buffer.from(key.toString('utf8'), 'base64').toString('utf8'), new RegExp(`^${app.app_id}:[A-Za-z0-9_-]{86}$`))
    key.fill(0)
    await session.logout()
    for (const r of sent.filter((x) => x.path.startsWith('/sys/v1/users') || x.path.startsWith('/sys/v1/apps') || x.path.startsWith('/sys/v1/groups'))) validateRequest(r.method, r.path, r.body)
    assert.deepEqual(sent.filter((x) => x.method === 'POST' && x.path === '/sys/v1/apps').map((x) => Object.keys(x.body as object).sort()), [['add_groups', 'app_type', 'default_group', 'description', 'name', 'role']])
  })

  it('ceremony simulate: --fresh, and --custodian-users only with it for one appliance', () => {
    assert.deepEqual(parseArgs(['--appliances', '1', '--id', 'fips-4', '--fresh', '--custodian-users', 'a@x.test,b@x.test']).options.custodianUsers, ['a@x.test', 'b@x.test'])
    assert.throws(() => parseArgs(['--appliances', '1', '--custodian-users', 'a@x.test']), /--custodian-users needs --fresh and --appliances 1/)
    assert.throws(() => parseArgs(['--appliances', '2', '--fresh', '--custodian-users', 'a@x.test']), /--custodian-users needs --fresh and --appliances 1/)
  })
})

// The simulator's API surface: sessions, sobjects, names, key_ops and the approval gate, each
// response checked against the vendor's OpenAPI document by SimClient.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startSimulator, type RunningSimulator, type SimulatedAppliance } from '../main/simulator'
import { SimClient, pemBody, vector } from './support/sim-client'
import { validateResponse } from './support/openapi'

let sim: RunningSimulator
let a: SimulatedAppliance
let c: SimClient
let app: string // Authorization header of an app session
let clock = Date.now()

before(async () => {
  sim = await startSimulator({ appliances: 2, sessionTtlSeconds: 60, now: () => clock })
  a = sim.appliances[0]!
  c = new SimClient(a)
  app = await c.appSession(a.apiKey)
})
after(() => sim.close())

const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`

describe('appliances', () => {
  it('are separate: own port, certificate, account, credentials; CMK only on the first', () => {
    const [x, y] = sim.appliances
    assert.ok(x && y)
    assert.equal(x.id, 'fips-1')
    assert.equal(y.id, 'fips-2')
    assert.notEqual(x.port, y.port)
    assert.match(x.url, /^https:\/\/127\.0\.0\.1:\d+$/)
    assert.notEqual(x.spkiSha256, y.spkiSha256)
    assert.match(x.spkiSha256, /^[0-9a-f]{64}$/)
    assert.notEqual(x.apiKey, y.apiKey)
    assert.equal(x.cmkName, 'cluster-master-key')
    assert.equal(y.cmkName, undefined)
    assert.deepEqual(y.state.sobjects(), [])
    const cmk = x.state.sobjects()
    assert.equal(cmk.length, 1)
    assert.equal(cmk[0]?.obj_type, 'AES')
    assert.equal(cmk[0]?.key_size, 256)
    assert.ok(cmk[0]?.key_ops.includes('EXPORT'))
    assert.equal(cmk[0]?.group_id, x.groupId)
    assert.equal(x.custodians.length, 3)
    assert.equal(new Set(x.custodians.map((u) => u.user)).size, 3)
    assert.equal(x.quorum, 2)
  })

  it('API key is base64 of "<app uuid>:<secret>"', () => {
    const decoded = Buffer.from(a.apiKey, 'base64').toString('utf8')
    const [id, secret] = [decoded.slice(0, 36), decoded.slice(37)]
    assert.equal(decoded[36], ':')
    assert.equal(id, a.appId)
    assert.match(secret, /^[A-Za-z0-9_-]{86}$/)
  })

  it('version (FIPS) and health need no credentials', async () => {
    const v = await c.request('GET', '/sys/v1/version')
    assert.equal(v.status, 200)
    assert.equal(v.body.fips_level, 3)
    assert.ok(v.headers['date'])
    const h = await c.request('GET', '/sys/v1/health')
    assert.equal(h.status, 204)
    assert.equal(h.text, '')
  })

  it('version gives the plugins digest only when asked for detailed FIPS info (VersionParams), both answers to the document', async () => {
    const plain = await c.request('GET', '/sys/v1/version')
    assert.equal(plain.body.plugins_digest, undefined)
    const detailed = await c.request('GET', '/sys/v1/version?detailed_fips_info=true')
    assert.match(String(detailed.body.plugins_digest), /^[A-Za-z0-9+/]+=*$/)
    assert.equal(detailed.body.server_mode, 'Sgx')
    validateResponse('GET', '/sys/v1/version', 200, plain.body)
    validateResponse('GET', '/sys/v1/version?detailed_fips_info=true', 200, detailed.body)
  })

  it('a client that pins another SPKI does not get through', async () => {
    const wrong = new SimClient({ ...a, spkiSha256: sim.appliances[1]!.spkiSha256 })
    await assert.rejects(wrong.request('GET', '/sys/v1/version'), /SPKI pin mismatch/)
  })
})

describe('sessions', () => {
  it('app auth returns a Bearer token with expires_in and the app id', async () => {
    const r = await c.request('POST', '/sys/v1/session/auth', { auth: `Basic ${a.apiKey}` })
    assert.equal(r.status, 200)
    assert.equal(r.body.token_type, 'Bearer')
    assert.equal(r.body.expires_in, 60)
    assert.equal(r.body.entity_id, a.appId)
    assert.match(r.body.access_token, /^[A-Za-z0-9_-]{86}$/)
  })

  it('the API key also works directly on crypto calls', async () => {
    const r = await c.request('POST', '/crypto/v1/keys/info', { auth: `Basic ${a.apiKey}`, body: { name: 'cluster-master-key' } })
    assert.equal(r.status, 200)
    assert.equal(r.body.name, 'cluster-master-key')
  })

  it('wrong credentials, no credentials and unknown tokens are 401 with a text body', async () => {
    const decoded = Buffer.from(a.apiKey, 'base64').toString()
    const bad = await c.request('POST', '/sys/v1/session/auth', { auth: basic(`${decoded}x`) })
    assert.equal(bad.status, 401)
    assert.match(String(bad.headers['content-type']), /^text\/plain/)
    const none = await c.request('GET', '/crypto/v1/keys')
    assert.equal(none.status, 401)
    const unknown = await c.request('GET', '/crypto/v1/keys', { auth: 'Bearer nope' })
    assert.equal(unknown.status, 401)
    assert.equal(unknown.body, 'Invalid access token')
  })

  it('a user session needs select_account before account calls', async () => {
    const u = a.custodians[0]!
    const r = await c.request('POST', '/sys/v1/session/auth', { auth: basic(`${u.user}:${u.password}`) })
    assert.equal(r.status, 200)
    assert.equal(r.body.entity_id, u.userId)
    const auth = `Bearer ${r.body.access_token as string}`
    const before = await c.request('GET', '/crypto/v1/keys', { auth })
    assert.equal(before.status, 401)
    assert.match(before.body, /operation requires an account to be selected/)
    const wrongAcct = await c.request('POST', '/sys/v1/session/select_account', { auth, body: { acct_id: sim.appliances[1]!.accountId } })
    assert.equal(wrongAcct.status, 403)
    const sel = await c.request('POST', '/sys/v1/session/select_account', { auth, body: { acct_id: a.accountId } })
    assert.equal(sel.status, 200)
    const after = await c.request('GET', '/crypto/v1/keys', { auth })
    assert.equal(after.status, 200)
  })

  it('user credentials cannot be used directly on API calls', async () => {
    const u = a.custodians[0]!
    const r = await c.request('GET', '/crypto/v1/keys', { auth: basic(`${u.user}:${u.password}`) })
    assert.equal(r.status, 401)
  })

  it('terminate ends the session (204, then 401); refresh keeps it alive (204)', async () => {
    const s = await c.appSession(a.apiKey)
    assert.equal((await c.request('POST', '/sys/v1/session/refresh', { auth: s })).status, 204)
    assert.equal((await c.request('POST', '/sys/v1/session/terminate', { auth: s })).status, 204)
    assert.equal((await c.request('GET', '/crypto/v1/keys', { auth: s })).status, 401)
  })

  it('a session expires after expires_in seconds idle; use and refresh push expiry back', async () => {
    const s = await c.appSession(a.apiKey)
    clock += 50_000
    assert.equal((await c.request('POST', '/sys/v1/session/refresh', { auth: s })).status, 204)
    clock += 50_000 // 100 s since login, 50 s since last use
    assert.equal((await c.request('GET', '/crypto/v1/keys', { auth: s })).status, 200)
    clock += 60_000
    const r = await c.request('GET', '/crypto/v1/keys', { auth: s })
    assert.equal(r.status, 401)
    assert.equal(r.body, 'Access token has expired')
    app = await c.appSession(a.apiKey)
  })
})

describe('accounts, groups, apps', () => {
  it('the quorum group carries approval_policy: 2 of the 3 custodians, password required', async () => {
    const r = await c.request('GET', `/sys/v1/groups/${a.groupId}`, { auth: app })
    assert.equal(r.status, 200)
    assert.equal(r.body.name, 'Quorum Group')
    const q = r.body.approval_policy.quorum
    assert.equal(q.n, 2)
    assert.equal(q.require_password, true)
    assert.deepEqual(q.members.map((m: { user: string }) => m.user).sort(), a.custodians.map((u) => u.userId).sort())
    assert.equal(r.body.approval_policy.protect_crypto_operations, true)
    const list = await c.request('GET', '/sys/v1/groups', { auth: app })
    assert.deepEqual(list.body.map((g: { group_id: string }) => g.group_id), [a.groupId])
  })

  it('the app is in the group with the permissions the ceremony needs', async () => {
    const r = await c.request('GET', `/sys/v1/apps/${a.appId}`, { auth: app })
    assert.equal(r.status, 200)
    const perms: string[] = r.body.groups[a.groupId]
    for (const p of ['WRAPKEY', 'UNWRAPKEY', 'EXPORT', 'CREATE_SOBJECTS', 'DELETE_SOBJECTS']) assert.ok(perms.includes(p), p)
    assert.equal(r.body.default_group, a.groupId)
  })

  it('accounts list holds the one account', async () => {
    const r = await c.request('GET', '/sys/v1/accounts', { auth: app })
    assert.deepEqual(r.body.map((x: { acct_id: string }) => x.acct_id), [a.accountId])
    const one = await c.request('GET', `/sys/v1/accounts/${a.accountId}`, { auth: app })
    assert.equal(one.body.acct_id, a.accountId)
  })

  it('an administrator can create a group with a policy; apps cannot', async () => {
    const u = a.custodians[0]!
    const admin = await c.userSession(u.user, u.password, a.accountId)
    const body = { name: 'Second Group', approval_policy: { quorum: { n: 1, members: [{ user: u.userId }] }, protect_crypto_operations: true } }
    const r = await c.request('POST', '/sys/v1/groups', { auth: admin, body })
    assert.equal(r.status, 200)
    assert.equal(r.body.approval_policy.quorum.n, 1)
    assert.equal((await c.request('POST', '/sys/v1/groups', { auth: admin, body })).status, 409)
    assert.equal((await c.request('POST', '/sys/v1/groups', { auth: app, body: { name: 'x' } })).status, 403)
    const bad = await c.request('POST', '/sys/v1/groups', { auth: admin, body: { name: 'bad', approval_policy: { quorum: { n: 3, members: [{ user: u.userId }] } } } })
    assert.equal(bad.status, 400)
  })
})

describe('security objects', () => {
  it('generate AES: 201, kcv, EXPORT only when asked', async () => {
    const r = await c.request('POST', '/crypto/v1/keys', { auth: app, body: { name: 'aes-default', obj_type: 'AES', key_size: 128 } })
    assert.equal(r.status, 201)
    assert.match(r.body.kcv, /^[0-9a-f]{6}$/)
    assert.equal(r.body.key_ops.includes('EXPORT'), false)
    assert.equal(r.body.group_id, a.groupId)
    assert.equal(r.body.origin, 'FortanixHSM')
    assert.deepEqual(r.body.creator, { app: a.appId })
    const e = await c.request('POST', '/crypto/v1/keys', { auth: app, body: { name: 'aes-export', obj_type: 'AES', key_size: 256, key_ops: ['EXPORT', 'ENCRYPT'] } })
    assert.deepEqual(e.body.key_ops, ['EXPORT', 'ENCRYPT'])
    assert.equal(e.body.never_exportable, false)
  })

  it('generate RSA-2048: pub_key is a SubjectPublicKeyInfo of the right size', async () => {
    const r = await c.request('POST', '/crypto/v1/keys', { auth: app, body: { name: 'rsa-gen', obj_type: 'RSA', rsa: { key_size: 2048 }, key_ops: ['UNWRAPKEY', 'DECRYPT', 'APPMANAGEABLE'] } })
    assert.equal(r.status, 201)
    assert.equal(r.body.key_size, 2048)
    assert.equal(r.body.public_only, false)
    const { createPublicKey } = await import('node:crypto')
    const pub = createPublicKey({ key: Buffer.from(r.body.pub_key, 'base64'), format: 'der', type: 'spki' })
    assert.equal(pub.asymmetricKeyDetails?.modulusLength, 2048)
    assert.equal(pub.asymmetricKeyDetails?.publicExponent, 65537n)
  })

  it('bad generate requests are 400 with a message naming the problem', async () => {
    const cases: [unknown, RegExp][] = [
      [{ name: 'x1', obj_type: 'AES', key_size: 100 }, /AES key size/],
      [{ name: 'x2', obj_type: 'RSA', key_size: 1024 }, /FIPS mode/],
      [{ name: 'x3', obj_type: 'AES', key_size: 256, key_ops: ['SIGN'] }, /SIGN is not valid for AES/],
      [{ name: 'x4', obj_type: 'EC', elliptic_curve: 'NistP256' }, /not supported/],
      [{ obj_type: 'AES', key_size: 256 }, /name/],
    ]
    for (const [body, msg] of cases) {
      const r = await c.request('POST', '/crypto/v1/keys', { auth: app, body })
      assert.equal(r.status, 400, JSON.stringify(body))
      assert.match(r.body, msg)
    }
    assert.equal(a.state.sobjects().some((s) => /^x\d$/.test(s.name)), false)
  })

  it('names are unique: 409 "sobject already exists" for generate and import', async () => {
    const r = await c.request('POST', '/crypto/v1/keys', { auth: app, body: { name: 'cluster-master-key', obj_type: 'AES', key_size: 256 } })
    assert.equal(r.status, 409)
    assert.equal(r.body, 'sobject already exists')
    const imp = await c.request('PUT', '/crypto/v1/keys', { auth: app, body: { name: 'cluster-master-key', obj_type: 'AES', value: Buffer.alloc(32).toString('base64') } })
    assert.equal(imp.status, 409)
    assert.equal(a.state.sobjects().filter((s) => s.name === 'cluster-master-key').length, 1)
  })

  it('import AES and RSA public (vector): 201, kcv and fingerprint match the vectors', async () => {
    const aes = await c.request('PUT', '/crypto/v1/keys', { auth: app, body: { name: 'vector-cmk', obj_type: 'AES', value: Buffer.from(vector('cmk.aes256.hex'), 'hex').toString('base64'), key_ops: ['EXPORT', 'ENCRYPT'] } })
    assert.equal(aes.status, 201)
    assert.equal(aes.body.kcv, vector('cmk.aes256.kcv').toLowerCase(), 'lowercase, as the vendor prints it')
    assert.equal(aes.body.origin, 'External')
    const pub = await c.request('PUT', '/crypto/v1/keys', { auth: app, body: { name: 'vector-pub', obj_type: 'RSA', value: pemBody(vector('transfer-rsa2048.pub.pem')), key_ops: ['WRAPKEY', 'ENCRYPT'] } })
    assert.equal(pub.status, 201)
    assert.equal(pub.body.public_only, true)
    assert.equal(pub.body.pub_key, pemBody(vector('transfer-rsa2048.pub.pem')))
    const summary = a.state.sobjects().find((s) => s.name === 'vector-pub')
    assert.equal(summary?.spkiSha256, vector('transfer-rsa2048.spki-sha256.hex'))
  })

  it('a public key cannot be given private-key operations', async () => {
    const r = await c.request('PUT', '/crypto/v1/keys', { auth: app, body: { name: 'pub-unwrap', obj_type: 'RSA', value: pemBody(vector('transfer-rsa2048.pub.pem')), key_ops: ['UNWRAPKEY'] } })
    assert.equal(r.status, 400)
    assert.match(r.body, /UNWRAPKEY needs a private key/)
  })

  it('info by kid and by name, GET by kid, list with a name filter', async () => {
    const byName = await c.request('POST', '/crypto/v1/keys/info', { auth: app, body: { name: 'cluster-master-key' } })
    assert.equal(byName.status, 200)
    const kid: string = byName.body.kid
    const byKid = await c.request('POST', '/crypto/v1/keys/info', { auth: app, body: { kid } })
    assert.deepEqual(byKid.body, byName.body)
    const get = await c.request('GET', `/crypto/v1/keys/${kid}`, { auth: app })
    assert.deepEqual(get.body, byName.body)
    const list = await c.request('GET', `/crypto/v1/keys?name=${encodeURIComponent('cluster-master-key')}`, { auth: app })
    assert.equal(list.body.length, 1)
    assert.equal(list.body[0].kid, kid)
    assert.equal(list.body[0].kcv, undefined, 'kcv only with show_kcv')
    const withKcv = await c.request('GET', '/crypto/v1/keys?name=cluster-master-key&show_kcv=true', { auth: app })
    assert.equal(withKcv.body[0].kcv, byName.body.kcv)
    const none = await c.request('GET', '/crypto/v1/keys?name=nothing-here', { auth: app })
    assert.deepEqual(none.body, [])
    const meta = await c.request('GET', '/crypto/v1/keys?with_metadata=true&limit=1', { auth: app })
    assert.equal(meta.body.items.length, 1)
    assert.equal(meta.body.metadata.total_count, a.state.sobjects().length)
  })

  it('missing keys are 404 "sobject does not exist"', async () => {
    for (const [method, path, body] of [
      ['POST', '/crypto/v1/keys/info', { name: 'missing' }],
      ['POST', '/crypto/v1/keys/info', { kid: '00000000-0000-4000-8000-000000000000' }],
      ['GET', '/crypto/v1/keys/00000000-0000-4000-8000-000000000000', undefined],
      ['DELETE', '/crypto/v1/keys/00000000-0000-4000-8000-000000000000', undefined],
    ] as const) {
      const r = await c.request(method, path, { auth: app, ...(body ? { body } : {}) })
      assert.equal(r.status, 404, `${method} ${path}`)
      assert.equal(r.body, 'sobject does not exist')
    }
  })

  it('KCV endpoint matches the sobject kcv; RSA keys have none', async () => {
    const r = await c.request('POST', '/crypto/v1/keys/kcv', { auth: app, body: { name: 'vector-cmk' } })
    assert.equal(r.status, 200)
    assert.equal(r.body.kcv, vector('cmk.aes256.kcv').toLowerCase())
    const rsa = await c.request('POST', '/crypto/v1/keys/kcv', { auth: app, body: { name: 'vector-pub' } })
    assert.equal(rsa.status, 400)
  })

  it('delete: 204, then 404; needs APPMANAGEABLE for an app', async () => {
    const k = await c.request('POST', '/crypto/v1/keys', { auth: app, body: { name: 'to-delete', obj_type: 'AES', key_size: 256 } })
    assert.equal((await c.request('DELETE', `/crypto/v1/keys/${k.body.kid as string}`, { auth: app })).status, 204)
    assert.equal((await c.request('GET', `/crypto/v1/keys/${k.body.kid as string}`, { auth: app })).status, 404)
    const locked = await c.request('POST', '/crypto/v1/keys', { auth: app, body: { name: 'not-manageable', obj_type: 'AES', key_size: 256, key_ops: ['ENCRYPT'] } })
    const d = await c.request('DELETE', `/crypto/v1/keys/${locked.body.kid as string}`, { auth: app })
    assert.equal(d.status, 403)
    assert.match(d.body, /Requested operation is not allowed/)
  })

  it('keys of another appliance do not exist here', async () => {
    const cmk = await c.request('POST', '/crypto/v1/keys/info', { auth: app, body: { name: 'cluster-master-key' } })
    const other = new SimClient(sim.appliances[1]!)
    const otherApp = await other.appSession(sim.appliances[1]!.apiKey)
    const r = await other.request('GET', `/crypto/v1/keys/${cmk.body.kid as string}`, { auth: otherApp })
    assert.equal(r.status, 404)
    // and the other appliance's API key is not valid here
    assert.equal((await c.request('POST', '/sys/v1/session/auth', { auth: `Basic ${sim.appliances[1]!.apiKey}` })).status, 401)
  })
})

describe('quorum protection and key_ops', () => {
  const oaep1 = { OAEP: { mgf: { mgf1: { hash: 'SHA1' } } } }

  it('wrapping the CMK directly is 403 "This operation requires approval"', async () => {
    const r = await c.request('POST', '/crypto/v1/wrapkey', { auth: app, body: { key: { name: 'vector-pub' }, subject: { name: 'cluster-master-key' }, alg: 'RSA', mode: oaep1 } })
    assert.equal(r.status, 403)
    assert.equal(r.body, 'This operation requires approval')
    assert.match(String(r.headers['content-type']), /^text\/plain/)
  })

  it('plaintext export of the CMK directly is 403 approval required too', async () => {
    const r = await c.request('POST', '/crypto/v1/keys/export', { auth: app, body: { name: 'cluster-master-key' } })
    assert.equal(r.status, 403)
    assert.equal(r.body, 'This operation requires approval')
  })

  it('unwrap with the transfer key directly is 403 approval required', async () => {
    const r = await c.request('POST', '/crypto/v1/unwrapkey', { auth: app, body: { key: { name: 'rsa-gen' }, alg: 'RSA', mode: oaep1, obj_type: 'AES', wrapped_key: Buffer.alloc(256).toString('base64'), name: 'x' } })
    assert.equal(r.status, 403)
    assert.equal(r.body, 'This operation requires approval')
  })

  it('generate, import, info and delete of transfer keys need no approval (protect_permissions empty)', async () => {
    const r = await c.request('PUT', '/crypto/v1/keys', { auth: app, body: { name: 'tmp-pub', obj_type: 'RSA', value: pemBody(vector('transfer-rsa2048.pub.pem')), key_ops: ['WRAPKEY', 'APPMANAGEABLE'] } })
    assert.equal(r.status, 201)
    assert.equal((await c.request('DELETE', `/crypto/v1/keys/${r.body.kid as string}`, { auth: app })).status, 204)
  })
})

// What a FIPS appliance offers a DSM cluster (guide §3.3): transient keys that live only in the
// session that made them, AES key wrap (KW/KWP) under the CMK without a quorum, encrypt/decrypt
// (GCM, CBC) checked against node:crypto, while the quorum still guards the CMK leaving the
// appliance. Every response is validated against the vendor's OpenAPI document by SimClient.
import assert from 'node:assert/strict'
import { createCipheriv, createDecipheriv } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { startSimulator, type RunningSimulator, type SimulatedAppliance } from '../main/simulator'
import { SimClient, pemBody, vector } from './support/sim-client'

let sim: RunningSimulator
let a: SimulatedAppliance
let c: SimClient
let app: string
const CMK_HEX = vector('cmk.aes256.hex')

before(async () => {
  // The CMK is the vector key, imported into the quorum group, so the test can check blobs independently.
  sim = await startSimulator({ appliances: 1, createCmk: false })
  a = sim.appliances[0]!
  c = new SimClient(a)
  app = await c.appSession(a.apiKey)
  const r = await c.request('PUT', '/crypto/v1/keys', { auth: app, body: { name: 'cluster-master-key', obj_type: 'AES', value: Buffer.from(CMK_HEX, 'hex').toString('base64'), key_ops: ['ENCRYPT', 'DECRYPT', 'WRAPKEY', 'UNWRAPKEY', 'EXPORT', 'APPMANAGEABLE'] } })
  assert.equal(r.status, 201, r.text)
})
after(() => sim.close())

const transient = (auth = app, ops = ['ENCRYPT', 'DECRYPT', 'EXPORT']) =>
  c.request('POST', '/crypto/v1/keys', { auth, body: { obj_type: 'AES', key_size: 256, transient: true, key_ops: ops } })

function kwpUnwrap(blob: string): Buffer {
  const d = createDecipheriv('id-aes256-wrap-pad', Buffer.from(CMK_HEX, 'hex'), Buffer.from('A65959A6', 'hex'))
  return Buffer.concat([d.update(Buffer.from(blob, 'base64')), d.final()])
}

describe('transient keys', () => {
  it('generate with transient: true → origin Transient, a transient_key blob, no kid, name or group; nothing stored', async () => {
    const before = a.state.sobjects().length
    const r = await transient()
    assert.equal(r.status, 201, r.text)
    assert.equal(r.body.origin, 'Transient')
    assert.equal(typeof r.body.transient_key, 'string')
    assert.equal(r.body.kid, undefined)
    assert.equal(r.body.name, undefined)
    assert.equal(r.body.group_id, undefined)
    assert.match(r.body.kcv, /^[0-9a-f]{6}$/)
    assert.equal(a.state.sobjects().length, before)
  })

  it('needs a session: an API key straight on the call is refused (401)', async () => {
    const r = await transient(`Basic ${a.apiKey}`)
    assert.equal(r.status, 401)
    assert.match(r.body, /Transient keys need a session/)
  })

  it('a blob works only in the session that made it, and not after a bit flip', async () => {
    const t = await transient()
    const plain = Buffer.from('hello').toString('base64')
    const ok = await c.request('POST', '/crypto/v1/encrypt', { auth: app, body: { key: { transient_key: t.body.transient_key }, alg: 'AES', mode: 'GCM', plain } })
    assert.equal(ok.status, 200, ok.text)
    assert.equal(ok.body.kid, undefined)
    const other = await c.appSession(a.apiKey)
    const r = await c.request('POST', '/crypto/v1/encrypt', { auth: other, body: { key: { transient_key: t.body.transient_key }, alg: 'AES', mode: 'GCM', plain } })
    assert.equal(r.status, 400)
    assert.match(r.body, /belongs to another session/)
    const raw = Buffer.from(t.body.transient_key, 'base64')
    raw[20]! ^= 1
    const bad = await c.request('POST', '/crypto/v1/encrypt', { auth: app, body: { key: { transient_key: raw.toString('base64') }, alg: 'AES', mode: 'GCM', plain } })
    assert.equal(bad.status, 400)
    assert.match(bad.body, /not made by this appliance, or it is damaged/)
  })
})

describe('AES key wrap under the CMK', () => {
  for (const mode of ['KWP', 'KW'] as const) {
    it(`${mode}: wrap a transient key under the CMK (no quorum needed), unwrap it back as a transient key`, async () => {
      const t = await transient()
      const w = await c.request('POST', '/crypto/v1/wrapkey', { auth: app, body: { key: { name: 'cluster-master-key' }, subject: { transient_key: t.body.transient_key }, alg: 'AES', mode } })
      assert.equal(w.status, 200, w.text)
      assert.equal(Buffer.from(w.body.wrapped_key, 'base64').length, 40)
      if (mode === 'KWP') {
        // independent check: node:crypto unwraps it under the vector CMK to a key with the reported KCV
        const key = kwpUnwrap(w.body.wrapped_key)
        const kcv = createCipheriv('aes-256-ecb', key, null).update(Buffer.alloc(16)).subarray(0, 3).toString('hex')
        assert.equal(kcv, t.body.kcv)
      }
      const u = await c.request('POST', '/crypto/v1/unwrapkey', { auth: app, body: { key: { name: 'cluster-master-key' }, alg: 'AES', mode, obj_type: 'AES', wrapped_key: w.body.wrapped_key, transient: true, key_ops: ['ENCRYPT', 'DECRYPT'] } })
      assert.equal(u.status, 200, u.text)
      assert.equal(u.body.kcv, t.body.kcv)
      assert.equal(u.body.origin, 'Transient')
      assert.deepEqual(u.body.key_creation_method, { method: 'Unwrap' })
    })
  }

  it('the wrong mode or a damaged blob fails the unwrap (400) and nothing is made', async () => {
    const t = await transient()
    const w = await c.request('POST', '/crypto/v1/wrapkey', { auth: app, body: { key: { name: 'cluster-master-key' }, subject: { transient_key: t.body.transient_key }, alg: 'AES', mode: 'KWP' } })
    const u = (wrapped: string, mode: string) => c.request('POST', '/crypto/v1/unwrapkey', { auth: app, body: { key: { name: 'cluster-master-key' }, alg: 'AES', mode, obj_type: 'AES', wrapped_key: wrapped, transient: true } })
    const wrongMode = await u(w.body.wrapped_key, 'KW')
    assert.equal(wrongMode.status, 400)
    assert.match(wrongMode.body, /Unwrap failed/)
    const flipped = Buffer.from(w.body.wrapped_key, 'base64')
    flipped[3]! ^= 1
    const damaged = await u(flipped.toString('base64'), 'KWP')
    assert.equal(damaged.status, 400)
    const noMode = await c.request('POST', '/crypto/v1/wrapkey', { auth: app, validateReq: false, body: { key: { name: 'cluster-master-key' }, subject: { transient_key: t.body.transient_key }, alg: 'AES', mode: null } })
    assert.equal(noMode.status, 400)
    assert.match(noMode.body, /use KW or KWP/)
  })

  it('the quorum still guards the CMK leaving: wrapping the CMK (as subject) needs approval, persisted unwrap under it too', async () => {
    const pub = await c.request('PUT', '/crypto/v1/keys', { auth: app, body: { name: 'transfer-key', obj_type: 'RSA', value: pemBody(vector('transfer-rsa2048.pub.pem')), key_ops: ['WRAPKEY'] } })
    assert.equal(pub.status, 201)
    const w = await c.request('POST', '/crypto/v1/wrapkey', { auth: app, body: { key: { name: 'transfer-key' }, subject: { name: 'cluster-master-key' }, alg: 'RSA', mode: { OAEP: { mgf: { mgf1: { hash: 'SHA256' } } } } } })
    assert.equal(w.status, 403)
    assert.equal(w.body, 'This operation requires approval')
    const t = await transient()
    const blob = (await c.request('POST', '/crypto/v1/wrapkey', { auth: app, body: { key: { name: 'cluster-master-key' }, subject: { transient_key: t.body.transient_key }, alg: 'AES', mode: 'KWP' } })).body.wrapped_key
    const persisted = await c.request('POST', '/crypto/v1/unwrapkey', { auth: app, body: { key: { name: 'cluster-master-key' }, alg: 'AES', mode: 'KWP', obj_type: 'AES', wrapped_key: blob, name: 'kept' } })
    assert.equal(persisted.status, 403)
    const exp = await c.request('POST', '/crypto/v1/keys/export', { auth: app, body: { name: 'cluster-master-key' } })
    assert.equal(exp.status, 403)
  })

  it('protectedCryptoOperations can also guard the CMK wrapping other keys', async () => {
    const s2 = await startSimulator({ appliances: 1, vendor: { protectedCryptoOperations: ['wrapkey', 'wrapkey-with', 'unwrapkey', 'unwrapkey-transient', 'export'] } })
    try {
      const a2 = s2.appliances[0]!
      const c2 = new SimClient(a2)
      const app2 = await c2.appSession(a2.apiKey)
      const t = await c2.request('POST', '/crypto/v1/keys', { auth: app2, body: { obj_type: 'AES', key_size: 256, transient: true, key_ops: ['EXPORT'] } })
      const w = await c2.request('POST', '/crypto/v1/wrapkey', { auth: app2, body: { key: { name: 'cluster-master-key' }, subject: { transient_key: t.body.transient_key }, alg: 'AES', mode: 'KWP' } })
      assert.equal(w.status, 403)
      assert.equal(w.body, 'This operation requires approval')
    } finally {
      await s2.close()
    }
  })
})

describe('encrypt and decrypt', () => {
  let kid: string
  before(async () => {
    const r = await c.request('POST', '/crypto/v1/keys', { auth: app, body: { name: 'data-key', obj_type: 'AES', key_size: 256, key_ops: ['ENCRYPT', 'DECRYPT', 'EXPORT', 'APPMANAGEABLE'] } })
    assert.equal(r.status, 201, r.text)
    kid = r.body.kid
  })

  it('GCM with AAD: round trip; node:crypto decrypts what the appliance made with the key value', async () => {
    const plain = Buffer.from('sixteen byte msg and some more')
    const ad = Buffer.from('header')
    const e = await c.request('POST', '/crypto/v1/encrypt', { auth: app, body: { key: { kid }, alg: 'AES', mode: 'GCM', plain: plain.toString('base64'), ad: ad.toString('base64'), tag_len: 128 } })
    assert.equal(e.status, 200, e.text)
    assert.equal(e.body.kid, kid)
    assert.equal(Buffer.from(e.body.iv, 'base64').length, 12)
    const d = await c.request('POST', '/crypto/v1/decrypt', { auth: app, body: { key: { kid }, alg: 'AES', mode: 'GCM', cipher: e.body.cipher, iv: e.body.iv, ad: ad.toString('base64'), tag: e.body.tag } })
    assert.equal(d.status, 200, d.text)
    assert.equal(Buffer.from(d.body.plain, 'base64').toString(), plain.toString())
    // (GCM against node:crypto with a known key is the next test; here: a changed tag is refused)
    const tag = Buffer.from(e.body.tag, 'base64')
    tag[0]! ^= 1
    const bad = await c.request('POST', '/crypto/v1/decrypt', { auth: app, body: { key: { kid }, mode: 'GCM', cipher: e.body.cipher, iv: e.body.iv, ad: ad.toString('base64'), tag: tag.toString('base64') } })
    assert.equal(bad.status, 400)
    assert.match(bad.body, /Decryption failed/)
  })

  it('CBC with a known key: node:crypto agrees both ways', async () => {
    const key = Buffer.from(CMK_HEX, 'hex')
    const put = await c.request('PUT', '/crypto/v1/keys', { auth: app, body: { name: 'known', obj_type: 'AES', value: key.toString('base64'), key_ops: ['ENCRYPT', 'DECRYPT'] } })
    assert.equal(put.status, 201)
    const iv = Buffer.alloc(16, 7)
    const plain = Buffer.from('attack at dawn, or slightly later')
    const e = await c.request('POST', '/crypto/v1/encrypt', { auth: app, body: { key: { name: 'known' }, alg: 'AES', mode: 'CBC', plain: plain.toString('base64'), iv: iv.toString('base64') } })
    assert.equal(e.status, 200, e.text)
    const c1 = createCipheriv('aes-256-cbc', key, iv)
    assert.equal(e.body.cipher, Buffer.concat([c1.update(plain), c1.final()]).toString('base64'))
    const d = await c.request('POST', '/crypto/v1/decrypt', { auth: app, body: { key: { name: 'known' }, mode: 'CBC', cipher: e.body.cipher, iv: e.body.iv } })
    assert.equal(Buffer.from(d.body.plain, 'base64').toString(), plain.toString())
    const g = createCipheriv('aes-256-gcm', key, Buffer.alloc(12, 1))
    const gc = Buffer.concat([g.update(plain), g.final()])
    const gd = await c.request('POST', '/crypto/v1/decrypt', { auth: app, body: { key: { name: 'known' }, mode: 'GCM', cipher: gc.toString('base64'), iv: Buffer.alloc(12, 1).toString('base64'), tag: g.getAuthTag().toString('base64') } })
    assert.equal(Buffer.from(gd.body.plain, 'base64').toString(), plain.toString())
  })

  it('refusals are named: no mode, an unsupported mode, a key without ENCRYPT, alg mismatch', async () => {
    const plain = Buffer.from('x').toString('base64')
    const noMode = await c.request('POST', '/crypto/v1/encrypt', { auth: app, body: { key: { kid }, alg: 'AES', plain } })
    assert.equal(noMode.status, 400)
    assert.match(noMode.body, /Missing required field mode/)
    const ecb = await c.request('POST', '/crypto/v1/encrypt', { auth: app, body: { key: { kid }, alg: 'AES', mode: 'ECB', plain } })
    assert.equal(ecb.status, 400)
    assert.match(ecb.body, /mode "ECB" is not supported/)
    const noEnc = await c.request('POST', '/crypto/v1/keys', { auth: app, body: { name: 'decrypt-only', obj_type: 'AES', key_size: 128, key_ops: ['DECRYPT'] } })
    assert.equal(noEnc.status, 201)
    const r = await c.request('POST', '/crypto/v1/encrypt', { auth: app, body: { key: { name: 'decrypt-only' }, alg: 'AES', mode: 'GCM', plain } })
    assert.equal(r.status, 403)
    assert.match(r.body, /does not have ENCRYPT/)
    const alg = await c.request('POST', '/crypto/v1/encrypt', { auth: app, body: { key: { kid }, alg: 'RSA', mode: 'GCM', plain } })
    assert.equal(alg.status, 400)
    assert.match(alg.body, /alg RSA does not match the key type AES/)
  })
})

// Key wrapping against an independent implementation: the OpenSSL-made vectors unwrap to the
// vector CMK (by KCV), blobs the simulator makes decrypt with node:crypto to the same key, and
// every bad.* input gets a clear refusal or, where the real appliance would accept it, is shown
// to be accepted so that the refusal is known to be the client's job.
// This simulator leaves crypto operations unprotected (vendor.protectedCryptoOperations = [])
// so wrap/unwrap can be called directly; the approval path is covered in simulator-approvals.
import assert from 'node:assert/strict'
import { constants, createPrivateKey, privateDecrypt } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { startSimulator, type RunningSimulator, type SimulatedAppliance } from '../main/simulator'
import { SimClient, pemBody, vector } from './support/sim-client'

let sim: RunningSimulator
let a: SimulatedAppliance
let c: SimClient
let app: string

const oaep = (hash: string) => ({ OAEP: { mgf: { mgf1: { hash } } } })
const cmkHex = () => vector('cmk.aes256.hex')
const privDer = () => createPrivateKey(vector('transfer-rsa2048.key.pem')).export({ type: 'pkcs8', format: 'der' }).toString('base64')

before(async () => {
  sim = await startSimulator({ appliances: 1, createCmk: false, vendor: { protectedCryptoOperations: [] } })
  a = sim.appliances[0]!
  c = new SimClient(a)
  app = await c.appSession(a.apiKey)
  const put = async (body: object) => {
    const r = await c.request('PUT', '/crypto/v1/keys', { auth: app, body })
    assert.equal(r.status, 201, r.text)
  }
  await put({ name: 'transfer-private', obj_type: 'RSA', value: privDer(), key_ops: ['UNWRAPKEY', 'DECRYPT', 'WRAPKEY', 'ENCRYPT', 'APPMANAGEABLE'] })
  await put({ name: 'transfer-public', obj_type: 'RSA', value: pemBody(vector('transfer-rsa2048.pub.pem')), key_ops: ['WRAPKEY', 'ENCRYPT'] })
  await put({ name: 'cmk', obj_type: 'AES', value: Buffer.from(cmkHex(), 'hex').toString('base64'), key_ops: ['EXPORT', 'ENCRYPT', 'DECRYPT'] })
})
after(() => sim.close())

function unwrapBody(name: string, wrapped: string, hash = 'SHA1', extra: object = {}) {
  return { key: { name: 'transfer-private' }, alg: 'RSA', mode: oaep(hash), obj_type: 'AES', wrapped_key: wrapped, name, key_ops: ['EXPORT', 'ENCRYPT', 'DECRYPT', 'APPMANAGEABLE'], ...extra }
}

describe('unwrap OpenSSL-made blobs', () => {
  for (const [hash, file] of [['SHA1', 'cmk.wrapped.oaep-sha1.b64'], ['SHA256', 'cmk.wrapped.oaep-sha256.b64']] as const) {
    it(`RSA-OAEP ${hash}: the new key's KCV is the vector KCV`, async () => {
      const r = await c.request('POST', '/crypto/v1/unwrapkey', { auth: app, body: unwrapBody(`cmk-from-${hash}`, vector(file), hash) })
      assert.equal(r.status, 200, r.text)
      assert.equal(r.body.kcv, vector('cmk.aes256.kcv').toLowerCase())
      assert.equal(r.body.obj_type, 'AES')
      assert.equal(r.body.key_size, 256)
      assert.ok(r.body.key_ops.includes('EXPORT'))
      assert.equal(r.body.group_id, a.groupId)
    })
  }

  it('the wrong OAEP hash fails cleanly (400), and creates nothing', async () => {
    const r = await c.request('POST', '/crypto/v1/unwrapkey', { auth: app, body: unwrapBody('wrong-hash', vector('cmk.wrapped.oaep-sha1.b64'), 'SHA256') })
    assert.equal(r.status, 400)
    assert.match(r.body, /Unwrap failed/)
    assert.equal(a.state.sobjects().some((s) => s.name === 'wrong-hash'), false)
  })

  it('a kcv in the request (upper case, as the vectors write it) is checked against the unwrapped key without regard to case', async () => {
    const ok = await c.request('POST', '/crypto/v1/unwrapkey', { auth: app, body: unwrapBody('with-kcv', vector('cmk.wrapped.oaep-sha1.b64'), 'SHA1', { kcv: vector('cmk.aes256.kcv') }) })
    assert.equal(ok.status, 200, ok.text)
    const bad = await c.request('POST', '/crypto/v1/unwrapkey', { auth: app, body: unwrapBody('with-bad-kcv', vector('cmk.wrapped.oaep-sha1.b64'), 'SHA1', { kcv: '000000' }) })
    assert.equal(bad.status, 400)
    assert.match(bad.body, /KCV mismatch/)
  })

  it('unwrapping under an existing name is 409 and the existing key is untouched', async () => {
    const before = a.state.sobjects().find((s) => s.name === 'cmk')
    const r = await c.request('POST', '/crypto/v1/unwrapkey', { auth: app, body: unwrapBody('cmk', vector('cmk.wrapped.oaep-sha1.b64')) })
    assert.equal(r.status, 409)
    assert.equal(r.body, 'sobject already exists')
    assert.deepEqual(a.state.sobjects().find((s) => s.name === 'cmk'), before)
  })

  it('without key_ops the unwrapped key is not exportable (the default set leaves EXPORT out)', async () => {
    const { key_ops: _drop, ...body } = unwrapBody('no-ops-given', vector('cmk.wrapped.oaep-sha1.b64'))
    const r = await c.request('POST', '/crypto/v1/unwrapkey', { auth: app, body })
    assert.equal(r.status, 200, r.text)
    assert.equal(r.body.key_ops.includes('EXPORT'), false)
  })
})

describe('wrap', () => {
  for (const [hash, nodeHash] of [['SHA1', 'sha1'], ['SHA256', 'sha256']] as const) {
    it(`RSA-OAEP ${hash}: node:crypto decrypts the blob to the CMK`, async () => {
      const r = await c.request('POST', '/crypto/v1/wrapkey', { auth: app, body: { key: { name: 'transfer-public' }, subject: { name: 'cmk' }, alg: 'RSA', mode: oaep(hash) } })
      assert.equal(r.status, 200, r.text)
      const blob = Buffer.from(r.body.wrapped_key, 'base64')
      assert.equal(blob.length, 256)
      const plain = privateDecrypt({ key: vector('transfer-rsa2048.key.pem'), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: nodeHash }, blob)
      assert.equal(plain.toString('hex'), cmkHex())
    })
  }

  it('the legacy string mode and the legacy kid field are accepted', async () => {
    const r = await c.request('POST', '/crypto/v1/wrapkey', {
      auth: app,
      validateReq: false, // the legacy string is not in the current document
      body: { key: { name: 'transfer-public' }, kid: a.state.sobjects().find((s) => s.name === 'cmk')!.kid, alg: 'RSA', mode: 'OAEP_MGF1_SHA256' },
    })
    assert.equal(r.status, 200, r.text)
    const plain = privateDecrypt({ key: vector('transfer-rsa2048.key.pem'), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(r.body.wrapped_key, 'base64'))
    assert.equal(plain.toString('hex'), cmkHex())
  })

  it('round trip: a blob the simulator wraps unwraps to a key with the same KCV', async () => {
    const w = await c.request('POST', '/crypto/v1/wrapkey', { auth: app, body: { key: { name: 'transfer-private' }, subject: { name: 'cmk' }, alg: 'RSA', mode: oaep('SHA256') } })
    const u = await c.request('POST', '/crypto/v1/unwrapkey', { auth: app, body: unwrapBody('round-trip', w.body.wrapped_key, 'SHA256') })
    assert.equal(u.status, 200, u.text)
    assert.equal(u.body.kcv, vector('cmk.aes256.kcv').toLowerCase())
  })

  it('PKCS#1 v1.5 is refused in FIPS mode, in both encodings', async () => {
    for (const mode of [{ PKCS1_V15: {} }, 'PKCS1_V15']) {
      const r = await c.request('POST', '/crypto/v1/wrapkey', { auth: app, validateReq: false, body: { key: { name: 'transfer-public' }, subject: { name: 'cmk' }, alg: 'RSA', mode } })
      assert.equal(r.status, 400)
      assert.match(r.body, /PKCS#1 v1\.5.*not allowed in FIPS mode/)
    }
    const u = await c.request('POST', '/crypto/v1/unwrapkey', { auth: app, body: { ...unwrapBody('pkcs1', vector('cmk.wrapped.oaep-sha1.b64')), mode: { PKCS1_V15: {} } } })
    assert.equal(u.status, 400)
    assert.match(u.body, /not allowed in FIPS mode/)
  })

  it('key_ops are enforced: WRAPKEY on the wrapping key, EXPORT on the subject, UNWRAPKEY on the unwrapping key', async () => {
    const noExport = await c.request('POST', '/crypto/v1/keys', { auth: app, body: { name: 'no-export', obj_type: 'AES', key_size: 256 } })
    assert.equal(noExport.status, 201)
    const w1 = await c.request('POST', '/crypto/v1/wrapkey', { auth: app, body: { key: { name: 'transfer-public' }, subject: { name: 'no-export' }, alg: 'RSA', mode: oaep('SHA1') } })
    assert.equal(w1.status, 403)
    assert.match(w1.body, /Requested operation is not allowed.*EXPORT/)
    const encOnly = await c.request('PUT', '/crypto/v1/keys', { auth: app, body: { name: 'encrypt-only-pub', obj_type: 'RSA', value: pemBody(vector('transfer-rsa2048.pub.pem')), key_ops: ['ENCRYPT'] } })
    assert.equal(encOnly.status, 201)
    const w2 = await c.request('POST', '/crypto/v1/wrapkey', { auth: app, body: { key: { name: 'encrypt-only-pub' }, subject: { name: 'cmk' }, alg: 'RSA', mode: oaep('SHA1') } })
    assert.equal(w2.status, 403)
    assert.match(w2.body, /Requested operation is not allowed.*WRAPKEY/)
    const decOnly = await c.request('PUT', '/crypto/v1/keys', { auth: app, body: { name: 'decrypt-only', obj_type: 'RSA', value: privDer(), key_ops: ['DECRYPT'] } })
    assert.equal(decOnly.status, 201)
    const u = await c.request('POST', '/crypto/v1/unwrapkey', { auth: app, body: { ...unwrapBody('nope', vector('cmk.wrapped.oaep-sha1.b64')), key: { name: 'decrypt-only' } } })
    assert.equal(u.status, 403)
    assert.match(u.body, /Requested operation is not allowed.*UNWRAPKEY/)
  })

  it('a public-only key cannot unwrap; an RSA subject cannot be wrapped by RSA', async () => {
    const u = await c.request('POST', '/crypto/v1/unwrapkey', { auth: app, body: { ...unwrapBody('nope2', vector('cmk.wrapped.oaep-sha1.b64')), key: { name: 'transfer-public' } } })
    assert.equal(u.status, 403) // no UNWRAPKEY in its ops (a public key cannot have it)
    const rsaSubject = await c.request('PUT', '/crypto/v1/keys', { auth: app, body: { name: 'exportable-rsa', obj_type: 'RSA', value: privDer(), key_ops: ['EXPORT', 'DECRYPT'] } })
    assert.equal(rsaSubject.status, 201)
    const w = await c.request('POST', '/crypto/v1/wrapkey', { auth: app, body: { key: { name: 'transfer-public' }, subject: { name: 'exportable-rsa' }, alg: 'RSA', mode: oaep('SHA1') } })
    assert.equal(w.status, 400)
    assert.match(w.body, /asymmetric key can only be wrapped by a symmetric key/)
  })

  it('alg must match the wrapping key', async () => {
    const r = await c.request('POST', '/crypto/v1/wrapkey', { auth: app, body: { key: { name: 'transfer-public' }, subject: { name: 'cmk' }, alg: 'AES', mode: oaep('SHA1') } })
    assert.equal(r.status, 400)
    assert.match(r.body, /alg AES does not match/)
  })
})

describe('bad.* vectors', () => {
  const importPub = (name: string, value: string) =>
    c.request('PUT', '/crypto/v1/keys', { auth: app, validateReq: false, body: { name, obj_type: 'RSA', value, key_ops: ['WRAPKEY', 'ENCRYPT'] } })

  it('bad.rsa1024.pub.pem: 400, below the FIPS minimum', async () => {
    const r = await importPub('bad-1024', pemBody(vector('bad.rsa1024.pub.pem')))
    assert.equal(r.status, 400)
    assert.match(r.body, /RSA key size 1024 is not allowed in FIPS mode/)
  })

  it('bad.ec-p256.pub.pem as an RSA key: 400, names the key type', async () => {
    const r = await importPub('bad-ec', pemBody(vector('bad.ec-p256.pub.pem')))
    assert.equal(r.status, 400)
    assert.match(r.body, /is an EC key, not RSA/)
  })

  it('bad.certificate.pem as an RSA key: 400', async () => {
    const r = await importPub('bad-cert', pemBody(vector('bad.certificate.pem')))
    assert.equal(r.status, 400)
    assert.match(r.body, /Invalid RSA key: value must be base64 DER/)
  })

  it('bad.truncated.pub.pem: 400 (damaged base64 or DER)', async () => {
    const r = await importPub('bad-truncated', pemBody(vector('bad.truncated.pub.pem')))
    assert.equal(r.status, 400)
    assert.match(r.body, /not valid base64|Invalid RSA key/)
  })

  it('bad.cmk.wrapped.bitflip.b64 and .truncated.b64: unwrap refused (400) with a clear message', async () => {
    const flip = await c.request('POST', '/crypto/v1/unwrapkey', { auth: app, body: unwrapBody('bad-flip', vector('bad.cmk.wrapped.bitflip.b64')) })
    assert.equal(flip.status, 400)
    assert.match(flip.body, /Unwrap failed: the wrapped key could not be decrypted/)
    const trunc = await c.request('POST', '/crypto/v1/unwrapkey', { auth: app, body: unwrapBody('bad-trunc', vector('bad.cmk.wrapped.truncated.b64')) })
    assert.equal(trunc.status, 400)
    assert.match(trunc.body, /Unwrap failed: wrapped_key is \d+ bytes/)
    assert.equal(a.state.sobjects().some((s) => s.name.startsWith('bad-')), false)
  })

  it('a blob wrapped under another key: unwrap refused (400)', async () => {
    const other = await c.request('POST', '/crypto/v1/keys', { auth: app, body: { name: 'other-transfer', obj_type: 'RSA', key_size: 2048, key_ops: ['UNWRAPKEY'] } })
    assert.equal(other.status, 201)
    const r = await c.request('POST', '/crypto/v1/unwrapkey', { auth: app, body: { ...unwrapBody('bad-wrong-key', vector('cmk.wrapped.oaep-sha1.b64')), key: { name: 'other-transfer' } } })
    assert.equal(r.status, 400)
    assert.match(r.body, /Unwrap failed/)
  })

  // The two below are valid keys to a real appliance: it takes RSA-4096 and private-key imports.
  // The ceremony client must refuse them before they reach the appliance (design.md step 4); the
  // simulator does not pretend otherwise.
  it('bad.rsa4096.pub.pem: accepted like the vendor does (the 2048-only rule is the client\'s)', async () => {
    const r = await importPub('rsa4096', pemBody(vector('bad.rsa4096.pub.pem')))
    assert.equal(r.status, 201)
    assert.equal(r.body.key_size, 4096)
  })

  it('bad.private-key-not-public.pem: imported as a private key (public_only false), never as a public one', async () => {
    const r = await importPub('from-private-pem', pemBody(vector('bad.private-key-not-public.pem')))
    assert.equal(r.status, 201)
    assert.equal(r.body.public_only, false)
  })
})

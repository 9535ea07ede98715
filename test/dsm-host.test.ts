// Offline rules of the DSM client: appliance address normalisation, pin parsing, the endpoint
// allowlist with its plaintext-export refusal, credential shape checks and request builders.
// Nothing here touches the network; where a connection object is involved, a request observer
// proves that no request was attempted.
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { describe, it } from 'node:test'
import {
  ApprovalsApi,
  buildImportPublicKeyBody,
  buildUnwrapKeyRequest,
  buildWrapKeyRequest,
  checkApiKeyShape,
  checkEndpoint,
  DsmConnection,
  ENDPOINTS,
  EndpointNotAllowedError,
  InvalidArgumentError,
  InvalidCredentialError,
  InvalidHostError,
  InvalidTrustError,
  isPlaintextExportPath,
  normaliseHost,
  parseSpkiPin,
  PlaintextExportRefusedError,
  type AuthedCaller,
  type RequestEvent,
} from '../main/dsm'

const PIN_HEX = 'a'.repeat(64)

describe('normaliseHost', () => {
  const accepted: [string, string, number | undefined, string | undefined][] = [
    // input, host, port, note (substring)
    ['fips1.example.com', 'fips1.example.com', undefined, undefined],
    ['FIPS1.Example.COM', 'fips1.example.com', undefined, undefined],
    ['fips1.example.com:8443', 'fips1.example.com', 8443, undefined],
    ['127.0.0.1', '127.0.0.1', undefined, undefined],
    ['127.0.0.1:443', '127.0.0.1', 443, undefined],
    ['[fd00::1]', 'fd00::1', undefined, undefined],
    ['[fd00::1]:4443', 'fd00::1', 4443, undefined],
    ['https://fips1.example.com', 'fips1.example.com', undefined, 'https://'],
    ['HTTPS://fips1.example.com:8443/', 'fips1.example.com', 8443, 'https://'],
    ['fips1.example.com/', 'fips1.example.com', undefined, 'trailing'],
    ['bücher.example', 'xn--bcher-kva.example', undefined, 'international'],
  ]
  for (const [input, host, port, note] of accepted) {
    it(`accepts ${JSON.stringify(input)}`, () => {
      const h = normaliseHost(input)
      assert.equal(h.host, host)
      assert.equal(h.port, port)
      if (note) assert.ok(h.notes.some((n) => n.includes(note)), `expected a note about ${note}, got ${JSON.stringify(h.notes)}`)
      else assert.deepEqual(h.notes, [])
    })
  }

  const refused: [unknown, RegExp][] = [
    ['', /empty/],
    ['http://fips1.example.com', /HTTPS only/],
    ['http:fips1.example.com', /HTTPS only/],
    ['ftp://fips1.example.com', /scheme/],
    ['fips1.example.com/sys/v1', /path/],
    ['https://fips1.example.com/api/', /path/],
    ['fips1.example.com?x=1', /query/],
    ['fips1.example.com#frag', /fragment/],
    ['admin@fips1.example.com', /user name/],
    ['https://admin:pw@fips1.example.com', /user name/],
    ['fips1 .example.com', /spaces/],
    [' fips1.example.com', /spaces/],
    ['fips1.example.com\n', /spaces/],
    ['fips1\u200b.example.com', /invisible/],
    ['fd00::1', /brackets/],
    ['fips1.example.com:0', /out of range/],
    ['fips1.example.com:65536', /out of range/],
    ['fips1.example.com:https', /port/],
    ['fips1.example.com:', /port/],
    ['127.1', /ambiguous/],
    ['0x7f.0.0.1', /ambiguous/],
    ['fips1..example.com', /not a valid host/],
    ['fips%31.example.com', /percent/],
    ['https://', /no host/],
    ['[fd00::zz]', /IPv6/],
    [42, /text/],
  ]
  for (const [input, message] of refused) {
    it(`refuses ${JSON.stringify(input)}`, () => {
      assert.throws(() => normaliseHost(input), (e: unknown) => e instanceof InvalidHostError && message.test(e.message))
    })
  }
})

describe('SPKI pin parsing', () => {
  it('accepts hex (any case, with separators) and base64, all to the same 32 bytes', () => {
    const bytes = Buffer.alloc(32, 0xab)
    assert.deepEqual(parseSpkiPin('ab'.repeat(32)), bytes)
    assert.deepEqual(parseSpkiPin('AB'.repeat(32)), bytes)
    assert.deepEqual(parseSpkiPin(Array(32).fill('ab').join(':')), bytes)
    assert.deepEqual(parseSpkiPin(bytes.toString('base64')), bytes)
  })
  it('refuses anything else', () => {
    for (const bad of ['', 'ab'.repeat(31), 'zz'.repeat(32), 'not a pin', Buffer.alloc(16).toString('base64')]) {
      assert.throws(() => parseSpkiPin(bad), InvalidTrustError)
    }
  })
  it('a connection needs a pin or a CA', () => {
    assert.throws(() => new DsmConnection({ host: '127.0.0.1', trust: {} }), InvalidTrustError)
    assert.throws(() => new DsmConnection({ host: '127.0.0.1', trust: { caPem: 'not a pem' } }), InvalidTrustError)
    assert.throws(() => new DsmConnection({ host: 'http://127.0.0.1', trust: { spkiSha256: PIN_HEX } }), InvalidHostError)
  })
})

describe('endpoint allowlist', () => {
  it('is exactly the set of calls the ceremony needs', () => {
    assert.deepEqual(
      ENDPOINTS.map((e) => `${e.method} ${e.template} ${e.effect}`).sort(),
      [
        'DELETE /crypto/v1/keys/{id} write',
        'DELETE /sys/v1/approval_requests/{id} write',
        'PATCH /sys/v1/groups/{id} write',
        'POST /crypto/v1/decrypt read',
        'POST /crypto/v1/encrypt read',
        'POST /sys/v1/groups write',
        'POST /sys/v1/groups/hmg/check read',
        'POST /sys/v1/groups/{id}/hmg/check read',
        'GET /crypto/v1/keys read',
        'GET /crypto/v1/keys/{id} read',
        'GET /sys/v1/approval_requests read',
        'GET /sys/v1/approval_requests/{id} read',
        'GET /sys/v1/groups read',
        'GET /sys/v1/groups/{id} read',
        'GET /sys/v1/health read',
      'GET /sys/v1/logs read',
        'GET /sys/v1/users read',
        'GET /sys/v1/apps read',
        'POST /sys/v1/apps write',
        'GET /sys/v1/apps/{id}/credential read',
        'GET /sys/v1/version read',
        'POST /crypto/v1/keys write',
        'POST /crypto/v1/keys/info read',
        'POST /crypto/v1/unwrapkey write',
        'POST /crypto/v1/wrapkey write',
        'POST /sys/v1/approval_requests write',
        'POST /sys/v1/approval_requests/{id}/approve write',
        'POST /sys/v1/approval_requests/{id}/deny write',
        'POST /sys/v1/approval_requests/{id}/result write',
        'POST /sys/v1/session/auth write',
        'POST /sys/v1/session/refresh write',
        'POST /sys/v1/session/select_account write',
        'POST /sys/v1/session/terminate write',
        'PUT /crypto/v1/keys write',
      ].sort(),
    )
  })

  it('recognises every spelling of a plaintext export path', () => {
    const kid = '0b0e8a0c-1234-4abc-8def-0123456789ab'
    for (const p of [
      '/crypto/v1/keys/export',
      `/crypto/v1/keys/${kid}/export`,
      '/crypto/v1/keys/components/export',
      '/CRYPTO/v1/keys/EXPORT',
      '/crypto/v1/keys/export/',
      '//crypto/v1//keys/export',
      '/crypto/v1/keys/%65xport',
      'crypto/v1/keys/export',
      '/crypto/v1/keys/export?view=value',
    ]) {
      assert.equal(isPlaintextExportPath(p), true, p)
      assert.throws(() => checkEndpoint('POST', p), PlaintextExportRefusedError, p)
      assert.throws(() => checkEndpoint('GET', p), PlaintextExportRefusedError, p)
    }
    assert.equal(isPlaintextExportPath('/crypto/v1/wrapkey'), false)
  })

  it('refuses endpoints outside the list, and ids that are not UUIDs', () => {
    for (const [m, p] of [
      // The onboarding makes an app and reads its credential; it never resets, deletes or changes one.
      ['POST', '/sys/v1/apps/0b0e8a0c-1234-4abc-8def-0123456789ab/reset_secret'],
      ['DELETE', '/sys/v1/apps/0b0e8a0c-1234-4abc-8def-0123456789ab'],
      ['GET', '/sys/v1/apps/not-a-uuid/credential'],
      ['POST', '/sys/v1/users'],
      ['DELETE', '/sys/v1/groups/0b0e8a0c-1234-4abc-8def-0123456789ab'],
      ['POST', '/crypto/v1/sign'],
      ['POST', '/sys/v1/groups/0b0e8a0c-1234-4abc-8def-0123456789ab/hmg/scan'],
      ['PATCH', '/sys/v1/apps/0b0e8a0c-1234-4abc-8def-0123456789ab'],
      ['GET', '/crypto/v1/keys/../../sys/v1/apps'],
      ['DELETE', '/crypto/v1/keys/not-a-uuid'],
      ['GET', '/sys/v1/version/'],
    ] as const) {
      assert.throws(() => checkEndpoint(m, p), EndpointNotAllowedError, `${m} ${p}`)
    }
  })

  it('refuses a plaintext export before any network I/O', async () => {
    const seen: RequestEvent[] = []
    // Port 9 (discard) on loopback: if a request were attempted it would fail differently.
    const conn = new DsmConnection({ host: '127.0.0.1:9', trust: { spkiSha256: PIN_HEX }, onRequest: (e) => seen.push(e) })
    await assert.rejects(conn.call({ method: 'POST', path: '/crypto/v1/keys/export', body: { name: 'cluster-master-key' }, expect: [200] }), PlaintextExportRefusedError)
    await assert.rejects(conn.call({ method: 'GET', path: '/crypto/v1/keys/0b0e8a0c-1234-4abc-8def-0123456789ab/export', expect: [200] }), PlaintextExportRefusedError)
    assert.equal(seen.length, 0)
  })

  it('refuses approval requests whose operation is an export or not a ceremony operation', async () => {
    const calls: unknown[] = []
    const fake: AuthedCaller = {
      call: async (spec) => { calls.push(spec); throw new Error('must not be called') },
      clock: { now: () => 0 },
      timers: { setTimeout: () => 0, clearTimeout: () => undefined },
    }
    const approvals = new ApprovalsApi(fake)
    await assert.rejects(approvals.create({ method: 'POST', operation: '/crypto/v1/keys/export', body: { name: 'cmk' }, description: 'x' }), PlaintextExportRefusedError)
    await assert.rejects(approvals.create({ method: 'POST', operation: '/sys/v1/apps', description: 'x' }), EndpointNotAllowedError)
    await assert.rejects(approvals.create({ method: 'POST', operation: '/crypto/v1/wrapkey', description: '  ' }), InvalidArgumentError)
    assert.equal(calls.length, 0)
  })
})

describe('credential and request shape checks', () => {
  it('API keys: base64 only, no whitespace from copy-paste', () => {
    checkApiKeyShape(Buffer.from(Buffer.from('0b0e8a0c-1234-4abc-8def-0123456789ab:secret').toString('base64')))
    for (const [bad, msg] of [
      ['', /empty/],
      ['abc def', /spaces/],
      ['abcdef\n', /line breaks/],
      ['abc$def', /base64/],
      ['a'.repeat(5000), /longer/],
    ] as const) {
      assert.throws(() => checkApiKeyShape(Buffer.from(bad)), (e: unknown) => e instanceof InvalidCredentialError && msg.test(e.message))
    }
  })

  it('import takes only an RSA SPKI public key', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const spki = publicKey.export({ type: 'spki', format: 'der' })
    const body = buildImportPublicKeyBody({ name: 'transfer-key', spkiDer: spki, key_ops: ['WRAPKEY', 'ENCRYPT'] })
    assert.equal(body['value'], spki.toString('base64'))
    assert.equal(body['obj_type'], 'RSA')
    const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' })
    assert.throws(() => buildImportPublicKeyBody({ name: 't', spkiDer: pkcs8, key_ops: [] }), InvalidArgumentError)
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' })
    assert.throws(() => buildImportPublicKeyBody({ name: 't', spkiDer: ec, key_ops: [] }), /must be RSA/)
    assert.throws(() => buildImportPublicKeyBody({ name: 'two\nlines', spkiDer: spki, key_ops: [] }), InvalidArgumentError)
  })

  it('wrap/unwrap bodies use RSA-OAEP and validate descriptors', () => {
    assert.deepEqual(buildWrapKeyRequest({ wrappingKey: { name: 'transfer-key' }, subject: { name: 'cluster-master-key' }, oaepHash: 'SHA256' }), {
      key: { name: 'transfer-key' },
      subject: { name: 'cluster-master-key' },
      alg: 'RSA',
      mode: { OAEP: { mgf: { mgf1: { hash: 'SHA256' } } } },
    })
    assert.throws(() => buildWrapKeyRequest({ wrappingKey: { kid: 'nope' }, subject: { name: 'x' }, oaepHash: 'SHA1' }), InvalidArgumentError)
    assert.throws(() => buildWrapKeyRequest({ wrappingKey: { name: 'a' }, subject: { name: 'x' }, oaepHash: 'MD5' as 'SHA1' }), InvalidArgumentError)
    assert.throws(
      () => buildUnwrapKeyRequest({ unwrappingKey: { name: 'a' }, wrappedKey: Buffer.alloc(0), name: 'cmk', keyOps: ['EXPORT'], oaepHash: 'SHA1' }),
      InvalidArgumentError,
    )
  })
})

// Bad inputs to the DSM client (security.md §6), refused by name before any network I/O: an API key
// that is not base64("<app uuid>:<secret>") (case 40, with 39 and 41 through the same path), and a
// CA value that is oversized or not a certificate list (capped, parsed without a backtracking regex).
import assert from 'node:assert/strict'
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { AppSession, DsmConnection, InvalidCredentialError, InvalidTrustError, TimeoutError, UnreachableError } from '../main/dsm'
import { startSimulator, type RunningSimulator } from '../main/simulator'

/** A TCP listener that only counts connections: any network I/O at all shows up here. */
let counter: Server
let port = 0
let connections = 0
before(async () => {
  counter = createServer((s) => { connections++; s.destroy() })
  await new Promise<void>((r) => counter.listen(0, '127.0.0.1', r))
  const addr = counter.address()
  port = typeof addr === 'object' && addr ? addr.port : 0
})
after(() => counter.close())

const PIN = 'ab'.repeat(32)
const conn = () => new DsmConnection({ host: '127.0.0.1', port, trust: { spkiSha256: PIN }, connectTimeoutMs: 500, retry: { maxAttempts: 1 } })
const b64 = (text: string) => Buffer.from(text).toString('base64')

describe('case 40: an API key that does not decode to uuid:secret', () => {
  test('E40 refused by name before any network I/O, and the key buffer is zeroed', async () => {
    const uuid = randomUUID()
    const bad: Array<[string, string]> = [
      ['base64 of a word', b64('not-an-api-key')],
      ['no colon', b64(`${uuid}secret`)],
      ['an empty secret', b64(`${uuid}:`)],
      ['not a uuid before the colon', b64('0b0e8a0c-1234-4abc-8def-0123456789zz:secret')],
      ['the colon one place off', b64(`${uuid.slice(0, 35)}:x:secret`)],
      ['a control character in the secret', b64(`${uuid}:sec\u0000ret`)],
      ['random bytes', Buffer.from(Array.from({ length: 48 }, (_, i) => (i * 37) % 256)).toString('base64')],
      ['the uuid:secret text itself, not base64', `${uuid}:secret`],
      ['a trailing newline from copy-paste (case 41)', `${b64(`${uuid}:secret`)}\n`],
      ['not base64 (case 39)', 'this is not base64!'],
    ]
    for (const [what, text] of bad) {
      const key = Buffer.from(text)
      await assert.rejects(AppSession.open(conn(), key), (e: unknown) => e instanceof InvalidCredentialError && e.code === 'INVALID_CREDENTIAL' && !e.message.includes(text.trim()), what)
      assert.ok(key.every((b) => b === 0), `${what}: the key buffer is zeroed`)
    }
    assert.equal(connections, 0, 'no connection was opened for any of them')
    // Control: a well-formed key does go to the network (and fails there, by name).
    await assert.rejects(AppSession.open(conn(), Buffer.from(b64(`${uuid}:${'s'.repeat(86)}`))), (e: unknown) => e instanceof TimeoutError || e instanceof UnreachableError)
    assert.ok(connections >= 1, 'the well-formed key reached the listener')
  })

  test('E40 the simulator’s keys (base64 of uuid:secret, base64url secret) pass the check and log in', async () => {
    const sim: RunningSimulator = await startSimulator({ appliances: 1, createCmk: false })
    try {
      const a = sim.appliances[0]!
      const session = await AppSession.open(new DsmConnection({ host: a.host, port: a.port, trust: { spkiSha256: a.spkiSha256 } }), Buffer.from(a.apiKey))
      await session.logout()
    } finally {
      await sim.close()
    }
  })
})

describe('caPem: capped and parsed in linear time', () => {
  const withCa = (caPem: string) => () => new DsmConnection({ host: '127.0.0.1', port, trust: { caPem } })
  let certPem: string
  let sim: RunningSimulator
  before(async () => {
    sim = await startSimulator({ appliances: 1, createCmk: false })
    certPem = sim.appliances[0]!.certPem
  })
  after(() => sim.close())

  test('an oversized CA value (the 896 KB case) is refused by name before it is parsed', () => {
    const worst = '-----BEGIN CERTIFICATE-----\n'.repeat(Math.ceil(896 * 1024 / 28))
    assert.throws(withCa(worst), (e: unknown) => e instanceof InvalidTrustError && /larger than 64 KiB/.test(e.message))
    assert.throws(withCa(certPem + ' '.repeat(64 * 1024)), /larger than 64 KiB/)
  })

  test('BEGIN lines without an END, a private key, other PEM blocks and too many certificates are named', () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    const cases: Array<[string, string, RegExp]> = [
      ['BEGIN lines without END, just under the cap', '-----BEGIN CERTIFICATE-----\n'.repeat(Math.floor((64 * 1024) / 28) - 1), /without its END CERTIFICATE line/],
      ['an unterminated BEGIN', '-----BEGIN CERTIFICATE', /does not end/],
      ['a private key', `${certPem}\n${key}`, /contains a private key/],
      ['a public key block', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', /not a CERTIFICATE/],
      ['seventeen certificates', `${certPem}\n`.repeat(17), /more than 16 certificates/],
      ['no certificate at all', 'subject=CN=fips-1\n', /no PEM certificate/],
      ['a damaged certificate', certPem.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!'), /does not parse/],
    ]
    const seen = connections
    for (const [what, pem, message] of cases) {
      assert.throws(withCa(pem), (e: unknown) => e instanceof InvalidTrustError && message.test(e.message) && !e.message.includes('PRIVATE KEY-----'), what)
    }
    assert.equal(connections, seen, 'no connection was opened')
  })

  test('a CA file with comment lines around its certificate still verifies the appliance', async () => {
    const a = sim.appliances[0]!
    const commented = `subject=CN=fips-1\nissuer=CN=fips-1\n${certPem}\n# end of file\n`
    const c = new DsmConnection({ host: a.host, port: a.port, trust: { caPem: commented } })
    await c.health()
    c.close()
  })
})

// One pinned connection per appliance session (security.md §4.3, design §11): calls on one
// DsmConnection share one verified keep-alive socket, counted as TLS handshakes on the server; an
// idle socket is closed and the next one verified again; TLS sessions are never resumed; and a
// server that swaps its certificate between connections gets its next new socket refused by
// name, after which the connection stays closed.
import assert from 'node:assert/strict'
import type { TLSSocket } from 'node:tls'
import { after, describe, test } from 'node:test'
import { DsmConnection, TlsPinMismatchError, type TlsTrust } from '../main/dsm'
import { makeCert, serveTls, type Identity } from './support/certs'

const closers: Array<() => void> = []
after(() => closers.forEach((c) => c()))

async function server(identity: Identity, chain: string[] = []) {
  const s = await serveTls(identity, undefined, chain)
  const resumed: boolean[] = []
  s.server.on('secureConnection', (socket: TLSSocket) => resumed.push(socket.isSessionReused()))
  closers.push(() => { s.server.closeAllConnections(); s.server.close() })
  return { ...s, resumed }
}

const conn = (port: number, trust: TlsTrust, idleTimeoutMs = 10_000) =>
  new DsmConnection({ host: '127.0.0.1', port, trust, idleTimeoutMs, connectTimeoutMs: 3000, retry: { maxAttempts: 1 } })

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('one pinned connection per appliance session', () => {
  test('keep-alive: ten calls, five of them at once, make one verified TLS handshake (CA mode)', async () => {
    const id = makeCert({ cn: 'fips-ka', ips: ['127.0.0.1'] })
    const s = await server(id)
    const c = conn(s.port, { caPem: id.certPem, spkiSha256: id.spkiSha256 })
    for (let i = 0; i < 5; i++) await c.version()
    await Promise.all(Array.from({ length: 5 }, () => c.version()))
    assert.equal(s.handshakes(), 1, 'the server saw one TLS handshake')
    assert.deepEqual(c.tlsHandshakes, { probes: 0, verified: 1 })
    c.close()
  })

  test('keep-alive: sessions to one appliance share its connection; pin-only first contact costs one probe, once', async () => {
    const id = makeCert({ cn: 'fips-pin', ips: ['127.0.0.1'] })
    const s = await server(id)
    const app = conn(s.port, { spkiSha256: id.spkiSha256 })
    for (let i = 0; i < 4; i++) await app.version()
    assert.deepEqual(app.tlsHandshakes, { probes: 1, verified: 1 })
    // A custodian's session to the same appliance (same trust) rides the same verified socket.
    const custodian = conn(s.port, { spkiSha256: id.spkiSha256 })
    for (let i = 0; i < 4; i++) await Promise.all([custodian.version(), app.version()])
    assert.deepEqual(custodian.tlsHandshakes, { probes: 1, verified: 1 }, 'no new handshake for the second session')
    // The probe may or may not complete on the server before the client drops it.
    assert.ok(s.handshakes() >= 1 && s.handshakes() <= 2, `${s.handshakes()} server-side handshakes`)
    // Other trust (here: a CA as well) is another connection, verified on its own.
    const other = conn(s.port, { spkiSha256: id.spkiSha256, caPem: id.certPem })
    await other.version()
    assert.deepEqual(other.tlsHandshakes, { probes: 0, verified: 1 })
    for (const c of [app, custodian, other]) c.close()
  })

  test('keep-alive: an idle socket is closed after the idle time; the next call verifies a new one, never a resumed session', async () => {
    const id = makeCert({ cn: 'fips-idle', ips: ['127.0.0.1'] })
    const s = await server(id)
    const c = conn(s.port, { caPem: id.certPem }, 150)
    await c.version()
    await sleep(500)
    await c.version()
    await sleep(500)
    await c.version()
    assert.equal(s.handshakes(), 3)
    assert.deepEqual(s.resumed, [false, false, false], 'every handshake was a full one: the pin is checked each time')
    c.close()
  })

  for (const mode of ['pin only', 'CA and pin'] as const) {
    test(`keep-alive: a server that swaps its certificate between connections (${mode}): the next new socket is refused by name, and the connection stays closed`, async () => {
      const ca = makeCert({ cn: 'Swap CA', ca: true })
      const a = mode === 'pin only' ? makeCert({ cn: 'fips-a', ips: ['127.0.0.1'] }) : makeCert({ cn: 'fips-a', ips: ['127.0.0.1'], issuer: ca })
      const b = mode === 'pin only' ? makeCert({ cn: 'fips-b', ips: ['127.0.0.1'] }) : makeCert({ cn: 'fips-b', ips: ['127.0.0.1'], issuer: ca })
      const s = await server(a, mode === 'pin only' ? [] : [ca.certPem])
      const trust: TlsTrust = mode === 'pin only' ? { spkiSha256: a.spkiSha256 } : { caPem: ca.certPem, spkiSha256: a.spkiSha256 }
      const warnings: string[] = []
      const c = new DsmConnection({ host: '127.0.0.1', port: s.port, trust, connectTimeoutMs: 3000, retry: { maxAttempts: 1 }, logger: { debug: () => undefined, warn: (m) => void warnings.push(m) } })
      await c.version()
      await c.version()
      const before = s.handshakes()
      // The appliance (or whoever now answers at its address) presents another key on new connections.
      s.server.setSecureContext({ key: b.keyPem, cert: mode === 'pin only' ? b.certPem : `${b.certPem}\n${ca.certPem}` })
      s.server.closeIdleConnections()
      await sleep(50)
      await assert.rejects(c.version(), (e: unknown) => e instanceof TlsPinMismatchError && e.code === 'TLS_PIN_MISMATCH' && e.actual === b.spkiSha256 && e.expected === a.spkiSha256)
      assert.ok(warnings.some((w) => /pin mismatch: connection closed/.test(w)))
      const afterMismatch = s.handshakes()
      // Refused from now on, before any I/O: no new handshake reaches the server.
      await assert.rejects(c.version(), TlsPinMismatchError)
      await assert.rejects(c.call({ method: 'POST', path: '/sys/v1/session/auth', authorization: 'Basic eDp5', expect: [200] }), TlsPinMismatchError)
      assert.equal(s.handshakes(), afterMismatch)
      // A session opened afterwards starts afresh, verifies on its own and is refused by the appliance's key.
      const fresh = new DsmConnection({ host: '127.0.0.1', port: s.port, trust, connectTimeoutMs: 3000, retry: { maxAttempts: 1 } })
      await assert.rejects(fresh.version(), (e: unknown) => e instanceof TlsPinMismatchError && e.actual === b.spkiSha256)
      fresh.close()
      assert.ok(afterMismatch >= before, 'the new socket was attempted')
      c.close()
    })
  }
})

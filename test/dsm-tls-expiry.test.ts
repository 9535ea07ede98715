// security.md §8 F: an expired appliance certificate is refused, whether it is trusted by its pin
// alone (the self-signed case) or through a CA, even though the pin matches and the CA signed it.
import assert from 'node:assert/strict'
import type { Server } from 'node:https'
import { after, before, describe, test } from 'node:test'
import { DsmConnection, TlsPinMismatchError, TlsVerificationError, type TlsTrust } from '../main/dsm'
import { makeCert, serveTls, type Identity } from './support/certs'

const DAY = 24 * 3600_000
const expiredWindow = { notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) }

const servers: Server[] = []
after(() => servers.forEach((s) => s.close()))

async function serve(identity: Identity, chain: string[] = []): Promise<number> {
  const s = await serveTls(identity, undefined, chain)
  servers.push(s.server)
  return s.port
}

const conn = (port: number, trust: TlsTrust) => new DsmConnection({ host: '127.0.0.1', port, trust, connectTimeoutMs: 3000, retry: { maxAttempts: 1 } })
const expired = (e: unknown) => e instanceof TlsVerificationError && !(e instanceof TlsPinMismatchError) && e.code === 'TLS_VERIFICATION_FAILED' && /CERT_HAS_EXPIRED/.test(e.message)

describe('F an expired appliance certificate', () => {
  let selfSigned: Identity
  let ca: Identity
  let issued: Identity
  let selfPort: number
  let issuedPort: number
  before(async () => {
    selfSigned = makeCert({ cn: 'fips-expired', ips: ['127.0.0.1'], ...expiredWindow })
    ca = makeCert({ cn: 'Ceremony Test CA', ca: true })
    issued = makeCert({ cn: 'fips-expired-ca', ips: ['127.0.0.1'], issuer: ca, ...expiredWindow })
    selfPort = await serve(selfSigned)
    issuedPort = await serve(issued, [ca.certPem])
  })

  test('F expired certificate, pin alone: refused by name although the pin matches', async () => {
    await assert.rejects(conn(selfPort, { spkiSha256: selfSigned.spkiSha256 }).version(), expired)
  })

  test('F expired certificate, with a CA: refused with the CA alone, with CA and pin, and as its own CA', async () => {
    await assert.rejects(conn(issuedPort, { caPem: ca.certPem }).version(), expired)
    await assert.rejects(conn(issuedPort, { caPem: ca.certPem, spkiSha256: issued.spkiSha256 }).version(), expired)
    await assert.rejects(conn(issuedPort, { spkiSha256: issued.spkiSha256 }).version(), expired)
    await assert.rejects(conn(selfPort, { caPem: selfSigned.certPem }).version(), expired)
  })

  test('control: the same set-up with a current certificate connects', async () => {
    const current = makeCert({ cn: 'fips-current', ips: ['127.0.0.1'], issuer: ca })
    const port = await serve(current, [ca.certPem])
    await conn(port, { caPem: ca.certPem, spkiSha256: current.spkiSha256 }).version()
    await conn(port, { spkiSha256: current.spkiSha256 }).version()
  })
})

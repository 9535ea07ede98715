// TLS trust for the DSM client, over real TLS: the simulator's self-signed certificate with its
// pinned SPKI SHA-256, a wrong pin (also with NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment),
// CA-file mode (the simulator's certificate as CA, and a generated CA + server certificate),
// hostname checks, and unreachable appliances.
import assert from 'node:assert/strict'
import { createHash, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer, type Server } from 'node:https'
import { createServer as createNetServer } from 'node:net'
import { after, before, describe, it } from 'node:test'
import forge from 'node-forge'
import {
  BadResponseError,
  DsmConnection,
  ListGroupsResponseSchema,
  ListSobjectsResponseSchema,
  TlsPinMismatchError,
  TlsVerificationError,
  UnreachableError,
  type TlsTrust,
} from '../main/dsm'
import { startSimulator, type RunningSimulator, type SimulatedAppliance } from '../main/simulator'

interface Identity { keyPem: string; certPem: string; spkiSha256: string }

/** A certificate signed by `issuer` (or self-signed), made with node:crypto keys and node-forge X.509. */
function makeCert(opts: { cn: string; dns?: string[]; ips?: string[]; ca?: boolean; issuer?: Identity }): Identity {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const cert = forge.pki.createCertificate()
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString())
  cert.serialNumber = '01' + randomBytes(8).toString('hex')
  cert.validity.notBefore = new Date(Date.now() - 60_000)
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000)
  const subject = [{ name: 'commonName', value: opts.cn }]
  cert.setSubject(subject)
  cert.setIssuer(opts.issuer ? forge.pki.certificateFromPem(opts.issuer.certPem).subject.attributes : subject)
  const altNames = [...(opts.dns ?? []).map((value) => ({ type: 2, value })), ...(opts.ips ?? []).map((ip) => ({ type: 7, ip }))]
  cert.setExtensions([
    { name: 'basicConstraints', cA: !!opts.ca, critical: true },
    { name: 'keyUsage', ...(opts.ca ? { keyCertSign: true, cRLSign: true } : { digitalSignature: true, keyEncipherment: true }) },
    ...(opts.ca ? [] : [{ name: 'extKeyUsage', serverAuth: true }, { name: 'subjectAltName', altNames }]),
  ])
  cert.sign(forge.pki.privateKeyFromPem(opts.issuer?.keyPem ?? keyPem), forge.md.sha256.create())
  const certPem = forge.pki.certificateToPem(cert)
  const spki = createPublicKey(certPem).export({ type: 'spki', format: 'der' })
  return { keyPem, certPem, spkiSha256: createHash('sha256').update(spki).digest('hex') }
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void
const versionHandler: Handler = (_req, res) => {
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify({ version: '4.0.1', api_version: '1.0', server_mode: 'Software' }))
}

async function serve(identity: Identity, chain: string[] = [], handler: Handler = versionHandler): Promise<{ server: Server; port: number }> {
  const server = createServer({ key: identity.keyPem, cert: [identity.certPem, ...chain].join('\n') }, handler)
  server.on('tlsClientError', () => undefined)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const addr = server.address()
  return { server, port: typeof addr === 'object' && addr ? addr.port : 0 }
}

function conn(host: string, port: number, trust: TlsTrust): DsmConnection {
  return new DsmConnection({ host, port, trust, connectTimeoutMs: 3000, responseTimeoutMs: 3000, retry: { maxAttempts: 1 } })
}

const WRONG_PIN = 'ff'.repeat(32)

let sim: RunningSimulator
let a: SimulatedAppliance
let b: SimulatedAppliance

before(async () => {
  sim = await startSimulator({ appliances: 2, createCmk: false })
  a = sim.appliances[0]!
  b = sim.appliances[1]!
})
after(() => sim.close())

describe('pinned SPKI (self-signed appliance certificate)', () => {
  it('connects when the pin matches', async () => {
    const v = await conn(a.host, a.port, { spkiSha256: a.spkiSha256 }).version()
    assert.equal(typeof v.version, 'string')
  })

  it('accepts the pin in base64 and with colons', async () => {
    const bytes = Buffer.from(a.spkiSha256, 'hex')
    await conn(a.host, a.port, { spkiSha256: bytes.toString('base64') }).health()
    await conn(a.host, a.port, { spkiSha256: a.spkiSha256.toUpperCase().match(/../g)!.join(':') }).health()
  })

  it('refuses a wrong pin before any request reaches the appliance', async () => {
    const before = a.state.requestLog().length
    await assert.rejects(conn(a.host, a.port, { spkiSha256: WRONG_PIN }).version(), (e: unknown) => {
      assert.ok(e instanceof TlsPinMismatchError)
      assert.equal(e.expected, WRONG_PIN)
      assert.equal(e.actual, a.spkiSha256)
      return true
    })
    // The other appliance's pin is a wrong pin too.
    await assert.rejects(conn(a.host, a.port, { spkiSha256: b.spkiSha256 }).health(), TlsPinMismatchError)
    assert.equal(a.state.requestLog().length, before, 'no HTTP request may reach an unpinned peer')
  })

  it('refuses a wrong pin even with NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment', async () => {
    const saved = process.env['NODE_TLS_REJECT_UNAUTHORIZED']
    const savedEmit = process.emitWarning
    process.emitWarning = () => undefined // Node warns once about the variable; not what this test is about
    process.env['NODE_TLS_REJECT_UNAUTHORIZED'] = '0'
    try {
      const before = a.state.requestLog().length
      await assert.rejects(conn(a.host, a.port, { spkiSha256: WRONG_PIN }).version(), TlsPinMismatchError)
      await assert.rejects(conn(a.host, a.port, { caPem: b.certPem }).version(), TlsVerificationError)
      assert.equal(a.state.requestLog().length, before)
      // …and the right pin still works.
      await conn(a.host, a.port, { spkiSha256: a.spkiSha256 }).health()
    } finally {
      if (saved === undefined) delete process.env['NODE_TLS_REJECT_UNAUTHORIZED']
      else process.env['NODE_TLS_REJECT_UNAUTHORIZED'] = saved
      process.emitWarning = savedEmit
    }
  })

  it('checks the host name too: the certificate must name the address used', async () => {
    const id = makeCert({ cn: 'fips9', dns: ['fips9.example'] })
    const { server, port } = await serve(id)
    try {
      await assert.rejects(conn('127.0.0.1', port, { spkiSha256: id.spkiSha256 }).health(), (e: unknown) => e instanceof TlsVerificationError && !(e instanceof TlsPinMismatchError))
    } finally {
      server.close()
    }
  })

  it('reuses the learnt anchor across calls on one connection', async () => {
    const c = conn(a.host, a.port, { spkiSha256: a.spkiSha256 })
    await c.health()
    await c.health()
    await c.version()
  })
})

describe('CA file', () => {
  it("verifies the chain and host name with the appliance's own certificate as CA", async () => {
    await conn(a.host, a.port, { caPem: a.certPem }).health()
    await conn('localhost', a.port, { caPem: a.certPem }).health()
  })

  it('a CA plus a pin requires both', async () => {
    await conn(a.host, a.port, { caPem: a.certPem, spkiSha256: a.spkiSha256 }).health()
    await assert.rejects(conn(a.host, a.port, { caPem: a.certPem, spkiSha256: WRONG_PIN }).health(), TlsPinMismatchError)
  })

  it('refuses a certificate the CA did not issue', async () => {
    await assert.rejects(conn(a.host, a.port, { caPem: b.certPem }).health(), (e: unknown) => e instanceof TlsVerificationError && !(e instanceof TlsPinMismatchError))
  })

  describe('generated private CA', () => {
    let ca: Identity
    let leaf: Identity
    let server: Server
    let port: number
    before(async () => {
      ca = makeCert({ cn: 'Ceremony Test CA', ca: true })
      leaf = makeCert({ cn: 'fips-ca-1', dns: ['localhost'], ips: ['127.0.0.1'], issuer: ca })
      ;({ server, port } = await serve(leaf, [ca.certPem]))
    })
    after(() => server.close())

    it('accepts a server certificate issued by the CA, by name and by IP', async () => {
      await conn('localhost', port, { caPem: ca.certPem }).version()
      await conn('127.0.0.1', port, { caPem: ca.certPem }).version()
    })

    it('refuses it with an unrelated CA', async () => {
      // The simulator's self-signed certificate stands in for an unrelated CA.
      await assert.rejects(conn('localhost', port, { caPem: b.certPem }).version(), TlsVerificationError)
    })

    it('pin-only mode works with a CA-issued certificate whose chain is presented', async () => {
      await conn('localhost', port, { spkiSha256: leaf.spkiSha256 }).version()
      await assert.rejects(conn('localhost', port, { spkiSha256: ca.spkiSha256 }).version(), TlsPinMismatchError)
    })
  })
})

describe('unreachable appliances', () => {
  it('a closed port is UnreachableError, not a TLS error', async () => {
    const probe = createNetServer()
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r))
    const addr = probe.address()
    const port = typeof addr === 'object' && addr ? addr.port : 0
    await new Promise<void>((r) => probe.close(() => r()))
    await assert.rejects(conn('127.0.0.1', port, { spkiSha256: WRONG_PIN }).health(), UnreachableError)
  })
})

describe('malformed responses (security.md §6 cases 44-46)', () => {
  let server: Server
  let port: number
  let id: Identity
  before(async () => {
    id = makeCert({ cn: 'bad-appliance', ips: ['127.0.0.1'] })
    ;({ server, port } = await serve(id, [], (req, res) => {
      const path = (req.url ?? '').split('?')[0]
      if (path === '/sys/v1/version') {
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({ version: 4, server_mode: 'Software' })) // wrong type, missing field
      } else if (path === '/sys/v1/groups') {
        res.setHeader('content-type', 'application/json')
        res.end('<html>not json</html>')
      } else if (path === '/crypto/v1/keys') {
        res.setHeader('content-type', 'application/json')
        res.end('[' + '"x",'.repeat(400_000) + '"x"]') // ~2 MB
      } else {
        res.statusCode = 302
        res.setHeader('location', 'https://elsewhere.example/')
        res.end()
      }
    }))
  })
  after(() => server.close())

  it('a response with missing or mistyped fields is BadResponseError naming the fields', async () => {
    await assert.rejects(conn('127.0.0.1', port, { spkiSha256: id.spkiSha256 }).version(), (e: unknown) => {
      assert.ok(e instanceof BadResponseError)
      assert.match(e.message, /version/)
      assert.match(e.message, /api_version/)
      return true
    })
  })

  it('non-JSON, oversized and redirect responses are BadResponseError (redirects are never followed)', async () => {
    const c = conn('127.0.0.1', port, { spkiSha256: id.spkiSha256 })
    await assert.rejects(c.call({ method: 'GET', path: '/sys/v1/groups', expect: [200], schema: ListGroupsResponseSchema }), /not JSON/)
    await assert.rejects(c.call({ method: 'GET', path: '/crypto/v1/keys', expect: [200], schema: ListSobjectsResponseSchema }), /larger than/)
    await assert.rejects(c.health(), (e: unknown) => e instanceof BadResponseError && e.status === 302)
  })
})

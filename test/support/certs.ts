/**
 * Test certificates made on the spot (node:crypto RSA keys, node-forge X.509): self-signed or issued
 * by a test CA, with any names and any validity window (e.g. already expired), and a TLS server
 * that presents one. Nothing is written to disk.
 */
import { createHash, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer, type Server } from 'node:https'
import forge from 'node-forge'

export interface Identity { keyPem: string; certPem: string; spkiSha256: string }

export interface CertOptions {
  cn: string
  dns?: string[]
  ips?: string[]
  ca?: boolean
  issuer?: Identity
  notBefore?: Date
  notAfter?: Date
}

export function makeCert(opts: CertOptions): Identity {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const cert = forge.pki.createCertificate()
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString())
  cert.serialNumber = '01' + randomBytes(8).toString('hex')
  cert.validity.notBefore = opts.notBefore ?? new Date(Date.now() - 60_000)
  cert.validity.notAfter = opts.notAfter ?? new Date(Date.now() + 24 * 3600_000)
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

export type Handler = (req: IncomingMessage, res: ServerResponse) => void

export const versionHandler: Handler = (_req, res) => {
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify({ version: '4.0.1', api_version: '1.0', server_mode: 'Software' }))
}

/** An HTTPS server on 127.0.0.1 presenting `identity` (plus `chain`); counts TLS handshakes. */
export async function serveTls(identity: Identity, handler: Handler = versionHandler, chain: string[] = []): Promise<{ server: Server; port: number; handshakes: () => number }> {
  const server = createServer({ key: identity.keyPem, cert: [identity.certPem, ...chain].join('\n') }, handler)
  let handshakes = 0
  server.on('secureConnection', () => { handshakes++ })
  server.on('tlsClientError', () => undefined)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const addr = server.address()
  return { server, port: typeof addr === 'object' && addr ? addr.port : 0, handshakes: () => handshakes }
}

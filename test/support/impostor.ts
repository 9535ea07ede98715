// An HTTPS endpoint that claims to be a FIPS appliance (fips_level in /sys/v1/version, any API
// key accepted) behind a certificate issued by a test CA. A cluster that pins only the CA, or
// that does not check the host name, would accept it: tests use it to show the pinning is exact.
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:https'
import forge from 'node-forge'

export interface Impostor {
  host: string
  port: number
  /** base64 DER */
  caDer: string
  leafDer: string
  /** requests it answered (a cluster that refuses it sends none past the handshake) */
  requests: string[]
  close(): Promise<void>
}

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return {
    priv: forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
    pub: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
    pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  }
}

function der(cert: forge.pki.Certificate): string {
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary').toString('base64')
}

/** `altNames`: the names the leaf certifies (e.g. ['127.0.0.1'] or ['other.example']). */
export async function startImpostor(altNames: string[]): Promise<Impostor> {
  const ca = keyPair()
  const caCert = forge.pki.createCertificate()
  caCert.publicKey = ca.pub
  caCert.serialNumber = '01' + randomBytes(8).toString('hex')
  caCert.validity.notBefore = new Date(Date.now() - 60_000)
  caCert.validity.notAfter = new Date(Date.now() + 24 * 3600_000)
  caCert.setSubject([{ name: 'commonName', value: 'Impostor Test CA' }])
  caCert.setIssuer([{ name: 'commonName', value: 'Impostor Test CA' }])
  caCert.setExtensions([{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true }])
  caCert.sign(ca.priv, forge.md.sha256.create())

  const leaf = keyPair()
  const leafCert = forge.pki.createCertificate()
  leafCert.publicKey = leaf.pub
  leafCert.serialNumber = '02' + randomBytes(8).toString('hex')
  leafCert.validity.notBefore = new Date(Date.now() - 60_000)
  leafCert.validity.notAfter = new Date(Date.now() + 24 * 3600_000)
  leafCert.setSubject([{ name: 'commonName', value: altNames[0] ?? 'impostor' }])
  leafCert.setIssuer(caCert.subject.attributes)
  leafCert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: altNames.map((n) => (/^\d+\.\d+\.\d+\.\d+$/.test(n) ? { type: 7, ip: n } : { type: 2, value: n })) },
  ])
  leafCert.sign(ca.priv, forge.md.sha256.create())

  const requests: string[] = []
  const server: Server = createServer({ key: leaf.pem, cert: forge.pki.certificateToPem(leafCert) + forge.pki.certificateToPem(caCert) }, (req, res) => {
    requests.push(`${req.method} ${req.url}`)
    req.resume()
    res.setHeader('content-type', 'application/json')
    if (req.url === '/sys/v1/version') res.end(JSON.stringify({ version: '4.34.2201', api_version: '1.0', server_mode: 'Sgx', fips_level: 3 }))
    else if (req.url === '/sys/v1/session/auth') res.end(JSON.stringify({ token_type: 'Bearer', expires_in: 600, access_token: 'x', entity_id: '6d5c1a8e-3f5e-4a7e-9b0a-1c2d3e4f5a6b' }))
    else res.end('{}')
  })
  server.on('tlsClientError', () => undefined)
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)))
  return {
    host: '127.0.0.1',
    port,
    caDer: der(caCert),
    leafDer: der(leafCert),
    requests,
    close: () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections() }),
  }
}

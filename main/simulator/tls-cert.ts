// A fresh self-signed certificate per appliance, made at start and never written to disk.
// node:crypto makes the key (fast, OpenSSL); node-forge only assembles and signs the X.509
// certificate, which node:crypto cannot do.
import { createHash, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import forge from 'node-forge'

export interface ServerIdentity {
  keyPem: string
  certPem: string
  /** lowercase hex SHA-256 of the certificate's DER SubjectPublicKeyInfo: what clients pin */
  spkiSha256: string
}

export function makeServerIdentity(commonName: string, host: string): ServerIdentity {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const cert = forge.pki.createCertificate()
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString())
  // Positive serial: a leading 0x00..0x7f byte keeps the DER INTEGER non-negative.
  cert.serialNumber = '01' + randomBytes(15).toString('hex')
  const now = Date.now()
  cert.validity.notBefore = new Date(now - 60_000)
  cert.validity.notAfter = new Date(now + 365 * 24 * 3600_000)
  const attrs = [
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'DSM Key Ceremony simulator' },
  ]
  cert.setSubject(attrs)
  cert.setIssuer(attrs)
  const altNames: { type: number; value?: string; ip?: string }[] = [{ type: 2, value: 'localhost' }]
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) altNames.push({ type: 7, ip: host })
  else altNames.push({ type: 2, value: host })
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
  ])
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create())
  const certPem = forge.pki.certificateToPem(cert)
  // Computed from the finished certificate, the same way a client computes it from the peer.
  const spkiDer = createPublicKey(certPem).export({ type: 'spki', format: 'der' })
  return { keyPem, certPem, spkiSha256: createHash('sha256').update(spkiDer).digest('hex') }
}

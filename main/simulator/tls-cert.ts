// A fresh self-signed certificate per appliance, made at start and never written to disk.
// The key is EC P-256 from node:crypto (RSA key generation takes up to a second on the build
// machines). node-forge lays out the X.509 fields (names, validity, extensions) but only knows
// RSA keys, so its TBSCertificate gets the EC SubjectPublicKeyInfo and ECDSA algorithm spliced
// in, and node:crypto signs it.
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import forge from 'node-forge'

export interface ServerIdentity {
  keyPem: string
  certPem: string
  /** the certificate, base64 DER (what an hmg config's tls.ca.pinned holds) */
  certDer: string
  /** lowercase hex SHA-256 of the certificate's DER SubjectPublicKeyInfo: what clients pin */
  spkiSha256: string
}

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2'

function ecdsaSha256AlgorithmIdentifier(): forge.asn1.Asn1 {
  const { asn1 } = forge
  // RFC 5758 §3.2: ecdsa-with-SHA256 has no parameters (not even NULL).
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(ECDSA_WITH_SHA256).getBytes()),
  ])
}

export function makeServerIdentity(commonName: string, host: string): ServerIdentity {
  const { asn1 } = forge
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const spkiDer = publicKey.export({ type: 'spki', format: 'der' })

  const cert = forge.pki.createCertificate()
  // Placeholder so forge can serialise; replaced by the real EC key below.
  cert.publicKey = forge.pki.setRsaPublicKey(new forge.jsbn.BigInteger('3'), new forge.jsbn.BigInteger('3'))
  // Positive serial: a leading 0x01 byte keeps the DER INTEGER non-negative.
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
    { name: 'keyUsage', digitalSignature: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
  ])
  cert.signatureOid = ECDSA_WITH_SHA256
  cert.siginfo.algorithmOid = ECDSA_WITH_SHA256
  // getTBSCertificate is public in node-forge but missing from @types/node-forge.
  const tbs = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert)
  // TBSCertificate: [0]version, serial, signature, issuer, validity, subject, spki, [3]extensions
  const fields = tbs.value as forge.asn1.Asn1[]
  fields[2] = ecdsaSha256AlgorithmIdentifier()
  fields[6] = asn1.fromDer(forge.util.createBuffer(spkiDer.toString('binary')))
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary')
  const signature = sign('sha256', tbsDer, privateKey) // DER-encoded ECDSA-Sig-Value
  const certificate = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    tbs,
    ecdsaSha256AlgorithmIdentifier(),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, String.fromCharCode(0) + signature.toString('binary')),
  ])
  const certDer = asn1.toDer(certificate).getBytes()
  const certPem = forge.pem.encode({ type: 'CERTIFICATE', body: certDer })
  // Computed from the finished certificate, the same way a client computes it from the peer.
  const pin = createPublicKey(certPem).export({ type: 'spki', format: 'der' })
  return { keyPem, certPem, certDer: Buffer.from(certDer, 'binary').toString('base64'), spkiSha256: createHash('sha256').update(pin).digest('hex') }
}

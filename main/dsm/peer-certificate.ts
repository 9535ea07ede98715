// The certificate chain an appliance presents, read over a verified connection (chain, host name
// and SPKI pin checked by PinnedTlsConnector before anything is read). A FIPS-backed group pins
// the appliances' certificates themselves (`tls.ca.pinned`, base64 DER, dsm-api.md §11), so the
// ceremony takes them from the appliance over the same trust the plan names, never from a file
// someone hands over. The socket is closed unused: no request is sent on it.
import { createHash, X509Certificate } from 'node:crypto'
import type { DetailedPeerCertificate } from 'node:tls'
import { TlsVerificationError } from './errors'
import { normaliseHost } from './host'
import { PinnedTlsConnector, type Timers, type TlsTrust } from './tls-pin'

export interface PeerCertificate {
  /** DER, leaf first */
  der: Buffer
  /** SHA-256 of the DER (the certificate's fingerprint) */
  sha256: string
  /** SHA-256 of the DER SubjectPublicKeyInfo (what a plan pins) */
  spkiSha256: string
  subject: string
  validTo: string
}

export interface ReadPeerOptions {
  host: string
  port?: number
  trust: TlsTrust
  connectTimeoutMs?: number
  timers?: Timers
}

function describe(der: Buffer): PeerCertificate {
  const x = new X509Certificate(der)
  const spki = x.publicKey.export({ type: 'spki', format: 'der' })
  return {
    der: Buffer.from(x.raw),
    sha256: createHash('sha256').update(x.raw).digest('hex'),
    spkiSha256: createHash('sha256').update(spki).digest('hex'),
    subject: x.subject.replace(/\n/g, ', '),
    validTo: x.validTo,
  }
}

/** The presented chain, leaf first (issuers as the appliance sends them; a self-signed leaf alone). */
export async function readPeerCertificates(o: ReadPeerOptions): Promise<PeerCertificate[]> {
  const h = normaliseHost(o.host)
  const connector = new PinnedTlsConnector({
    host: h.host, port: o.port ?? h.port ?? 443, trust: o.trust, connectTimeoutMs: o.connectTimeoutMs ?? 10_000,
    ...(o.timers ? { timers: o.timers } : {}),
  })
  const socket = await connector.connect()
  try {
    const leaf = socket.getPeerCertificate(true)
    if (!leaf || !leaf.raw) throw new TlsVerificationError(`${connector.where} presented no certificate`)
    const chain: PeerCertificate[] = []
    const seen = new Set<string>()
    for (let c: DetailedPeerCertificate | undefined = leaf; c && c.raw; c = c.issuerCertificate) {
      if (seen.has(c.fingerprint256)) break // a self-signed certificate is its own issuer
      seen.add(c.fingerprint256)
      chain.push(describe(c.raw))
    }
    return chain
  } finally {
    socket.destroy()
  }
}

// security.md §8 G, the redaction tests for an Authorization header, a Basic credential, wrapped-key
// blob bytes and private-key PEM text: the audit log's secret filter (main/evidence/secrets.ts)
// refuses each, naming where it was but never its value, and the DSM client keeps the
// Authorization header out of its log lines, its observers and its error messages (even when an
// appliance echoes the header back).
import assert from 'node:assert/strict'
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'
import type { Server } from 'node:https'
import { after, describe, test } from 'node:test'
import { AppSession, DsmConnection, UnauthorizedError } from '../main/dsm'
import { assertNoSecrets } from '../main/evidence'
import { makeCert, serveTls } from './support/certs'

/** assertNoSecrets refuses `facts`, names `path`, and never repeats `secret`. */
function refused(facts: unknown, path: RegExp, secret: string) {
  assert.throws(() => assertNoSecrets(facts), (e: unknown) => {
    const err = e as Error & { code?: string; path?: string }
    return err.code === 'SECRET_IN_LOG' && path.test(err.path ?? '') && !err.message.includes(secret)
  }, JSON.stringify(facts).slice(0, 80))
}

const servers: Server[] = []
after(() => servers.forEach((s) => s.close()))

describe('redaction', () => {
  test('redaction: an Authorization header stays out of the audit log, the DSM client’s log lines, observers and errors', async () => {
    refused({ headers: { Authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln' } }, /facts\.headers\.Authorization/, 'eyJhbGci')
    refused({ request: { authorization: 'x' } }, /authorization/, 'x')

    // An appliance that echoes the request's Authorization header (and its decoded form) into a 401.
    const identity = makeCert({ cn: 'echo', ips: ['127.0.0.1'] })
    const { server, port } = await serveTls(identity, (req, res) => {
      const header = String(req.headers['authorization'] ?? '')
      const decoded = Buffer.from(header.replace(/^Basic /, ''), 'base64').toString('latin1')
      res.writeHead(401, { 'content-type': 'text/plain' }).end(`Invalid credentials ${header} (decoded ${decoded}; secret ${decoded.split(':')[1]})`)
    })
    servers.push(server)
    const secret = randomBytes(64).toString('base64url')
    const apiKey = Buffer.from(`${randomUUID()}:${secret}`).toString('base64')
    const lines: string[] = []
    const events: string[] = []
    const logger = { debug: (m: string, f?: object) => void lines.push(`${m} ${JSON.stringify(f ?? {})}`), warn: (m: string, f?: object) => void lines.push(`${m} ${JSON.stringify(f ?? {})}`) }
    const conn = new DsmConnection({
      host: '127.0.0.1', port, trust: { spkiSha256: identity.spkiSha256 }, logger,
      onRequest: (e) => void events.push(JSON.stringify(e)), onResponse: (e) => void events.push(JSON.stringify(e)),
    })
    const err = await AppSession.open(conn, Buffer.from(apiKey)).then(() => assert.fail('logged in'), (e: unknown) => e)
    assert.ok(err instanceof UnauthorizedError)
    assert.match(err.message, /Invalid credentials Basic \[redacted\] \(decoded \[redacted\]; secret \[redacted\]\)/)
    const everything = [err.message, String(err.request), ...lines, ...events].join('\n')
    assert.ok(lines.length > 0 && events.length > 0, 'the client did log and observe the call')
    for (const s of [apiKey, secret, 'authorization', 'Authorization']) assert.ok(!everything.includes(s), `found ${s.slice(0, 8)}…`)
    conn.close()
  })

  test('redaction: a Basic credential is refused as a value anywhere in the facts', () => {
    const credential = Buffer.from(`${randomUUID()}:${randomBytes(16).toString('hex')}`).toString('base64')
    refused({ note: `Basic ${credential}` }, /facts\.note/, credential)
    refused({ items: ['ok', `  basic ${credential}\n`] }, /facts\.items\[1\]/, credential)
    refused({ by: { raw: `Basic ${credential}` } }, /facts\.by\.raw/, credential)
    // Control: an object named like a credential scheme is ordinary inventory.
    assertNoSecrets({ name: 'Basic settings key', other: 'Basic', kid: randomUUID() })
  })

  test('redaction: wrapped-key blob bytes are refused by name and by shape', () => {
    const blob = randomBytes(256).toString('base64') // 344 characters, as on the media
    refused({ wrapped_key: blob }, /facts\.wrapped_key/, blob)
    refused({ wrappedKey: 'x' }, /wrappedKey/, 'x')
    refused({ note: `pasted from the media: ${blob}` }, /facts\.note/, blob)
    refused({ result: { body: [blob.slice(0, 200)] } }, /facts\.result\.body\[0\]/, blob.slice(0, 200))
    // Control: what the log does carry about a blob, and long ordinary values, pass.
    assertNoSecrets({
      sha256: randomBytes(32).toString('hex'), blobSha256: randomBytes(32).toString('hex'), wrappedKeyBytes: 256, bytes: 344,
      file: 'REHEARSAL-fips-2-cmk.wrapped.b64', digests: randomBytes(96).toString('hex'), kid: randomUUID(),
      note: 'a'.repeat(150) + ' ' + 'b'.repeat(150), path: '/media/custodian/CEREMONY/2026-07-01/fips-2/cmk.wrapped.b64',
    })
  })

  test('redaction: private-key PEM text is refused, alone or inside a longer text, whatever the key type', () => {
    const pkcs8 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()
    const encrypted = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' }).toString()
    const body = (pem: string) => pem.split('\n')[1]!
    refused({ file: pkcs8 }, /facts\.file/, body(pkcs8))
    refused({ note: `found on the media:\n${rsa}\nplease check` }, /facts\.note/, body(rsa))
    refused({ items: [encrypted] }, /facts\.items\[0\]/, body(encrypted))
    // Control: a public key is not a secret.
    assertNoSecrets({ transferKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString() })
  })
})

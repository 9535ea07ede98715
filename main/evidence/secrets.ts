// Defense in depth for the audit log (security.md §4.5): the engine logs an allowlist of facts,
// but if a secret ever reaches append() anyway it is refused here, before anything is written.
// Matching is on key names (normalised: lower case, separators removed) and on a few value shapes
// that are unmistakably secret. False positives are accepted: rename the fact.

const SECRET_KEY_EXACT = new Set([
  'value', 'pin', 'pass', 'passwd', 'password', 'passphrase', 'apikey', 'token', 'accesstoken',
  'refreshtoken', 'bearer', 'bearertoken', 'authorization', 'auth', 'secret', 'clientsecret',
  'privatekey', 'privkey', 'sessionid', 'sessiontoken', 'cookie', 'setcookie', 'keymaterial',
  'plaintext', 'credentials', 'credential', 'wrappedkey',
])
const SECRET_KEY_PARTS = ['password', 'passphrase', 'secret', 'token', 'apikey', 'privatekey', 'keymaterial', 'credential']

// Whole-value shapes only: an appliance's object named "Basic settings key" or "Bearer token signing
// key" is ordinary inventory, while "Basic dXNlcjpwYXNz" (user:pass) and "Bearer eyJhbGciOi…" are not.
function isBasicCredential(value: string): boolean {
  const m = /^\s*Basic\s+([A-Za-z0-9+/]{8,}={0,2})\s*$/i.exec(value)
  return m !== null && Buffer.from(m[1]!, 'base64').toString('utf8').includes(':')
}

// Key bytes in base64 (a wrapped CMK is 256 bytes = 344 characters): an unbroken base64 run of at
// least 128 bytes' worth that is not hex. Digests (64 hex), ids, names and paths (runs broken by
// '.', '-', ' ') stay far below it; a PEM body's lines are 64 characters.
const BASE64_RUN = /[A-Za-z0-9+/]{172,}={0,2}/
function hasKeyBytes(value: string): boolean {
  const run = BASE64_RUN.exec(value)
  return run !== null && /[^0-9a-fA-F]/.test(run[0])
}

const SECRET_VALUE_PATTERNS: Array<[(value: string) => boolean, string]> = [
  [(v) => /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(v), 'a PEM private key'],
  [hasKeyBytes, 'key bytes (a long base64 run, e.g. a wrapped key)'],
  [(v) => /^\s*Bearer\s+[A-Za-z0-9._~+/=-]{8,}\s*$/i.test(v), 'a bearer token'],
  [isBasicCredential, 'HTTP basic credentials'],
]

export class SecretInLogError extends Error {
  override readonly name = 'SecretInLogError'
  readonly code = 'SECRET_IN_LOG' as const
  /** Where in the facts the suspected secret was, e.g. "facts.session.token". Never its value. */
  readonly path: string
  constructor(path: string, why: string) {
    super(`Refused to write the audit entry: ${path} looks like ${why}. Secrets never go in the audit log.`)
    this.path = path
  }
}

function normaliseKey(k: string): string {
  return k.toLowerCase().replace(/[^a-z0-9]/g, '')
}

/** Throws SecretInLogError at the first suspected secret found in `value` (recursively). */
export function assertNoSecrets(value: unknown, path = 'facts'): void {
  if (typeof value === 'string') {
    for (const [looksSecret, what] of SECRET_VALUE_PATTERNS) if (looksSecret(value)) throw new SecretInLogError(path, what)
    return
  }
  if (value === null || typeof value !== 'object') return
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertNoSecrets(v, `${path}[${i}]`))
    return
  }
  for (const [k, v] of Object.entries(value)) {
    const n = normaliseKey(k)
    if (SECRET_KEY_EXACT.has(n) || SECRET_KEY_PARTS.some((p) => n.includes(p))) {
      throw new SecretInLogError(`${path}.${k}`, 'a secret (by its name)')
    }
    assertNoSecrets(v, `${path}.${k}`)
  }
}

// Looks for a secret anywhere in a live object graph: Buffers and typed arrays (raw bytes) and
// strings (hex, base64, base64url of the secret, or its raw bytes as latin1), through objects,
// arrays, Maps and Sets, cycles included. Used to show that a system holds no key material.
const MIN = 16

export function findBytes(root: unknown, secret: Buffer): string[] {
  if (secret.length < MIN) throw new Error(`a ${secret.length}-byte needle would match by chance; use at least ${MIN}`)
  const encodings: [string, string][] = [
    ['hex', secret.toString('hex')],
    ['HEX', secret.toString('hex').toUpperCase()],
    ['base64', secret.toString('base64').replace(/=+$/, '')],
    ['base64url', secret.toString('base64url')],
    ['latin1', secret.toString('latin1')],
  ]
  const hits: string[] = []
  const seen = new Set<unknown>()
  const visit = (v: unknown, path: string): void => {
    if (typeof v === 'string') {
      for (const [name, enc] of encodings) if (v.includes(enc)) hits.push(`${path} (${name})`)
      return
    }
    if (!v || typeof v !== 'object' || seen.has(v)) return
    seen.add(v)
    if (ArrayBuffer.isView(v)) {
      if (Buffer.from(v.buffer, v.byteOffset, v.byteLength).includes(secret)) hits.push(`${path} (bytes)`)
      return
    }
    if (v instanceof ArrayBuffer) {
      if (Buffer.from(v).includes(secret)) hits.push(`${path} (bytes)`)
      return
    }
    if (v instanceof Map) {
      for (const [k, x] of v) { visit(k, `${path}.<key>`); visit(x, `${path}[${JSON.stringify(String(k))}]`) }
      return
    }
    if (v instanceof Set) {
      let i = 0
      for (const x of v) visit(x, `${path}.<set ${i++}>`)
      return
    }
    if (Array.isArray(v)) {
      v.forEach((x, i) => visit(x, `${path}[${i}]`))
      return
    }
    for (const k of Reflect.ownKeys(v)) {
      let x: unknown
      try { x = (v as Record<string | symbol, unknown>)[k] } catch { continue }
      visit(x, `${path}.${String(k)}`)
    }
  }
  visit(root, '$')
  return hits
}

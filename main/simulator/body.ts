// Small readers for untrusted JSON request bodies: each failure is a 400 with a message that
// names the field, which is what a client developer needs when a request is refused.
import { badRequest } from './errors'

export type Obj = Record<string, unknown>

export function asObject(v: unknown, what = 'request body'): Obj {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badRequest(`Invalid ${what}: expected a JSON object`)
  return v as Obj
}

export function optString(o: Obj, field: string): string | undefined {
  const v = o[field]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw badRequest(`Invalid field ${field}: expected a string`)
  return v
}

export function reqString(o: Obj, field: string): string {
  const v = optString(o, field)
  if (v === undefined || v === '') throw badRequest(`Missing required field ${field}`)
  return v
}

export function optInt(o: Obj, field: string): number | undefined {
  const v = o[field]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v)) throw badRequest(`Invalid field ${field}: expected an integer`)
  return v
}

export function optBool(o: Obj, field: string): boolean | undefined {
  const v = o[field]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'boolean') throw badRequest(`Invalid field ${field}: expected true or false`)
  return v
}

export function optStringArray(o: Obj, field: string): string[] | undefined {
  const v = o[field]
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw badRequest(`Invalid field ${field}: expected an array of strings`)
  return v as string[]
}

export function optStringMap(o: Obj, field: string): Record<string, string> | undefined {
  const v = o[field]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    throw badRequest(`Invalid field ${field}: expected an object of strings`)
  }
  return { ...(v as Record<string, string>) }
}

/** Standard base64 with padding (format: byte). Strict: a damaged blob must not half-decode. */
export function reqBase64(o: Obj, field: string): Buffer {
  const s = reqString(o, field)
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) {
    throw badRequest(`Invalid field ${field}: not valid base64`)
  }
  return Buffer.from(s, 'base64')
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** An optional base64 field (null = absent). */
export function optBase64(o: Obj, field: string): Buffer | undefined {
  const v = o[field]
  if (v === undefined || v === null) return undefined
  return reqBase64(o, field)
}

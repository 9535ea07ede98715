/**
 * Payloads made from the IPC contract's own request schemas (via zod's JSON Schema export), so that
 * per-channel tests cover every channel `invokes` lists, including ones added later:
 *  - `validSample`: every field present (optional ones too), each at its smallest valid value;
 *  - `wrongTypes`: the sample with one field at a time given a value of the wrong type;
 *  - `overMax`: the sample with one bounded string or array at a time one past its maximum.
 * A schema shape this module does not know makes it throw, so a new kind of field fails loudly.
 */
import { z } from 'zod'

interface JsonSchema {
  type?: string
  properties?: Record<string, JsonSchema>
  required?: string[]
  additionalProperties?: boolean
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  minItems?: number
  maxItems?: number
  items?: JsonSchema
  enum?: unknown[]
}

function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input' }) as JsonSchema
}

function sampleValue(s: JsonSchema, path: string): unknown {
  if (s.enum) return s.enum[0]
  switch (s.type) {
    case 'string': return 'a'.repeat(Math.max(1, s.minLength ?? 1))
    case 'integer':
    case 'number': return s.minimum ?? 0
    case 'boolean': return true
    case 'array': return Array.from({ length: Math.max(1, s.minItems ?? 1) }, () => sampleValue(s.items ?? {}, `${path}[]`))
    case 'object': return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, sampleValue(v, `${path}.${k}`)]))
    default: throw new Error(`contract-samples: no sample for ${path} (${JSON.stringify(s)})`)
  }
}

/** A request every field of which is present and valid. */
export function validSample(schema: z.ZodType): Record<string, unknown> {
  const js = jsonSchemaOf(schema)
  if (js.type !== 'object') throw new Error('contract-samples: requests are objects')
  return sampleValue(js, '(request)') as Record<string, unknown>
}

/** Every top-level field name of a request. */
export function fieldsOf(schema: z.ZodType): string[] {
  return Object.keys(jsonSchemaOf(schema).properties ?? {})
}

/** A value of another type than the field's (an object is wrong for every scalar and array field). */
function wrongValue(s: JsonSchema): unknown {
  return s.type === 'object' ? 'not an object' : { wrongType: true }
}

export function wrongTypes(schema: z.ZodType): Array<[field: string, payload: Record<string, unknown>]> {
  const sample = validSample(schema)
  return Object.entries(jsonSchemaOf(schema).properties ?? {}).map(([k, s]) => [k, { ...sample, [k]: wrongValue(s) }])
}

export function overMax(schema: z.ZodType): Array<[field: string, payload: Record<string, unknown>]> {
  const sample = validSample(schema)
  const out: Array<[string, Record<string, unknown>]> = []
  for (const [k, s] of Object.entries(jsonSchemaOf(schema).properties ?? {})) {
    if (s.type === 'string' && s.maxLength !== undefined) out.push([k, { ...sample, [k]: 'a'.repeat(s.maxLength + 1) }])
    if (s.type === 'array' && s.maxItems !== undefined) out.push([k, { ...sample, [k]: Array.from({ length: s.maxItems + 1 }, () => sampleValue(s.items ?? {}, k)) }])
    if ((s.type === 'integer' || s.type === 'number') && s.maximum !== undefined) out.push([k, { ...sample, [k]: s.maximum + 1 }])
  }
  return out
}

/** An own, enumerable `__proto__` key, as JSON.parse or a structured clone can deliver it. */
export function withOwnKey(payload: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const copy = { ...payload }
  Object.defineProperty(copy, key, { value, enumerable: true, configurable: true, writable: true })
  return copy
}

// Validates DSM request and response bodies against the vendor's OpenAPI 3.0 document
// (../shared/reference/fortanix-dsm-openapi.json). Used by the simulator's conformance tests
// and by the DSM client's tests, so both sides are held to the same third-party contract
// rather than to each other.
//
// OpenAPI 3.0 schemas are not quite JSON Schema, so each component schema is translated
// before ajv sees it (see toJsonSchema). Deliberate departures from the document are listed in
// SPEC_OVERLAY with the reason; nothing else is relaxed.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }
type JsonObject = { [k: string]: Json }

/** sha256 of the copy the project was written against (dsm-api.md §0). */
export const SPEC_SHA256 = '15ba72e941feea4b32edaa70829e2f45853c596cb69da8f67c50e9e971cdd86d'

const ROOT_ID = 'dsm-openapi'

/**
 * Routes the vendor serves but the document omits. Each maps to the schema it returns, with the
 * evidence (dsm-api.md §0 and §4.1). Keep this list short and sourced.
 */
const EXTRA_OPERATIONS: { method: string; path: string; response?: string; status?: number }[] = [
  // [tf] dsm/resource_sobject.go, [legacy] docs, arbor/aedkeyman: returns the same Sobject as keys/info.
  { method: 'GET', path: '/crypto/v1/keys/{key_id}', response: 'Sobject' },
]

/**
 * Known gaps between the document and the vendor's observed behaviour.
 * - ApprovableResult.body is `{type: object}` in the document, but on a failed operation the
 *   server returns the error message as a JSON string ([go] support.go ApprovableResult.Parse,
 *   [rust] PendingApproval::result), and an approved DELETE (204) has no object to return.
 * - ListSobjectsParams flattens the optional `SobjectSort` (a serde `Option` flattened into the
 *   query), which the generator rendered as required `sort`. Clients list by `?name=` alone
 *   ([tf] dsm/data_source_sobject.go, dsm-api.md §4.1), so `sort` is optional here.
 */
function SPEC_OVERLAY(schemas: Record<string, JsonObject>): void {
  const lsp = schemas['ListSobjectsParams']?.['allOf']
  if (Array.isArray(lsp)) {
    const i = lsp.findIndex((s) => !!s && typeof s === 'object' && !Array.isArray(s) && String(s['$ref']).endsWith('/SobjectSort'))
    if (i >= 0) lsp[i] = { anyOf: [{ not: { required: ['sort'] } }, lsp[i] as Json] }
  }
  const ar = schemas['ApprovableResult']
  const props = ar?.['properties']
  if (props && typeof props === 'object' && !Array.isArray(props)) {
    (props as JsonObject)['body'] = { description: 'any JSON: object on success, string on failure, null for 204' }
  }
}

interface Operation {
  method: string
  template: string
  regex: RegExp
  requestSchema?: string // ajv key
  responses: Map<string, string | null> // status pattern ('200', '2XX', '204') -> ajv key, null = no body
  queryParams: { name: string; schemaKey: string; explodeObject: boolean }[]
}

export class OpenApiValidationError extends Error {
  constructor(message: string, readonly errors: ErrorObject[] = []) {
    super(message)
    this.name = 'OpenApiValidationError'
  }
}

export function specPath(): string {
  const candidates = [
    process.env['DSM_OPENAPI_PATH'],
    path.resolve(__dirname, '../fixtures/fortanix-dsm-openapi.json'),
    path.resolve(__dirname, '../../../shared/reference/fortanix-dsm-openapi.json'),
  ].filter((p): p is string => !!p)
  const found = candidates.find((p) => existsSync(p))
  if (!found) throw new Error(`OpenAPI document not found; looked in:\n  ${candidates.join('\n  ')}\n(set DSM_OPENAPI_PATH)`)
  return found
}

/** OpenAPI 3.0 schema -> JSON Schema (draft-07 as ajv reads it). */
function toJsonSchema(node: Json): Json {
  if (Array.isArray(node)) return node.map(toJsonSchema)
  if (node === null || typeof node !== 'object') return node
  const out: JsonObject = {}
  for (const [k, v] of Object.entries(node)) {
    // Annotations and OpenAPI-only keywords that are not JSON Schema. `discriminator` only helps
    // code generators: the oneOf beside it already decides validity.
    if (k === 'example' || k === 'discriminator' || k === 'xml' || k === 'externalDocs' || k === 'nullable' || k.startsWith('x-')) continue
    if (k === '$ref' && typeof v === 'string') {
      out[k] = v.startsWith('#/') ? `${ROOT_ID}${v}` : v
      continue
    }
    if (k === 'properties' && v && typeof v === 'object' && !Array.isArray(v)) {
      // Property names are data, not keywords: translate each value, keep every key.
      out[k] = Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, toJsonSchema(pv)]))
      continue
    }
    out[k] = toJsonSchema(v)
  }
  // nullable: true widens the type (and the enum) to null. Without a type it already allows null.
  if ((node as JsonObject)['nullable'] === true) {
    const t = out['type']
    if (typeof t === 'string') out['type'] = [t, 'null']
    else if (Array.isArray(t) && !t.includes('null')) out['type'] = [...t, 'null']
    if (Array.isArray(out['enum']) && !out['enum'].includes(null)) out['enum'] = [...out['enum'], null]
    if (out['$ref'] || out['allOf'] || out['oneOf'] || out['anyOf']) {
      // { nullable, $ref } etc.: null or the schema.
      const inner = { ...out }
      return { anyOf: [{ type: 'null' }, inner] }
    }
  }
  return out
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function templateRegex(template: string): RegExp {
  const parts = template.split(/(\{[^}]+\})/).map((p) => (p.startsWith('{') ? '([^/]+)' : escapeRegex(p)))
  return new RegExp(`^${parts.join('')}$`)
}

function formatErrors(errors: ErrorObject[] | null | undefined, body: unknown): string {
  if (!errors || errors.length === 0) return 'unknown validation error'
  // oneOf failures produce one error per branch; the most specific (deepest) ones are the useful ones.
  const maxDepth = Math.max(...errors.map((e) => e.instancePath.split('/').length))
  const pick = errors.filter((e) => e.instancePath.split('/').length >= maxDepth - 1).slice(0, 8)
  return pick
    .map((e) => {
      const where = e.instancePath || '(root)'
      const extra = e.keyword === 'additionalProperties' ? ` '${String(e.params['additionalProperty'])}'` :
        e.keyword === 'enum' ? ` ${JSON.stringify(e.params['allowedValues'])}` : ''
      const value = e.instancePath ? valueAt(body, e.instancePath) : undefined
      const shown = value === undefined ? '' : ` (got ${truncate(JSON.stringify(value))})`
      return `${where} ${e.message ?? e.keyword}${extra}${shown} [${e.schemaPath}]`
    })
    .join('\n  ')
}

function valueAt(body: unknown, pointer: string): unknown {
  let cur: unknown = body
  for (const seg of pointer.split('/').slice(1)) {
    const key = seg.replace(/~1/g, '/').replace(/~0/g, '~')
    if (cur && typeof cur === 'object') cur = (cur as Record<string, unknown>)[key]
    else return undefined
  }
  return cur
}

function truncate(s: string | undefined, n = 120): string {
  if (s === undefined) return 'undefined'
  return s.length > n ? `${s.slice(0, n)}…` : s
}

export class OpenApiValidator {
  private readonly ajv: Ajv
  private readonly operations: Operation[] = []
  private readonly compiled = new Map<string, ValidateFunction>()
  private readonly inlineSchemas = new Map<string, Json>()
  private readonly componentSchemas: Record<string, JsonObject> = {}

  constructor(doc: JsonObject) {
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true, coerceTypes: false })
    addFormats(this.ajv)
    const components = (doc['components'] ?? {}) as JsonObject
    const rawSchemas = (components['schemas'] ?? {}) as Record<string, Json>
    const schemas = this.componentSchemas
    for (const [name, s] of Object.entries(rawSchemas)) schemas[name] = toJsonSchema(s) as JsonObject
    SPEC_OVERLAY(schemas)
    this.ajv.addSchema({ $id: ROOT_ID, components: { schemas } } as object)

    const parameters = (components['parameters'] ?? {}) as Record<string, JsonObject>
    const paths = (doc['paths'] ?? {}) as Record<string, Record<string, JsonObject>>
    for (const [template, item] of Object.entries(paths)) {
      for (const [m, op] of Object.entries(item)) {
        if (!op || typeof op !== 'object' || !('responses' in op)) continue
        const method = m.toUpperCase()
        const key = `${method} ${template}`
        const operation: Operation = { method, template, regex: templateRegex(template), responses: new Map(), queryParams: [] }
        const reqSchema = schemaOf(op['requestBody'])
        if (reqSchema) operation.requestSchema = this.register(`${key} request`, reqSchema)
        for (const [status, resp] of Object.entries((op['responses'] ?? {}) as Record<string, Json>)) {
          const s = schemaOf(resp)
          operation.responses.set(status.toUpperCase(), s ? this.register(`${key} ${status}`, s) : null)
        }
        for (const p0 of (op['parameters'] ?? []) as JsonObject[]) {
          const ref = p0['$ref']
          const p = typeof ref === 'string' ? parameters[ref.split('/').pop() ?? ''] : p0
          if (!p || p['in'] !== 'query' || !p['schema']) continue
          const schema = p['schema'] as JsonObject
          const explodeObject = p['explode'] !== false && typeof schema['$ref'] === 'string'
          operation.queryParams.push({ name: String(p['name']), schemaKey: this.register(`${key} query ${String(p['name'])}`, schema), explodeObject })
        }
        this.operations.push(operation)
      }
    }
    for (const extra of EXTRA_OPERATIONS) {
      const key = `${extra.method} ${extra.path}`
      const responses = new Map<string, string | null>()
      responses.set(String(extra.status ?? '2XX'), extra.response ? this.register(`${key} 2XX`, { $ref: `#/components/schemas/${extra.response}` }) : null)
      this.operations.push({ method: extra.method, template: extra.path, regex: templateRegex(extra.path), responses, queryParams: [] })
    }
    // Literal segments beat parameters: /crypto/v1/keys/info must not match /crypto/v1/keys/{key_id}.
    this.operations.sort((a, b) => literalScore(b.template) - literalScore(a.template))
  }

  private register(key: string, schema: Json): string {
    this.inlineSchemas.set(key, toJsonSchema(schema))
    return key
  }

  private validator(key: string): ValidateFunction {
    let v = this.compiled.get(key)
    if (!v) {
      const schema = this.inlineSchemas.get(key)
      if (schema === undefined) throw new Error(`no schema ${key}`)
      v = this.ajv.compile(schema as object)
      this.compiled.set(key, v)
    }
    return v
  }

  private coercing: Ajv | undefined
  private readonly compiledQuery = new Map<string, ValidateFunction>()

  private queryValidator(key: string): ValidateFunction {
    let v = this.compiledQuery.get(key)
    if (!v) {
      if (!this.coercing) {
        this.coercing = new Ajv({ strict: false, allErrors: true, coerceTypes: true })
        addFormats(this.coercing)
        this.coercing.addSchema({ $id: ROOT_ID, components: { schemas: this.componentSchemas } } as object)
      }
      v = this.coercing.compile(this.inlineSchemas.get(key) as object)
      this.compiledQuery.set(key, v)
    }
    return v
  }

  /** The operation for a concrete request path (query string ignored), or undefined. */
  findOperation(method: string, rawPath: string): { method: string; template: string } | undefined {
    const op = this.match(method, rawPath)
    return op ? { method: op.method, template: op.template } : undefined
  }

  private match(method: string, rawPath: string): Operation | undefined {
    const p = rawPath.split('?')[0] ?? rawPath
    const m = method.toUpperCase()
    return this.operations.find((o) => o.method === m && o.regex.test(p))
  }

  private requireOperation(method: string, rawPath: string): Operation {
    const op = this.match(method, rawPath)
    if (!op) throw new OpenApiValidationError(`${method.toUpperCase()} ${rawPath}: no such operation in the DSM OpenAPI document`)
    return op
  }

  /**
   * Checks a request body (and the query string, when `rawPath` has one) against the operation's
   * schema. `body` undefined means "no body": fine for operations that declare none, and for
   * operations whose body is optional in practice (session/auth with Basic credentials).
   */
  validateRequest(method: string, rawPath: string, body: unknown): void {
    const op = this.requireOperation(method, rawPath)
    const label = `${op.method} ${op.template} request`
    if (body !== undefined) {
      if (!op.requestSchema) {
        if (body !== null && !(typeof body === 'object' && Object.keys(body as object).length === 0)) {
          throw new OpenApiValidationError(`${label}: the operation takes no body, got ${truncate(JSON.stringify(body))}`)
        }
      } else {
        const v = this.validator(op.requestSchema)
        if (!v(body)) throw new OpenApiValidationError(`${label} does not match the schema:\n  ${formatErrors(v.errors, body)}`, v.errors ?? [])
      }
    }
    const q = rawPath.includes('?') ? rawPath.slice(rawPath.indexOf('?') + 1) : ''
    if (q) this.validateQuery(op, new URLSearchParams(q), label)
  }

  private validateQuery(op: Operation, params: URLSearchParams, label: string): void {
    for (const qp of op.queryParams) {
      if (qp.explodeObject) {
        // An exploded object parameter: each property is its own query key. Values arrive as
        // strings, so coerce them the way a server would before checking types and formats.
        const obj: Record<string, unknown> = {}
        for (const [k, v] of params) obj[k] = v
        const v = this.queryValidator(qp.schemaKey)
        if (!v(obj)) throw new OpenApiValidationError(`${label} query string does not match ${qp.name}:\n  ${formatErrors(v.errors, obj)}`, v.errors ?? [])
      } else if (params.has(qp.name)) {
        const v = this.validator(qp.schemaKey)
        const value = params.get(qp.name)
        if (!v(value)) throw new OpenApiValidationError(`${label} query parameter ${qp.name}:\n  ${formatErrors(v.errors, value)}`, v.errors ?? [])
      }
    }
  }

  /**
   * Checks a response. 2xx bodies must match the schema the operation declares for that status
   * (exact code first, then the `2XX` wildcard); declared no-content responses must be empty.
   * The document declares no error responses; DSM sends errors as plain text (dsm-api.md §1), so
   * for status >= 400 the body must be a non-empty string.
   */
  validateResponse(method: string, rawPath: string, status: number, body: unknown): void {
    const op = this.requireOperation(method, rawPath)
    const label = `${op.method} ${op.template} -> ${status}`
    if (status >= 400) {
      if (typeof body !== 'string' || body.trim() === '') throw new OpenApiValidationError(`${label}: error responses must carry a plain-text message, got ${truncate(JSON.stringify(body))}`)
      return
    }
    const exact = op.responses.has(String(status))
    const wildcard = `${String(status)[0]}XX`
    const key = exact ? String(status) : op.responses.has(wildcard) ? wildcard : undefined
    if (key === undefined) throw new OpenApiValidationError(`${label}: status not declared (declared: ${[...op.responses.keys()].join(', ')})`)
    const schemaKey = op.responses.get(key)
    if (schemaKey === null || schemaKey === undefined) {
      if (body !== undefined && body !== null && body !== '') throw new OpenApiValidationError(`${label}: declared without content, got ${truncate(JSON.stringify(body))}`)
      return
    }
    if (status === 204) throw new OpenApiValidationError(`${label}: 204 sent, but the operation declares a response body`)
    const v = this.validator(schemaKey)
    if (!v(body)) throw new OpenApiValidationError(`${label} does not match the schema:\n  ${formatErrors(v.errors, body)}`, v.errors ?? [])
  }

  /** Validate an arbitrary value against a named component schema (e.g. 'Sobject'). */
  validateSchema(name: string, value: unknown): void {
    const key = `component ${name}`
    if (!this.inlineSchemas.has(key)) this.register(key, { $ref: `#/components/schemas/${name}` })
    const v = this.validator(key)
    if (!v(value)) throw new OpenApiValidationError(`${name} does not match the schema:\n  ${formatErrors(v.errors, value)}`, v.errors ?? [])
  }
}

function literalScore(template: string): number {
  return template.split('/').filter((s) => s && !s.startsWith('{')).length * 10 - (template.match(/\{/g)?.length ?? 0)
}

function schemaOf(node: Json | undefined): Json | undefined {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return undefined
  const content = node['content']
  if (!content || typeof content !== 'object' || Array.isArray(content)) return undefined
  const json = content['application/json']
  if (!json || typeof json !== 'object' || Array.isArray(json)) return undefined
  return json['schema']
}

let shared: OpenApiValidator | undefined

/** One validator per process (compiling the document takes a moment). */
export function openApi(): OpenApiValidator {
  if (!shared) {
    const file = specPath()
    const raw = readFileSync(file)
    const digest = createHash('sha256').update(raw).digest('hex')
    if (digest !== SPEC_SHA256) throw new Error(`${file}: sha256 ${digest} is not the reviewed copy (${SPEC_SHA256})`)
    shared = new OpenApiValidator(JSON.parse(raw.toString('utf8')) as JsonObject)
  }
  return shared
}

export function validateRequest(method: string, rawPath: string, body: unknown): void {
  openApi().validateRequest(method, rawPath, body)
}

export function validateResponse(method: string, rawPath: string, status: number, body: unknown): void {
  openApi().validateResponse(method, rawPath, status, body)
}

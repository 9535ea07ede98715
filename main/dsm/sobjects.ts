// Security objects (keys): generate, import a public key, look up, list, get, delete, and the
// direct wrap/unwrap calls (which a quorum group answers with ApprovalRequiredError; the ceremony
// goes through approval requests instead, see approvals.ts).
import { NotFoundError } from './errors'
import {
  buildGenerateKeyBody,
  buildImportPublicKeyBody,
  checkDescriptor,
  checkName,
  checkUuid,
  type GenerateKeyRequest,
  type ImportPublicKeyRequest,
  type SobjectDescriptor,
  type UnwrapKeyRequest,
  type WrapKeyRequest,
} from './requests'
import {
  ListSobjectsResponseSchema,
  SobjectSchema,
  WrapKeyResponseSchema,
  type Sobject,
  type WrapKeyResponse,
} from './schemas'
import type { AuthedCaller } from './session-core'

export interface ListSobjectsFilter {
  name?: string
  group_id?: string
  obj_type?: string
  limit?: number
  offset?: number
}

export class SobjectsApi {
  readonly #s: AuthedCaller
  constructor(session: AuthedCaller) {
    this.#s = session
  }

  /** POST /crypto/v1/keys → 201 Sobject. 409 ConflictError on a duplicate name. */
  async generate(req: GenerateKeyRequest): Promise<Sobject> {
    const r = await this.#s.call({ method: 'POST', path: '/crypto/v1/keys', body: buildGenerateKeyBody(req), expect: [201, 200], schema: SobjectSchema })
    return r.value
  }

  /** PUT /crypto/v1/keys with the public key as base64 DER → 201 Sobject. */
  async importPublicKey(req: ImportPublicKeyRequest): Promise<Sobject> {
    const r = await this.#s.call({ method: 'PUT', path: '/crypto/v1/keys', body: buildImportPublicKeyBody(req), expect: [201, 200], schema: SobjectSchema })
    return r.value
  }

  /** POST /crypto/v1/keys/info by kid or name. NotFoundError if absent. */
  async info(descriptor: SobjectDescriptor): Promise<Sobject> {
    const r = await this.#s.call({ method: 'POST', path: '/crypto/v1/keys/info', body: checkDescriptor(descriptor), expect: [200], schema: SobjectSchema })
    return r.value
  }

  /** Like info({name}) but absent → null (the reconcile-before-create lookup). */
  async findByName(name: string): Promise<Sobject | null> {
    try {
      return await this.info({ name: checkName(name) })
    } catch (err) {
      if (err instanceof NotFoundError) return null
      throw err
    }
  }

  /** GET /crypto/v1/keys with filters (metadata only). */
  async list(filter: ListSobjectsFilter = {}): Promise<Sobject[]> {
    const query: Record<string, string | number | undefined> = {}
    if (filter.name !== undefined) query['name'] = checkName(filter.name)
    if (filter.group_id !== undefined) query['group_id'] = checkUuid(filter.group_id, 'group_id')
    if (filter.obj_type !== undefined) query['obj_type'] = filter.obj_type
    if (filter.limit !== undefined) query['limit'] = filter.limit
    if (filter.offset !== undefined) query['offset'] = filter.offset
    const r = await this.#s.call({ method: 'GET', path: '/crypto/v1/keys', query, expect: [200], schema: ListSobjectsResponseSchema })
    return r.value
  }

  /** GET /crypto/v1/keys/{kid}. */
  async get(kid: string): Promise<Sobject> {
    const r = await this.#s.call({ method: 'GET', path: `/crypto/v1/keys/${checkUuid(kid, 'kid')}`, expect: [200], schema: SobjectSchema })
    return r.value
  }

  /** DELETE /crypto/v1/keys/{kid} → 204. */
  async delete(kid: string): Promise<void> {
    await this.#s.call({ method: 'DELETE', path: `/crypto/v1/keys/${checkUuid(kid, 'kid')}`, expect: [204, 200] })
  }

  /** Direct POST /crypto/v1/wrapkey (no quorum). */
  async wrap(req: WrapKeyRequest): Promise<WrapKeyResponse> {
    const r = await this.#s.call({ method: 'POST', path: '/crypto/v1/wrapkey', body: req, expect: [200], schema: WrapKeyResponseSchema })
    return r.value
  }

  /** Direct POST /crypto/v1/unwrapkey (no quorum). */
  async unwrap(req: UnwrapKeyRequest): Promise<Sobject> {
    const r = await this.#s.call({ method: 'POST', path: '/crypto/v1/unwrapkey', body: req, expect: [200, 201], schema: SobjectSchema })
    return r.value
  }
}

// The OpenAPI helper itself: the conformance checks above are only as good as it is, so show it
// rejects what it must (and reads OpenAPI 3.0 features like nullable and path templates right).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { openApi, OpenApiValidationError, validateRequest, validateResponse } from './support/openapi'

const uuid = '6d5c1a8e-3f5e-4a7e-9b0a-1c2d3e4f5a6b'
const sobject = {
  acct_id: uuid, created_at: '20261128T120000Z', creator: { app: uuid }, enabled: true, key_ops: ['EXPORT'],
  obj_type: 'AES', origin: 'FortanixHSM', public_only: false, kid: uuid, name: 'k', kcv: 'ABCDEF',
}

describe('OpenAPI validator', () => {
  it('accepts a well-formed Sobject and finds templated and extra routes', () => {
    validateResponse('POST', '/crypto/v1/keys/info', 200, sobject)
    validateResponse('GET', `/crypto/v1/keys/${uuid}?show_pub_key=true`, 200, sobject)
    assert.deepEqual(openApi().findOperation('POST', '/crypto/v1/keys/info'), { method: 'POST', template: '/crypto/v1/keys/info' })
    assert.deepEqual(openApi().findOperation('GET', `/sys/v1/approval_requests/${uuid}`), { method: 'GET', template: '/sys/v1/approval_requests/{req_id}' })
  })

  it('rejects missing required fields, wrong types, enum and format violations, naming the field', () => {
    const { origin: _o, ...noOrigin } = sobject
    assert.throws(() => validateResponse('POST', '/crypto/v1/keys/info', 200, noOrigin), /must have required property 'origin'/)
    assert.throws(() => validateResponse('POST', '/crypto/v1/keys/info', 200, { ...sobject, enabled: 'yes' }), /\/enabled must be boolean/)
    assert.throws(() => validateResponse('POST', '/crypto/v1/keys/info', 200, { ...sobject, obj_type: 'AES512' }), /\/obj_type must be equal to one of the allowed values/)
    assert.throws(() => validateResponse('POST', '/crypto/v1/keys/info', 200, { ...sobject, kid: 'not-a-uuid' }), /\/kid must match format "uuid"/)
    assert.throws(() => validateResponse('POST', '/crypto/v1/keys/info', 200, { ...sobject, created_at: '2026-11-28T12:00:00Z' }), /\/created_at must match pattern/)
    assert.throws(() => validateResponse('POST', '/crypto/v1/wrapkey', 200, { wrapped_key: 'not base64!' }), /\/wrapped_key must match format "byte"/)
  })

  it('nullable fields take null; non-nullable ones do not', () => {
    validateResponse('POST', '/crypto/v1/keys/info', 200, { ...sobject, name: null, description: null })
    assert.throws(() => validateResponse('POST', '/crypto/v1/keys/info', 200, { ...sobject, enabled: null }), /\/enabled/)
  })

  it('requests: tagged unions must be exactly one variant; required fields enforced', () => {
    validateRequest('POST', '/crypto/v1/wrapkey', { key: { name: 't' }, subject: { kid: uuid }, alg: 'RSA', mode: { OAEP: { mgf: { mgf1: { hash: 'SHA256' } } } } })
    assert.throws(() => validateRequest('POST', '/crypto/v1/wrapkey', { key: { name: 't' }, subject: { name: 'c' } }), /must have required property 'alg'/)
    assert.throws(() => validateRequest('POST', '/crypto/v1/wrapkey', { key: { name: 't', kid: uuid }, alg: 'RSA' }), /\/key must match exactly one schema in oneOf/)
    assert.throws(() => validateRequest('POST', '/crypto/v1/wrapkey', { key: { name: 't' }, alg: 'RSA', mode: { OAEP: {} } }), /must have required property 'mgf'/)
    assert.throws(() => validateRequest('POST', '/crypto/v1/unwrapkey', { key: { name: 't' }, alg: 'RSA', wrapped_key: 'AAAA' }), /required property 'obj_type'/)
    assert.throws(() => validateRequest('POST', '/sys/v1/session/select_account', { acct_id: 'x' }), /\/acct_id must match format "uuid"/)
  })

  it('query strings are checked with the types a server would coerce to', () => {
    validateRequest('GET', '/crypto/v1/keys?name=cluster-master-key&limit=10&show_kcv=true', undefined)
    assert.throws(() => validateRequest('GET', '/crypto/v1/keys?limit=ten', undefined), /\/limit must be integer/)
    assert.throws(() => validateRequest('GET', '/sys/v1/approval_requests?status=EXPIRED', undefined), /\/status must be equal to one of/)
  })

  it('operations without a body refuse one; 204 must be empty; errors must be plain text', () => {
    validateRequest('POST', '/sys/v1/session/terminate', undefined)
    assert.throws(() => validateRequest('POST', '/sys/v1/session/terminate', { x: 1 }), /takes no body/)
    validateResponse('DELETE', `/crypto/v1/keys/${uuid}`, 204, undefined)
    assert.throws(() => validateResponse('DELETE', `/crypto/v1/keys/${uuid}`, 204, { ok: true }), /declared without content/)
    assert.throws(() => validateResponse('GET', '/sys/v1/health', 200, undefined), /status not declared/)
    validateResponse('POST', '/crypto/v1/wrapkey', 403, 'This operation requires approval')
    assert.throws(() => validateResponse('POST', '/crypto/v1/wrapkey', 403, { message: 'x' }), /plain-text message/)
  })

  it('unknown operations are an error, not a silent pass', () => {
    assert.throws(() => validateResponse('GET', '/crypto/v1/nothing', 200, {}), OpenApiValidationError)
    assert.throws(() => validateRequest('PUT', '/sys/v1/version', {}), /no such operation/)
  })

  it('ApprovableResult: object on success, the error text as a JSON string on failure, null for 204 (overlay)', () => {
    const p = `/sys/v1/approval_requests/${uuid}/result`
    validateResponse('POST', p, 200, { status: 200, body: { wrapped_key: 'AAAA' } })
    validateResponse('POST', p, 200, { status: 409, body: 'sobject already exists' })
    validateResponse('POST', p, 200, { status: 204, body: null })
    assert.throws(() => validateResponse('POST', p, 200, { body: {} }), /required property 'status'/)
  })
})

/**
 * Free text over IPC (issue 9 §6: control characters and ANSI escapes refused). Generated from the
 * contract's own JSON Schema, like ipc-channels.test.ts: every string field of every request (inside
 * arrays, objects and record keys too) is either free text under the one shared rule
 * (preload/free-text.ts: `oneLine` or `multiLine`) or listed below with why it is not. For each
 * free-text field, through the real sender check and dispatch, with handlers that count calls:
 * "\u001b[31m" (an ANSI colour), "\u0007" (BEL), the 8-bit CSI and a right-to-left override are
 * refused as INVALID_PAYLOAD, the message naming the field and the rule without echoing the
 * character, and no handler runs; ordinary Unicode text is accepted, and newlines only where the
 * field is a text area (notes, resolutions, reasons, the words read out, the plan text).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { z } from 'zod'
import { invokes, type InvokeName } from '../preload/contract'
import { FREE_TEXT_PATTERNS, FREE_TEXT_REFUSAL } from '../preload/free-text'
import { isAppWindowSender } from '../main/app/ipc-sender'
import { RENDERER_URL } from '../main/app/renderer-files'
import { dispatch, type Handlers, type IpcSender } from '../main/ipc/register'
import { validSample } from './support/contract-samples'

const APP_WINDOW = 7
const options = { isTrustedSender: (event: IpcSender) => isAppWindowSender(new Set([APP_WINDOW]), event) }
const trusted: IpcSender = { sender: { id: APP_WINDOW }, senderFrame: { url: RENDERER_URL, parent: null } }

/** String fields that are not free text, and why. Anything else must carry the shared rule. */
const NOT_FREE_TEXT: Record<string, string> = {
  'session:set-api-key apiKey': 'a secret: never shown, logged or recorded; its shape is checked in main (checkApiKeyShape)',
  'ceremony:decide-approval password': 'a secret: sent to the appliance verbatim, never shown, logged or recorded',
  'session:set-password password': 'a secret: sent to the appliance verbatim, never shown, logged or recorded',
  'ceremony:decide-approval viewDigest': '64 lowercase hex characters by its own pattern',
  'media:choose volumeId': '16 lowercase hex characters by its own pattern',
}

/** The text areas: a newline is ordinary there. */
const MULTI_LINE_FIELDS = [
  'plan:validate text', 'plan:save text', 'ceremony:decide-approval reason', 'ceremony:exception note',
  'ceremony:resolve-deviation resolution', 'ceremony:abort reason', 'media:choose exception', 'station:receive words',
]

interface JsonSchema {
  type?: string
  properties?: Record<string, JsonSchema>
  items?: JsonSchema
  additionalProperties?: JsonSchema | boolean
  propertyNames?: JsonSchema
  pattern?: string
  minLength?: number
  maxLength?: number
  enum?: unknown[]
}

interface Leaf {
  /** e.g. "initials[].witness", "input{key}", "input{value}" */
  path: string
  schema: JsonSchema
  /** The valid sample with this one string set to `value`. */
  with(sample: Record<string, unknown>, value: string): Record<string, unknown>
}

/** Every string in a request schema, each with a way to set it in a sample. */
function stringLeaves(schema: JsonSchema, path = '', set: (root: Record<string, unknown>, v: unknown) => Record<string, unknown> = (_r, v) => v as Record<string, unknown>): Leaf[] {
  if (schema.enum) return [] // a closed choice, not text
  if (schema.type === 'string') return [{ path, schema, with: (sample, value) => set(structuredClone(sample), value) }]
  if (schema.type === 'array' && schema.items) {
    return stringLeaves(schema.items, `${path}[]`, (root, v) => set(root, [v]))
  }
  if (schema.type === 'object') {
    const out: Leaf[] = []
    const sampleOf = (root: Record<string, unknown>) => readAt(root, path)
    for (const [k, s] of Object.entries(schema.properties ?? {})) {
      out.push(...stringLeaves(s, path ? `${path}.${k}` : k, (root, v) => set(root, { ...sampleOf(root), [k]: v })))
    }
    if (schema.propertyNames) out.push(...stringLeaves(schema.propertyNames, `${path}{key}`, (root, v) => set(root, { [String(v)]: 'a' })))
    if (typeof schema.additionalProperties === 'object') out.push(...stringLeaves(schema.additionalProperties, `${path}{value}`, (root, v) => set(root, { a: v })))
    return out
  }
  return []
}

/** The sample's value at a leaf's parent path (arrays hold one element; records are replaced whole). */
function readAt(root: Record<string, unknown>, path: string): Record<string, unknown> {
  let at: unknown = root
  for (const part of path.split('.').filter(Boolean)) {
    const name = part.replace(/\[\]$/, '')
    at = (at as Record<string, unknown>)[name]
    if (part.endsWith('[]')) at = (at as unknown[])[0]
  }
  return (at ?? {}) as Record<string, unknown>
}

function leavesOf(name: InvokeName): Leaf[] {
  return stringLeaves(z.toJSONSchema(invokes[name].request, { io: 'input' }) as JsonSchema)
}

const fieldOf = (path: string) => path.replace(/\[\]|\{key\}|\{value\}/g, '').split('.').at(-1)!

/** Ordinary text within the field's length limits. */
function fit(text: string, s: JsonSchema): string {
  const max = s.maxLength ?? text.length
  let out = text.slice(0, max).trim()
  while (out.length < (s.minLength ?? 0)) out += 'x'
  return out
}

function counting() {
  const calls: string[] = []
  const handlers = Object.fromEntries(Object.keys(invokes).map((n) => [n, () => { calls.push(n); throw Object.assign(new Error('reached'), { code: 'HANDLER_REACHED' }) }])) as unknown as Handlers
  return { handlers, calls }
}

const BAD: Array<[what: string, value: string]> = [
  ['an ANSI colour escape', 'a\u001b[31mb'],
  ['a BEL', 'a\u0007b'],
  ['the 8-bit CSI', 'a\u009b31mb'],
  ['a right-to-left override', 'a\u202eb'],
]
const UNICODE = 'Zoë Ångström 佐藤 العربية ✓ Ψ'

test('IPC free text: every string field of every request is free text under the shared rule, or a listed secret or hex field', () => {
  const seen = new Set<string>()
  for (const name of Object.keys(invokes) as InvokeName[]) {
    const { channel } = invokes[name]
    for (const leaf of leavesOf(name)) {
      const key = `${channel} ${leaf.path}`
      const field = `${channel} ${fieldOf(leaf.path)}`
      seen.add(field)
      if (NOT_FREE_TEXT[field]) {
        assert.ok(leaf.schema.pattern === undefined || !Object.values(FREE_TEXT_PATTERNS).includes(leaf.schema.pattern), `${key} is listed as not free text`)
        continue
      }
      const expected = MULTI_LINE_FIELDS.includes(field) ? FREE_TEXT_PATTERNS.multiLine : FREE_TEXT_PATTERNS.oneLine
      assert.equal(leaf.schema.pattern, expected, `${key} must use ${expected === FREE_TEXT_PATTERNS.multiLine ? 'multiLine' : 'oneLine'} (preload/free-text.ts)`)
    }
  }
  for (const listed of [...Object.keys(NOT_FREE_TEXT), ...MULTI_LINE_FIELDS]) assert.ok(seen.has(listed), `${listed} is still a field of the contract`)
})

describe('IPC free text', () => {
  for (const name of Object.keys(invokes) as InvokeName[]) {
    const { channel, request } = invokes[name]
    const leaves = leavesOf(name).filter((l) => !NOT_FREE_TEXT[`${channel} ${fieldOf(l.path)}`])
    if (leaves.length === 0) continue
    test(`IPC free text ${channel}: ${leaves.map((l) => l.path).join(', ')} refuse "\\u001b[31m" and "\\u0007" by name and accept ordinary Unicode text`, async () => {
      const { handlers, calls } = counting()
      const sample = validSample(request)
      for (const leaf of leaves) {
        const multi = leaf.schema.pattern === FREE_TEXT_PATTERNS.multiLine
        for (const [what, value] of [...BAD, ...(multi ? [['a carriage return', 'a\rb'] as [string, string]] : [['a newline', 'a\nb'] as [string, string]])]) {
          const result = await dispatch(name, handlers, options, trusted, leaf.with(sample, value))
          assert.equal(result.ok, false, `${leaf.path}: ${what} is refused`)
          if (result.ok) continue
          assert.equal(result.error.code, 'INVALID_PAYLOAD', `${leaf.path}: ${what}`)
          assert.ok(result.error.message.includes(FREE_TEXT_REFUSAL), `${leaf.path}: ${what} refused by the rule's name: ${result.error.message}`)
          assert.ok(result.error.message.includes(fieldOf(leaf.path)), `${leaf.path}: the message names the field: ${result.error.message}`)
          // eslint-disable-next-line no-control-regex
          assert.doesNotMatch(result.error.message, /[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/, `${leaf.path}: the refusal does not echo the character`)
        }
        assert.deepEqual(calls, [], `${leaf.path}: no handler ran for a refused value`)
        const good = [fit(UNICODE, leaf.schema), ...(multi ? [fit('first line\nsecond line\tand a tab', leaf.schema)] : [])]
        for (const value of good) {
          const result = await dispatch(name, handlers, options, trusted, leaf.with(sample, value))
          assert.equal(result.ok ? 'OK' : result.error.code, 'HANDLER_REACHED', `${leaf.path}: ${JSON.stringify(value)} is accepted by the contract`)
          calls.length = 0
        }
      }
    })
  }
})

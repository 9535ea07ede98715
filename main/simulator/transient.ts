// Transient keys (dsm-api.md §4.2): made by generate or unwrap with `transient: true`, never
// stored, named by an opaque `transient_key` blob that only this appliance can open and only in
// the session that made it ("transient keys need a session", [rust] SdkmsClient docs). The blob
// is AES-256-GCM under a key that lives only in this appliance's memory.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import type { Caller, Ctx } from './context'
import { principalOf } from './context'
import { badRequest, unauthorized } from './errors'
import { importAes } from './key-material'
import type { KeyRecord } from './model'

const VERSION = 1

function sessionTag(caller: Caller | undefined): string {
  const s = caller?.session
  if (!s) throw unauthorized('Transient keys need a session: authenticate with /sys/v1/session/auth first')
  return createHash('sha256').update(s.token).digest('hex').slice(0, 32)
}

/** A new transient AES key record (not stored); its blob is in `transientBlob`. */
export function makeTransient(ctx: Ctx, secret: Buffer, keyOps: string[], creationMethod: KeyRecord['creationMethod']): KeyRecord {
  const payload = Buffer.from(JSON.stringify({ v: VERSION, s: sessionTag(ctx.caller), o: keyOps, k: secret.toString('base64'), m: creationMethod }))
  const iv = randomBytes(12)
  const c = createCipheriv('aes-256-gcm', ctx.model.transientKek, iv)
  const sealed = Buffer.concat([iv, c.update(payload), c.final(), c.getAuthTag()])
  payload.fill(0)
  return record(ctx, secret, keyOps, creationMethod, sealed.toString('base64'))
}

/** Opens a `transient_key` blob made by this appliance in the caller's session. */
export function openTransient(ctx: Ctx, blob: unknown): KeyRecord {
  if (typeof blob !== 'string' || blob === '') throw badRequest('Invalid transient_key: expected the base64 blob of a transient key')
  const raw = Buffer.from(blob, 'base64')
  let parsed: { v: number; s: string; o: string[]; k: string; m: KeyRecord['creationMethod'] }
  try {
    const d = createDecipheriv('aes-256-gcm', ctx.model.transientKek, raw.subarray(0, 12))
    d.setAuthTag(raw.subarray(raw.length - 16))
    const plain = Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()])
    parsed = JSON.parse(plain.toString('utf8'))
    plain.fill(0)
  } catch {
    throw badRequest('Invalid transient_key: it was not made by this appliance, or it is damaged')
  }
  if (parsed.v !== VERSION || parsed.s !== sessionTag(ctx.caller)) throw badRequest('Invalid transient_key: it belongs to another session')
  const secret = Buffer.from(parsed.k, 'base64')
  return record(ctx, secret, parsed.o, parsed.m, blob)
}

function record(ctx: Ctx, secret: Buffer, keyOps: string[], creationMethod: KeyRecord['creationMethod'], blob: string): KeyRecord {
  const caller = ctx.caller
  if (!caller) throw unauthorized('Missing Authorization header')
  return ctx.model.addKey({
    kid: '',
    name: '',
    objType: 'AES',
    keyOps: [...keyOps],
    groupId: '',
    createdAt: ctx.config.now(),
    creator: principalOf(caller),
    enabled: true,
    origin: 'Transient',
    creationMethod,
    material: importAes(secret),
    transientBlob: blob,
  })
}

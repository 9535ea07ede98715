/**
 * E26 (security.md §6): `../` and absolute paths in any name. Main builds every path from plain file
 * names: the renderer never sends one (no request of the IPC contract carries a path), the runner
 * refuses a media name that is not a plain file name before touching the disk, and `ceremony
 * verify` refuses a record whose artifact names would reach outside the artifacts folder.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import type { z } from 'zod'
import { StepRunner } from '../main/ceremony/runner'
import type { AnyStep } from '../main/ceremony/step'
import { AuditLog, buildRecord, planDigestOf, verifyRecord } from '../main/evidence'
import { invokes } from '../preload/contract'

const root = mkdtempSync(join(tmpdir(), 'dsm-paths-'))
after(() => rmSync(root, { recursive: true, force: true }))
const HOSTILE = ['../outside', '../../etc/passwd', '/etc/passwd', 'a/b', 'C:\\Windows\\x', '..', '.', 'x\u0000y']

test('E26 no IPC request carries a path: the renderer names nothing on disk', () => {
  const keys = (schema: z.ZodType): string[] => {
    const shape = (schema as unknown as { shape?: Record<string, z.ZodType> }).shape
    return shape ? Object.entries(shape).flatMap(([k, v]) => [k, ...keys(v)]) : []
  }
  for (const [name, spec] of Object.entries(invokes)) {
    for (const key of keys(spec.request as z.ZodType)) assert.doesNotMatch(key, /path|file|dir|folder/i, `${name}.${key}`)
  }
})

test('E26 the runner refuses a media name that is not a plain file name, before touching the disk', async () => {
  const media = join(root, 'media')
  mkdirSync(media)
  writeFileSync(join(root, 'outside'), 'keep')
  const runner = new StepRunner({
    plan: { id: 'p' } as never, planDigest: '0'.repeat(64), journal: {} as never, log: {} as never, mediaDir: media, stateDir: root,
    operator: 'o', now: () => new Date(), app: () => Promise.reject(new Error('no appliance here')),
    user: () => Promise.reject(new Error('no sign-in here')), apiKey: () => { throw new Error('no appliance here') }, records: () => [], outage: null,
  })
  const ctx = runner.context({ id: 'step' } as AnyStep)
  for (const name of HOSTILE) {
    await assert.rejects(async () => ctx.media.write(name, Buffer.from('x')), (e: { message?: string }) => /Not a plain media file name/.test(e.message ?? ''), name)
    await assert.rejects(async () => ctx.media.readUnverified(name, 10), /Not a plain media file name/, name)
    assert.throws(() => ctx.media.exists(name), /Not a plain media file name/, name)
  }
  assert.deepEqual(readdirSync(media), [])
})

test('E26 `ceremony verify` refuses artifact names that would leave the artifacts folder', async () => {
  const plan = { id: 'paths', title: 'paths', mode: 'production' }
  const planDigest = planDigestOf(plan)
  const artifactsDir = join(root, 'artifacts')
  mkdirSync(artifactsDir)
  for (const name of HOSTILE.filter((n) => n !== 'x\u0000y')) {
    const log = await AuditLog.open(join(root, `log-${HOSTILE.indexOf(name)}.jsonl`), { planDigest })
    await log.append({ actor: 'operator', step: 's', kind: 'artifact', facts: { name, sha256: '0'.repeat(64), bytes: 4 } })
    await log.close()
    const record = buildRecord({ plan, planDigest, entries: log.entries(), mode: 'production' })
    const verdict = verifyRecord(JSON.parse(JSON.stringify(record)), { artifactsDir })
    assert.equal(verdict.ok, false, name)
    if (!verdict.ok) assert.match(verdict.reason, /not a plain file name/, name)
  }
})

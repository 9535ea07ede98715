// Micro-benchmark for design §11: "audit-log verification of 100k entries in about a second".
// Builds an n-entry record in memory (no disk), then times verifyRecord on it.

import { performance } from 'node:perf_hooks'
import { planDigestOf, sha256Hex } from './canonical-json'
import { GENESIS_PREV, sealEntry, type LogEntry } from './entry'
import { buildRecord, verifyRecord } from './record'

export interface BenchResult {
  entries: number
  buildMs: number
  /** Wall-clock time of verifyRecord. */
  verifyMs: number
  /** CPU time (user + system) of verifyRecord: the fair figure on a busy machine. */
  verifyCpuMs: number
  perEntryUs: number
}

export function benchVerify(n: number): BenchResult {
  const plan = { id: 'bench', title: 'verification benchmark', mode: 'rehearsal' }
  const planDigest = planDigestOf(plan)
  const t0 = performance.now()
  const entries: LogEntry[] = []
  let prev = GENESIS_PREV
  const start = Date.UTC(2026, 0, 1)
  for (let i = 1; i <= n; i++) {
    // Facts shaped like real step results: ids, a fingerprint, a status.
    const { entry, line } = sealEntry({
      seq: i, ts: new Date(start + i * 1000).toISOString(), prev, planDigest,
      actor: 'operator', step: `target-${i % 10}/step-${i % 14}`, kind: 'step-result',
      facts: { kid: `kid-${i}`, fingerprint: sha256Hex(String(i)), httpStatus: 200, target: `appliance-${i % 10}` },
    })
    entries.push(entry)
    prev = sha256Hex(line)
  }
  const record = buildRecord({ plan, planDigest, entries, mode: 'rehearsal' })
  const t1 = performance.now()
  const cpu0 = process.cpuUsage()
  const result = verifyRecord(record)
  const cpu = process.cpuUsage(cpu0)
  const t2 = performance.now()
  if (!result.ok) throw new Error(`benchmark record did not verify: ${result.reason}`)
  return { entries: n, buildMs: t1 - t0, verifyMs: t2 - t1, verifyCpuMs: (cpu.user + cpu.system) / 1000, perEntryUs: ((t2 - t1) * 1000) / n }
}

if (require.main === module) {
  const n = Number(process.argv[2] ?? 100_000)
  const r = benchVerify(n)
  console.log(`verifyRecord: ${r.entries} entries in ${r.verifyMs.toFixed(0)} ms wall, ${r.verifyCpuMs.toFixed(0)} ms CPU (${r.perEntryUs.toFixed(2)} µs/entry); build ${r.buildMs.toFixed(0)} ms`)
}

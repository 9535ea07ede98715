// `ceremony repair-log --plan PLAN --state DIR`: repair a torn last line of a ceremony's audit log
// (a power cut or a full disk in the middle of an append). The entries before it are verified as a
// chain first; the fragment is removed and the repair is appended to the log as its own entry.
// Prints one JSON line. Exit 0: repaired. Exit 1: refused (nothing to repair, or the log is damaged
// before the torn line). Exit 2: usage.
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ENTRY } from '../ceremony/entry-kinds'
import { planDigest } from '../ceremony/plan'
import { readPlanFileSync } from '../ceremony/plan-file'
import { AUDIT_LOG_FILE } from '../ceremony/state-files'
import { StateLock } from '../ceremony/state-lock'
import { errorCode } from '../errors'
import { repairTornTail } from '../evidence'

const USAGE = 'usage: ceremony repair-log --plan PLAN --state DIR [--by NAME]\n'

export async function run(argv: string[]): Promise<number> {
  let values
  try {
    ;({ values } = parseArgs({ args: argv, options: { plan: { type: 'string' }, state: { type: 'string' }, by: { type: 'string' } }, strict: true }))
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`)
    return 2
  }
  if (!values.plan || !values.state) {
    process.stderr.write(USAGE)
    return 2
  }
  const plan = readPlanFileSync(values.plan)
  // The repair writes the log: no runner may hold it meanwhile.
  const lock = StateLock.acquire(values.state)
  try {
    const result = await repairTornTail(join(values.state, AUDIT_LOG_FILE), { planDigest: planDigest(plan), actor: values.by ?? plan.participants.operator, kind: ENTRY.logRepair })
    process.stdout.write(`${JSON.stringify({ ok: true, repaired: result })}\n`)
    return 0
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: { code: errorCode(err, 'INTERNAL'), message: err instanceof Error ? err.message : String(err) } })}\n`)
    return 1
  } finally {
    lock.release()
  }
}

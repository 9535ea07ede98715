/**
 * A chain of SIGKILLs through one headless ceremony (`ceremony run` in a child process): every run is
 * given every kill point not yet killed at (CEREMONY_KILL_AT takes a list and dies at the first one
 * it reaches, naming it on stderr), then the same command is run again, until a run finishes. One
 * ceremony thus dies once at every boundary it has, in order, and each death is followed by a
 * resume; a point a run went past without reaching (a step that writes no file has no
 * after-artifact) is reported as passed, never silently dropped.
 */
import assert from 'node:assert/strict'
import { BOUNDARIES } from '../../main/ceremony/runner'
import { KILLED_AT } from '../../main/cli/kill-switch'
import { runCeremonyAsync } from './cli-output'

/** Every protocol boundary of every step, in the order a run passes them. */
export const killPoints = (stepIds: readonly string[]) => stepIds.flatMap((id) => BOUNDARIES.map((b) => `${id}@${b}`))

export interface ChainOutcome {
  /** The points a run died at, in order. */
  killedAt: string[]
  /** The points no run reached before dying at a later one (or finishing). */
  passed: string[]
  /** Runs in all, the last one the one that finished. */
  runs: number
  final: Awaited<ReturnType<typeof runCeremonyAsync>>
}

export async function killChain(args: string[], points: readonly string[], opts: { canaries: readonly string[] }): Promise<ChainOutcome> {
  const killedAt: string[] = []
  const passed: string[] = []
  let remaining = [...points]
  for (let runs = 1; ; runs++) {
    const env = { ...process.env, ...(remaining.length > 0 ? { CEREMONY_KILL_AT: remaining.join(',') } : {}) }
    const r = await runCeremonyAsync(args, { canaries: opts.canaries, env })
    if (r.signal !== 'SIGKILL') {
      passed.push(...remaining)
      return { killedAt, passed, runs, final: r }
    }
    const at = r.stderr.split('\n').find((l) => l.startsWith(KILLED_AT))?.slice(KILLED_AT.length)
    assert.ok(at !== undefined && remaining.includes(at), `run ${runs} died, but not at a point it was given: ${r.stderr.slice(-800)}`)
    const i = remaining.indexOf(at)
    passed.push(...remaining.slice(0, i))
    killedAt.push(at)
    remaining = remaining.slice(i + 1)
  }
}

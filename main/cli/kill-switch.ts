/**
 * Fault injection for the crash tests, never set in normal use: CEREMONY_KILL_AT makes this process
 * SIGKILL itself, as a power cut would, at one of these points:
 *
 *   <stepId>@<boundary>[,…]       at a protocol boundary of a step (runner.ts BOUNDARIES), or at
 *                                 the first one reached of several: a chain of kills through one
 *                                 ceremony gives each run every point not yet killed at, so points
 *                                 a step does not have (no media write, an adopted act) are passed
 *                                 by without a run of their own. The point is named on stderr first.
 *   state-write#<n>+<µs>          <µs> microseconds after the n-th state write of this run began
 *                                 (journal saves and media writes, counted together): the kill
 *                                 lands during the write, or just after it
 *   audit-append:<kind>[:<step>]  in the middle of appending that audit entry: half the line is
 *                                 written and fsynced, then the process dies (a torn last line)
 *
 * The state-write kill comes from a worker thread started up front and parked on an Atomics.wait:
 * the main thread is inside a synchronous write (conf's atomic save) when it must die, so no timer
 * of its own could fire.
 */
import { constants as C, promises as fsp, writeSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import type { EngineOptions } from '../ceremony/engine'
import type { Boundary } from '../ceremony/runner'

export type KillOptions = Pick<EngineOptions, 'boundary' | 'stateFaults'>

const die = (): never => {
  process.kill(process.pid, 'SIGKILL')
  throw new Error('unreachable')
}

const KILLER = `
const { workerData } = require('node:worker_threads')
const cell = new Int32Array(workerData)
Atomics.wait(cell, 0, 0)
const us = Atomics.load(cell, 1)
const start = process.hrtime.bigint()
while (process.hrtime.bigint() - start < BigInt(us) * 1000n) {}
process.kill(process.pid, 'SIGKILL')
`

function stateWriteKill(n: number, us: number): KillOptions {
  const shared = new SharedArrayBuffer(8)
  const cell = new Int32Array(shared)
  const worker = new Worker(KILLER, { eval: true, workerData: shared })
  worker.unref()
  let writes = 0
  const count = () => {
    if (++writes !== n) return
    Atomics.store(cell, 1, us)
    Atomics.store(cell, 0, 1)
    Atomics.notify(cell, 0)
  }
  return {
    boundary: (_stepId, phase) => void (phase === 'media-write' && count()),
    stateFaults: { beforeJournalWrite: count },
  }
}

function tornAppend(kind: string, step: string | undefined): KillOptions {
  return {
    stateFaults: {
      async openLogForAppend(path) {
        const fh = await fsp.open(path, C.O_WRONLY | C.O_APPEND | C.O_CREAT | (C.O_NOFOLLOW ?? 0), 0o600)
        return {
          async write(buffer, offset, length) {
            const entry = JSON.parse(buffer.subarray(offset, offset + length).toString('utf8')) as { kind: string; step: string }
            if (entry.kind === kind && (step === undefined || entry.step === step)) {
              await fh.write(buffer, offset, Math.floor(length / 2))
              await fh.sync()
              die()
            }
            return fh.write(buffer, offset, length)
          },
          sync: () => fh.sync(),
          close: () => fh.close(),
        }
      },
    },
  }
}

export function killSwitch(spec = process.env.CEREMONY_KILL_AT): KillOptions {
  if (!spec) return {}
  const write = /^state-write#(\d+)\+(\d+)$/.exec(spec)
  if (write) return stateWriteKill(Number(write[1]), Number(write[2]))
  const append = /^audit-append:([a-z-]+)(?::(.+))?$/.exec(spec)
  if (append) return tornAppend(append[1]!, append[2])
  // Points that are not step boundaries (a station's hand-off points, station-run.ts) are not ours: never reached here.
  const points = new Set(spec.split(','))
  return {
    boundary: (id, at: Boundary) => {
      if (!points.has(`${id}@${at}`)) return
      writeSync(2, `${KILLED_AT}${id}@${at}\n`) // synchronous: on stderr before the process is gone
      die()
    },
  }
}

/** How a killed run names the point it died at, on stderr (the chain of kills reads it). */
export const KILLED_AT = 'ceremony: SIGKILL at '

/**
 * The failover drill's one way to take an appliance down in a rehearsal (guide §3.3: a key of the
 * FIPS-backed group still works when an appliance is gone). The engine is given an ApplianceOutage
 * only for a rehearsal plan; in production the drill is guided (the operator disconnects the
 * appliance) and no code can stop one. Two implementations: simulated appliances in this process,
 * and simulated appliances each in its own `ceremony simulate` process (SIGUSR2 toggles it; the
 * port is probed so that the call is idempotent after a crash and resume).
 */
import { connect } from 'node:net'
import { CeremonyError } from '../errors'
import type { RunningSimulator } from '../simulator'

export interface ApplianceOutage {
  /** How the appliance is taken down, in words, for the record. */
  readonly how: string
  /** The appliance stops accepting connections (its state is kept). Idempotent. */
  takeDown(applianceId: string): Promise<void>
  /** … and accepts them again. Idempotent. */
  bringBack(applianceId: string): Promise<void>
}

/** Simulated appliances running in this process (`ceremony rehearse`, the app's rehearsal). */
export function inProcessOutage(sims: RunningSimulator[]): ApplianceOutage {
  const find = (id: string) => {
    const a = sims.flatMap((s) => s.appliances).find((x) => x.id === id)
    if (!a) throw new CeremonyError('OUTAGE_UNAVAILABLE', `No simulated appliance "${id}" runs in this rehearsal`)
    return a
  }
  return {
    how: 'the simulator closed the appliance\'s port (its state kept), as a pulled cable would',
    takeDown: (id) => find(id).down(),
    bringBack: (id) => find(id).up(),
  }
}

/** Is something accepting TCP connections at host:port? (Only loopback simulators are ever probed.) */
export function accepting(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port })
    const done = (ok: boolean) => {
      clearTimeout(t)
      s.destroy()
      resolve(ok)
    }
    const t = setTimeout(() => done(false), timeoutMs)
    s.once('connect', () => done(true))
    s.once('error', () => done(false))
  })
}

export interface SimulatorProcess {
  id: string
  pid: number
  host: string
  port: number
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])

/**
 * Simulated appliances each in its own `ceremony simulate` process, named by pid in a rehearsal
 * credentials file. Only loopback appliances, one appliance per process: a signal to a process
 * holding several would take all of them down.
 */
export function processOutage(processes: SimulatorProcess[], opts: { settleMs?: number } = {}): ApplianceOutage {
  for (const p of processes) {
    if (!LOOPBACK.has(p.host)) throw new CeremonyError('OUTAGE_UNAVAILABLE', `${p.id} is not a simulator on this workstation (${p.host})`)
    if (processes.filter((q) => q.pid === p.pid).length > 1) throw new CeremonyError('OUTAGE_UNAVAILABLE', `${p.id} shares its process with another appliance; the drill needs one appliance per process`)
  }
  const settleMs = opts.settleMs ?? 10_000
  const toggleUntil = async (id: string, wantUp: boolean) => {
    const p = processes.find((x) => x.id === id)
    if (!p) throw new CeremonyError('OUTAGE_UNAVAILABLE', `No simulator process is named for ${id}`)
    if ((await accepting(p.host, p.port)) === wantUp) return
    process.kill(p.pid, 'SIGUSR2')
    const deadline = Date.now() + settleMs
    while (Date.now() < deadline) {
      if ((await accepting(p.host, p.port)) === wantUp) return
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new CeremonyError('OUTAGE_UNAVAILABLE', `The simulator process of ${id} did not go ${wantUp ? 'up' : 'down'} within ${settleMs} ms`)
  }
  return {
    how: 'the simulator process closed the appliance\'s port (SIGUSR2; its state kept), as a pulled cable would',
    takeDown: (id) => toggleUntil(id, false),
    bringBack: (id) => toggleUntil(id, true),
  }
}

// Simulators in their own processes (`bin/ceremony.cjs simulate …`), so a test can kill one the
// way an appliance dies: spawn, wait for the one JSON ready line, kill (SIGKILL: no goodbye) or
// stop (SIGTERM: a clean exit). Every process started here is killed by stopAllSimulators().
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'

const ROOT = path.resolve(__dirname, '..', '..')
const BIN = path.join(ROOT, 'bin', 'ceremony.cjs')
const live = new Set<SimProcess>()

export interface SimProcess {
  child: ChildProcess
  /** the parsed ready line */
  ready: any // eslint-disable-line @typescript-eslint/no-explicit-any
  /** resolves with the exit code (or the signal name) */
  exited: Promise<number | string | null>
  /** SIGKILL and wait for the process to be gone */
  kill(): Promise<void>
  /** SIGTERM and wait for a clean exit; resolves with the exit code */
  stop(): Promise<number | string | null>
  stderr(): string
}

/** Starts `ceremony simulate ARGS` and resolves once its ready line arrives (or rejects with its stderr). */
export function spawnSimulator(args: string[], opts: { readyTimeoutMs?: number } = {}): Promise<SimProcess> {
  const child = spawn(process.execPath, [BIN, 'simulate', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`simulate ${args.join(' ')}: no ready line within ${opts.readyTimeoutMs ?? 30_000} ms; stderr: ${err}`))
    }, opts.readyTimeoutMs ?? 30_000)
    const onExit = (code: number | null) => {
      clearTimeout(timer)
      reject(new Error(`simulate ${args.join(' ')} exited ${code} before it was ready: ${err}`))
    }
    child.once('exit', onExit)
    child.stdout?.on('data', (d: Buffer) => {
      if (out.includes('\n')) return
      out += d.toString()
      const i = out.indexOf('\n')
      if (i < 0) return
      clearTimeout(timer)
      child.off('exit', onExit)
      let ready: unknown
      try {
        ready = JSON.parse(out.slice(0, i))
      } catch (e) {
        child.kill('SIGKILL')
        reject(new Error(`simulate ${args.join(' ')}: the ready line is not JSON: ${(e as Error).message}`))
        return
      }
      const p: SimProcess = {
        child,
        ready,
        exited,
        kill: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
          await exited
          live.delete(p)
        },
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
          const code = await exited
          live.delete(p)
          return code
        },
        stderr: () => err,
      }
      live.add(p)
      resolve(p)
    })
  })
}

/** One FIPS appliance in its own process; returns the process and its appliance entry. */
export async function spawnFipsAppliance(id: string, opts: { cmk?: boolean; extra?: string[] } = {}) {
  const p = await spawnSimulator(['--appliances', '1', '--id', id, ...(opts.cmk === false ? ['--no-cmk'] : []), ...(opts.extra ?? [])])
  return { process: p, appliance: p.ready.appliances[0] }
}

export async function stopAllSimulators(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill()))
}

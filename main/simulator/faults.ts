// Fault injection for one appliance: targeted rules (one-shot or persistent) that tests set up,
// plus probabilistic faults from the options (the CLI's --fault). At most one fault applies to a
// request: the first matching targeted rule, else a random draw.
//
// Where a fault strikes (its phase): before the operation runs, after it ran (no answer at all), or
// in the middle of the answer: after the status line and headers, or after half the body
// (security.md §8 F17 hang after headers / body stall, F18 reset mid-body). The torn phases apply
// to 'stall' and 'reset' only.
import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { FaultController, FaultHandle, FaultKind, FaultOptions, FaultPhase, FaultRule, FiredFault } from './types'

export interface PlannedFault {
  kind: FaultKind
  phase: FaultPhase
  ms: number
  /** call when the fault strikes, to record it and settle the rule's `hit` promise */
  fire(): void
}

interface LiveRule {
  rule: FaultRule
  skip: number
  remaining: number
  fired: number
  cancelled: boolean
  resolve: (f: FiredFault) => void
}

/** mulberry32: small, seedable, good enough to make fault runs repeatable. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function pathMatches(rule: FaultRule, path: string): boolean {
  const p = rule.path
  if (p === undefined) return true
  if (p instanceof RegExp) return p.test(path)
  if (p.endsWith('*')) return path.startsWith(p.slice(0, -1))
  return p === path
}

export class Faults implements FaultController {
  private rules: LiveRule[] = []
  private readonly random: () => number
  readonly history: FiredFault[] = []

  constructor(
    private readonly options: FaultOptions,
    private readonly hooks: { expireSessions(): void; releaseStalled(): void; now(): number },
  ) {
    this.random = prng(options.seed ?? 0x5eed)
  }

  once(rule: Omit<FaultRule, 'times'>): FaultHandle {
    return this.add({ ...rule, times: 1 })
  }

  add(rule: FaultRule): FaultHandle {
    if (rule.after && isTornPhase(rule.after) && rule.kind !== 'stall' && rule.kind !== 'reset') {
      throw new Error(`a ${rule.kind} fault cannot strike ${rule.after}: only stall and reset can`)
    }
    let resolve!: (f: FiredFault) => void
    const hit = new Promise<FiredFault>((r) => { resolve = r })
    const live: LiveRule = { rule, skip: rule.skip ?? 0, remaining: rule.times ?? Infinity, fired: 0, cancelled: false, resolve }
    this.rules.push(live)
    return {
      get fired() { return live.fired },
      hit,
      cancel: () => {
        live.cancelled = true
        this.rules = this.rules.filter((r) => r !== live)
      },
    }
  }

  clear(): void {
    for (const r of this.rules) r.cancelled = true
    this.rules = []
  }

  expireSessions(): void {
    this.hooks.expireSessions()
  }

  releaseStalled(): void {
    this.hooks.releaseStalled()
  }

  /** Decides the fault (if any) for a request, consuming one use of a targeted rule. */
  plan(method: string, path: string): PlannedFault | undefined {
    for (const live of this.rules) {
      const r = live.rule
      if (live.cancelled || live.remaining <= 0) continue
      if (r.method && r.method.toUpperCase() !== method.toUpperCase()) continue
      if (!pathMatches(r, path)) continue
      if (live.skip > 0) {
        live.skip -= 1
        continue
      }
      if (r.probability !== undefined && this.random() >= r.probability) continue
      live.remaining -= 1
      if (live.remaining <= 0) this.rules = this.rules.filter((x) => x !== live)
      const phase = r.after ?? 'before-apply'
      return {
        kind: r.kind,
        phase,
        ms: r.ms ?? 1000,
        fire: () => {
          live.fired += 1
          const f = this.record(r.kind, phase, method, path)
          live.resolve(f)
        },
      }
    }
    return this.randomFault(method, path)
  }

  private randomFault(method: string, path: string): PlannedFault | undefined {
    const o = this.options
    const draws: [number | undefined, FaultKind][] = [[o.resetRate, 'reset'], [o.stallRate, 'stall'], [o.errorRate, '503'], [o.rateLimitRate, '429']]
    for (const [rate, kind] of draws) {
      if (!rate || this.random() >= rate) continue
      // Lost responses are the hard case for a client: half the time the operation did happen.
      const phase: FaultPhase = (kind === 'reset' || kind === 'stall') && this.random() < 0.5 ? 'after-apply' : 'before-apply'
      return { kind, phase, ms: 0, fire: () => { this.record(kind, phase, method, path) } }
    }
    if (o.latencyMs && o.latencyMs > 0) return { kind: 'latency', phase: 'before-apply', ms: o.latencyMs, fire: () => { /* routine latency is not a recorded fault */ } }
    return undefined
  }

  private record(kind: FaultKind, phase: FaultPhase, method: string, path: string): FiredFault {
    const f: FiredFault = { kind, phase, method, path, at: this.hooks.now() }
    this.history.push(f)
    return f
  }
}

/** The phases that strike in the middle of an answer. */
export function isTornPhase(phase: FaultPhase): phase is 'after-headers' | 'mid-body' {
  return phase === 'after-headers' || phase === 'mid-body'
}

export interface TearHooks {
  /** keep the connection open and silent until the simulator releases it */
  stall(socket: Socket): void
  /** a TCP reset */
  reset(socket: Socket): void
}

/**
 * Makes the next `res.end(body)` send only part of the answer, with the full Content-Length
 * already promised: the status line and headers (after-headers), or those and the first half of
 * the body (mid-body); once those bytes are out, the connection stalls or is reset.
 */
export function tearResponse(res: ServerResponse, plan: Pick<PlannedFault, 'kind' | 'phase'>, hooks: TearHooks): void {
  res.end = ((chunk?: unknown) => {
    const body = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.alloc(0)
    const part = plan.phase === 'mid-body' ? body.subarray(0, Math.ceil(body.length / 2)) : Buffer.alloc(0)
    const socket = res.socket
    res.flushHeaders()
    res.write(part, () => {
      if (!socket) return
      if (plan.kind === 'reset') hooks.reset(socket)
      else hooks.stall(socket)
    })
    return res
  }) as ServerResponse['end']
}

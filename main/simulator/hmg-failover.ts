// Which FIPS appliance a FIPS-backed group uses, and testing a config (dsm-api.md §7, §11; guide
// §3.2.3, §4.0). With `hmg_redundancy: "PriorityFailover"` the configs are tried by `hsm_order`
// (smallest first); without it, in random order. An appliance that cannot be used (unreachable,
// not answering within the configured time, certificate not pinned, API key refused, not in FIPS
// mode, no CMK) is skipped; when none is left the operation fails with 503 and every reason.
import type { Ctx } from './context'
import { badRequest, DsmError } from './errors'
import { type HmgConfigRecord, hmgTarget } from './hmg-config'
import { credentialName, FipsLinkError, FipsSession, type LinkResponse, type LinkTimeouts } from './hmg-link'
import type { Group } from './model'

export interface HmgRuntime {
  timeouts: LinkTimeouts
  /** CMK name when the group names none (or cmkNameLocation is 'none') */
  defaultCmkName: string
  /** [0, 1) for the random order without PriorityFailover */
  random: () => number
}

/** The API key that last worked for a config goes first (behind a load balancer the others get 401s). */
const lastGoodKey = new WeakMap<HmgConfigRecord, number>()

function keyOrder(c: HmgConfigRecord): number[] {
  const all = c.apiKeys.map((_, i) => i)
  const good = lastGoodKey.get(c)
  return good === undefined ? all : [good, ...all.filter((i) => i !== good)]
}

export function tryOrder(g: Group, random: () => number): HmgConfigRecord[] {
  const configs = [...(g.hmg?.values() ?? [])]
  if (g.hmgRedundancy === 'PriorityFailover') {
    // Stable: equal (or missing) hsm_order keeps the order the configs were added in.
    return configs.map((c, i) => ({ c, i })).sort((a, b) => (a.c.hsmOrder ?? Infinity) - (b.c.hsmOrder ?? Infinity) || a.i - b.i).map((x) => x.c)
  }
  for (let i = configs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[configs[i], configs[j]] = [configs[j] as HmgConfigRecord, configs[i] as HmgConfigRecord]
  }
  return configs
}

function runtime(ctx: Ctx): HmgRuntime {
  if (!ctx.config.hmg) throw badRequest('This appliance does not link to FIPS appliances')
  return ctx.config.hmg
}

/**
 * A FIPS appliance's answer to one step of an operation: the JSON body on 2xx. 5xx and 401 make
 * the appliance unusable (the next one is tried); a 404 for the CMK names it; any other refusal
 * is the caller's problem and is passed on with the appliance's own text.
 */
export function fipsOk(r: LinkResponse, target: string, step: string, cmkName?: string): Record<string, unknown> {
  if (r.status >= 200 && r.status < 300 && r.body && typeof r.body === 'object') return r.body as Record<string, unknown>
  if (r.status >= 500) throw new FipsLinkError('unavailable', target, `FIPS appliance ${target} answered ${r.status} to ${step}`)
  if (r.status === 401) throw new FipsLinkError('bad-api-key', target, `FIPS appliance ${target} ended the session during ${step}`)
  if (r.status === 404 && cmkName !== undefined) throw new FipsLinkError('no-cmk', target, `FIPS appliance ${target} has no key named ${JSON.stringify(cmkName)} (the CMK)`)
  throw new DsmError(r.status >= 400 && r.status < 500 ? r.status : 502, `FIPS appliance ${target} refused ${step}: ${r.text.slice(0, 300)}`)
}

/** Runs `op` on the first usable FIPS appliance of the group, in failover order. */
export async function withFipsAppliance<T>(ctx: Ctx, g: Group, op: (s: FipsSession, c: HmgConfigRecord) => Promise<T>): Promise<T> {
  const rt = runtime(ctx)
  const reasons: string[] = []
  const order = tryOrder(g, rt.random)
  for (const config of order) {
    let session: FipsSession | undefined
    try {
      session = await FipsSession.open(config, rt.timeouts, keyOrder(config))
      lastGoodKey.set(config, session.keyIndex)
      return await op(session, config)
    } catch (e) {
      if (!(e instanceof FipsLinkError)) throw e
      reasons.push(e.message)
    } finally {
      void session?.close()
    }
  }
  throw new DsmError(503, `No FIPS appliance reachable for group ${JSON.stringify(g.name)} (tried ${order.length}): ${reasons.join('; ')}`)
}

/**
 * Tests one config as the "TEST CONNECTION" button does: verified TLS to a pinned certificate, a
 * FIPS appliance, and every API key accepted (each of `credentials` may live on a different
 * appliance behind a load balancer, so each gets as many fresh connections as there are keys).
 * With `cmkName`, the CMK must exist too. Any failure is a 400 naming it.
 */
export async function checkHmgConfig(ctx: Ctx, config: HmgConfigRecord, cmkName?: string): Promise<void> {
  const rt = runtime(ctx)
  const attempts = config.hasCredentials ? Math.max(2, config.apiKeys.length) : 1
  for (let i = 0; i < config.apiKeys.length; i++) {
    for (let attempt = 1; ; attempt++) {
      let session: FipsSession | undefined
      try {
        session = await FipsSession.open(config, rt.timeouts, [i])
        if (cmkName !== undefined) fipsOk(await session.call('POST', '/crypto/v1/keys/info', { name: cmkName }), hmgTarget(config), 'the CMK lookup', cmkName)
        break
      } catch (e) {
        if (!(e instanceof FipsLinkError)) throw e
        if (e.kind === 'bad-api-key' && attempt < attempts) continue
        const which = config.apiKeys.length > 1 ? ` (checking ${credentialName(config, i)})` : ''
        throw badRequest(`${e.message}${which}`)
      } finally {
        void session?.close()
      }
    }
  }
}

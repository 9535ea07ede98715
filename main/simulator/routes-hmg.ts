// "Test connection" for FIPS-backed groups (dsm-api.md §7, §11): POST /sys/v1/groups/hmg/check
// with one bare config before saving, and POST /sys/v1/groups/{id}/hmg/check with `{}` (every
// saved config), `{id}` (one) or `{config}` (a draft, checked with the group's CMK). 204 when
// every check passes, else a plain-text 400 naming what failed.
import { asObject, optString, UUID_RE } from './body'
import type { Route } from './context'
import { badRequest, notFound } from './errors'
import { cmkNameOf, isFipsBacked, parseHmgConfig, type HmgConfigRecord } from './hmg-config'
import { checkHmgConfig } from './hmg-failover'
import { caller } from './key-helpers'
import { visibleGroup } from './policy'

export const hmgRoutes: Route[] = [
  {
    method: 'POST',
    pattern: '/sys/v1/groups/hmg/check',
    auth: 'account',
    async handle(ctx) {
      // No group yet, so no CMK name to look for: connectivity, TLS pin, FIPS mode and API keys.
      await checkHmgConfig(ctx, parseHmgConfig(ctx.body))
      return { status: 204 }
    },
  },
  {
    method: 'POST',
    pattern: '/sys/v1/groups/:group_id/hmg/check',
    auth: 'account',
    async handle(ctx) {
      const g = visibleGroup(ctx.model, caller(ctx), (ctx.params['group_id'] ?? '').toLowerCase())
      const o = ctx.body === undefined || ctx.body === null ? {} : asObject(ctx.body)
      const id = optString(o, 'id')
      let configs: HmgConfigRecord[]
      if (o['config'] !== undefined && o['config'] !== null) {
        if (id !== undefined) throw badRequest('Give id or config, not both')
        configs = [parseHmgConfig(o['config'])]
      } else if (id !== undefined) {
        const c = UUID_RE.test(id) ? g.hmg?.get(id.toLowerCase()) : undefined
        if (!c) throw notFound(`hmg config ${id} does not exist in group ${g.groupId}`)
        configs = [c]
      } else {
        if (!isFipsBacked(g)) throw badRequest(`Group ${JSON.stringify(g.name)} has no hmg configuration to check`)
        configs = [...g.hmg.values()]
      }
      const cmk = cmkNameOf(g, ctx.config.vendor.cmkNameLocation, ctx.config.hmg?.defaultCmkName ?? '')
      for (const c of configs) await checkHmgConfig(ctx, c, cmk || undefined)
      return { status: 204 }
    },
  },
]

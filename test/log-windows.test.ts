/**
 * The corroboration rules of the cluster kinds' C.0 (main/ceremony/log-windows.ts), case by case:
 * a FIPS appliance's entry of the app the cluster's group holds is the ceremony's only within
 * something the cluster logged for the group (clock differences taken into account); and in the
 * first seconds of a window, only an entry on an object the earlier record names, by an actor it
 * names or this ceremony's own, is that earlier ceremony's.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { corroborate, type LoggedEntry } from '../main/ceremony/log-corroboration'
import { actingWindows, earlierCeremonies } from '../main/ceremony/log-windows'

const T0 = Date.parse('2026-12-01T09:00:00Z')
const admin = randomUUID()
const app = randomUUID()
const group = randomUUID()
const canary = randomUUID()
const cmk = randomUUID()
let n = 0
const entry = (e: Partial<LoggedEntry>): LoggedEntry => ({ id: `e${++n}`, at: T0, action: 'CRYPTOOPERATION', actorType: 'App', actor: app, object: cmk, groups: [randomUUID()], message: 'Wrapped security object', severity: 'INFO', ...e })

describe('the cluster acting with the ceremony\'s app on a FIPS appliance', () => {
  const clusterLog = [entry({ actorType: 'User', actor: admin, object: canary, groups: [group], action: 'ADMINISTRATIVE', at: T0 + 60_000, ms: 1500 })]

  it('an entry within a change the cluster logged for the group is the ceremony\'s; one a minute away is a finding', () => {
    const within = actingWindows({ entries: clusterLog, groups: [group], actor: admin, skewSeconds: 0 })
    const duringKeyCreation = entry({ at: T0 + 61_000 })
    const aMinuteLater = entry({ at: T0 + 120_000, action: 'ADMINISTRATIVE', message: 'Created security object "stray"', object: randomUUID() })
    const r = corroborate({ appliance: 'fips-1', entries: [duringKeyCreation, aMinuteLater], groups: 'all', app, calls: [], requests: [], through: (e) => within(e, 0) })
    assert.deepEqual(r.findings.map((f) => [f.kind, f.object]), [['unexplained', aMinuteLater.object]])
    assert.equal(r.relevant, 2, 'with the scope "all", every change the app may read is in scope, whatever its group')
  })

  it('the clocks are compared on the workstation\'s: a FIPS appliance 30 s ahead logs the same moment 30 s later', () => {
    const within = actingWindows({ entries: clusterLog, groups: [group], actor: admin, skewSeconds: 0 })
    const e = entry({ at: T0 + 91_000 })
    assert.equal(within(e, 30), true)
    assert.equal(within(e, 0), false)
    const clusterBehind = actingWindows({ entries: clusterLog, groups: [group], actor: admin, skewSeconds: -30 })
    assert.equal(clusterBehind(entry({ at: T0 + 91_000 }), 0), true)
  })

  it('sign-ins and reads on the cluster open no window; nor does anything outside the group by someone else', () => {
    const others = [
      entry({ actorType: 'User', actor: admin, action: 'AUTH', object: admin, groups: [], at: T0 }),
      entry({ actorType: 'User', actor: admin, action: 'OTHER', object: group, groups: [group], at: T0 }),
      entry({ actorType: 'User', actor: randomUUID(), action: 'ADMINISTRATIVE', object: randomUUID(), groups: [randomUUID()], at: T0 }),
    ]
    const within = actingWindows({ entries: others, groups: [group], actor: admin, skewSeconds: 0 })
    assert.equal(within(entry({ at: T0 }), 0), false)
  })

  it('only the app\'s own successful entries are explained that way: a user acting in that second is still a finding', () => {
    const user = entry({ actorType: 'User', actor: randomUUID(), action: 'ADMINISTRATIVE', object: randomUUID(), at: T0 + 60_000 })
    const r = corroborate({ appliance: 'fips-1', entries: [user], groups: 'all', app, calls: [], requests: [], through: () => true })
    assert.deepEqual(r.findings.map((f) => f.actor), [user.actor])
  })
})

describe('the end of an earlier ceremony in the first seconds of the window', () => {
  const requestId = randomUUID()
  const custodian = randomUUID()
  const opened = T0 + 10_000
  // The earlier ceremony sealed half a second before this one opened (a rehearsal, back to back).
  const recordOf = (endedAt: number) => [{ entries: [{ ts: new Date(endedAt).toISOString(), kind: 'step-done', facts: { result: { requestId, requester: app, approvers: [custodian] } } }] }]
  const judge = earlierCeremonies(recordOf(opened - 500))

  it('an approval of the earlier ceremony\'s request by its custodian, in the seconds after this opening: that ceremony\'s', () => {
    assert.equal(judge(entry({ actorType: 'User', actor: custodian, object: requestId, action: 'ADMINISTRATIVE', at: opened + 1000 }), app, opened, 0), true)
  })

  it('later in the window, or on an object the record does not name, or by someone it does not name: judged as usual', () => {
    assert.equal(judge(entry({ actor: custodian, object: requestId, at: opened + 60_000 }), app, opened, 0), false)
    assert.equal(judge(entry({ actor: custodian, object: randomUUID(), at: opened }), app, opened, 0), false)
    assert.equal(judge(entry({ actor: randomUUID(), object: requestId, at: opened }), app, opened, 0), false)
  })

  it('a record that ended weeks before this opening accounts for nothing, nor does one for what came after its end', () => {
    const approval = entry({ actorType: 'User', actor: custodian, object: requestId, action: 'ADMINISTRATIVE', at: opened + 1000 })
    assert.equal(earlierCeremonies(recordOf(opened - 21 * 86_400_000))(approval, app, opened, 0), false)
    // Ended a second before opening, the approval 6 s after its end is not that ceremony's.
    assert.equal(earlierCeremonies(recordOf(opened - 1000))(entry({ ...approval, at: opened + 5000 }), app, opened, 0), false)
    // The appliance's clock 3 s ahead: its times are compared with the record's on that clock.
    assert.equal(judge({ ...approval, at: opened + 1000 }, app, opened + 3000, 3000), true)
  })

  it('this ceremony\'s own session acting on an object of the earlier record in those seconds is that ceremony\'s', () => {
    assert.equal(judge(entry({ actor: admin, object: requestId, at: opened }), admin, opened, 0), true)
  })
})

/**
 * Stations in the plan (design §3b): the schema's refusals by field, and the trip planner — the
 * fewest hand-offs for one, two and three sites, the kind's own order kept for a single station.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { checkPlan } from '../main/ceremony/plan'
import { KINDS } from '../main/ceremony/registry'
import { planForAppliances, type Credentials } from '../main/ceremony/simulated-plan'
import { planWithStations } from '../main/ceremony/station-plan'
import { orderForStations, tripsOf } from '../main/ceremony/stations'
import { tripsOfPlan } from '../main/ceremony/handoff'

const pin = (i: number) => i.toString(16).padStart(64, '0')
const credsWithPins = (n: number): Credentials => ({
  appliances: Array.from({ length: n }, (_, i) => ({ id: `fips-${i + 1}`, apiKey: 'x', host: '127.0.0.1', port: 1000 + i, spkiSha256: pin(i + 1), custodians: [{ user: `c1@${i}`, password: 'p' }, { user: `c2@${i}`, password: 'p' }] })),
})

describe('stations in the plan', () => {
  const base = planWithStations(credsWithPins(3), { sites: 2, id: 'plan-test' })

  const refusals: Array<[string, (p: Record<string, any>) => void, RegExp]> = [ // eslint-disable-line @typescript-eslint/no-explicit-any
    ['an appliance at two stations', (p) => p.stations[1].appliances.push('fips-1'), /stations\.1\.appliances\.2: appliance "fips-1" is already reached from station "site-a"/],
    ['an appliance at no station', (p) => p.stations[1].appliances.pop(), /appliances\.2\.id: appliance "fips-3" is reached from no station/],
    ['a station appliance the plan does not have', (p) => p.stations[1].appliances.push('fips-9'), /stations\.1\.appliances\.2: no appliance with id "fips-9"/],
    ['a station id used twice', (p) => (p.stations[1].id = 'site-a'), /stations\.1\.id: station id "site-a" is used twice/],
    ['a station witness who is not a plan witness', (p) => p.stations[0].witnesses.push('Somebody Else'), /stations\.0\.witnesses\.1: "Somebody Else" is not one of the plan's witnesses/],
    ['an unknown station field', (p) => (p.stations[0].room = '12'), /stations\.0\.room: unknown field/],
    ['a station without an operator', (p) => delete p.stations[0].operator, /stations\.0\.operator/],
  ]
  for (const [name, mutate, message] of refusals) {
    test(`refuses ${name}, naming the field`, () => {
      const plan = structuredClone(base) as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
      mutate(plan)
      const checked = checkPlan(plan)
      assert.equal(checked.ok, false)
      if (!checked.ok) assert.match(checked.issues.map((i) => `${i.path}: ${i.message}`).join('\n'), message)
    })
  }

  test('a plan without stations has no stations field (so its digest is as before) and keeps the kind\'s order exactly', () => {
    const plan = planForAppliances(credsWithPins(3), { id: 'plan-test' })
    assert.equal('stations' in plan, false)
    const steps = KINDS['replicate-cmk'].steps(plan)
    assert.deepEqual(orderForStations(plan, steps), steps)
    assert.equal(tripsOf(plan, steps).length, 1)
    assert.ok(steps.some((s) => s.id === 'preflight') && steps.some((s) => s.id === 'cleanup:fips-2'))
  })

  test('two sites, one target: B → A → B, as the issue lays it out', () => {
    const plan = planWithStations(credsWithPins(2), { sites: 2, id: 'plan-test' })
    assert.deepEqual(tripsOfPlan(plan).map((t) => [t.station, t.steps]), [
      ['site-b', ['station-preflight:site-b', 'transfer-key:fips-2', 'export-pubkey:fips-2']],
      ['site-a', ['station-preflight:site-a', 'import-pubkey:fips-2', 'wrap-request:fips-2', 'wrap-approval:fips-2', 'wrap-result:fips-2', 'delete-pubkey:fips-2', 'appliance-logs:site-a']],
      ['site-b', ['load-blob:fips-2', 'unwrap-request:fips-2', 'unwrap-approval:fips-2', 'unwrap-result:fips-2', 'delete-transfer-key:fips-2', 'appliance-logs:site-b', 'close']],
    ])
  })

  test('each station captures its own appliances\' logs in its last leg, with no extra trip: C.0a, C.0b… before the close C.1', () => {
    const plan = planWithStations(credsWithPins(3), { sites: 3, id: 'plan-test' })
    const trips = tripsOfPlan(plan)
    assert.equal(trips.length, 5)
    for (const station of ['site-a', 'site-b', 'site-c']) {
      const last = trips.filter((t) => t.station === station).at(-1)!
      assert.ok(last.steps.includes(`appliance-logs:${station}`), `${station}'s logs in its last leg`)
      assert.ok(trips.filter((t) => t.station === station).slice(0, -1).every((t) => !t.steps.some((id) => id.startsWith('appliance-logs'))))
    }
    const scripted = KINDS['replicate-cmk'].steps(plan)
    assert.deepEqual(scripted.filter((s) => s.name === 'appliance-logs' || s.name === 'close').map((s) => [s.id, s.scriptId, s.appliances]), [
      ['appliance-logs:site-a', 'C.0a', ['fips-1']], ['appliance-logs:site-b', 'C.0b', ['fips-2']], ['appliance-logs:site-c', 'C.0c', ['fips-3']], ['close', 'C.1', []],
    ])
  })

  test('with a materials manifest each station checks its own appliances and bags in its first leg and stores its items in its last, with no extra trip', () => {
    for (const [appliances, sites, legs] of [[2, 2, 3], [3, 2, 3], [3, 3, 5]] as const) {
      const without = planWithStations(credsWithPins(appliances), { sites, id: 'plan-test' })
      const plan = planWithStations(credsWithPins(appliances), { sites, id: 'plan-test', materials: true })
      assert.ok(plan.materials && !without.materials)
      const trips = tripsOfPlan(plan)
      assert.equal(trips.length, legs, `${sites} sites: ${legs} legs with the manifest`)
      assert.deepEqual(trips.map((t) => t.station), tripsOfPlan(without).map((t) => t.station), 'the same trips as without it')
      const scripted = new Map(KINDS['replicate-cmk'].steps(plan).map((s) => [s.id, s]))
      for (const [i, station] of plan.stations!.entries()) {
        const here = trips.filter((t) => t.station === station.id)
        const letter = String.fromCharCode(97 + i)
        assert.deepEqual([`materials-appliances:${station.id}`, `materials-unseal:${station.id}`].filter((id) => here[0]!.steps.includes(id)).map((id) => scripted.get(id)!.scriptId), [`M.1${letter}`, `M.2${letter}`], `${station.id} opens in its first leg`)
        // Its bags are opened before anything changes there: right after its preflight and chassis.
        const first = here[0]!.steps
        assert.equal(first.indexOf(`materials-unseal:${station.id}`), first.indexOf(`station-preflight:${station.id}`) + 2)
        assert.deepEqual(scripted.get(`materials-appliances:${station.id}`)!.appliances, station.appliances)
        const last = here.at(-1)!.steps
        assert.equal(scripted.get(`materials-storage:${station.id}`)!.scriptId, `M.3${letter}`)
        assert.equal(last.indexOf(`materials-storage:${station.id}`), last.indexOf(`appliance-logs:${station.id}`) + 1, `${station.id} stores its items after its C.0, in its last leg`)
      }
    }
  })

  test('two targets at one site still need two hand-offs; each target\'s steps keep their order, the source sees one import at a time', () => {
    const trips = tripsOfPlan(base)
    assert.deepEqual(trips.map((t) => t.station), ['site-b', 'site-a', 'site-b'])
    assert.deepEqual(trips[1]!.steps.filter((s) => /^(import-pubkey|delete-pubkey)/.test(s)), ['import-pubkey:fips-2', 'delete-pubkey:fips-2', 'import-pubkey:fips-3', 'delete-pubkey:fips-3'])
  })

  test('three sites: B → C → A → B → C (four hand-offs, the fewest possible)', () => {
    const plan = planWithStations(credsWithPins(3), { sites: 3, id: 'plan-test' })
    assert.deepEqual(tripsOfPlan(plan).map((t) => t.station), ['site-b', 'site-c', 'site-a', 'site-b', 'site-c'])
  })

  test('a target at the source\'s own site is done there in full, with the combined cleanup', () => {
    const plan = planWithStations(credsWithPins(3), { sites: 2, id: 'plan-test' }) as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
    plan.stations[0].appliances = ['fips-1', 'fips-2']
    plan.stations[1].appliances = ['fips-3']
    const checked = checkPlan(plan)
    assert.ok(checked.ok)
    const trips = tripsOfPlan(checked.plan)
    assert.deepEqual(trips.map((t) => t.station), ['site-b', 'site-a', 'site-b'])
    assert.ok(trips[1]!.steps.includes('cleanup:fips-2') && trips[1]!.steps.includes('unwrap-result:fips-2'))
    assert.ok(trips[2]!.steps.includes('delete-transfer-key:fips-3'))
  })
})

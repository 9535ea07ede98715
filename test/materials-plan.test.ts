/**
 * The materials manifest in a plan, and what the operator types for it: every reference resolves
 * (appliances, items, earlier records, people and safes), nothing is listed twice, a bag is used
 * once; typed values are checked and normalised before anything is recorded.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { kindOf } from '../main/ceremony/registry'
import { planSummary } from '../main/ceremony/views'
import { checkPlan } from '../main/ceremony/plan'
import { readInput, type InputField } from '../main/ceremony/step-input'

const digest = 'c'.repeat(64)
const valid = {
  format: 'dsm-key-ceremony/plan', version: 1, id: 'dc1-cmk-2026', title: 'CMK replication, data centre 1', mode: 'production',
  appliances: [
    { id: 'fips-1', label: 'FIPS 1 (rack A)', host: 'fips1.example.internal', trust: { spkiSha256: 'a'.repeat(64) } },
    { id: 'fips-2', label: 'FIPS 2 (rack B)', host: '10.0.0.12', trust: { spkiSha256: 'b'.repeat(64) } },
  ],
  source: 'fips-1', targets: ['fips-2'], groupName: 'Quorum Group', cmk: { name: 'cluster-master-key' },
  participants: { operator: 'Ana', custodians: { 'fips-1': ['c1@example.com', 'c2@example.com'] }, witnesses: ['Wes'] },
  materials: {
    appliances: {
      'fips-1': { serial: 'fx2200-0001', tamperLabels: ['TL-101', 'TL-102'], fipsLevel: 3, version: '4.34.2201' },
      'fips-2': { serial: 'FX2200-0002', tamperLabels: ['TL-201'] },
    },
    previousRecords: [{ finalDigest: digest, file: 'dc1-cmk-2025-record.json' }],
    items: [
      { id: 'laptop', description: 'Ceremony laptop', serial: 'LT-1', bag: 'TEB-000101', previousRecord: digest },
      { id: 'archive', description: 'Archive USB drive' },
    ],
    safes: [{ id: 'safe-a', label: 'Safe A' }],
    storage: [{ item: 'laptop', to: 'safe-a', bag: 'TEB-000201' }, { item: 'archive', to: 'Wes' }],
  },
}

test('a plan with a materials manifest parses, keeps numbers in capitals, and gains M.1, M.2 and M.3', () => {
  const checked = checkPlan(valid)
  assert.equal(checked.ok, true, JSON.stringify(!checked.ok && checked.issues))
  if (!checked.ok) return
  assert.equal(checked.plan.materials!.appliances!['fips-1']!.serial, 'FX2200-0001')
  const ids = kindOf(checked.plan).steps(checked.plan).map((s) => s.scriptId)
  assert.deepEqual([ids.indexOf('P.0'), ids.indexOf('M.1'), ids.indexOf('M.2')], [0, 1, 2], 'identified after the preflight, before anything changes')
  assert.deepEqual(ids.slice(-3), ['C.0', 'M.3', 'C.1'], 'the allocation after the logs are captured, before the seal')
  const details = planSummary(checked.plan).details
  assert.deepEqual(details.find((d) => d.label === 'Materials manifest')?.value, 'the chassis of 2 appliance(s) (serial, tamper labels, FIPS level); 2 item(s), 1 in tamper-evident bags, 1 checked against 1 earlier record(s); 1 safe(s)')
  assert.equal(details.find((d) => d.label === 'Storage at the close')?.value, 'Ceremony laptop → Safe A (safe) (bag TEB-000201); Archive USB drive → Wes (witness)')
  const withoutMaterials = checkPlan({ ...valid, materials: undefined })
  assert.ok(withoutMaterials.ok && !kindOf(withoutMaterials.plan).steps(withoutMaterials.plan).some((s) => s.scriptId.startsWith('M.')))
})

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const cases: Array<[string, (m: any) => void, RegExp]> = [
  ['an appliance the plan does not have', (m) => (m.appliances['fips-9'] = m.appliances['fips-2']), /^materials\.appliances\.fips-9: no appliance with id "fips-9"/],
  ['an appliance left out', (m) => delete m.appliances['fips-2'], /^materials\.appliances: appliance "fips-2" is missing/],
  ['a tamper label listed twice', (m) => (m.appliances['fips-2'].tamperLabels = ['TL-201', 'tl-201']), /label "TL-201" is listed twice/],
  ['a FIPS level that does not exist', (m) => (m.appliances['fips-1'].fipsLevel = 5), /^materials\.appliances\.fips-1\.fipsLevel: /],
  ['a bag number with spaces', (m) => (m.items[0].bag = 'TEB 0001'), /^materials\.items\.0\.bag: letters, digits and dashes/],
  ['an item listed twice', (m) => m.items.push({ ...m.items[1] }), /item "archive" is listed twice/],
  ['an earlier record the plan does not list', (m) => (m.items[0].previousRecord = 'd'.repeat(64)), /^materials\.items\.0\.previousRecord: not one of previousRecords/],
  ['an item from an earlier record without its bag', (m) => delete m.items[0].bag, /^materials\.items\.0\.bag: an item sealed by an earlier record needs the bag number/],
  ['storage for an item that does not exist', (m) => m.storage.push({ item: 'phone', to: 'Wes' }), /no item with id "phone"/],
  ['an item given two places', (m) => m.storage.push({ item: 'archive', to: 'safe-a' }), /item "archive" is given two places/],
  ['an item with no place at the close', (m) => m.storage.pop(), /item "archive" has no place at the close/],
  ['a receiver who is not in the plan', (m) => (m.storage[1].to = 'Mallory'), /^materials\.storage\.1\.to: "Mallory" is neither a person named in the plan nor one of its safes/],
  ['a new bag that is one the materials come out of', (m) => (m.storage[0].bag = 'teb-000101'), /bag "TEB-000101" is one the materials come out of/],
  ['a safe listed twice', (m) => m.safes.push({ id: 'wes-safe', label: 'x' }, { id: 'wes-safe', label: 'y' }), /a safe id is listed twice/],
  ['an earlier record that is not a plain file name', (m) => (m.previousRecords[0].file = '../etc/passwd'), /^materials\.previousRecords\.0\.file: a plain file name/],
]
for (const [name, mutate, expected] of cases) {
  test(`refuses ${name}, naming the field`, () => {
    const plan = structuredClone(valid)
    mutate(plan.materials)
    const checked = checkPlan(plan)
    assert.equal(checked.ok, false)
    if (!checked.ok) assert.ok(checked.issues.some((i) => expected.test(`${i.path}: ${i.message}`)), JSON.stringify(checked.issues))
  })
}

/** The valid plan across two sites: Ana and Wes at site A with fips-1 and the laptop, Bo and Val at site B with fips-2 and the archive drive. */
function acrossSites(): Record<string, any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const plan = structuredClone(valid) as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
  plan.participants.witnesses = ['Wes', 'Val']
  plan.stations = [
    { id: 'site-a', label: 'Site A', operator: 'Ana', witnesses: ['Wes'], appliances: ['fips-1'] },
    { id: 'site-b', label: 'Site B', operator: 'Bo', witnesses: ['Val'], appliances: ['fips-2'] },
  ]
  plan.materials.items[0].station = 'site-a'
  plan.materials.items[1].station = 'site-b'
  plan.materials.safes = [{ id: 'safe-a', label: 'Safe A', station: 'site-a' }, { id: 'safe-b', label: 'Safe B', station: 'site-b' }]
  plan.materials.storage[1].to = 'Val'
  return plan
}

test('across sites each station gets its own M.1, M.2 and M.3, for what is at that station only', () => {
  const checked = checkPlan(acrossSites())
  assert.equal(checked.ok, true, JSON.stringify(!checked.ok && checked.issues))
  if (!checked.ok) return
  const steps = kindOf(checked.plan).steps(checked.plan)
  const materials = steps.filter((s) => s.id.startsWith('materials-')).map((s) => [s.scriptId, s.id, s.appliances, s.station ?? null, s.input!.fields.map((f) => f.id)])
  assert.deepEqual(materials, [
    ['M.1a', 'materials-appliances:site-a', ['fips-1'], null, ['appliance:fips-1:serial', 'appliance:fips-1:labels']],
    ['M.2a', 'materials-unseal:site-a', [], 'site-a', ['item:laptop:bag', 'item:laptop:serial']],
    ['M.1b', 'materials-appliances:site-b', ['fips-2'], null, ['appliance:fips-2:serial', 'appliance:fips-2:labels']],
    ['M.3a', 'materials-storage:site-a', [], 'site-a', ['item:laptop:to', 'item:laptop:bag']],
    ['M.3b', 'materials-storage:site-b', [], 'site-b', ['item:archive:to', 'item:archive:bag']],
  ])
  assert.equal(planSummary(checked.plan).details.find((d) => d.label === 'Materials at each station')?.value, 'Site A: the chassis of fips-1, Ceremony laptop (bag TEB-000101); Site B: the chassis of fips-2, Archive USB drive')
  // The receivers offered at a station are the people and safes there.
  const offered = (id: string) => steps.find((s) => s.id === id)!.input!.fields.find((f) => f.format === 'choice')!.options!.map((o) => o.value)
  assert.deepEqual(offered('materials-storage:site-a').sort(), ['Ana', 'Wes', 'c1@example.com', 'c2@example.com', 'safe-a'].sort())
  assert.deepEqual(offered('materials-storage:site-b').sort(), ['Bo', 'Val', 'safe-b'].sort())
})

const siteRefusals: Array<[string, (p: Record<string, any>) => void, RegExp]> = [ // eslint-disable-line @typescript-eslint/no-explicit-any
  ['an item that names no station', (p) => delete p.materials.items[1].station, /^materials\.items\.1\.station: a plan with stations says at which station each item is/],
  ['an item at a station the plan does not have', (p) => (p.materials.items[1].station = 'site-z'), /^materials\.items\.1\.station: no station with id "site-z"/],
  ['a safe that names no station', (p) => delete p.materials.safes[1].station, /^materials\.safes\.1\.station: a plan with stations says at which station each safe is/],
  ['an item stored in a safe at another station', (p) => (p.materials.storage[1].to = 'safe-a'), /^materials\.storage\.1\.to: safe "safe-a" is at station "site-a", not at "site-b" where item "archive" is/],
  ['an item given to someone at another station', (p) => (p.materials.storage[1].to = 'Wes'), /^materials\.storage\.1\.to: "Wes" is not at station "site-b" where item "archive" is/],
]
for (const [name, mutate, expected] of siteRefusals) {
  test(`across sites the manifest refuses ${name}, naming the field`, () => {
    const plan = acrossSites()
    mutate(plan)
    const checked = checkPlan(plan)
    assert.equal(checked.ok, false)
    if (!checked.ok) assert.ok(checked.issues.some((i) => expected.test(`${i.path}: ${i.message}`)), JSON.stringify(checked.issues))
  })
}

test('across sites an item at a station the replication never visits (no source or target there) is refused by field, and adds no leg', () => {
  const plan = acrossSites()
  plan.appliances.push({ id: 'fips-3', label: 'FIPS 3 (rack C)', host: '10.0.0.13', trust: { spkiSha256: 'd'.repeat(64) } })
  plan.participants.witnesses.push('Cy')
  plan.stations.push({ id: 'site-c', label: 'Site C', operator: 'Cat', witnesses: ['Cy'], appliances: ['fips-3'] })
  plan.materials.appliances['fips-3'] = { serial: 'FX2200-0003', tamperLabels: ['TL-301'] }
  const fine = checkPlan(plan)
  assert.equal(fine.ok, true, JSON.stringify(!fine.ok && fine.issues))
  if (fine.ok) assert.equal(kindOf(fine.plan).steps(fine.plan).some((s) => s.id.endsWith(':site-c')), false, 'nothing runs at site C')
  plan.materials.items[1].station = 'site-c'
  plan.materials.storage[1].to = 'Cy'
  const checked = checkPlan(plan)
  assert.equal(checked.ok, false)
  if (!checked.ok) assert.match(checked.issues.map((i) => `${i.path}: ${i.message}`).join('\n'), /materials\.items\.1\.station: station "site-c" reaches neither the source nor a target/)
})

test('without stations an item or safe that names a station is refused: only a plan with stations says where things are', () => {
  const plan = structuredClone(valid) as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
  plan.materials.items[0].station = 'site-a'
  plan.materials.safes[0].station = 'site-a'
  const checked = checkPlan(plan)
  assert.equal(checked.ok, false)
  if (!checked.ok) {
    const said = checked.issues.map((i) => `${i.path}: ${i.message}`).join('\n')
    assert.match(said, /materials\.items\.0\.station: only a plan with stations says where an item is/)
    assert.match(said, /materials\.safes\.0\.station: only a plan with stations says where a safe is/)
  }
})

const fields: InputField[] = [
  { id: 'item:laptop:bag', subject: 'laptop', group: 'Ceremony laptop', label: 'New bag number', hint: '', format: 'bag', twice: true, rehearsal: '' },
  { id: 'appliance:fips-1:labels', subject: 'fips-1', group: 'FIPS 1', label: 'Tamper labels', hint: '', format: 'labels', rehearsal: '' },
  { id: 'item:laptop:to', subject: 'laptop', group: 'Ceremony laptop', label: 'Given to', hint: '', format: 'choice', options: [{ value: 'safe-a', label: 'Safe A' }], rehearsal: '' },
]
const good = { 'item:laptop:bag': ' teb-1234 ', 'item:laptop:bag:again': 'TEB-1234', 'appliance:fips-1:labels': 'tl-1, TL-2;tl-3', 'item:laptop:to': 'safe-a' }

test('typed values are normalised: capitals, no surrounding space, labels as one list', () => {
  assert.deepEqual(readInput(fields, good), { 'item:laptop:bag': 'TEB-1234', 'appliance:fips-1:labels': 'TL-1 TL-2 TL-3', 'item:laptop:to': 'safe-a' })
})

const bad: Array<[string, Record<string, string>, string, RegExp]> = [
  ['a field left empty', { ...good, 'item:laptop:bag': '  ' }, 'STEP_INPUT_INVALID', /Ceremony laptop — New bag number: nothing was typed/],
  ['a bag typed twice differently', { ...good, 'item:laptop:bag:again': 'TEB-1243' }, 'TYPED_TWICE_DIFFER', /"TEB-1234" and "TEB-1243"/],
  ['a label typed twice', { ...good, 'appliance:fips-1:labels': 'TL-1 tl-1' }, 'STEP_INPUT_INVALID', /"TL-1" is typed twice/],
  ['a receiver not offered', { ...good, 'item:laptop:to': 'Mallory' }, 'STEP_INPUT_INVALID', /"Mallory" is not one of the choices/],
  ['a value the step does not take', { ...good, 'item:phone:bag': 'TEB-1' }, 'STEP_INPUT_INVALID', /"item:phone:bag" is not a value this step takes/],
  ['a bag number with a control character', { ...good, 'item:laptop:bag': 'TEB-\u001b[2J' }, 'STEP_INPUT_INVALID', /is not a bag or label number/],
]
for (const [name, raw, code, message] of bad) {
  test(`typed input: refuses ${name} by name, saying nothing was recorded`, () => {
    assert.throws(() => readInput(fields, raw), (err: { code: string; message: string }) => err.code === code && message.test(err.message) && /Nothing was recorded/i.test(err.message))
  })
}

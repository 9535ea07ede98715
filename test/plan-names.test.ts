/**
 * Plan fields that become file names or are read aloud (security.md §6 29, 30), and the caps on the
 * participant arrays: each bad value is refused naming its field and why, a refused plan creates
 * nothing (no state folder), and ordinary names in any one script are accepted.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { blobFile, manifestFile } from '../main/ceremony/kinds/replicate-cmk/wrap'
import type { ReplicateCmkPlan } from '../main/ceremony/kinds/replicate-cmk/plan'
import { checkPlan, PLAN_FORMAT } from '../main/ceremony/plan'
import { skeleton } from '../main/ceremony/plan-names'
import { runCeremony } from './support/cli-output'

const valid = {
  format: PLAN_FORMAT, version: 1, id: 'dc1-cmk-2026', title: 'CMK replication, data centre 1', mode: 'production',
  appliances: [
    { id: 'fips-1', label: 'FIPS 1 (rack A)', host: 'fips1.example.internal', trust: { spkiSha256: 'a'.repeat(64) } },
    { id: 'fips-2', label: 'FIPS 2 (rack B)', host: '10.0.0.12', trust: { spkiSha256: 'b'.repeat(64) } },
  ],
  source: 'fips-1', targets: ['fips-2'], groupName: 'Quorum Group', cmk: { name: 'cluster-master-key' },
  participants: { operator: 'Ana', custodians: { 'fips-1': ['c1@example.com', 'c2@example.com'] }, witnesses: ['Wes'] },
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function refused(mutate: (p: any) => void, expected: RegExp): void {
  const plan = structuredClone(valid)
  mutate(plan)
  const checked = checkPlan(plan)
  assert.equal(checked.ok, false, `accepted: ${expected}`)
  if (!checked.ok) assert.ok(checked.issues.some((i) => expected.test(`${i.path}: ${i.message}`)), `${expected} not in ${JSON.stringify(checked.issues)}`)
}

test('E29 Windows device names as the plan id or an appliance id are refused in any case; names that only start with one are fine', () => {
  for (const name of ['con', 'nul', 'aux', 'prn', 'com1', 'com9', 'lpt1', 'lpt0']) {
    refused((p) => (p.id = name), new RegExp(`^id: is a Windows device name`))
  }
  refused((p) => { p.appliances[1].id = 'nul'; p.targets = ['nul'] }, /^appliances\.1\.id: is a Windows device name/)
  refused((p) => { p.participants.custodians = { com1: ['x@example.com'] } }, /participants\.custodians\.com1: (is a Windows device name|Invalid key in record)/)
  for (const name of ['CON', 'Con.txt', 'fips-2.', 'fips-2 ', 'a:b', 'x'.repeat(65)]) refused((p) => (p.id = name), /^id: use 3–64 lowercase/)
  for (const ok of ['console', 'con-1', 'nul-test', 'com10', 'lpt-1']) assert.equal(checkPlan({ ...structuredClone(valid), id: ok }).ok, true, ok)
})

test('E30 the longest file name a plan can make is under 255 bytes and plain ASCII', () => {
  const plan = { ...structuredClone(valid), id: 'a'.repeat(64), appliances: [valid.appliances[0], { ...valid.appliances[1], id: 'b'.repeat(64) }], targets: ['b'.repeat(64)] }
  const checked = checkPlan(plan)
  assert.equal(checked.ok, true)
  const p = (checked.ok ? checked.plan : null!) as ReplicateCmkPlan
  for (const name of [blobFile(p, 'b'.repeat(64)), manifestFile(p, 'b'.repeat(64)), `REHEARSAL-${p.id}`, `${p.id}-REHEARSAL-record.json`]) {
    assert.ok(Buffer.byteLength(name) < 255, name)
    assert.match(name, /^[A-Za-z0-9._-]+$/)
  }
})

test('E30 text read aloud: invisible characters, odd spaces, decomposed Unicode and mixed-script look-alikes are refused, naming the field', () => {
  refused((p) => (p.participants.witnesses = ['Wes\u200b']), /^participants\.witnesses\.0: must not contain invisible/)
  refused((p) => (p.participants.operator = 'Ana\u200d'), /^participants\.operator: must not contain invisible/)
  refused((p) => (p.appliances[0].label = 'FIPS \u202e2 kcar'), /^appliances\.0\.label: must not contain invisible/)
  refused((p) => (p.title = 'CMK\ufeffreplication'), /^title: must not contain invisible/) // a leading BOM is trimmed, like any space
  refused((p) => (p.participants.witnesses = ['Wes\u00a0Smith']), /^participants\.witnesses\.0: use ordinary spaces only/)
  refused((p) => (p.participants.operator = 'Jose\u0301'), /^participants\.operator: must be in composed Unicode form \(NFC\)/)
  refused((p) => (p.participants.witnesses = ['\u0410lice']), /^participants\.witnesses\.0: "Аlice" mixes (Cyrillic and Latin|Latin and Cyrillic) letters/)
  refused((p) => (p.participants.custodians['fips-1'][0] = 'c1@ex\u0430mple.com'), /^participants\.custodians\.fips-1\.0: .* mixes/)
  refused((p) => (p.appliances[1].label = 'FIPS 2 (r\u03bfck B)'), /^appliances\.1\.label: "rοck" mixes/)
  refused((p) => (p.cmk.name = 'cluster-master-k\u0435y'), /^cmk\.name: .* mixes/)
  refused((p) => (p.groupName = 'Quorum\u2028Group'), /^groupName: must not contain invisible/)
})

test('E30 names told apart in the room must not look the same: look-alike witnesses, custodians and appliance labels are refused', () => {
  refused((p) => (p.participants.witnesses = ['BOB', '\u0412\u041e\u0412']), /^participants\.witnesses\.1: witness "ВОВ" looks the same as "BOB"/)
  refused((p) => (p.participants.witnesses = ['Bob', 'B0b']), /^participants\.witnesses\.1: witness "B0b" looks the same as "Bob"/)
  refused((p) => (p.participants.witnesses = ['Zoë', 'Zoe']), /looks the same as "Zoë"/)
  refused((p) => (p.appliances[1].label = 'FIPS 1 (rack A)'), /^appliances\.1\.label: appliance label "FIPS 1 \(rack A\)" is listed twice/)
  refused((p) => (p.appliances[1].label = 'FIPS l (rack A)'), /^appliances\.1\.label: appliance label .* looks the same as/)
  refused((p) => (p.participants.custodians['fips-1'] = ['arne@example.com', 'ame@example.com']), /custodian "ame@example.com" looks the same as "arne@example.com"/)
  assert.equal(skeleton('Ιωάννης'), skeleton('Ιωάννης'.normalize('NFD')), 'one skeleton whatever the Unicode form')
})

test('E30 ordinary names in one script are accepted (Latin with accents, Cyrillic, Greek, apostrophes)', () => {
  const plan = structuredClone(valid)
  plan.participants.operator = 'Zoë O\u2019Brien'
  plan.participants.witnesses = ['Иван Петров', 'Ζωή Παππά', 'José Núñez', 'Anne-Marie']
  plan.appliances[0]!.label = 'FIPS 1 (Zürich)'
  const checked = checkPlan(plan)
  assert.equal(checked.ok, true, JSON.stringify(!checked.ok && checked.issues))
})

test('the participant arrays are capped: 17 witnesses, 33 custodians of one appliance, custodians for 17 appliances', () => {
  refused((p) => (p.participants.witnesses = Array.from({ length: 17 }, (_, i) => `Witness ${String.fromCharCode(65 + i)}`)), /^participants\.witnesses: /)
  refused((p) => (p.participants.custodians['fips-1'] = Array.from({ length: 33 }, (_, i) => `c${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}@example.com`)), /^participants\.custodians\.fips-1: /)
  refused((p) => (p.participants.custodians = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`app-${String.fromCharCode(97 + i)}`, ['x@example.com']]))), /^participants\.custodians: custodians for at most 16 appliances/)
  refused((p) => (p.participants.custodians['fips-1'] = ['c'.repeat(255)]), /^participants\.custodians\.fips-1\.0: /)
})

test('E29 a plan with a device-name id is refused by `ceremony run` before any state exists', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsm-names-'))
  try {
    writeFileSync(join(dir, 'plan.json'), JSON.stringify({ ...valid, id: 'con' }))
    writeFileSync(join(dir, 'creds.json'), JSON.stringify({ appliances: [] }))
    const r = runCeremony(['run', '--plan', join(dir, 'plan.json'), '--credentials', join(dir, 'creds.json'), '--state', join(dir, 'state'), '--yes'])
    assert.equal(r.status, 1)
    assert.match(r.stderr, /id: is a Windows device name/)
    assert.equal(existsSync(join(dir, 'state')), false, 'nothing was created')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

/** The ceremony plan: strict, every error names its field, no secrets, and the CLI writes one. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { transferKeyName, type ReplicateCmkPlan } from '../main/ceremony/kinds/replicate-cmk/plan'
import { checkPlan, parsePlanText, planDigest, planDigestDisplay, PLAN_FORMAT } from '../main/ceremony/plan'
import { runCeremony } from './support/cli-output'

const valid = {
  format: PLAN_FORMAT, version: 1, id: 'dc1-cmk-2026', title: 'CMK replication, data centre 1', mode: 'production',
  appliances: [
    { id: 'fips-1', label: 'FIPS 1 (rack A)', host: 'fips1.example.internal', trust: { spkiSha256: 'a'.repeat(64) } },
    { id: 'fips-2', label: 'FIPS 2 (rack B)', host: '10.0.0.12', port: 8443, trust: { spkiSha256: 'b'.repeat(64) } },
  ],
  source: 'fips-1', targets: ['fips-2'], groupName: 'Quorum Group', cmk: { name: 'cluster-master-key' },
  participants: { operator: 'Ana', custodians: { 'fips-1': ['c1@example.com', 'c2@example.com'] }, witnesses: ['Wes'] },
}

test('a valid plan parses with defaults and a stable digest shown as hex groups and words', () => {
  const checked = checkPlan(valid)
  assert.equal(checked.ok, true)
  const plan = (checked.ok ? checked.plan : null!) as ReplicateCmkPlan
  assert.equal(plan.kind, 'replicate-cmk', 'a plan written before kinds existed is a replication')
  assert.equal(plan.appliances[0]!.port, 443)
  assert.equal(plan.wrapMode, 'RSA-OAEP-SHA256')
  assert.equal(plan.cmk.create, false)
  assert.equal(transferKeyName(plan, 'fips-2'), 'dc1-cmk-2026-transfer-fips-2')
  assert.equal(planDigest(plan), planDigest(parsePlanText(JSON.stringify(valid, null, 4))), 'whitespace does not change the digest')
  const shown = planDigestDisplay(plan)
  assert.match(shown.hexGroups, /^([0-9A-F]{4} ){15}[0-9A-F]{4}$/i)
  assert.equal(shown.words.length, 32)
})

const cases: Array<[string, (p: any) => void, RegExp]> = [
  ['an unknown top-level field', (p) => (p.apiKey = 'secret'), /^apiKey: unknown field/],
  ['an unknown nested field', (p) => (p.appliances[0].password = 'x'), /^appliances\.0\.password: unknown field/],
  ['a host with a scheme', (p) => (p.appliances[1].host = 'https://fips2.example'), /^appliances\.1\.host: /],
  ['a malformed pin', (p) => (p.appliances[0].trust.spkiSha256 = 'XYZ'), /^appliances\.0\.trust\.spkiSha256: /],
  ['no trust at all', (p) => (p.appliances[0].trust = {}), /^appliances\.0\.trust: give spkiSha256, caPem or both/],
  ['a source that is not an appliance', (p) => (p.source = 'fips-9'), /^source: no appliance with id "fips-9"/],
  ['the source as a target', (p) => (p.targets = ['fips-1']), /^targets\.0: the source cannot also be a target/],
  ['a duplicate appliance id', (p) => (p.appliances[1].id = 'fips-1'), /^appliances\.1\.id: appliance id "fips-1" is used twice/],
  ['a template without {target}', (p) => (p.transferKeyName = '{ceremony}-transfer'), /^transferKeyName: must contain/],
  ['PKCS#1 v1.5 wrapping', (p) => (p.wrapMode = 'RSA-PKCS1'), /^wrapMode: /],
  ['no witness', (p) => (p.participants.witnesses = []), /^participants\.witnesses: /],
  ['a kind nobody registered', (p) => (p.kind = 'teleport-cmk'), /^kind: unknown ceremony kind; use one of replicate-cmk/],
  ['the same TLS pin for two appliances', (p) => (p.appliances[1].trust.spkiSha256 = 'a'.repeat(64)), /^appliances\.1\.trust\.spkiSha256: the same TLS pin/],
  ['the same host and port for two appliances', (p) => Object.assign(p.appliances[1], { host: 'FIPS1.example.internal', port: 443 }), /^appliances\.1\.host: fips1\.example\.internal:443 is given for two/],
  ['a witness listed twice', (p) => (p.participants.witnesses = ['Wes', 'Wes']), /^participants\.witnesses\.1: witness "Wes" is listed twice/],
  ['a custodian listed twice', (p) => (p.participants.custodians['fips-1'] = ['c1@example.com', 'c1@example.com']), /custodian "c1@example\.com" is listed twice/],
  ['a label with a terminal escape sequence', (p) => (p.appliances[0].label = 'FIPS 1 \u001b[2J'), /^appliances\.0\.label: must not contain control characters/],
  ['a CA value of over 64 KiB', (p) => (p.appliances[0].trust.caPem = '-----BEGIN CERTIFICATE-----' + 'A'.repeat(70_000)), /^appliances\.0\.trust\.caPem: at most/],
]
for (const [name, mutate, expected] of cases) {
  test(`refuses ${name}, naming the field`, () => {
    const plan = structuredClone(valid)
    mutate(plan)
    const checked = checkPlan(plan)
    assert.equal(checked.ok, false)
    if (!checked.ok) assert.ok(checked.issues.some((i) => expected.test(`${i.path}: ${i.message}`)), JSON.stringify(checked.issues))
  })
}

test('parsePlanText names JSON syntax errors and schema errors with PLAN_INVALID', () => {
  assert.throws(() => parsePlanText('{"format":'), { code: 'PLAN_INVALID', message: /\(file\): not valid JSON/ })
  assert.throws(() => parsePlanText(JSON.stringify({ ...valid, extra: 1 })), { code: 'PLAN_INVALID', message: /extra: unknown field/ })
})

test('`ceremony plan` writes a valid plan for simulated appliances, without their secrets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsm-plan-'))
  try {
    const appliances = { appliances: ['fips-1', 'fips-2', 'fips-3'].map((id, i) => ({
      id, url: `https://127.0.0.1:${9000 + i}`, host: '127.0.0.1', port: 9000 + i, spkiSha256: String(i).repeat(64), apiKey: `APIKEY-CANARY-${i}`,
      groupId: '00000000-0000-4000-8000-000000000000', groupName: 'Quorum Group', custodians: [{ user: `c${i}@sim`, password: `PASSWORD-CANARY-${i}` }, { user: `d${i}@sim`, password: `PASSWORD-CANARY-D${i}` }], quorum: 2,
      ...(i === 0 ? { cmkName: 'cluster-master-key' } : {}),
    })) }
    writeFileSync(join(dir, 'appliances.json'), JSON.stringify(appliances))
    // Every run's stdout and stderr is canary-scanned (test/support/cli-output.ts).
    const canaries = appliances.appliances.flatMap((a) => [a.apiKey, ...a.custodians.map((c) => c.password)])
    const out = runCeremony(['plan', '--appliances', join(dir, 'appliances.json'), '--targets', 'fips-3', '--id', 'sim-plan'], { canaries })
    assert.equal(out.status, 0, out.stderr)
    assert.doesNotMatch(out.stdout, /CANARY/)
    const plan = parsePlanText(out.stdout) as ReplicateCmkPlan
    assert.deepEqual(plan.targets, ['fips-3'])
    assert.equal(plan.id, 'sim-plan')
    assert.equal(plan.mode, 'rehearsal')
    assert.deepEqual(plan.participants.custodians['fips-1'], ['c0@sim', 'd0@sim'])
    // A production run never takes custodians' passwords from a file.
    const prod = runCeremony(['plan', '--appliances', join(dir, 'appliances.json'), '--mode', 'production'], { canaries })
    writeFileSync(join(dir, 'prod.json'), prod.stdout)
    const refused = runCeremony(['run', '--plan', join(dir, 'prod.json'), '--credentials', join(dir, 'appliances.json'), '--yes', '--state', join(dir, 'state')], { canaries })
    assert.equal(refused.status, 2)
    assert.match(refused.stderr, /holds custodian passwords/)
    const bad = runCeremony(['plan', '--appliances', join(dir, 'appliances.json'), '--targets', 'fips-1'], { canaries })
    assert.equal(bad.status, 1)
    assert.match(bad.stderr, /targets\.0: the source cannot also be a target/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

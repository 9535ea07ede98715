/**
 * `ceremony verify RECORD --record EARLIER …` checks that the chain of records tells one story
 * (WebTrust key-ceremony criteria): one CMK KCV from the replication through every later ceremony,
 * the group the link made being the one every later cluster ceremony used, and every FIPS appliance
 * a later ceremony relies on being one an earlier record established (or the one it adds).
 *
 * The attack: a record edited and sealed again, so that its own hash chain, plan digest and
 * summaries verify (test/support/reseal-record.ts), then offered in the chain; or a record of
 * another chain spliced in by a forged link that names it. Each is refused as RECORD_CHAIN_DISAGREES,
 * naming both records and the fact.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { CeremonyRecord } from '../main/evidence'
import { runCeremonyAsync } from './support/cli-output'
import { resealRecord, stepResult } from './support/reseal-record'

const dir = mkdtempSync(join(tmpdir(), 'dsm-chain-agreement-'))
after(() => rmSync(dir, { recursive: true, force: true }))

type Summary = { ceremonyId: string; record: string; finalDigest: string; outcome: Record<string, unknown>; earlier: { ceremonyId: string; record: string; finalDigest: string }[] }
const last = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Summary
const load = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as CeremonyRecord
const idOf = (file: string) => String((load(file).plan as { id: string }).id)
const write = (name: string, record: CeremonyRecord) => {
  const file = join(dir, name)
  writeFileSync(file, JSON.stringify(record, null, 2))
  return file
}
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Chain A: replication → link → verification → replacement. Chain B: its own replication → link. */
let a: { replication: string; link: string; verify: string; replace: string; kcv: string; group: string }
let b: { replication: string; kcv: string }

before(async () => {
  const ra = await runCeremonyAsync(['rehearse', '--kind', 'replace-appliance', '--state', join(dir, 'a')])
  assert.equal(ra.status, 0, ra.stderr.slice(-2500))
  const sa = last(ra.stdout)
  a = { replication: sa.earlier[0]!.record, link: sa.earlier[1]!.record, verify: sa.earlier[2]!.record, replace: sa.record, kcv: String(sa.outcome['kcv']), group: String(sa.outcome['group']) }
  const rb = await runCeremonyAsync(['rehearse', '--kind', 'link-cluster', '--state', join(dir, 'b')])
  assert.equal(rb.status, 0, rb.stderr.slice(-2500))
  const sb = last(rb.stdout)
  b = { replication: sb.earlier[0]!.record, kcv: String(sb.outcome['kcv']) }
  assert.notEqual(b.kcv, a.kcv, 'the two rehearsals made two different CMKs (else the splice proves nothing)')
})

const verify = (record: string, ...earlier: string[]) => runCeremonyAsync(['verify', record, ...earlier.flatMap((f) => ['--record', f])])

describe('ceremony verify --record: the records agree with each other', () => {
  test('a real rehearsal chain tells one story: one KCV, one group, every appliance established; said so', async () => {
    const r = await verify(a.replace, a.replication, a.link, a.verify)
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.match(r.stdout, new RegExp(`agree: +one CMK KCV \\(${a.kcv}\\) in 3 record\\(s\\); one group \\(${esc(a.group)}\\) in 3; the FIPS appliances of 3 record\\(s\\) each established by a record it builds on, or added by its own ceremony`))
    const link = await verify(a.link, a.replication)
    assert.equal(link.status, 0, link.stdout)
    assert.match(link.stdout, new RegExp(`agree: +one CMK KCV \\(${a.kcv}\\) in 2 record\\(s\\); one group \\(${esc(a.group)}\\) in 1; the FIPS appliances of 1 record\\(s\\) each established`))
  })

  test('the newest record forged (another KCV in its close, sealed again): it verifies alone, the chain names it and the replication', async () => {
    const forged = write('forged-replace.json', resealRecord(load(a.replace), ({ entries }) => { stepResult(entries, 'close')['kcv'] = 'abc123' }))
    const alone = await verify(forged)
    assert.equal(alone.status, 0, `the forgery is self-consistent: ${alone.stdout}`)
    const r = await verify(forged, a.replication, a.link, a.verify)
    assert.equal(r.status, 1, r.stdout)
    assert.match(r.stdout, new RegExp(`^FAILED at record the record: RECORD_CHAIN_DISAGREES: the replacement record \\(ceremony ${esc(idOf(a.replace))}\\) holds CMK KCV abc123; the replication record \\(ceremony ${esc(idOf(a.replication))}, ${esc(basename(a.replication))}\\) it builds on holds ${a.kcv}$`, 'm'))
  })

  test('a verification record forged to another group (sealed again) is named with the link it builds on', async () => {
    const forged = write('forged-verify.json', resealRecord(load(a.verify), ({ entries }) => { stepResult(entries, 'close')['groupId'] = '00000000-0000-4000-8000-000000000000' }))
    const r = await verify(forged, a.link, a.replication)
    assert.equal(r.status, 1, r.stdout)
    assert.match(r.stdout, new RegExp(`^FAILED at record the record: RECORD_CHAIN_DISAGREES: the verification record \\(ceremony ${esc(idOf(a.verify))}\\) names the FIPS-backed group 00000000-0000-4000-8000-000000000000; the link record \\(ceremony ${esc(idOf(a.link))}, ${esc(basename(a.link))}\\) it builds on names ${esc(a.group)}$`, 'm'))
  })

  test('a verification record forged to rely on an appliance no earlier record established is named', async () => {
    const forged = write('forged-fips.json', resealRecord(load(a.verify), ({ plan }) => { plan['fips'] = ['fips-1', 'fips-4'] }))
    const r = await verify(forged, a.link, a.replication)
    assert.equal(r.status, 1, r.stdout)
    assert.match(r.stdout, new RegExp(`^FAILED at record the record: RECORD_CHAIN_DISAGREES: the verification record \\(ceremony ${esc(idOf(a.verify))}\\) relies on FIPS appliance fips-4; no record it builds on established it \\(the link record \\(ceremony ${esc(idOf(a.link))}, ${esc(basename(a.link))}\\) established fips-1, fips-2; the replication record`, 'm'))
  })

  test('a forged middle record with the later ones sealed again to name it: the first disagreement is named, by file', async () => {
    const link = resealRecord(load(a.link), ({ entries }) => { stepResult(entries, 'close')['kcv'] = 'def456' })
    const linkFile = write('forged-link.json', link)
    const verifyRec = resealRecord(load(a.verify), ({ plan }) => { plan['buildsOn'] = [link.finalDigest] })
    const verifyFile = write('forged-verify-2.json', verifyRec)
    const replace = write('forged-replace-2.json', resealRecord(load(a.replace), ({ plan }) => {
      plan['buildsOn'] = [load(a.replication).finalDigest, link.finalDigest, verifyRec.finalDigest]
    }))
    const r = await verify(replace, a.replication, linkFile, verifyFile)
    assert.equal(r.status, 1, r.stdout)
    assert.match(r.stdout, new RegExp(`^FAILED at record forged-link\\.json: RECORD_CHAIN_DISAGREES: the link record \\(ceremony ${esc(idOf(a.link))}, forged-link\\.json\\) holds CMK KCV def456; the replication record \\(ceremony ${esc(idOf(a.replication))}, ${esc(basename(a.replication))}\\) it builds on holds ${a.kcv}$`, 'm'))
  })

  test('a replication of another chain (another CMK) spliced in under a forged link is named', async () => {
    const spliced = write('spliced-link.json', resealRecord(load(a.link), ({ plan }) => { plan['buildsOn'] = [load(b.replication).finalDigest] }))
    const alone = await verify(spliced)
    assert.equal(alone.status, 0, alone.stdout)
    const r = await verify(spliced, b.replication)
    assert.equal(r.status, 1, r.stdout)
    assert.match(r.stdout, new RegExp(`^FAILED at record the record: RECORD_CHAIN_DISAGREES: the link record \\(ceremony ${esc(idOf(a.link))}\\) holds CMK KCV ${a.kcv}; the replication record \\(ceremony ${esc(idOf(b.replication))}, ${esc(basename(b.replication))}\\) it builds on holds ${b.kcv}$`, 'm'))
  })
  test('a record built on the replacement that still relies on the appliance it removed for good is named', async () => {
    // The verification as if run after the replacement: fips-1 was zeroised, yet it relies on it.
    const after = write('after-replace.json', resealRecord(load(a.verify), ({ plan }) => { plan['buildsOn'] = [load(a.replace).finalDigest] }))
    const r = await verify(after, a.replace, a.replication, a.link, a.verify)
    assert.equal(r.status, 1, r.stdout)
    assert.match(r.stdout, new RegExp(`^FAILED at record the record: RECORD_CHAIN_DISAGREES: the verification record \\(ceremony ${esc(idOf(a.verify))}\\) relies on FIPS appliance fips-1; the replacement record \\(ceremony ${esc(idOf(a.replace))}, ${esc(basename(a.replace))}\\) it builds on removed it$`, 'm'))
  })

  test('two records neither of which builds on the other, one chain: another CMK in one of them is named', async () => {
    // A verification forged to build on this chain's link and on the other chain's replication: it names no KCV itself.
    const both = write('builds-on-both.json', resealRecord(load(a.verify), ({ plan }) => { plan['buildsOn'] = [load(a.link).finalDigest, load(b.replication).finalDigest] }))
    const r = await verify(both, a.link, a.replication, b.replication)
    assert.equal(r.status, 1, r.stdout)
    assert.match(r.stdout, new RegExp(`^FAILED at record ${esc(basename(b.replication))}: RECORD_CHAIN_DISAGREES: the replication record \\(ceremony ${esc(idOf(b.replication))}, ${esc(basename(b.replication))}\\) holds CMK KCV ${b.kcv}; the link record \\(ceremony ${esc(idOf(a.link))}, ${esc(basename(a.link))}\\), of the same chain, holds ${a.kcv}$`, 'm'))
  })
  test('a record forged with its KCV taken out of its close (sealed again) is named: hiding a fact is no way round the comparison', async () => {
    const forged = write('no-kcv.json', resealRecord(load(a.replace), ({ entries }) => { delete stepResult(entries, 'close')['kcv'] }))
    const r = await verify(forged, a.replication, a.link, a.verify)
    assert.equal(r.status, 1, r.stdout)
    assert.match(r.stdout, new RegExp(`^FAILED at record the record: RECORD_CHAIN_DISAGREES: the replacement record \\(ceremony ${esc(idOf(a.replace))}\\) holds no CMK KCV, though every closed replacement record does; the replication record \\(ceremony ${esc(idOf(a.replication))}, ${esc(basename(a.replication))}\\) it builds on holds CMK KCV ${a.kcv}$`, 'm'))
  })
})

// `ceremony verify RECORD --record EARLIER …` (issue 12 part 3): the records a ceremony builds on,
// followed back from RECORD by the final digests each plan names (record-chain.ts, the check a
// ceremony's own preflight makes). The first that is missing, does not verify or is of another mode
// is named; so is a file given that the chain never reaches; then the records must agree on what
// they are about (record-agreement.ts: one KCV, one group, appliances each established before).
import { basename } from 'node:path'
import { checkRecordsAgree } from '../ceremony/record-agreement'
import { buildsOnOf, followRecordChain } from '../ceremony/record-chain'
import type { CeremonyRecord } from '../evidence'
import { hexGroups } from '../keys'

export type ChainVerdict = { ok: true; lines: string[] } | { ok: false; failure: string }

export function verifyChainOf(record: CeremonyRecord, given: { name: string; record: unknown }[]): ChainVerdict {
  const named = buildsOnOf(record).length
  if (given.length === 0) {
    return { ok: true, lines: named === 0 ? [] : [`  builds on:     ${named} record(s), not followed (pass --record FILE for each)`] }
  }
  const chain = followRecordChain(record, given.map((g) => ({ name: basename(g.name), record: g.record })))
  if (!chain.ok) return { ok: false, failure: `FAILED at record ${chain.record}: ${chain.code}: ${chain.reason}` }
  const agree = checkRecordsAgree(chain.links)
  if (!agree.ok) return { ok: false, failure: `FAILED at record ${agree.record}: ${agree.code}: ${agree.reason}` }
  const earlier = chain.links.slice(1)
  return {
    ok: true,
    lines: [
      `  builds on:     ${earlier.length} record(s), followed by final digest; each verified, of this record's mode`,
      ...earlier.map((l) => `    ${l.name}: ${l.kind} ${l.ceremonyId}, ${hexGroups(l.finalDigest).slice(0, 19)}… (named by ${l.namedBy})`),
      `  agree:         ${agree.kcv ? `one CMK KCV (${agree.kcv.value}) in ${agree.kcv.records} record(s)` : 'no record names the CMK KCV'}; ` +
        `${agree.group ? `one group (${agree.group.value}) in ${agree.group.records}` : 'no record names a group'}; ` +
        (agree.appliancesChecked === 0
          ? 'no record says which FIPS appliances an earlier one established'
          : `the FIPS appliances of ${agree.appliancesChecked} record(s) each established by a record it builds on, or added by its own ceremony`),
    ],
  }
}

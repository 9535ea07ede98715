/**
 * Every error code the membership kinds (add-appliance, replace-appliance) can stop with has
 * operator guidance (what happened, what to do), read from their sources so that a new code
 * without words fails here: the codes thrown in their own folders, in replicate-cmk's step modules
 * they run unchanged, and in the cluster helpers they call. Where a shared code means something
 * else in these kinds (the group and the CMK already serve production keys), their own words are
 * shown, never the advice to make or remove a group or to make a CMK.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { guidanceFor, guidanceOf } from '../main/ceremony/errors'
import { MEMBERSHIP_GUIDANCE } from '../main/ceremony/membership-guidance'
import { ONBOARDING_APP_PERMISSIONS } from '../main/ceremony/kinds/replace-appliance/onboard-api'

const CEREMONY = join(__dirname, '../main/ceremony')
const SOURCES = [
  ...['add-appliance', 'replace-appliance', 'replicate-cmk'].flatMap((k) => readdirSync(join(CEREMONY, 'kinds', k)).filter((f) => f.endsWith('.ts')).map((f) => join(CEREMONY, 'kinds', k, f))),
  join(CEREMONY, 'cluster-steps.ts'),
]
const KINDS = ['add-appliance', 'replace-appliance'] as const

/** The codes of `new CeremonyError('CODE', …)` and the quoted CODE_NAMEs a helper picks one from (hmgRefusal). */
function codesIn(text: string): string[] {
  const thrown = [...text.matchAll(/CeremonyError\(\s*'([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]!)
  const picked = [...text.matchAll(/'([A-Z]{2,}(?:_[A-Z0-9]+)+)'/g)].map((m) => m[1]!)
  // The permissions the onboarding gives the app are the vendor's names (AppPermissions), not codes.
  return [...thrown, ...picked.filter((c) => !(ONBOARDING_APP_PERMISSIONS as readonly string[]).includes(c))]
}
const CODES = [...new Set(SOURCES.flatMap((f) => codesIn(readFileSync(f, 'utf8'))))].sort()
const OWN = [...new Set(['add-appliance', 'replace-appliance'].flatMap((k) => readdirSync(join(CEREMONY, 'kinds', k)).flatMap((f) => codesIn(readFileSync(join(CEREMONY, 'kinds', k, f), 'utf8')))))]

describe('membership kinds: every error code has guidance', () => {
  test('the scan finds the codes (it cannot pass by finding none)', () => {
    for (const code of ['QUORUM_WEAKER', 'GROUP_CONFLICT', 'APPLIANCE_ALREADY_IN_GROUP', 'CONFIG_CHANGED', 'GROUP_NOT_AS_PLANNED', 'FAILED_STILL_ANSWERS', 'DESTRUCTION_EVIDENCE_MISSING', 'CERTIFICATE_PIN_MISMATCH', 'REMOVAL_NOT_AS_PLANNED', 'HMG_UNREACHABLE', 'FINGERPRINT_MISMATCH']) {
      assert.ok(CODES.includes(code), `${code} is found in the sources`)
    }
    assert.deepEqual(codesIn(`throw new CeremonyError('SOME_NEW_CODE', 'x'); x ? 'HMG_OTHER' : 'y'`), ['SOME_NEW_CODE', 'SOME_NEW_CODE', 'HMG_OTHER'])
    assert.equal(guidanceOf('SOME_NEW_CODE', 'add-appliance'), null, 'a code without words is seen as such')
  })

  for (const kind of KINDS) {
    test(`${kind}: each code says what is safe and what to do next`, () => {
      const missing = CODES.filter((code) => {
        const g = guidanceOf(code, kind)
        return !g || g.safe.trim().length < 10 || g.next.trim().length < 20
      })
      assert.deepEqual(missing, [], `codes without guidance for ${kind}`)
    })
  }

  test('the codes of their own steps never advise making or removing a group, or making a CMK', () => {
    for (const kind of KINDS) {
      for (const code of OWN) {
        const { next } = guidanceFor(code, kind)
        assert.doesNotMatch(next, /remove the group first|set "cmk\.create"|Create the quorum group named in the plan on this appliance/, `${kind} ${code}: ${next}`)
      }
    }
  })

  test('their own words are shown only in their own ceremonies: link-cluster keeps its advice', () => {
    for (const code of ['GROUP_CONFLICT', 'GROUP_NOT_AS_PLANNED', 'CANARY_MISMATCH', 'RECORD_MISMATCH']) {
      assert.equal(guidanceFor(code, 'replace-appliance'), MEMBERSHIP_GUIDANCE[code])
      assert.notEqual(guidanceFor(code, 'link-cluster'), MEMBERSHIP_GUIDANCE[code], `${code} in link-cluster`)
      assert.deepEqual(guidanceFor(code, 'link-cluster'), guidanceFor(code))
    }
    assert.match(guidanceFor('CMK_MISSING', 'replicate-cmk').next, /cmk\.create/, 'the first replication may still be told to create its CMK')
  })
})

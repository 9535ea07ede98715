// What the onboarding makes of a "Quorum Group" it finds on the replacement (onboard-api.ts
// groupDifferences): only the group this ceremony's intent describes, nonce and all, is adopted;
// each way an attacker's group can be weaker is named, and anything else is a conflict.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Group } from '../main/dsm'
import { groupDifferences } from '../main/ceremony/kinds/replace-appliance/onboard-api'

const [A, B, C, D] = ['0b0e8a0c-1234-4abc-8def-0123456789a1', '0b0e8a0c-1234-4abc-8def-0123456789a2', '0b0e8a0c-1234-4abc-8def-0123456789a3', '0b0e8a0c-1234-4abc-8def-0123456789a4']
const intent = {
  name: 'Quorum Group', description: 'Quorum group for the Cluster Master Key, made by ceremony r1 (00112233aabbccdd)', n: 2,
  members: [A, B, C].map((userId, i) => ({ email: `c${i}@x.test`, userId })), approveWithLogin: true,
  baseline: { n: 2, of: 3, approveWithLogin: true }, recorded: null,
}
const group = (quorum: Record<string, unknown>, extra: Record<string, unknown> = {}): Group => ({
  group_id: D, acct_id: D, name: 'Quorum Group', description: intent.description, created_at: '20261202T120000Z',
  approval_policy: { quorum: { n: 2, members: [{ user: A }, { user: B }, { user: C }], require_password: true, require_2fa: false, ...quorum }, protect_crypto_operations: true, ...extra },
} as Group)

test('the intended group is adopted: nothing differs', () => {
  assert.deepEqual(groupDifferences(group({}), intent), { weaker: [], other: [] })
})

test('each way of being weaker is named', () => {
  assert.deepEqual(groupDifferences(group({ n: 1 }), intent).weaker, ['quorum 1 where the records show 2'])
  assert.deepEqual(groupDifferences(group({ members: [{ user: A }, { user: B }] }), intent).weaker, ['2 member(s) where the records show 3'])
  assert.deepEqual(groupDifferences(group({ require_password: false }), intent).weaker, ['no password asked at approval where the records require one'])
  assert.deepEqual(groupDifferences(group({}, { protect_crypto_operations: false }), intent).weaker, ['its crypto operations (wrap, unwrap, export) do not need the quorum'])
  assert.deepEqual(groupDifferences(group({ members: [{ user: A }, { user: A }, { user: B }] }), intent).weaker, ['1 member(s) listed twice'])
  assert.deepEqual(groupDifferences({ ...group({}), approval_policy: null } as Group, intent).weaker.length, 4, 'no policy at all: every way')
})

test('anything else is a conflict, never adopted: a stranger, an app, a stronger quorum, 2FA, another description', () => {
  assert.match(groupDifferences(group({ members: [{ user: A }, { user: B }, { user: D }] }), intent).other.join(), new RegExp(`members the plan does not name \\(${D}\\)`))
  assert.match(groupDifferences(group({ members: [{ user: A }, { user: B }, { app: D }] }), intent).other.join(), /app /)
  assert.deepEqual(groupDifferences(group({ n: 3 }), intent).other, ['quorum 3 where the records show 2'])
  assert.deepEqual(groupDifferences(group({ require_2fa: true }), intent).other, ['two-factor approval, which the records do not show'])
  assert.deepEqual(groupDifferences({ ...group({}), description: 'Quorum group for the Cluster Master Key' }, intent).other, ['it was not made by this ceremony (its description is not the one this ceremony gave)'])
})

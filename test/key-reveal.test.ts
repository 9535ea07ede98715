/**
 * The one-time reveal's bookkeeping (main/ceremony/key-reveal.ts), with the vault that wipes it: an
 * offer is taken once; it lapses for good when the secrets are wiped or another key is typed for
 * that appliance; a key once shown is never offered again (here, or as the log says); a reveal that
 * could not be recorded gives the offer back.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ApiKeyVault } from '../main/ceremony/api-key-vault'
import { KeyReveals } from '../main/ceremony/key-reveal'
import { holdMadeKeyOnce } from '../main/ceremony/made-keys'
import { revealClosed } from '../main/ceremony/witness-desk'

const at = new Date('2026-12-02T10:00:00.000Z')
const vaultOf = () => new ApiKeyVault({ idleTimeoutMs: () => 0, now: () => at, onIdle: () => undefined })
const code = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return 'NO_ERROR'
}

test('an offer is taken once; a second claim answers KEY_ALREADY_SHOWN, and an unknown one KEY_NOT_OFFERED', () => {
  const r = new KeyReveals(vaultOf(), () => at)
  assert.equal(code(() => r.claim('fips-4', 'fips-4')), 'KEY_NOT_OFFERED')
  assert.equal(r.offer('fips-4', 'onboard-app', false), 'offered')
  assert.equal(r.claim('fips-4', 'fips-4').stepId, 'onboard-app')
  assert.equal(code(() => r.claim('fips-4', 'fips-4')), 'KEY_ALREADY_SHOWN')
  assert.deepEqual(r.views((id) => `label ${id}`), [{ applianceId: 'fips-4', label: 'label fips-4', stepId: 'onboard-app', state: 'shown', shownAt: at.toISOString(), lapsed: null }])
  assert.equal(r.offer('fips-4', 'onboard-app', false), 'held', 'a step run again reads the same key: it is not offered again')
  assert.equal(code(() => r.claim('fips-4', 'fips-4')), 'KEY_ALREADY_SHOWN')
})

test('a key the log says was shown is only held; a claim not recorded is given back', () => {
  const r = new KeyReveals(vaultOf(), () => at)
  assert.equal(r.offer('fips-4', 'onboard-app', true), 'held')
  assert.equal(code(() => r.claim('fips-4', 'fips-4')), 'KEY_NOT_OFFERED')
  r.offer('fips-5', 'onboard-app', false)
  r.claim('fips-5', 'fips-5').undo()
  assert.deepEqual(r.views(String).map((v) => [v.state, v.shownAt]), [['offered', null]])
  assert.equal(r.claim('fips-5', 'fips-5').stepId, 'onboard-app')
})

test('the vault\'s wipe lapses every offer not taken, for good; a typed key lapses only its appliance\'s', () => {
  const vault: ApiKeyVault = new ApiKeyVault({ idleTimeoutMs: () => 0, now: () => at, onIdle: () => undefined, onWipe: () => r.lapse('wiped') })
  const r = new KeyReveals(vault, () => at)
  r.offer('fips-4', 'onboard-app', false)
  r.offer('fips-5', 'onboard-app', false)
  r.offer('fips-6', 'onboard-app', false)
  r.claim('fips-6', 'fips-6')
  r.lapse('replaced', 'fips-5')
  assert.equal(code(() => r.claim('fips-5', 'fips-5')), 'KEY_REVEAL_LAPSED')
  vault.setCopy('fips-4', Buffer.from('k'))
  vault.wipe('idle')
  assert.equal(code(() => r.claim('fips-4', 'fips-4')), 'KEY_REVEAL_LAPSED')
  vault.setCopy('fips-4', Buffer.from('k'))
  assert.equal(code(() => r.claim('fips-4', 'fips-4')), 'KEY_REVEAL_LAPSED', 'a key entered again does not bring the offer back')
  assert.deepEqual(r.views(String).map((v) => [v.applianceId, v.state, v.lapsed]), [['fips-4', 'lapsed', 'wiped'], ['fips-5', 'lapsed', 'replaced'], ['fips-6', 'shown', null]], 'a key already shown stays shown')
  r.reset()
  assert.deepEqual(r.views(String), [])
})

test('a made key goes to the vault (a copy: the caller zeroes its own); it is offered only when its step asks and the log does not say it was shown', () => {
  const vault = vaultOf()
  const r = new KeyReveals(vault, () => at)
  const key = Buffer.from('a key the ceremony made, long enough')
  assert.equal(r.made('fips-4', key, null, []), 'held', 'read again after a restart: held, not shown')
  key.fill(0)
  assert.equal(vault.copy('fips-4')!.toString(), 'a key the ceremony made, long enough')
  assert.equal(code(() => r.claim('fips-4', 'fips-4')), 'KEY_NOT_OFFERED')
  const shown = [{ kind: 'api-key-shown', facts: { appliance: 'fips-4' } }] as never[]
  assert.equal(r.made('fips-4', Buffer.from('k'), 'onboard-app', shown), 'held', 'the log says it was shown: not again')
  assert.equal(r.made('fips-5', Buffer.from('k'), 'onboard-app', shown), 'offered', 'another appliance\'s key is its own')
})

test('the reveal closes at the step\'s sign-off, or when another step starts after it is done: the witnesses\' sign-off attests to it', () => {
  const log = [
    { seq: 1, kind: 'step-intent', step: 'onboard-group' }, { seq: 2, kind: 'step-done', step: 'onboard-group' },
    { seq: 3, kind: 'step-intent', step: 'onboard-app' }, { seq: 4, kind: 'step-done', step: 'onboard-app' },
  ]
  assert.equal(revealClosed(log, 'onboard-app'), false, 'done, not signed off, nothing after it: open')
  assert.equal(revealClosed([...log, { seq: 5, kind: 'witness-signoff', step: 'onboard-app' }], 'onboard-app'), true)
  assert.equal(revealClosed([...log, { seq: 5, kind: 'step-intent', step: 'appliance-preflight' }], 'onboard-app'), true)
  assert.equal(revealClosed([...log, { seq: 5, kind: 'witness-signoff', step: 'onboard-group' }], 'onboard-app'), false, 'another step\'s sign-off does not close it')
})

test('a key shown on the terminal is recorded as shown, and not shown again when a resumed step reads it again', async () => {
  const entries: { seq: number; kind: string; step: string; actor: string; facts: Record<string, unknown> }[] = []
  const log = {
    entries: () => entries as never,
    append: async (e: { actor: string; step: string; kind: string; facts: Record<string, unknown> }) => void entries.push({ seq: entries.length + 1, ...e }),
  }
  const asked: boolean[] = []
  const terminal = { madeApiKey: (_id: string, _key: Buffer, show: boolean) => (asked.push(show), show ? 'shown' as const : 'held' as const) }
  assert.equal(holdMadeKeyOnce(terminal, log, 'Olive Operator', 'fips-4', 'fips-4', Buffer.from('k'), true, 'onboard-app'), 'shown')
  await new Promise((r) => setImmediate(r))
  assert.deepEqual(entries.map((e) => [e.kind, e.step, e.actor, e.facts['appliance']]), [['api-key-shown', 'onboard-app', 'Olive Operator', 'fips-4']], 'recorded, never the key')
  assert.ok(!JSON.stringify(entries).includes('"k"'))
  // Resumed: the step adopts the app and reads the key again, asking to show it: it is only held.
  assert.equal(holdMadeKeyOnce(terminal, log, 'Olive Operator', 'fips-4', 'fips-4', Buffer.from('k'), true, 'onboard-app'), 'held')
  assert.deepEqual(asked, [true, false])
  assert.equal(entries.length, 1)
  // Another appliance's key is its own matter.
  assert.equal(holdMadeKeyOnce(terminal, log, 'Olive Operator', 'fips-5', 'fips-5', Buffer.from('k'), true, 'onboard-app'), 'shown')
})

test('a wipe while a claim is being recorded: if the claim is given back, it lapses instead of being offered again', () => {
  const r = new KeyReveals(vaultOf(), () => at)
  r.offer('fips-4', 'onboard-app', false)
  const claim = r.claim('fips-4', 'fips-4')
  r.lapse('wiped') // the idle time-out fires while the reveal waits for its log entry
  claim.undo() // and that entry could not be written
  assert.deepEqual(r.views((id) => id).map((v) => [v.state, v.lapsed]), [['lapsed', 'wiped']])
  assert.equal(code(() => r.claim('fips-4', 'fips-4')), 'KEY_REVEAL_LAPSED')
})

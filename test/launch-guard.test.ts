/**
 * The launch guard (security.md §1b, checklist H2): the built main bundle refuses to start with a
 * debugging switch in every spelling Chromium or Node accept, and the fake electron's
 * app.commandLine parses switches the way Chromium does, so the hasSwitch half is exercised too.
 */
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { DEBUG_SWITCHES, findDebugSwitch, switchNameOf } from '../main/app/launch-guard'
import { bootMain, cleanupBoots } from './harness/boot-main'
import { chromiumSwitches } from './harness/fake-electron'

after(cleanupBoots)

/** Every spelling of one switch that some parser (Chromium on Linux or Windows, Node) accepts. */
function spellings(name: string): string[][] {
  const mixed = name.split('-').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('-')
  return [
    [`--${name}`],
    [`--${name}=9222`],
    [`-${name}=9222`],
    [`-${name}`],
    [`--${mixed}=9222`],
    [`-${name.toUpperCase()}=9222`],
    [`/${name}=9222`],
    [`/${mixed}`],
    [`--${name}`, '9222'],
    [`--${name}=`],
    ['--', `--${name}=9222`], // after the terminator Chromium stops reading switches; the guard does not
  ]
}

const REFUSED: string[][] = [
  ...spellings('remote-debugging-port'),
  ...spellings('inspect'),
  ...DEBUG_SWITCHES.filter((n) => n !== 'remote-debugging-port' && n !== 'inspect').flatMap((n) => [[`--${n}=1`], [`-${n.toUpperCase()}`], [`/${n}`]]),
]

describe('the built app refuses to start with a debugging switch', () => {
  for (const argv of REFUSED) {
    test(`launch guard: refuses ${argv.join(' ')}`, async () => {
      const fake = await bootMain({ argv })
      assert.equal(fake.exitCode, 1)
      assert.equal(fake.windows.length, 0, 'no window')
      assert.equal(fake.handlers.size, 0, 'no IPC handler')
    })
  }

  test('launch guard: refuses a switch Chromium holds that argv does not show (app.commandLine.hasSwitch)', async () => {
    for (const name of ['remote-debugging-port', 'inspect', 'inspect-brk']) {
      const fake = await bootMain({ argv: [], extraSwitches: [name] })
      assert.equal(fake.exitCode, 1, name)
      assert.equal(fake.windows.length, 0, name)
    }
  })

  test('launch guard: starts normally with look-alike arguments that are not debugging switches', async () => {
    const fake = await bootMain({ argv: ['--inspector-theme=dark', '/home/custodian/inspect', 'remote-debugging-port', '--no-remote-debugging'] })
    assert.equal(fake.exitCode, null)
    assert.equal(fake.windows.length, 1)
  })
})

describe('the argv check and the command-line model', () => {
  test('switch names: any prefix and case, = or nothing after; not a path or a bare word', () => {
    assert.equal(switchNameOf('--Remote-Debugging-Port=9222'), 'remote-debugging-port')
    assert.equal(switchNameOf('/INSPECT'), 'inspect')
    assert.equal(switchNameOf('-inspect-brk=127.0.0.1:0'), 'inspect-brk')
    assert.equal(switchNameOf('/home/custodian/inspect'), undefined)
    assert.equal(switchNameOf('inspect'), undefined)
    assert.equal(switchNameOf('--'), undefined)
  })

  test('hasSwitch follows Chromium: "/" and case folding only on Windows, nothing after "--"', () => {
    const exe = 'dsm-key-ceremony'
    assert.ok(chromiumSwitches([exe, '-remote-debugging-port=9222'], 'linux').has('remote-debugging-port'))
    assert.ok(!chromiumSwitches([exe, '/remote-debugging-port=9222'], 'linux').has('remote-debugging-port'))
    assert.ok(chromiumSwitches([exe, '/Remote-Debugging-Port=9222'], 'win32').has('remote-debugging-port'))
    assert.ok(!chromiumSwitches([exe, '--Remote-Debugging-Port=9222'], 'linux').has('remote-debugging-port'))
    assert.ok(!chromiumSwitches([exe, '--', '--inspect'], 'linux').has('inspect'))
    // The guard asks hasSwitch too: a Windows-style switch that argv checking alone would also catch.
    const win = chromiumSwitches([exe, '/INSPECT=9229'], 'win32')
    assert.equal(findDebugSwitch([], { hasSwitch: (n) => win.has(n) }), '--inspect')
  })
})

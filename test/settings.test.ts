/** Settings on conf, the same store electron-store uses in the app, in a temp folder. */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import Conf from 'conf'
import { DEFAULT_SETTINGS } from '../preload/contract'
import { SettingsService } from '../main/settings/settings-service'

const dirs: string[] = []
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

function open(cwd = mkdtempSync(join(tmpdir(), 'dsm-settings-'))) {
  dirs.push(cwd)
  return { cwd, service: new SettingsService(new Conf({ cwd, configName: 'config', projectName: 'dsm-key-ceremony' })) }
}

test('defaults, then changes persist across a re-open', () => {
  const { cwd, service } = open()
  assert.deepEqual(service.get(), DEFAULT_SETTINGS)
  service.update({ operatorName: '  Robin  ', textScale: 200 })
  const reopened = open(cwd).service
  assert.deepEqual(reopened.get(), { operatorName: 'Robin', textScale: 200, highContrast: false })
  assert.deepEqual(JSON.parse(readFileSync(join(cwd, 'config.json'), 'utf8')), { operatorName: 'Robin', textScale: 200, highContrast: false })
})

test('an invalid update throws and leaves the file as it was', () => {
  const { cwd, service } = open()
  service.update({ textScale: 150 })
  const before = readFileSync(join(cwd, 'config.json'), 'utf8')
  assert.throws(() => service.update({ textScale: 50 }))
  assert.equal(readFileSync(join(cwd, 'config.json'), 'utf8'), before)
})

test('a hand-edited, off-schema file reads as defaults and is not rewritten until a change', () => {
  const { cwd } = open()
  writeFileSync(join(cwd, 'config.json'), JSON.stringify({ textScale: 'huge', operatorName: 7 }))
  const { service } = open(cwd)
  assert.deepEqual(service.get(), DEFAULT_SETTINGS)
  assert.deepEqual(JSON.parse(readFileSync(join(cwd, 'config.json'), 'utf8')), { textScale: 'huge', operatorName: 7 })
})

test('listeners hear changes until they unsubscribe', () => {
  const { service } = open()
  const heard: number[] = []
  const off = service.onChange((s) => heard.push(s.textScale))
  service.update({ textScale: 150 })
  off()
  service.update({ textScale: 200 })
  assert.deepEqual(heard, [150])
})

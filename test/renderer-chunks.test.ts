/**
 * The renderer's start-up set (design §11): the screens loaded on demand stay out of what loads
 * before the first screen, are reached from the entry only by a dynamic import of the app's own
 * relative path, and what does load at start-up is under the 100 kB gzip budget. Run after `npm run build`.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { allFiles, RENDERER_OUT, startupFiles, staticImports, sum } from '../scripts/renderer-size'

/** Each on-demand screen: its chunk, and a string only that screen's code has (so it is in no other chunk). */
const LAZY = [
  { screen: 'record', chunk: 'RecordScreen', only: 'record-builds-on' },
  { screen: 'record (its QR code)', chunk: 'RecordScreen', only: 'qr-code' },
  { screen: 'script', chunk: 'ScriptScreen', only: 'The printable ceremony script' },
  { screen: 'plan editor', chunk: 'PlanEditorScreen', only: 'Start from this template' },
  { screen: 'hand-off', chunk: 'HandoffScreen', only: 'Write the hand-off to the drive' },
  { screen: 'receive screen', chunk: 'ReceiveScreen', only: 'Check the drive and continue' },
]
const BUDGET_GZIP_BYTES = 100 * 1024

function built(): void {
  assert.ok(existsSync(join(RENDERER_OUT, 'index.html')), 'run `npm run build` first')
}
const text = (path: string): string => readFileSync(join(RENDERER_OUT, path), 'utf8')

describe('the built renderer', () => {
  for (const { screen, chunk, only } of LAZY) {
    test(`the ${screen} is its own chunk, reached by a dynamic import, and nothing of it loads at start-up`, () => {
      built()
      const startup = startupFiles().map((f) => f.path)
      const own = allFiles().filter((f) => new RegExp(`^assets/${chunk}-[\\w-]+\\.js$`).test(f.path))
      assert.equal(own.length, 1, `one ${chunk} chunk`)
      const path = own[0]!.path
      assert.ok(!startup.includes(path), `${path} is not loaded at start-up`)
      assert.ok(text(path).includes(only), `"${only}" is in ${path} (else this check would prove nothing)`)
      assert.deepEqual(startup.filter((p) => text(p).includes(only)), [], `"${only}" is in no file loaded at start-up`)
      const name = path.slice('assets/'.length).replace(/[.$]/g, '\\$&')
      assert.ok(startup.some((p) => new RegExp(`\\bimport\\(\\s*["'\`]\\./${name}["'\`]\\s*\\)`).test(text(p))), `a start-up file imports ./${name} on demand`)
    })
  }

  test('what loads at start-up (entry, its imports, the stylesheet) is under the design §11 budget of 100 kB gzip', () => {
    built()
    const startup = startupFiles()
    assert.ok(startup.some((f) => f.path.endsWith('.css')) && startup.some((f) => f.path.endsWith('.js')), 'the entry script and the stylesheet are counted')
    const gz = sum(startup, 'gzipBytes')
    assert.ok(gz < BUDGET_GZIP_BYTES, `start-up set is ${gz} B gzip (${startup.map((f) => f.path).join(', ')}), over ${BUDGET_GZIP_BYTES} B`)
    assert.ok(sum(allFiles(), 'gzipBytes') > gz, 'the on-demand chunks are not counted in it')
  })
})

describe('how the start-up set is found', () => {
  test('static imports are followed (import…from, bare import, export…from); import("…") is not', () => {
    const code = 'import{a as e,b as t}from"./shared-1.js";import"./side.js";export{x}from\'./re.js\';const l=()=>import(`./Lazy-2.js`),m=()=>import("./Lazy-3.js")'
    assert.deepEqual(staticImports(code), ['./shared-1.js', './side.js', './re.js'])
  })

  test('from index.html: the module script, its static imports transitively and the stylesheet, but not a chunk loaded on demand', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsm-renderer-chunks-'))
    try {
      mkdirSync(join(dir, 'assets'))
      writeFileSync(join(dir, 'index.html'), '<script type="module" crossorigin src="./assets/index-1.js"></script>\n<link rel="stylesheet" href="./assets/index-1.css">\n<link rel="icon" href="./assets/icon.png">')
      writeFileSync(join(dir, 'assets/index-1.js'), 'import{a}from"./shared-1.js";const r=()=>import("./Record-1.js")')
      writeFileSync(join(dir, 'assets/shared-1.js'), 'import"./deep-1.js";export const a=1')
      writeFileSync(join(dir, 'assets/deep-1.js'), 'export{}')
      writeFileSync(join(dir, 'assets/Record-1.js'), 'import{a}from"./shared-1.js"')
      writeFileSync(join(dir, 'assets/index-1.css'), 'body{}')
      assert.deepEqual(startupFiles(dir).map((f) => f.path), ['assets/deep-1.js', 'assets/index-1.css', 'assets/index-1.js', 'assets/shared-1.js'])
      assert.deepEqual(allFiles(dir).map((f) => f.path), ['assets/Record-1.js', 'assets/deep-1.js', 'assets/index-1.css', 'assets/index-1.js', 'assets/shared-1.js'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

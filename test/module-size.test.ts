/**
 * Small modules (the project's standards: no file over ~400 lines; split rather than grow): every app
 * source (main, preload, renderer, scripts) is counted, so a file that grows past the limit fails
 * here by name and length instead of in review.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { test } from 'node:test'
import { APP_SOURCES, ROOT } from './support/app-sources'

const LIMIT = 400

/**
 * A file over the limit while its split is under way on another branch, capped at the length it had
 * when it was listed: it may shrink, never grow. Remove the entry once the split has landed.
 */
const BEING_SPLIT: Record<string, number> = {}

/** Lines as `wc -l` counts them, plus an unterminated last line. */
function linesOf(text: string): number {
  if (text === '') return 0
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
}

/** `path: lines` of every file longer than it may be. */
function oversized(files: { path: string; text: string }[], beingSplit: Record<string, number> = BEING_SPLIT): string[] {
  return files
    .map(({ path, text }) => ({ path, lines: linesOf(text), cap: beingSplit[path] ?? LIMIT }))
    .filter(({ lines, cap }) => lines > cap)
    .map(({ path, lines, cap }) => `${path}: ${lines} lines (at most ${cap})`)
}

test(`no app source is over ${LIMIT} lines (split rather than grow)`, () => {
  assert.ok(APP_SOURCES.length > 50, 'the walk found the sources')
  const files = APP_SOURCES.map((file) => ({ path: relative(ROOT, file), text: readFileSync(file, 'utf8') }))
  assert.deepEqual(oversized(files), [])
})

test('the count names a file one line over the limit, and one listed as being split once it grows past its cap', () => {
  const lines = (n: number, lastNewline = true) => Array.from({ length: n }, (_, i) => `line ${i}`).join('\n') + (lastNewline ? '\n' : '')
  assert.equal(linesOf(lines(LIMIT)), LIMIT)
  assert.equal(linesOf(lines(LIMIT, false)), LIMIT, 'an unterminated last line counts')
  assert.equal(linesOf(''), 0)
  assert.deepEqual(oversized([{ path: 'main/a.ts', text: lines(LIMIT) }, { path: 'main/b.ts', text: lines(LIMIT + 1) }]), [`main/b.ts: ${LIMIT + 1} lines (at most ${LIMIT})`])
  const splitting = { 'main/big.ts': 415 }
  assert.deepEqual(oversized([{ path: 'main/big.ts', text: lines(415) }], splitting), [])
  assert.deepEqual(oversized([{ path: 'main/big.ts', text: lines(416) }], splitting), ['main/big.ts: 416 lines (at most 415)'])
})

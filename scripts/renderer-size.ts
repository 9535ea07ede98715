/**
 * What the built renderer (out/renderer) makes the page load, and how much of it gzips to what:
 * the start-up set (what index.html names, and every module those statically import: all of it
 * arrives before the first screen) against the whole bundle (plus the chunks of the screens loaded
 * on demand). Shared by `npm run bench` and test/renderer-chunks.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import { gzipSync } from 'node:zlib'

export const RENDERER_OUT = join(__dirname, '../out/renderer')

export interface RendererFile {
  /** Relative to out/renderer, with forward slashes ("assets/index-abc.js"). */
  path: string
  bytes: number
  gzipBytes: number
}

/** The files index.html loads itself: its module script, modulepreload links and stylesheets. */
function htmlReferences(html: string): string[] {
  const refs: string[] = []
  for (const tag of html.match(/<(script|link)\b[^>]*>/g) ?? []) {
    const url = /\b(?:src|href)="([^"]+)"/.exec(tag)?.[1]
    if (!url) continue
    if (tag.startsWith('<link') && !/\brel="(modulepreload|stylesheet)"/.test(tag)) continue
    refs.push(posix.normalize(url))
  }
  return refs
}

/** A chunk's static imports (`import{a as b}from"./x.js"`, `import"./x.js"`, `export…from`); not `import("…")`. */
export function staticImports(code: string): string[] {
  const found: string[] = []
  for (const m of code.matchAll(/(?:^|[;}\n])\s*(?:import|export)\s*(?:[\w$*{}\s,]*?\bfrom\s*)?["'`](\.\.?\/[^"'`]+)["'`]/g)) found.push(m[1]!)
  return found
}

function measure(dir: string, path: string): RendererFile {
  const bytes = readFileSync(join(dir, path))
  return { path, bytes: bytes.length, gzipBytes: gzipSync(bytes).length }
}

/** Every file loaded before the first screen: index.html's references and their static imports, transitively. */
export function startupFiles(dir = RENDERER_OUT): RendererFile[] {
  const queue = htmlReferences(readFileSync(join(dir, 'index.html'), 'utf8'))
  const seen = new Set<string>()
  while (queue.length > 0) {
    const path = queue.shift()!
    if (seen.has(path)) continue
    seen.add(path)
    if (path.endsWith('.js')) {
      for (const spec of staticImports(readFileSync(join(dir, path), 'utf8'))) queue.push(posix.join(posix.dirname(path), spec))
    }
  }
  return [...seen].sort().map((path) => measure(dir, path))
}

/** Every JS and CSS file of the renderer, the on-demand chunks included. */
export function allFiles(dir = RENDERER_OUT): RendererFile[] {
  return readdirSync(join(dir, 'assets'))
    .filter((name) => /\.(js|css)$/.test(name))
    .sort()
    .map((name) => measure(dir, `assets/${name}`))
}

export const sum = (files: RendererFile[], key: 'bytes' | 'gzipBytes'): number => files.reduce((n, f) => n + f[key], 0)

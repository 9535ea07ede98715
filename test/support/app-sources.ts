/**
 * Every app source file (main, preload, renderer, scripts), for the static checks that read them all
 * (electron-static.test.ts, module-size.test.ts): one walk, so each check reads the same files.
 */
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

export const ROOT = join(__dirname, '..', '..')

export function filesUnder(dir: string, exts = /\.(ts|tsx|mts|cts|js|cjs|mjs|html)$/): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (name === 'node_modules') continue
    if (statSync(path).isDirectory()) out.push(...filesUnder(path, exts))
    else if (exts.test(name)) out.push(path)
  }
  return out
}

export const APP_SOURCES = ['main', 'preload', 'renderer', 'scripts'].flatMap((d) => filesUnder(join(ROOT, d)))

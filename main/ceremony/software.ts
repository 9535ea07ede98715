/**
 * Which software ran the ceremony: its name, version and a digest of the code itself, recorded in
 * the first audit-log entry so the record says exactly what produced it. The app digests its own
 * main-process bundle; the CLI, which runs the TypeScript sources, digests those.
 */
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

export interface Software {
  name: string
  version: string
  /** SHA-256 (hex) of the code that ran. */
  buildDigest: string
}

export function digestOfFile(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

/** SHA-256 over every .ts file under `root` (relative path and content, in path order). */
export function digestOfSources(root: string): string {
  const files: string[] = []
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) walk(path)
      else if (name.endsWith('.ts')) files.push(path)
    }
  }
  walk(root)
  const hash = createHash('sha256')
  for (const f of files) hash.update(`${relative(root, f)}\0`).update(readFileSync(f)).update('\0')
  return hash.digest('hex')
}

/** The CLI's identity: the package version and the digest of main/ as it runs from source. */
export function cliSoftware(): Software {
  const root = join(__dirname, '..', '..')
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
  return { name: 'DSM Key Ceremony (ceremony CLI)', version: pkg.version, buildDigest: digestOfSources(join(root, 'main')) }
}

// The start-up sweep (security.md §5.4, §8 F6/F9): a process killed between writing a temp file and
// renaming it leaves the temp file behind; the target itself is then absent or still the previous
// whole file. The engine calls removeStaleTempFiles on its state and media folders at start, when
// no write of ours can be in flight (one instance at a time).
import { promises as fsp } from 'node:fs'
import { join } from 'node:path'

/** Temp names this app's writers use: ours (atomic-write.ts) and atomically's (conf / electron-store). */
const TEMP_NAMES = [
  /^\..+\.[0-9a-f]{12}\.tmp$/, // .<name>.<12 hex>.tmp
  /.\.tmp-\d{10}[0-9a-f]{6}$/, // <name>.tmp-<10 digits><6 hex>
]

export function isStaleTempName(name: string): boolean {
  return TEMP_NAMES.some((pattern) => pattern.test(name))
}

/**
 * Removes the temp files a killed write left in `dir` (not in sub-folders) and returns their names.
 * Only regular files and links with a temp name are removed (a link is removed, never followed);
 * anything else, and every file that is not a temp file, is left alone.
 */
export async function removeStaleTempFiles(dir: string): Promise<string[]> {
  const removed: string[] = []
  for (const entry of await fsp.readdir(dir, { withFileTypes: true })) {
    if (!isStaleTempName(entry.name) || !(entry.isFile() || entry.isSymbolicLink())) continue
    try {
      await fsp.unlink(join(dir, entry.name))
      removed.push(entry.name)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }
  return removed.sort()
}

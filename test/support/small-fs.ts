/**
 * A small file system for the full-disk tests (security.md §8 F23): a size-limited tmpfs mounted
 * over a folder (root only; CI runs as root), and a filler that takes every free page and gives
 * pages back one at a time. Where mounting is not allowed, `mountSmallFs` returns null and the test
 * says so (the injected-error variants still run).
 */
import { spawnSync } from 'node:child_process'
import { readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const PAGE = 4096

export interface SmallFs {
  /** Fills every free page with 4 KiB files named filler-N (never a temp or ceremony name). */
  fill(): void
  /** Gives `pages` pages back (all of them without an argument). */
  free(pages?: number): void
  fillers(): string[]
  unmount(): void
}

export function mountSmallFs(dir: string, kib: number): SmallFs | null {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return null
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k,mode=0700`, 'tmpfs', dir]).status !== 0) return null
  let n = 0
  const fillers = () => readdirSync(dir).filter((name) => name.startsWith('filler-')).sort((a, b) => Number(a.slice(7)) - Number(b.slice(7)))
  return {
    fill() {
      for (;;) {
        try {
          writeFileSync(join(dir, `filler-${n++}`), Buffer.alloc(PAGE, 0x5a))
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
          rmSync(join(dir, `filler-${n - 1}`), { force: true }) // the one that did not fit
          return
        }
      }
    },
    free(pages = Infinity) {
      for (const name of fillers().slice(0, pages === Infinity ? undefined : pages)) rmSync(join(dir, name))
    },
    fillers,
    unmount() {
      spawnSync('umount', ['-l', dir])
    },
  }
}

/**
 * Child process for the F6 kill test: writes one file with writeFileAtomic and SIGKILLs itself at a
 * named point, as a power cut would: `before-rename` (temp file written and fsynced, not yet
 * moved into place: renamed over an old file, or hard-linked to a new name) or `before-fsync` (temp file written, not yet flushed).
 *   node --import tsx test/support/kill-mid-write.ts <target> <data file> <point> [overwrite]
 */
import { promises as fsp, readFileSync } from 'node:fs'
import { writeFileAtomic } from '../../main/media'

const [target, dataFile, point, overwrite] = process.argv.slice(2) as [string, string, string, string | undefined]
const die = async (): Promise<never> => {
  process.kill(process.pid, 'SIGKILL')
  return new Promise<never>(() => undefined)
}
if (point === 'before-rename') {
  fsp.rename = die
  fsp.link = die
}
else if (point === 'before-fsync') {
  const open = fsp.open
  fsp.open = (async (...args: Parameters<typeof fsp.open>) => {
    const fh = await open(...args)
    fh.sync = die
    return fh
  }) as typeof fsp.open
} else throw new Error(`unknown kill point ${point}`)

void writeFileAtomic(target, readFileSync(dataFile), { overwrite: overwrite === 'overwrite' }).then(() => {
  process.stderr.write('the write finished: the kill point was never reached\n')
  process.exit(3)
})

// Counts the fsyncs a bench run makes (files and folders; journal, audit log, media) and the wall
// time they block, by wrapping fs.fsyncSync and FileHandle#sync for the run. Bench only: the
// product's code is unchanged, and the wrappers are removed by stop().
import { promises as fsp } from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import { performance } from 'node:perf_hooks'

export interface FsyncCounter {
  count(): number
  ms(): number
  stop(): void
}

export async function countFsyncs(): Promise<FsyncCounter> {
  // The CommonJS module object itself: what `import { fsyncSync } from 'node:fs'` reads at each call.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fs = require('node:fs') as typeof import('node:fs')
  let n = 0
  let ms = 0
  const fsyncSync = fs.fsyncSync
  fs.fsyncSync = (fd: number) => {
    const t = performance.now()
    try {
      return fsyncSync(fd)
    } finally {
      n++
      ms += performance.now() - t
    }
  }
  syncBuiltinESMExports()
  // FileHandle's class is not exported; its prototype is reached through a handle.
  const fh = await fsp.open(__filename, 'r')
  const proto = Object.getPrototypeOf(fh) as { sync: () => Promise<void> }
  await fh.close()
  const sync = proto.sync
  proto.sync = async function (this: unknown) {
    const t = performance.now()
    try {
      return await sync.call(this)
    } finally {
      n++
      ms += performance.now() - t
    }
  }
  return {
    count: () => n,
    ms: () => ms,
    stop: () => {
      fs.fsyncSync = fsyncSync
      syncBuiltinESMExports()
      proto.sync = sync
    },
  }
}

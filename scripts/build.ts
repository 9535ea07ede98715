// Builds the three bundles: main (CommonJS, Node 24 as in Electron 41), preload (one sandbox-compatible
// CommonJS bundle) and the minified renderer. `--if-needed` skips the build when out/ is newer than
// every source file (used by `npm run harness`).
import { build } from 'esbuild'
import { build as viteBuild } from 'vite'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { contractChannelsPlugin } from './contract-channels'

const outputs = ['out/main/index.js', 'out/preload/index.js', 'out/renderer/index.html']
const sources = ['main', 'preload', 'renderer', 'package.json', 'vite.renderer.config.mts', 'scripts']

function newestMtime(path: string): number {
  const st = statSync(path)
  if (!st.isDirectory()) return st.mtimeMs
  return Math.max(0, ...readdirSync(path).map((name) => newestMtime(join(path, name))))
}

function upToDate(): boolean {
  if (!outputs.every((o) => existsSync(o))) return false
  const oldestOutput = Math.min(...outputs.map((o) => statSync(o).mtimeMs))
  return Math.max(...sources.map(newestMtime)) < oldestOutput
}

async function main(): Promise<void> {
  if (process.argv.includes('--if-needed') && upToDate()) {
    console.log('build: out/ is up to date')
    return
  }

  process.env.VITE_CONFIG_NATIVE_IGNORE_WARNING = 'true' // the config is bundled by Vite; the native loader is not used
  const started = Date.now()
  const common = { bundle: true, format: 'cjs', sourcemap: false, legalComments: 'none', logLevel: 'warning' } as const
  await build({
    ...common,
    entryPoints: { index: 'main/app/index.ts' },
    outdir: 'out/main',
    platform: 'node',
    target: 'node24',
    // electron is provided by the runtime; node-forge is the one runtime dependency shipped in app.asar.
    external: ['electron', 'node-forge'],
  })
  await build({
    ...common,
    entryPoints: { index: 'preload/index.ts' },
    outdir: 'out/preload',
    platform: 'node',
    target: 'node24',
    minify: true,
    external: ['electron'],
    plugins: [contractChannelsPlugin()],
  })
  await viteBuild({ configFile: 'vite.renderer.config.mts', logLevel: 'warn' })
  console.log(`build: main, preload and renderer in ${Date.now() - started} ms`)
}

void main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})

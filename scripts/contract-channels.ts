// The preload needs only the contract's names (bridge key, method → channel), not its zod schemas.
// This esbuild plugin evaluates preload/contract.ts at build time and hands the preload a module with
// just those names, so the sandboxed preload stays a ~1 kB bundle with no validation library in it.
// The names still come from the one contract; nothing is written twice.
import { build, type Plugin } from 'esbuild'
import { resolve } from 'node:path'

type SpecTable = Record<string, { channel: string }>

export async function contractChannelsModule(contractPath = 'preload/contract.ts'): Promise<string> {
  const out = await build({ entryPoints: [contractPath], bundle: true, format: 'cjs', platform: 'node', write: false, logLevel: 'silent' })
  const module = { exports: {} as { BRIDGE_KEY: string; invokes: SpecTable; events: SpecTable } }
  new Function('module', 'exports', 'require', out.outputFiles[0]!.text)(module, module.exports, require)
  const { BRIDGE_KEY, invokes, events } = module.exports
  const names = (table: SpecTable) => Object.fromEntries(Object.entries(table).map(([method, spec]) => [method, { channel: spec.channel }]))
  return [
    `export const BRIDGE_KEY = ${JSON.stringify(BRIDGE_KEY)};`,
    `export const invokes = ${JSON.stringify(names(invokes))};`,
    `export const events = ${JSON.stringify(names(events))};`,
  ].join('\n')
}

export function contractChannelsPlugin(contractPath = 'preload/contract.ts'): Plugin {
  const absolute = resolve(contractPath)
  return {
    name: 'contract-channels',
    setup(b) {
      b.onResolve({ filter: /(^|\/)contract$/ }, (args) =>
        resolve(args.resolveDir, args.path) + '.ts' === absolute ? { path: absolute, namespace: 'contract-channels' } : undefined,
      )
      b.onLoad({ filter: /.*/, namespace: 'contract-channels' }, async () => ({ contents: await contractChannelsModule(contractPath), loader: 'js' }))
    },
  }
}

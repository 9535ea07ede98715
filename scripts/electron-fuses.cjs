// The Electron fuses (shared/docs/security.md §1a), every one set explicitly, flipped by
// electron-builder's afterPack hook (named in electron-builder.yml), which runs before signing.
//
// Why a hook and not electron-builder's own `electronFuses` key: in electron-builder 26.17.0 that
// key's schema is closed at eight fuses and it flips them with @electron/fuses 1.8.0, which knows
// neither WasmTrapHandlers nor strict mode. Here @electron/fuses 2.1.3 flips all nine with
// `strictlyRequireAllFuses`, so an Electron upgrade that adds a fuse fails the build until this
// table names it. CommonJS, because electron-builder loads hooks with require.

const { join } = require('node:path')

/** FuseV1Options name -> required state (true = on). The order is the fuse wire's. */
const FUSES = Object.freeze({
  RunAsNode: false, // no ELECTRON_RUN_AS_NODE "living off the land"
  EnableCookieEncryption: true, // no cookies expected; harmless and one-way
  EnableNodeOptionsEnvironmentVariable: false, // no NODE_OPTIONS, no NODE_EXTRA_CA_CERTS injected into main
  EnableNodeCliInspectArguments: false, // no --inspect*, no SIGUSR1 inspector on main (it holds the API keys)
  EnableEmbeddedAsarIntegrityValidation: true, // macOS/Windows; Linux relies on a root-owned install folder
  OnlyLoadAppFromAsar: true, // with the integrity check, no unvalidated code loads
  LoadBrowserProcessSpecificV8Snapshot: false, // no browser-specific snapshot ships
  GrantFileProtocolExtraPrivileges: false, // the UI is served from app://, never file://
  WasmTrapHandlers: true, // Electron's default, kept (as Bitwarden does)
})

/** Flips every fuse of the Electron binary at `binaryPath` to the table above, strictly. */
async function flipAll(binaryPath) {
  const { flipFuses, FuseV1Options, FuseVersion } = await import('@electron/fuses')
  const known = Object.keys(FuseV1Options).filter((k) => Number.isNaN(Number(k)))
  const missing = known.filter((name) => !(name in FUSES))
  const unknown = Object.keys(FUSES).filter((name) => !known.includes(name))
  if (missing.length || unknown.length) {
    throw new Error(`electron-fuses: the table must name exactly the fuses @electron/fuses knows (missing: ${missing.join(', ') || 'none'}; unknown: ${unknown.join(', ') || 'none'})`)
  }
  const config = { version: FuseVersion.V1, strictlyRequireAllFuses: true, resetAdHocDarwinSignature: false }
  for (const [name, on] of Object.entries(FUSES)) config[FuseV1Options[name]] = on
  return flipFuses(binaryPath, config)
}

/** electron-builder afterPack: the app's executable in the unpacked output. */
async function afterPack(context) {
  const platform = context.electronPlatformName
  const ext = { darwin: '.app', mas: '.app', win32: '.exe', linux: '' }[platform]
  if (ext === undefined) throw new Error(`electron-fuses: unknown platform ${platform}`)
  const name = platform === 'linux' ? context.packager.executableName : context.packager.appInfo.productFilename
  await flipAll(join(context.appOutDir, `${name}${ext}`))
}

module.exports = { FUSES, flipAll, afterPack }

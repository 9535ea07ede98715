/**
 * A stand-in for the `electron` module, for loading the real built main bundle in Node (no Electron
 * binary here). It records what main does: window options, guards, IPC handlers, events sent.
 */
import { EventEmitter } from 'node:events'
import { existsSync, mkdirSync } from 'node:fs'
import Module from 'node:module'
import { basename, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

type Listener = (...args: any[]) => any

export class FakeWebContents extends EventEmitter {
  static nextId = 1
  readonly id = FakeWebContents.nextId++
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null
  readonly sent: { channel: string; payload: unknown }[] = []
  readonly sendListeners = new Set<(channel: string, payload: unknown) => void>()
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler
  }
  async printToPDF(): Promise<Buffer> {
    throw Object.assign(new Error('PDF printing needs the Electron renderer; in the harness, print the record page with the browser'), { code: 'PDF_UNAVAILABLE' })
  }
  send(channel: string, payload: unknown): void {
    this.sent.push({ channel, payload })
    for (const listener of this.sendListeners) listener(channel, payload)
  }
  /** Emits like Electron does and reports whether a listener called preventDefault(). */
  emitPreventable(event: string, ...args: unknown[]): boolean {
    let prevented = false
    this.emit(event, { preventDefault: () => (prevented = true) }, ...args)
    return prevented
  }
}

export interface FakeElectron {
  module: Record<string, unknown>
  /** The process command line main is started with (set by loadMainBundle); app.commandLine reads it. */
  argv: string[]
  windows: FakeBrowserWindowLike[]
  handlers: Map<string, Listener>
  /** Channels registered with ipcMain.on (should be none: all IPC goes through the contract). */
  onListeners: Map<string, Listener[]>
  appEvents: EventEmitter
  exitCode: number | null
  quitCalled: boolean
  sandboxEnabled: boolean
  menuCleared: boolean
  session: {
    permissionRequestHandler: Listener | null
    permissionCheckHandler: Listener | null
    devicePermissionHandler: Listener | null
    headersReceived: Listener | null
    beforeRequest: Listener | null
  }
  firstWindow: Promise<FakeBrowserWindowLike>
  /** Paths the next open/save dialogs answer with, in order (an empty queue = the user cancelled). */
  dialogAnswers: string[]
  dialogsShown: { kind: 'open' | 'save'; options: unknown }[]
  /** protocol.registerSchemesAsPrivileged calls, and the handlers given to protocol.handle. */
  privilegedSchemes: { scheme: string; privileges: Record<string, boolean> }[]
  protocolHandlers: Map<string, (request: Request) => Promise<Response>>
}

export interface FakeBrowserWindowLike {
  options: any
  webContents: FakeWebContents
  loadedFile: string | null
  loadedUrl: string | null
  loads: number
}

export interface FakeElectronOptions {
  userData: string
  /** Save dialogs with no queued answer write here (a per-run folder the e2e tests read); without it they cancel. */
  savesTo?: string
  isPackaged?: boolean
  singleInstanceLock?: boolean
  version?: string
  /** Whose command-line rules app.commandLine follows (default: this process's platform). */
  platform?: NodeJS.Platform
  /** Switches Chromium holds that argv does not show (e.g. appended by another route). */
  extraSwitches?: string[]
}

/**
 * Chromium's base::CommandLine switch parsing, as app.commandLine.hasSwitch sees it: prefixes `--`
 * and `-` (plus `/` on Windows), a bare `--` ends the switches, `name=value` splits at the first
 * `=`, and only on Windows are names lower-cased (elsewhere `--Inspect` is not `inspect`).
 * hasSwitch itself takes a lower-case name.
 */
export function chromiumSwitches(argv: readonly string[], platform: NodeJS.Platform): Set<string> {
  const prefixes = platform === 'win32' ? ['--', '-', '/'] : ['--', '-']
  const switches = new Set<string>()
  for (const arg of argv.slice(1)) {
    if (arg === '--') break
    const prefix = prefixes.find((p) => arg.startsWith(p) && arg.length > p.length)
    if (!prefix) continue
    const body = arg.slice(prefix.length)
    const name = body.includes('=') ? body.slice(0, body.indexOf('=')) : body
    switches.add(platform === 'win32' ? name.toLowerCase() : name)
  }
  return switches
}

/** `dir/name`, or `dir/name-2.ext` … when it exists: a save dialog never answers an existing file unasked. */
function freshPath(dir: string, defaultName: string): string {
  mkdirSync(dir, { recursive: true })
  const name = basename(defaultName)
  const dot = name.lastIndexOf('.')
  for (let i = 1; ; i++) {
    const candidate = join(dir, i === 1 ? name : `${name.slice(0, dot)}-${i}${name.slice(dot)}`)
    if (!existsSync(candidate)) return candidate
  }
}

export function createFakeElectron(options: FakeElectronOptions): FakeElectron {
  const appEvents = new EventEmitter()
  let resolveFirstWindow!: (w: FakeBrowserWindowLike) => void
  const fake: FakeElectron = {
    module: {},
    argv: [],
    windows: [],
    handlers: new Map(),
    onListeners: new Map(),
    appEvents,
    exitCode: null,
    quitCalled: false,
    sandboxEnabled: false,
    menuCleared: false,
    session: { permissionRequestHandler: null, permissionCheckHandler: null, devicePermissionHandler: null, headersReceived: null, beforeRequest: null },
    firstWindow: new Promise((r) => (resolveFirstWindow = r)),
    dialogAnswers: [],
    dialogsShown: [],
    privilegedSchemes: [],
    protocolHandlers: new Map(),
  }

  class BrowserWindow extends EventEmitter implements FakeBrowserWindowLike {
    readonly webContents = new FakeWebContents()
    loadedFile: string | null = null
    loadedUrl: string | null = null
    loads = 0
    constructor(readonly options: any) {
      super()
      fake.windows.push(this)
      appEvents.emit('web-contents-created', {}, this.webContents)
    }
    async loadFile(path: string): Promise<void> {
      this.loadedFile = resolve(path)
      this.loadedUrl = pathToFileURL(this.loadedFile).href
      resolveFirstWindow(this)
    }
    async loadURL(url: string): Promise<void> {
      this.loads++
      this.loadedUrl = url
      resolveFirstWindow(this)
    }
    isMinimized(): boolean { return false }
    isDestroyed(): boolean { return false }
    restore(): void {}
    focus(): void {}
    show(): void {}
  }

  const app = {
    isPackaged: options.isPackaged ?? false,
    getPath: (name: string) => {
      if (name !== 'userData') throw new Error(`fake electron: no path ${name}`)
      return options.userData
    },
    getVersion: () => options.version ?? '0.0.0-test',
    getName: () => 'DSM Key Ceremony',
    whenReady: () => Promise.resolve(),
    on: (event: string, listener: Listener) => { appEvents.on(event, listener); return app },
    once: (event: string, listener: Listener) => { appEvents.once(event, listener); return app },
    quit: () => { fake.quitCalled = true },
    exit: (code = 0) => { fake.exitCode = code },
    requestSingleInstanceLock: () => options.singleInstanceLock ?? true,
    commandLine: {
      hasSwitch: (name: string) => {
        if (name !== name.toLowerCase()) throw new Error('fake electron: hasSwitch takes a lower-case name, as Chromium does')
        return chromiumSwitches(fake.argv, options.platform ?? process.platform).has(name) || (options.extraSwitches ?? []).includes(name)
      },
    },
    enableSandbox: () => { fake.sandboxEnabled = true },
  }

  const ipcMain = {
    handle: (channel: string, listener: Listener) => {
      if (fake.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`)
      fake.handlers.set(channel, listener)
    },
    removeHandler: (channel: string) => fake.handlers.delete(channel),
    on: (channel: string, listener: Listener) => {
      fake.onListeners.set(channel, [...(fake.onListeners.get(channel) ?? []), listener])
      return ipcMain
    },
    removeAllListeners: (channel?: string) => {
      if (channel === undefined) fake.onListeners.clear()
      else fake.onListeners.delete(channel)
      return ipcMain
    },
  }

  const defaultSession = {
    setPermissionRequestHandler: (h: Listener) => { fake.session.permissionRequestHandler = h },
    setPermissionCheckHandler: (h: Listener) => { fake.session.permissionCheckHandler = h },
    setDevicePermissionHandler: (h: Listener) => { fake.session.devicePermissionHandler = h },
    webRequest: {
      onHeadersReceived: (h: Listener) => { fake.session.headersReceived = h },
      onBeforeRequest: (h: Listener) => { fake.session.beforeRequest = h },
    },
  }

  fake.module = {
    app,
    BrowserWindow,
    ipcMain,
    protocol: {
      registerSchemesAsPrivileged: (schemes: { scheme: string; privileges: Record<string, boolean> }[]) => void fake.privilegedSchemes.push(...schemes),
      handle: (scheme: string, handler: (request: Request) => Promise<Response>) => {
        if (fake.protocolHandlers.has(scheme)) throw new Error(`scheme ${scheme} is already handled`)
        fake.protocolHandlers.set(scheme, handler)
      },
    },
    Menu: { setApplicationMenu: (menu: unknown) => { fake.menuCleared = menu === null } },
    session: { defaultSession },
    shell: { openExternal: async () => { throw new Error('fake electron: openExternal is not allowed in tests') } },
    dialog: {
      showOpenDialog: async (_window: unknown, opts: unknown) => {
        fake.dialogsShown.push({ kind: 'open', options: opts })
        const path = fake.dialogAnswers.shift()
        return path ? { canceled: false, filePaths: [path] } : { canceled: true, filePaths: [] }
      },
      showSaveDialog: async (_window: unknown, opts: unknown) => {
        fake.dialogsShown.push({ kind: 'save', options: opts })
        const path = fake.dialogAnswers.shift() ?? (options.savesTo ? freshPath(options.savesTo, (opts as { defaultPath?: string }).defaultPath ?? 'file') : undefined)
        return path ? { canceled: false, filePath: path } : { canceled: true, filePath: '' }
      },
    },
  }
  return fake
}

export const MAIN_BUNDLE = resolve(__dirname, '../../out/main/index.js')

/** Loads a fresh copy of the built main bundle with `require('electron')` answered by the fake. */
export function loadMainBundle(fake: FakeElectron, argv: string[] = []): void {
  const moduleAny = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown }
  const originalLoad = moduleAny._load
  const originalArgv = process.argv
  delete require.cache[MAIN_BUNDLE]
  moduleAny._load = function (request: string, ...rest: unknown[]) {
    if (request === 'electron') return fake.module
    return originalLoad.call(this, request, ...rest)
  }
  process.argv = [originalArgv[0] ?? 'node', MAIN_BUNDLE, ...argv]
  fake.argv = [...process.argv]
  try {
    require(MAIN_BUNDLE)
  } finally {
    moduleAny._load = originalLoad
    process.argv = originalArgv
  }
}

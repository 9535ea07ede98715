/**
 * Composition root: the only place that wires Electron to the services. Services never import
 * electron; this file hands them what they need.
 */
import { join } from 'node:path'
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session } from 'electron'
import Store from 'electron-store'
import { digestOfFile } from '../ceremony/software'
import { CeremonyService } from '../ceremony/ceremony-service'
import { fileJournalStore } from '../ceremony/journal-file'
import { createHandlers } from '../ipc/handlers'
import { registerContract, type IpcSender } from '../ipc/register'
import { emit } from '../ipc/register'
import { SettingsService } from '../settings/settings-service'
import { startClusterSimulator, startSimulator } from '../simulator'
import { isAppWindowSender } from './ipc-sender'
import { registerAppScheme, serveRenderer } from './protocol'
import { RENDERER_URL } from './renderer-files'
import { findDebugSwitch, guardSession, installAppGuards } from './security'
import { createMainWindow } from './window'

const debugSwitch = findDebugSwitch(process.argv, app.commandLine)
if (debugSwitch) {
  // A key-ceremony workstation is never debugged through an open port.
  process.stderr.write(`DSM Key Ceremony refuses to start with ${debugSwitch}\n`)
  app.exit(1)
} else if (!app.requestSingleInstanceLock()) {
  // Two copies would share one journal and audit log.
  app.quit()
} else {
  start()
}

function start(): void {
  app.enableSandbox()
  registerAppScheme(protocol)
  installAppGuards(app)
  const trustedSenders = new Set<number>()
  let mainWindow: BrowserWindow | null = null

  app.on('second-instance', () => {
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore()
      mainWindow.focus()
    }
  })
  app.on('window-all-closed', () => app.quit())

  void app.whenReady().then(() => {
    Menu.setApplicationMenu(null)
    guardSession(session.defaultSession)
    serveRenderer(protocol, join(__dirname, '../renderer'))

    const store = new Store({ cwd: app.getPath('userData'), name: 'config' })
    // electron-store registers its own sync IPC listener for renderer-side stores; we use none,
    // and every IPC channel must go through the contract.
    ipcMain.removeAllListeners('electron-store-get-data')
    const settings = new SettingsService(store as unknown as ConstructorParameters<typeof SettingsService>[0])

    // Each ceremony's journal is its own file in its state folder (journal-file.ts: not electron-store,
    // whose writer can leave a truncated file when the disk fills up mid-save).
    const journalStore = (dir: string) => fileJournalStore(dir)
    ipcMain.removeAllListeners('electron-store-get-data')
    const ceremony = new CeremonyService({
      stateRoot: join(app.getPath('userData'), 'ceremonies'),
      // The record names the software that ran the ceremony: this very main-process bundle.
      software: { name: 'DSM Key Ceremony', version: app.getVersion(), buildDigest: digestOfFile(__filename) },
      journalStore,
      startSimulator: (appliances, ids, fresh) => startSimulator({ appliances, ...(ids ? { ids } : {}), ...(fresh ? { fresh: true, custodianUsers: fresh.custodianUsers } : {}) }),
      startCluster: () => startClusterSimulator({ fipsConnectTimeoutMs: 1500, fipsResponseTimeoutMs: 5000 }),
      // Stations: a media folder that is not a listed drive (production takes it only with an exception).
      chooseMediaFolder: async () => {
        const r = await dialog.showOpenDialog(mainWindow!, { title: 'Choose the media folder', properties: ['openDirectory', 'createDirectory'] })
        return r.canceled ? null : (r.filePaths[0] ?? null)
      },
      dialogs: {
        openPlanFile: async () => {
          const r = await dialog.showOpenDialog(mainWindow!, { title: 'Open ceremony plan', properties: ['openFile'], filters: [{ name: 'Ceremony plan', extensions: ['json'] }] })
          return r.canceled ? null : (r.filePaths[0] ?? null)
        },
        savePlanFile: async (defaultName) => {
          const r = await dialog.showSaveDialog(mainWindow!, { title: 'Save ceremony plan', defaultPath: defaultName, filters: [{ name: 'Ceremony plan', extensions: ['json'] }] })
          return r.canceled ? null : (r.filePath ?? null)
        },
        openRecordFile: async () => {
          const r = await dialog.showOpenDialog(mainWindow!, { title: 'Open the ceremony record this plan builds on', properties: ['openFile'], filters: [{ name: 'Ceremony record', extensions: ['json'] }] })
          return r.canceled ? null : (r.filePaths[0] ?? null)
        },
        saveRecordFile: async (defaultName, format) => {
          const r = await dialog.showSaveDialog(mainWindow!, { title: 'Export ceremony record', defaultPath: defaultName, filters: [{ name: format.toUpperCase(), extensions: [format] }] })
          return r.canceled ? null : (r.filePath ?? null)
        },
      },
      // The record page the renderer is showing, printed by Chromium: what the witnesses see is what is filed.
      printRecordPdf: () => mainWindow!.webContents.printToPDF({ printBackground: true, pageSize: 'A4' }),
      onChange: (snapshot) => {
        if (mainWindow && !mainWindow.isDestroyed()) emit(mainWindow.webContents, 'onCeremonyChanged', snapshot)
      },
    })
    // Sign out of the appliances and let the journal and log finish before the process ends.
    let shutDown = false
    app.on('before-quit', (event) => {
      if (shutDown) return
      event.preventDefault()
      void ceremony.shutdown().finally(() => {
        shutDown = true
        app.quit()
      })
    })

    registerContract(
      ipcMain,
      createHandlers({
        identity: { name: 'DSM Key Ceremony', version: app.getVersion(), platform: process.platform, arch: process.arch },
        mode: () => ceremony.mode(),
        settings,
        ceremony,
      }),
      {
        isTrustedSender: (event: IpcSender) => isAppWindowSender(trustedSenders, event),
        onInternalError: (channel, err) => console.error(`IPC ${channel} failed:`, err instanceof Error ? err.name : typeof err),
      },
    )

    mainWindow = createMainWindow({
      preloadPath: join(__dirname, '../preload/index.js'),
      rendererUrl: RENDERER_URL,
      devTools: !app.isPackaged,
    })
    const contents = mainWindow.webContents
    trustedSenders.add(contents.id)
    settings.onChange((next) => emit(contents, 'onSettingsChanged', next))
    mainWindow.on('closed', () => {
      trustedSenders.delete(contents.id)
      mainWindow = null
    })
  })
}

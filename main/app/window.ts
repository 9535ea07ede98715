/** The one window factory. Every security-relevant webPreferences flag is written out, none left to defaults. */
import { BrowserWindow } from 'electron'

export interface MainWindowOptions {
  preloadPath: string
  /** The app's own page (app://ceremony/index.html), never a file:// or remote URL. */
  rendererUrl: string
  /** Devtools only in unpackaged development builds. */
  devTools: boolean
}

export function createMainWindow(options: MainWindowOptions): BrowserWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 960,
    minHeight: 640,
    show: false,
    title: 'DSM Key Ceremony',
    backgroundColor: '#ffffff',
    webPreferences: {
      preload: options.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      disableBlinkFeatures: 'Auxclick',
      navigateOnDragDrop: false,
      spellcheck: false,
      safeDialogs: true,
      devTools: options.devTools,
    },
  })
  window.once('ready-to-show', () => window.show())
  // A crashed or killed renderer holds no ceremony state (main does): load the page again and it
  // picks up where the ceremony is.
  window.webContents.on('render-process-gone', (_event, details) => {
    if (details.reason !== 'clean-exit' && !window.isDestroyed()) void window.loadURL(options.rendererUrl)
  })
  void window.loadURL(options.rendererUrl)
  return window
}

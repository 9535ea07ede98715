/**
 * App-wide guards, installed before any window exists: the renderer may not navigate, open windows,
 * attach webviews or get any permission, and every response carries the CSP.
 */
import type { App, Session, WebContents } from 'electron'
import { RENDERER_CSP } from './csp'

export { findDebugSwitch } from './launch-guard'

export function guardWebContents(contents: WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault())
  contents.on('will-redirect', (event) => event.preventDefault())
  contents.on('will-attach-webview', (event) => event.preventDefault())
  contents.setWindowOpenHandler(() => ({ action: 'deny' }))
}

export function guardSession(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false))
  session.setPermissionCheckHandler(() => false)
  session.setDevicePermissionHandler(() => false)
  // The page makes no network requests: anything that is not the app's own scheme (or an inline
  // data: image) is cancelled before it leaves, whatever the CSP says.
  session.webRequest.onBeforeRequest((details, callback) => {
    callback({ cancel: !/^(app:\/\/ceremony\/|data:|devtools:)/.test(details.url) })
  })
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [RENDERER_CSP] } })
  })
}

export function installAppGuards(app: App): void {
  app.on('web-contents-created', (_event, contents) => guardWebContents(contents))
}

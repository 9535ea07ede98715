/**
 * Who may call the IPC contract (security checklist item 17): only the app's own window, from its
 * top frame, showing the app's own page. `senderFrame` is null once the frame navigated or was
 * destroyed (Electron docs, IpcMainInvokeEvent), and a frame whose properties cannot be read is
 * refused rather than trusted. Electron-free, so tests run this very function on every channel.
 */
import type { IpcSender } from '../ipc/register'
import { RENDERER_URL } from './renderer-files'

export function isAppWindowSender(trustedWebContents: ReadonlySet<number>, event: IpcSender): boolean {
  try {
    const frame = event.senderFrame
    return trustedWebContents.has(event.sender.id) && frame !== null && frame.parent === null && frame.url === RENDERER_URL
  } catch {
    return false
  }
}

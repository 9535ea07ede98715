/**
 * The harness page's CSP: the app's, except that the browser stand-in for IPC (the preload bundled
 * with electron-renderer-shim.ts) calls fetch and EventSource on this loopback origin, which the
 * app's `connect-src 'none'` forbids. That one directive is the only difference, and the app's own
 * policy stays strict (test/harness-security.test.ts compares the two).
 */
import { RENDERER_CSP } from '../../main/app/csp'

const APP_CONNECT = "connect-src 'none'"
if (!RENDERER_CSP.includes(APP_CONNECT)) throw new Error(`harness: the app CSP no longer has ${APP_CONNECT}; review harness-csp.ts`)

export const HARNESS_CSP = RENDERER_CSP.replace(APP_CONNECT, "connect-src 'self'")

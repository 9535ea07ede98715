/** The app's own scheme: `app://ceremony/` serves the built renderer, with the CSP on every response. */
import { readFile } from 'node:fs/promises'
import type { Protocol } from 'electron'
import { RENDERER_CSP } from './csp'
import { APP_SCHEME, contentTypeOf, resolveAppUrl } from './renderer-files'

/** Must run before the app is ready: a standard, secure scheme gets a real origin for 'self'. */
export function registerAppScheme(protocol: Protocol): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } },
  ])
}

export function serveRenderer(protocol: Protocol, root: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const file = request.method === 'GET' ? resolveAppUrl(root, request.url) : null
    if (!file) return new Response('Not found', { status: 404, headers: { 'Content-Type': 'text/plain' } })
    return new Response(await readFile(file), {
      status: 200,
      headers: { 'Content-Type': contentTypeOf(file), 'Content-Security-Policy': RENDERER_CSP, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' },
    })
  })
}

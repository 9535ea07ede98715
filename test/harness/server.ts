/**
 * The browser harness: the real renderer, the real preload (bundled for the browser) and the real
 * main handlers from the built main bundle, joined by loopback HTTP. This is how the UI runs and is
 * tested on machines without the Electron binary. Loopback only; the page, the preload, every IPC
 * call and the event stream need the per-run token (the printed URL carries it), and a Host header
 * naming this server. The page's CSP is the app's except `connect-src 'self'` (harness-csp.ts).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { join, resolve } from 'node:path'
import { build } from 'esbuild'
import { RENDERER_CSP } from '../../main/app/csp'
import { contentTypeOf, resolveRendererPath } from '../../main/app/renderer-files'
import { contractChannelsPlugin } from '../../scripts/contract-channels'
import { createFakeElectron, loadMainBundle, type FakeElectron } from './fake-electron'
import { HARNESS_CSP } from './harness-csp'

const ROOT = resolve(__dirname, '../..')
const RENDERER_DIR = join(ROOT, 'out/renderer')
export interface Harness {
  /** Where save dialogs write when a test queued no answer: what the app exported in this run. */
  exportsDir: string
  url: string
  token: string
  userData: string
  fake: FakeElectron
  close(): Promise<void>
}

async function bundlePreload(token: string): Promise<string> {
  const out = await build({
    entryPoints: [join(ROOT, 'preload/index.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome146',
    write: false,
    logLevel: 'silent',
    alias: { electron: join(__dirname, 'electron-renderer-shim.ts') },
    define: { 'process.contextIsolated': 'true', __HARNESS_TOKEN__: JSON.stringify(token) },
    plugins: [contractChannelsPlugin(join(ROOT, 'preload/contract.ts'))],
  })
  return out.outputFiles[0]!.text
}

/**
 * Above the largest request the contract allows once JSON-encoded (plan text: 1,000,000 characters,
 * up to 6 bytes each when escaped), so the harness never refuses what the app would accept.
 */
export const MAX_HARNESS_BODY = 8 * 1024 * 1024

class BodyTooLargeError extends Error {}

async function readBody(req: IncomingMessage, limit = MAX_HARNESS_BODY): Promise<string> {
  let size = 0
  const chunks: Buffer[] = []
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > limit) throw new BodyTooLargeError()
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** Constant-time token check (other local processes can reach a loopback port). */
function sameToken(given: string | string[] | null | undefined, token: string): boolean {
  if (typeof given !== 'string' || given.length !== token.length) return false
  return timingSafeEqual(Buffer.from(given), Buffer.from(token))
}

/** A refusal shaped like an IPC Result, so the renderer shows a named error, not an HTTP status. */
function refuse(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string>): void {
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', Connection: 'close' }).end(JSON.stringify({ ok: false, error: { code, message } }))
}

export async function startHarness(options: { userData: string; port?: number }): Promise<Harness> {
  const token = randomBytes(24).toString('hex')
  const exportsDir = join(options.userData, 'exports')
  const fake = createFakeElectron({ userData: options.userData, savesTo: exportsDir })
  loadMainBundle(fake)
  const window = await fake.firstWindow
  const preloadJs = await bundlePreload(token)
  const sseClients = new Set<ServerResponse>()
  window.webContents.sendListeners.add((channel, payload) => {
    const data = `data: ${JSON.stringify({ channel, payload })}\n\n`
    for (const client of sseClients) client.write(data)
  })

  let host = ''
  const server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500)
      res.end()
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Refuse anything not addressed to this loopback server (DNS rebinding).
    if (req.headers.host !== host) {
      res.writeHead(421).end()
      return
    }
    const url = new URL(req.url ?? '/', `http://${host}`)
    const security = { 'Content-Security-Policy': HARNESS_CSP, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' }
    const hasToken = sameToken(url.searchParams.get('token'), token)

    if (url.pathname.startsWith('/__ipc/')) {
      if (req.method !== 'POST' || !sameToken(req.headers['x-harness-token'], token)) {
        res.writeHead(403).end()
        return
      }
      const channel = decodeURIComponent(url.pathname.slice('/__ipc/'.length))
      const handler = fake.handlers.get(channel)
      if (!handler) {
        res.writeHead(404).end()
        return
      }
      let payload: unknown
      try {
        payload = JSON.parse((await readBody(req)) || 'null')
      } catch (err) {
        if (err instanceof BodyTooLargeError) refuse(res, 413, 'PAYLOAD_TOO_LARGE', `The request to ${channel} is larger than ${MAX_HARNESS_BODY} bytes`, security)
        else refuse(res, 400, 'INVALID_PAYLOAD', `The request to ${channel} is not JSON`, security)
        return
      }
      // The call arrives as if from the app's own window, so the real sender check runs.
      const event = { sender: window.webContents, senderFrame: { url: window.loadedUrl ?? '', parent: null } }
      const result = await handler(event, payload)
      res.writeHead(200, { ...security, 'Content-Type': 'application/json' }).end(JSON.stringify(result))
      return
    }
    if (url.pathname === '/__events') {
      if (!hasToken) {
        res.writeHead(403).end()
        return
      }
      res.writeHead(200, { ...security, 'Content-Type': 'text/event-stream' })
      res.write(': connected\n\n')
      sseClients.add(res)
      req.on('close', () => sseClients.delete(res))
      return
    }
    if (req.method !== 'GET') {
      res.writeHead(405).end()
      return
    }
    if (url.pathname === '/__preload.js') {
      // The preload holds the token: only a page that already has it may load it.
      if (!hasToken) {
        res.writeHead(403).end()
        return
      }
      res.writeHead(200, { ...security, 'Content-Type': contentTypeOf('preload.js') }).end(preloadJs)
      return
    }
    // The same resolver as the app's app:// scheme: nothing outside out/renderer is ever served.
    const file = resolveRendererPath(RENDERER_DIR, url.pathname)
    if (!file) {
      res.writeHead(404).end()
      return
    }
    let body = await readFile(file)
    if (file.endsWith('/index.html')) {
      if (!hasToken) {
        res.writeHead(403).end()
        return
      }
      // The preload runs first, as in Electron: a classic script ahead of the deferred module script.
      const html = body.toString('utf8')
      const csp = `content="${RENDERER_CSP}"`
      if (!html.includes(csp)) throw new Error('harness: index.html does not carry the app CSP')
      body = Buffer.from(
        html
          .replace(csp, `content="${HARNESS_CSP}"`)
          .replace('<script type="module"', `<script src="./__preload.js?token=${token}"></script>\n    <script type="module"`),
      )
    }
    res.writeHead(200, { ...security, 'Content-Type': contentTypeOf(file) }).end(body)
  }

  await new Promise<void>((ok) => server.listen(options.port ?? 0, '127.0.0.1', ok))
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('harness: no address')
  host = `127.0.0.1:${address.port}`
  return {
    url: `http://${host}/?token=${token}`,
    token,
    userData: options.userData,
    exportsDir,
    fake,
    close: async () => {
      for (const client of sseClients) client.end()
      server.closeAllConnections()
      await new Promise<void>((ok) => server.close(() => ok()))
    },
  }
}

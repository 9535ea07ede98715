/**
 * Where the renderer's files come from. The app serves them from its own `app://ceremony/` scheme,
 * not `file://` (a `file://` page can read any local file after an XSS, security checklist item 18),
 * and the browser harness serves the same files the same way. Electron-free, so it is unit-tested.
 */
import { realpathSync, statSync } from 'node:fs'
import { extname, isAbsolute, join, relative, sep } from 'node:path'

export const APP_SCHEME = 'app'
export const APP_HOST = 'ceremony'
/** The one page the app loads; IPC from any other URL is refused. */
export const RENDERER_URL = `${APP_SCHEME}://${APP_HOST}/index.html`

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
}

export function contentTypeOf(path: string): string {
  return TYPES[extname(path)] ?? 'application/octet-stream'
}

/**
 * The file under `root` that a URL path names, or null when the path tries to leave `root`: `..`
 * (plain or percent-encoded), backslashes, NUL, absolute paths, or a symlink that points outside.
 */
export function resolveRendererPath(root: string, urlPath: string): string | null {
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath)
  } catch {
    return null
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null
  const stripped = decoded.startsWith('/') ? decoded.slice(1) : decoded
  if (stripped.startsWith('/') || isAbsolute(stripped)) return null // "//etc/passwd" and friends
  const trimmed = stripped || 'index.html'
  if (trimmed.split('/').some((segment) => segment === '..' || segment === '.' || segment === '')) return null
  const candidate = join(root, trimmed)
  try {
    const realRoot = realpathSync(root)
    const real = realpathSync(candidate)
    const inside = relative(realRoot, real)
    if (inside.startsWith('..') || isAbsolute(inside) || inside.split(sep)[0] === '..') return null
    if (!statSync(real).isFile()) return null
    return real
  } catch {
    return null
  }
}

/** Resolves an `app://ceremony/…` URL; any other scheme or host is refused. */
export function resolveAppUrl(root: string, url: string): string | null {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return null
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST) return null
  return resolveRendererPath(root, parsed.pathname)
}

/**
 * The renderer's Content-Security-Policy. One source: the build writes it into index.html's meta tag
 * and main also sends it as a response header. The renderer loads only its own files and makes no
 * network calls at all (IPC is Electron's, not HTTP), so there are no remote sources, no inline or
 * eval'd script, and `connect-src 'none'`. Directive order as in security.md §1 item 7.
 */
export const RENDERER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

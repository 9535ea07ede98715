/**
 * The renderer's Content-Security-Policy. One source: the build writes it into index.html's meta tag
 * and main also sends it as a response header. The renderer loads only its own files and makes no
 * network calls, so there are no remote sources at all and no inline or eval'd script.
 * (`connect-src 'self'` is what lets the browser harness carry IPC over loopback to its own origin.)
 */
export const RENDERER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ')

import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'
import { RENDERER_CSP } from './main/app/csp'

// The renderer: minified, relative paths (loaded from file:// in the app, from loopback in the harness),
// Chrome 146 (Electron 41), and the CSP written into index.html from its one source.
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [
    react(),
    { name: 'csp', transformIndexHtml: (html) => html.replace('%RENDERER_CSP%', RENDERER_CSP) },
  ],
  build: {
    outDir: '../out/renderer',
    emptyOutDir: true,
    minify: true,
    target: 'chrome146',
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
})

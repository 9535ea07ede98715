import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'
import { fileURLToPath } from 'node:url'
import { RENDERER_CSP } from './main/app/csp'

// JSX compiles to `__jsx(type, props, ...children)`, and the bundler imports `__jsx` from the factory
// module wherever it is used (renderer/src/jsx-factory.ts says why). The runtime is set twice: `oxc`
// is what `vite build` applies, while driven from scripts/build.ts (CommonJS under tsx) only the
// bundler's own `transform.jsx` was applied, and the build silently fell back to the automatic runtime.
const jsxFactory = fileURLToPath(new URL('./renderer/src/jsx-factory.ts', import.meta.url))
const jsx = { runtime: 'classic', pragma: '__jsx', pragmaFrag: '__jsxFragment' } as const

// The renderer: minified, relative paths (loaded from app://ceremony/ in the app, from loopback in the
// harness), Chrome 146 (Electron 41), and the CSP written into index.html from its one source. Each
// dynamic import() (the screens loaded on demand, renderer/src/App.tsx) becomes its own chunk beside
// the entry. The gzip budget of 100 kB (design §11) is for what loads at start-up; `npm run bench` measures it.
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [
    react({ jsxRuntime: 'classic' }),
    { name: 'csp', transformIndexHtml: (html) => html.replace('%RENDERER_CSP%', RENDERER_CSP) },
  ],
  oxc: { jsx },
  build: {
    outDir: '../out/renderer',
    emptyOutDir: true,
    minify: true,
    target: 'chrome146',
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    rolldownOptions: {
      transform: { jsx, inject: { __jsx: [jsxFactory, 'h'], __jsxFragment: [jsxFactory, 'Fragment'] } },
    },
  },
})

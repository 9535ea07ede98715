/**
 * The JSX factory the production build injects (vite.renderer.config.mts): React's own createElement,
 * bound once in this module so every element compiles to `h(type, props, ...children)` rather than
 * `(0, r.jsx)(type, { ...props, children: [...] })` through the CommonJS runtime's namespace. Same
 * React elements, 1.7 kB less gzip for the renderer's budget (design §11). Tests use the automatic
 * runtime; the e2e specs run this build.
 */
import { createElement, Fragment } from 'react'

export const h = createElement
export { Fragment }

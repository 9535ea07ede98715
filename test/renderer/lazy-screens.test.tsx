/**
 * Screens loaded on demand (components/LazyScreen.tsx), through the real App: while a screen's chunk
 * is on its way a calm status line, then the screen with focus on its heading; a chunk that cannot be
 * loaded is a named error in the app's error style with a way home, never a blank page.
 */
import { afterEach, describe, expect, test, vi } from 'vitest'
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react'
import { ScreenLoadBoundary } from '../../renderer/src/components/LazyScreen'
import { makeSnapshot } from '../fakes/ceremony-fixtures'
import { bridgeWith, renderApp } from '../fakes/render-app'

// The script screen's chunk arrives only when the test opens the gate; the record's never arrives.
const gate = vi.hoisted(() => {
  let open = (): void => {}
  const opened = new Promise<void>((resolve) => (open = resolve))
  return { opened, open: () => open() }
})
vi.mock('../../renderer/src/screens/ScriptScreen', async (importOriginal) => {
  await gate.opened
  return importOriginal()
})
vi.mock('../../renderer/src/screens/RecordScreen', () => {
  throw new Error('the chunk is missing')
})

afterEach(cleanup)

describe('screens loaded on demand', () => {
  test('while the script loads a status line says so; then the script, its heading focused', async () => {
    const bridge = bridgeWith(makeSnapshot({ phase: 'setup' }))
    const stores = await renderApp(bridge, 'plan')
    expect(screen.queryByTestId('screen-loading')).toBeNull()
    await act(async () => stores.ui.getState().go('script'))
    const loading = screen.getByTestId('screen-loading')
    expect(loading.getAttribute('role')).toBe('status')
    expect(loading.textContent).toBe('Opening the ceremony script…')
    expect(screen.queryByRole('heading', { name: 'The ceremony script' })).toBeNull()
    await act(async () => gate.open())
    const heading = await screen.findByRole('heading', { name: 'The ceremony script' })
    expect(document.activeElement).toBe(heading)
    expect(screen.queryByTestId('screen-loading')).toBeNull()
  })

  test('a record chunk that does not load is a named error naming the screen, and the way back home works', async () => {
    const stores = await renderApp(bridgeWith(makeSnapshot({ phase: 'complete' })), 'record')
    const alert = await screen.findByRole('alert')
    expect(alert.className).toBe('call-error')
    expect(alert.textContent).toContain('SCREEN_LOAD_FAILED')
    expect(alert.textContent).toContain('The record could not be loaded from the app\'s own files, or failed as it started')
    expect(alert.textContent).toContain('Nothing in the ceremony was changed')
    const heading = screen.getByRole('heading', { name: 'The record did not open' })
    expect(document.activeElement).toBe(heading)
    expect(screen.queryByTestId('screen-loading')).toBeNull()
    fireEvent.click(screen.getByRole('button', { name: 'Back to the home screen' }))
    expect(stores.ui.getState().screen).toBe('home')
    expect(await screen.findByRole('heading', { name: 'A ceremony is complete' })).toBeTruthy()
    expect(screen.queryByRole('alert')).toBeNull()
  })

  test('the boundary catches only a failed load: a screen’s own error is not dressed up as one', () => {
    const Broken = (): React.JSX.Element => {
      throw new Error('a bug in the screen')
    }
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      expect(() => render(<ScreenLoadBoundary onHome={() => {}}><Broken /></ScreenLoadBoundary>)).toThrow('a bug in the screen')
    } finally {
      quiet.mockRestore()
    }
  })
})

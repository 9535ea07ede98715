/**
 * Screens that are not needed before the first screen (the record, the script, the plan editor,
 * hand-off and receive) are separate chunks, fetched from the app's own files (app://ceremony/, or
 * the harness's loopback) the first time they are opened; design §11 budgets what loads at start-up.
 * While one loads, a calm status line; if it cannot load (a damaged installation), a named error in
 * the app's error style and a way back, never a blank screen.
 */
import { Component, lazy, useEffect, type ComponentType, type LazyExoticComponent, type ReactNode, type RefObject } from 'react'
import { CallError } from './ErrorBox'

const capitalised = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1)

/**
 * A lazy screen's module did not load, or failed as it started (its chunk's own code): the two look
 * alike from here, so the words name both and keep the first error as the cause. Only this is caught
 * by the boundary: an error the screen throws while rendering is the screen's own.
 */
export class ScreenLoadError extends Error {
  readonly code = 'SCREEN_LOAD_FAILED'
  constructor(
    readonly screen: string,
    cause: unknown,
  ) {
    super(
      `${capitalised(screen)} could not be loaded from the app's own files, or failed as it started (${cause instanceof Error ? cause.message : String(cause)}). ` +
        'Nothing in the ceremony was changed. Go back to the home screen; restart the app to try again (the ceremony resumes where it was). ' +
        'If it happens again, note this message for the app\'s maintainers; reinstalling the app from the verified package rules out a damaged installation.',
      { cause },
    )
    this.name = 'ScreenLoadError'
  }
}

/** A screen loaded on demand, with the words its loading line and its error use ("the record"). */
export type LazyScreen = LazyExoticComponent<ComponentType> & { screenName: string }

/**
 * `load` is a dynamic import (the bundler makes it a chunk); a failure becomes a ScreenLoadError
 * naming the screen. Render it inside a Suspense (ScreenLoading) and a ScreenLoadBoundary.
 */
export function lazyScreen(screenName: string, load: () => Promise<ComponentType>): LazyScreen {
  const Screen = lazy(() =>
    load().then(
      (component) => ({ default: component }),
      (err: unknown) => {
        throw new ScreenLoadError(screenName, err)
      },
    ),
  )
  return Object.assign(Screen, { screenName })
}

export function ScreenLoading({ name }: { name: string }): React.JSX.Element {
  return (
    <p role="status" className="hint screen-loading" data-testid="screen-loading">
      Opening {name}…
    </p>
  )
}

interface BoundaryProps {
  children: ReactNode
  onHome: () => void
}

/** Shows a ScreenLoadError in place of the screen; rethrows anything else (not a loading problem). */
export class ScreenLoadBoundary extends Component<BoundaryProps, { error: unknown }> {
  override state: { error: unknown } = { error: null }

  static getDerivedStateFromError(error: unknown): { error: unknown } {
    return { error }
  }

  // The button that opened the screen is gone: focus goes to the error's heading, not to the page.
  override componentDidUpdate(_props: BoundaryProps, before: { error: unknown }): void {
    if (before.error === null && this.state.error instanceof ScreenLoadError) document.getElementById('screen-load-error-heading')?.focus()
  }

  override render(): ReactNode {
    const { error } = this.state
    if (error === null) return this.props.children
    if (!(error instanceof ScreenLoadError)) throw error
    return (
      <section className="screen-load-error" aria-labelledby="screen-load-error-heading">
        <h2 id="screen-load-error-heading" tabIndex={-1} data-screen-heading>
          {capitalised(error.screen)} did not open
        </h2>
        <CallError error={{ code: error.code, message: error.message }} />
        <div className="actions">
          <button type="button" onClick={this.props.onHome}>
            Back to the home screen
          </button>
        </div>
      </section>
    )
  }
}

/**
 * Moves focus to the screen's heading once it is on the page (for a lazy screen, after its chunk has
 * arrived), so keyboard and screen-reader users start at the top. Not on the first screen shown.
 */
export function FocusScreenHeading({ shownBefore }: { shownBefore: RefObject<boolean> }): null {
  useEffect(() => {
    if (!shownBefore.current) {
      shownBefore.current = true
      return
    }
    window.scrollTo?.(0, 0)
    document.querySelector<HTMLElement>('[data-screen-heading]')?.focus()
  }, [shownBefore])
  return null
}

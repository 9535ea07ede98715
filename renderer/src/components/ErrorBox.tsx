import type { IpcError, StepView } from '../../../preload/contract'

/** A failed call: its code and message, plainly. */
export function CallError({ error, onDismiss }: { error: IpcError; onDismiss?: () => void }): React.JSX.Element {
  return (
    <div role="alert" className="call-error">
      <p>
        <strong>That did not work.</strong> <code className="error-code">{error.code}</code>
      </p>
      <p>{error.message}</p>
      {onDismiss && (
        <button type="button" className="secondary" onClick={onDismiss}>
          Dismiss
        </button>
      )}
    </div>
  )
}

/** A step's error: what went wrong, what is safe, what to do next. */
export function StepError({ error }: { error: NonNullable<StepView['error']> }): React.JSX.Element {
  return (
    <section className="step-error" role="alert" aria-labelledby="step-error-heading">
      <h3 id="step-error-heading">This step stopped</h3>
      <dl>
        <dt>What happened</dt>
        <dd>
          <code className="error-code">{error.code}</code> {error.message}
        </dd>
        <dt>What is safe</dt>
        <dd>{error.safe}</dd>
        <dt>What to do next</dt>
        <dd>{error.next}</dd>
      </dl>
    </section>
  )
}

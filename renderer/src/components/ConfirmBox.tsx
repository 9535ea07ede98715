import type { StepView } from '../../../preload/contract'
import { Digest } from './Digest'

type Confirmation = NonNullable<StepView['confirmation']>

/** What must be typed: the last characters of the value the confirmation refers to, in capitals. */
export function expectedConfirmation(c: Confirmation): string | null {
  return c.value ? c.value.hex.slice(-c.length).toUpperCase() : null
}

/** True only when the typed text is exactly the expected characters (any case): a wrong value never enables the action. */
export function confirmationMatches(c: Confirmation, typed: string): boolean {
  const expected = expectedConfirmation(c)
  return expected !== null && typed.trim().toUpperCase() === expected
}

/**
 * A typed confirmation before an irreversible act: says what it refers to (the value, read aloud),
 * and tells as the person types whether it matches.
 */
export function ConfirmBox(props: { id: string; confirmation: Confirmation; warning: string; typed: string; onChange(value: string): void }): React.JSX.Element {
  const { id, confirmation, typed } = props
  const complete = typed.trim().length === confirmation.length
  const ok = confirmationMatches(confirmation, typed)
  return (
    <div className="confirm-box">
      {confirmation.value && (
        <div className="confirm-refers-to">
          <p className="hint">{confirmation.label}:</p>
          <Digest value={confirmation.value} label={confirmation.label} />
        </div>
      )}
      <label htmlFor={id}>
        <strong>{props.warning}</strong> {confirmation.prompt}
      </label>
      <input id={id} className="confirm-input" value={typed} maxLength={confirmation.length} autoComplete="off" spellCheck={false} aria-invalid={complete && !ok} onChange={(e) => props.onChange(e.target.value)} />
      <span className="hint" role="status" data-testid="confirm-status">
        {!complete ? `${typed.trim().length} of ${confirmation.length} characters` : ok ? '✓ matches' : '✗ does not match: read the last characters again'}
      </span>
    </div>
  )
}

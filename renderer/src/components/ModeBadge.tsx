import type { Mode } from '../../../preload/contract'

/** Always visible: nobody should ever wonder whether this run touches real appliances. */
export function ModeBadge({ mode }: { mode: Mode }): React.JSX.Element {
  return (
    <span className={`mode-badge mode-${mode}`} data-testid="mode-badge" aria-label={`Mode: ${mode}`}>
      {mode === 'rehearsal' ? 'REHEARSAL' : 'PRODUCTION'}
    </span>
  )
}

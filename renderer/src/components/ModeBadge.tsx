import type { Mode } from '../../../preload/contract'

/**
 * Always visible: nobody should ever wonder whether this run touches real appliances. Before a plan
 * is open nothing can touch one, so a production workstation says so rather than PRODUCTION; a
 * rehearsal build (or a started rehearsal) says REHEARSAL throughout.
 */
export function ModeBadge({ mode, planOpen }: { mode: Mode; planOpen: boolean }): React.JSX.Element {
  if (mode === 'production' && !planOpen) {
    return (
      <span className="mode-badge mode-none" data-testid="mode-badge" aria-label="Mode: no plan open">
        NO PLAN OPEN
      </span>
    )
  }
  return (
    <span className={`mode-badge mode-${mode}`} data-testid="mode-badge" aria-label={`Mode: ${mode}`}>
      {mode === 'rehearsal' ? 'REHEARSAL' : 'PRODUCTION'}
    </span>
  )
}

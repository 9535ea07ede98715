import type { StepState } from '../../../preload/contract'

const LABELS: Record<StepState, { text: string; mark: string }> = {
  pending: { text: 'Not started', mark: '○' },
  running: { text: 'Running', mark: '◐' },
  waiting: { text: 'Waiting', mark: '◷' },
  done: { text: 'Done', mark: '✓' },
  failed: { text: 'Failed', mark: '✗' },
  skipped: { text: 'Skipped', mark: '–' },
}

export function stateText(state: StepState): string {
  return LABELS[state].text
}

/** A step's state in words and a shape, never by colour alone. */
export function StepStateBadge({ state }: { state: StepState }): React.JSX.Element {
  const { text, mark } = LABELS[state]
  return (
    <span className={`state state-${state}`} data-state={state}>
      <span aria-hidden="true">{mark}</span> {text}
    </span>
  )
}

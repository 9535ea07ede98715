import type { StepView } from '../../../preload/contract'
import { Digest } from './Digest'

type ComparisonView = StepView['comparisons'][number]

/** Two values the witnesses must see are equal, side by side, with an unmistakable verdict. */
export function Comparison({ comparison }: { comparison: ComparisonView }): React.JSX.Element {
  const { label, left, right, match } = comparison
  return (
    <figure className={`comparison ${match ? 'comparison-match' : 'comparison-mismatch'}`}>
      <figcaption>
        <span className="comparison-label">{label}</span>
        <strong className="verdict" data-testid="verdict">
          {match ? '✓ MATCH' : '✗ MISMATCH'}
        </strong>
      </figcaption>
      <div className="comparison-sides">
        <div className="comparison-side">
          <p className="side-label">{left.label}</p>
          <Digest value={left.value} size="large" label={left.label} />
        </div>
        <div className="comparison-side">
          <p className="side-label">{right.label}</p>
          <Digest value={right.value} size="large" label={right.label} />
        </div>
      </div>
      {!match && (
        <p className="mismatch-advice">
          These values differ. Stop here, do not continue the ceremony, and record an exception below.
        </p>
      )}
      <p className="hint">Witnesses: read both aloud and compare them yourselves; do not rely on this verdict alone.</p>
    </figure>
  )
}

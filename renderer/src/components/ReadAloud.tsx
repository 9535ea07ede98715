import { useEffect, useRef, useState } from 'react'
import type { DigestView } from '../../../preload/contract'

/**
 * One value, large, for the person reading it aloud and the witness comparing it: four hex
 * characters at a time with their two PGP words, and a position marker the reader advances
 * ("group 3 of 16"), so nobody loses their place on a 64-character fingerprint.
 */
export function ReadAloud({ value, label, onClose }: { value: DigestView; label: string; onClose(): void }): React.JSX.Element {
  const groups = value.hexGroups.split(' ')
  const [at, setAt] = useState(0)
  const next = useRef<HTMLButtonElement>(null)
  useEffect(() => next.current?.focus(), [])
  const words = value.words.slice(at * 2, at * 2 + 2)
  return (
    <div
      className="read-aloud"
      role="dialog"
      aria-modal="true"
      aria-label={`Read aloud: ${label}`}
      onKeyDown={(e) => {
        if (e.key === 'Escape') onClose()
        if (e.key === 'ArrowRight') setAt((i) => Math.min(i + 1, groups.length - 1))
        if (e.key === 'ArrowLeft') setAt((i) => Math.max(i - 1, 0))
      }}
    >
      <p className="read-aloud-label">{label}</p>
      <p className="read-aloud-all" aria-hidden="true">
        {groups.map((g, i) => (
          <span key={i} className={i === at ? 'current' : i < at ? 'read' : undefined}>
            {g}{' '}
          </span>
        ))}
      </p>
      <p className="read-aloud-group" aria-live="polite" data-testid="read-aloud-group">
        <span className="read-aloud-hex">{groups[at]}</span>
        <span className="read-aloud-words">{words.join(' ')}</span>
      </p>
      <p className="read-aloud-position" data-testid="read-aloud-position">
        Group {at + 1} of {groups.length}
      </p>
      <div className="actions">
        <button type="button" className="secondary" disabled={at === 0} onClick={() => setAt(at - 1)}>
          ← Previous group
        </button>
        <button ref={next} type="button" disabled={at === groups.length - 1} onClick={() => setAt(at + 1)}>
          Next group →
        </button>
        <button type="button" className="secondary" onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  )
}

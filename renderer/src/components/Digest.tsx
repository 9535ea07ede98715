import { useState } from 'react'
import type { DigestView } from '../../../preload/contract'
import { ReadAloud } from './ReadAloud'

/**
 * A fingerprint or digest as people read it aloud: big monospace hex in groups of four, the PGP
 * words underneath. Both are plain text, so they can be selected, printed and compared; "Read
 * aloud" shows it one group at a time, large, for the reader and the witness comparing it.
 */
export function Digest({ value, size = 'normal', label }: { value: DigestView; size?: 'large' | 'normal' | 'small'; label?: string }): React.JSX.Element {
  const [reading, setReading] = useState(false)
  return (
    <div className={`digest digest-${size}`} role="group" aria-label={label}>
      <code className="digest-hex">{value.hexGroups}</code>
      <span className="digest-words">{value.words.join(' ')}</span>
      {value.hexGroups.length > 8 && (
        <button type="button" className="link read-aloud-open no-print" onClick={() => setReading(true)}>
          Read aloud
        </button>
      )}
      {reading && <ReadAloud value={value} label={label ?? 'Value'} onClose={() => setReading(false)} />}
    </div>
  )
}

/** Lowercase hex → upper-case groups of four (for digests that arrive as plain hex). */
export function hexGroups(hex: string): string {
  const clean = hex.replace(/[^0-9a-fA-F]/g, '').toUpperCase()
  return clean.match(/.{1,4}/g)?.join(' ') ?? ''
}

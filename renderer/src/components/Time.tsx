import { useEffect, useState } from 'react'

/** An ISO time as the local wall-clock time with seconds, and the ISO text for machines. */
export function Time({ iso }: { iso: string | null }): React.JSX.Element {
  if (!iso) return <span className="hint">—</span>
  return <time dateTime={iso}>{formatTime(iso)}</time>
}

export function formatTime(iso: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

/** The current time, refreshed every `ms` (for expiry countdowns). */
export function useNow(ms = 15_000): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms)
    return () => clearInterval(id)
  }, [ms])
  return now
}

export function untilText(iso: string, now: number): string {
  const left = new Date(iso).getTime() - now
  if (Number.isNaN(left)) return ''
  if (left <= 0) return 'expired'
  const minutes = Math.floor(left / 60_000)
  if (minutes >= 120) return `in ${Math.round(minutes / 60)} hours`
  if (minutes >= 1) return `in ${minutes} min`
  return 'in less than a minute'
}

import { useEffect, useState } from 'react'

/** An ISO time as the local wall-clock time with seconds, and the ISO text for machines. */
export function Time({ iso }: { iso: string | null }): React.JSX.Element {
  if (!iso) return <span className="hint">—</span>
  const d = parseTime(iso)
  return <time dateTime={Number.isNaN(d.getTime()) ? iso : d.toISOString()}>{formatTime(iso)}</time>
}

/** ISO 8601, or DSM's compact form "20261228T161129Z". */
export function parseTime(text: string): Date {
  const compact = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text)
  if (compact) {
    const [, y, mo, d, h, mi, s] = compact.map(Number) as [number, number, number, number, number, number, number]
    return new Date(Date.UTC(y, mo - 1, d, h, mi, s))
  }
  return new Date(text)
}

export function formatTime(iso: string): string {
  const d = parseTime(iso)
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
  const left = parseTime(iso).getTime() - now
  if (Number.isNaN(left)) return ''
  if (left <= 0) return 'expired'
  const minutes = Math.floor(left / 60_000)
  if (minutes >= 48 * 60) return `in ${Math.round(minutes / 60 / 24)} days`
  if (minutes >= 120) return `in ${Math.round(minutes / 60)} hours`
  if (minutes >= 1) return `in ${minutes} min`
  return 'in less than a minute'
}

import { useEffect, useState } from 'react'

/**
 * A time as the record keeps it: UTC with the zone written, and the workstation's local time beside
 * it when the two differ (with the local date where that differs too), and the ISO text for machines.
 */
export function Time({ iso }: { iso: string | null }): React.JSX.Element {
  if (!iso) return <span className="hint">—</span>
  const d = parseTime(iso)
  const local = localTimeText(iso)
  return (
    <>
      <time dateTime={Number.isNaN(d.getTime()) ? iso : d.toISOString()}>{formatTime(iso)}</time>
      {local && <span className="local-time"> ({local})</span>}
    </>
  )
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

const pad = (n: number) => String(Math.abs(n)).padStart(2, '0')

/** "2026-12-02 05:36:03 UTC": the one form every screen and the printed record use. */
export function formatTime(iso: string): string {
  const d = parseTime(iso)
  if (Number.isNaN(d.getTime())) return iso
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`
}

/** "00:36:03 local, UTC−05:00" (or with the local date when it is another day); null when local time is UTC. */
export function localTimeText(iso: string): string | null {
  const d = parseTime(iso)
  if (Number.isNaN(d.getTime())) return null
  const offset = -d.getTimezoneOffset()
  if (offset === 0) return null
  const sameDay = d.getDate() === d.getUTCDate() && d.getMonth() === d.getUTCMonth() && d.getFullYear() === d.getUTCFullYear()
  const date = sameDay ? '' : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} `
  const zone = `UTC${offset < 0 ? '−' : '+'}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`
  return `${date}${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} local, ${zone}`
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

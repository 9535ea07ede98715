import { useCeremony } from '../stores'
import { formatTime, untilText, useNow } from './Time'

const WHY = { idle: 'no one did anything for the idle time-out', sealed: 'the record was sealed', quit: 'the app was closing', 'new-plan': 'another plan was opened' } as const

/**
 * One line on the setup and run screens: the API keys (and, for a ceremony that signs in as a named
 * user, its passwords: main holds and wipes them together) live in main's memory only, and when
 * they are wiped (idle time-out counting down, the seal, quitting), or that they were and why.
 */
export function SecretsNotice(): React.JSX.Element | null {
  const secrets = useCeremony((s) => s.snapshot?.secrets)
  const signsIn = useCeremony((s) => (s.snapshot?.signIns.length ?? 0) > 0)
  const now = useNow(15_000)
  if (!secrets) return null
  const what = signsIn ? 'API keys and sign-in passwords' : 'API keys'
  if (secrets.wiped) {
    return (
      <p className="hint secrets-notice" role="status" data-secrets="wiped">
        The {what} were wiped from memory at {formatTime(secrets.wiped.at)} ({WHY[secrets.wiped.reason]}) and every DSM session ended.
        {secrets.wiped.reason === 'idle' ? ' Enter them again on the setup screen to continue.' : ''}
      </p>
    )
  }
  const minutes = Math.round(secrets.idleTimeoutSeconds / 60)
  return (
    <p className="hint secrets-notice" data-secrets={secrets.wipesAt ? 'held' : 'none'}>
      {what.charAt(0).toUpperCase() + what.slice(1)} stay in this computer&apos;s memory only and are wiped when the record is sealed and when the app quits
      {secrets.idleTimeoutSeconds > 0 ? `, or after ${minutes} min without activity` : ''}
      {secrets.wipesAt ? ` (${untilText(secrets.wipesAt, now)}, at ${formatTime(secrets.wipesAt).slice(11)})` : ''}.
    </p>
  )
}

import { useRef, useState } from 'react'
import type { CeremonySnapshot } from '../../../preload/contract'
import { Digest } from './Digest'
import { useCeremony, useStores } from '../stores'

/**
 * For kinds that need them (main says which, from the plan's kind): the DSM users who sign in with
 * their own password (the cluster administrator), and the earlier records the plan builds on, opened
 * in main's file dialog. The password field is cleared before the call; nothing keeps a copy.
 */
export function SignInsAndRecords(): React.JSX.Element | null {
  const signIns = useCeremony((s) => s.snapshot?.signIns ?? [])
  const buildsOn = useCeremony((s) => s.snapshot?.buildsOn ?? [])
  if (signIns.length === 0 && buildsOn.length === 0) return null
  return (
    <section className="card" aria-labelledby="signins-heading">
      <h3 id="signins-heading">Sign-ins and earlier records</h3>
      {signIns.map((s) => (
        <PasswordForm key={s.id} signIn={s} />
      ))}
      {buildsOn.length > 0 && <EarlierRecords records={buildsOn} />}
    </section>
  )
}

/** True when every sign-in has its password and every earlier record was opened. */
export function signInsReady(snapshot: CeremonySnapshot | null): boolean {
  return (snapshot?.signIns ?? []).every((s) => s.hasPassword) && (snapshot?.buildsOn ?? []).every((r) => r.provided)
}

function PasswordForm({ signIn: s }: { signIn: CeremonySnapshot['signIns'][number] }): React.JSX.Element {
  const stores = useStores()
  const saving = useCeremony((st) => st.busy.includes(`password:${s.id}`))
  const input = useRef<HTMLInputElement>(null)
  const [hasText, setHasText] = useState(false)
  const inputId = `password-${s.id}`

  function submit(event: React.FormEvent): void {
    event.preventDefault()
    const field = input.current
    if (!field || field.value === '') return
    const password = field.value
    field.value = ''
    setHasText(false)
    void stores.ceremony.getState().setPassword(s.id, password)
  }

  return (
    <form onSubmit={submit} className="api-key-form" data-testid={`signin-${s.id}`}>
      <label htmlFor={inputId}>
        Password of <strong>{s.user}</strong> on {s.label} ({s.host}), typed by its owner
      </label>
      <div className="inline-form">
        <input id={inputId} ref={input} type="password" autoComplete="off" spellCheck={false} maxLength={4096} onChange={(e) => setHasText(e.target.value !== '')} />
        <button type="submit" className="secondary" disabled={!hasText || saving}>
          {s.hasPassword ? 'Replace password' : 'Set password'}
        </button>
      </div>
      <p className="hint">{s.hasPassword ? '✓ Held in memory for this session only.' : 'No password entered yet.'}</p>
    </form>
  )
}

function EarlierRecords({ records }: { records: CeremonySnapshot['buildsOn'] }): React.JSX.Element {
  const stores = useStores()
  const opening = useCeremony((s) => s.busy.includes('open-record'))
  return (
    <div>
      <h4>Records this ceremony builds on</h4>
      <ul className="people">
        {records.map((r) => (
          <li key={r.digest.hex} data-testid={`record-${r.digest.hex.slice(0, 8)}`}>
            {r.provided ? '✓ Opened and verified' : '○ Not opened yet'} — final digest <Digest value={r.digest} size="small" label="Final digest of the earlier record" />
          </li>
        ))}
      </ul>
      <div className="actions">
        <button type="button" className="secondary" disabled={opening} onClick={() => void stores.ceremony.getState().openRecord()}>
          Open record…
        </button>
      </div>
    </div>
  )
}

import { useRef, useState } from 'react'
import type { ConnectionView } from '../../../preload/contract'
import { Digest } from '../components/Digest'
import { ReconcileNotes } from '../components/ReconcileNotes'
import { RehearsalCredentials } from '../components/RehearsalCredentials'
import { SecretsNotice } from '../components/SecretsNotice'
import { useApp, useCeremony, useStores } from '../stores'
import { NoPlan } from '../components/NoPlan'

/** API keys per appliance, connection checks with the TLS pins, and who is in the room. */
export function SetupScreen(): React.JSX.Element {
  const stores = useStores()
  const plan = useCeremony((s) => s.snapshot?.plan ?? null)
  const connections = useCeremony((s) => s.snapshot?.connections)
  const confirmed = useCeremony((s) => s.snapshot?.participantsConfirmed ?? false)
  const checking = useCeremony((s) => s.busy.includes('check'))
  const list = connections ?? []
  const allKeys = list.length > 0 && list.every((c) => c.hasApiKey)
  const allOk = list.length > 0 && list.every((c) => c.state === 'ok')
  const ready = allOk && confirmed

  if (!plan) {
    return <NoPlan />
  }
  const role = (id: string) => plan.appliances.find((a) => a.id === id)?.role.toLowerCase() ?? ''

  return (
    <div className="setup">
      <h2 tabIndex={-1} data-screen-heading>
        Session setup
      </h2>
      <ReconcileNotes />
      <ol className="setup-checklist" aria-label="Before the ceremony starts">
        <li data-done={allKeys}>{allKeys ? '✓' : '1.'} Enter the API key of every appliance</li>
        <li data-done={allOk}>{allOk ? '✓' : '2.'} Check the connections and confirm each TLS pin with its administrator</li>
        <li data-done={confirmed}>{confirmed ? '✓' : '3.'} Confirm who is present</li>
      </ol>

      <section aria-labelledby="appliances-heading">
        <h3 id="appliances-heading">Appliances</h3>
        <div className="connection-grid">
          {list.map((c) => (
            <ConnectionCard key={c.applianceId} connection={c} role={role(c.applianceId)} />
          ))}
        </div>
        <div className="actions">
          <button type="button" className={allOk ? 'secondary' : undefined} disabled={!allKeys || checking} onClick={() => void stores.ceremony.getState().checkConnections()}>
            {checking ? 'Checking connections…' : 'Check connections'}
          </button>
          {!allKeys && <span className="hint">Enter every API key first.</span>}
        </div>
        <SecretsNotice />
      </section>

      <ParticipantsCard />
      <RehearsalCredentials />

      <div className="actions screen-actions">
        <button type="button" disabled={!ready} aria-describedby="ready-hint" onClick={() => stores.ui.getState().go('run')}>
          Go to the ceremony steps
        </button>
        <button type="button" className="secondary" onClick={() => stores.ui.getState().go('plan')}>
          Back to the plan
        </button>
        <span id="ready-hint" className="hint">
          {ready ? 'Everything is ready.' : 'Needs: every connection checked and the participants confirmed.'}
        </span>
      </div>
    </div>
  )
}

function ConnectionCard({ connection: c, role }: { connection: ConnectionView; role: string }): React.JSX.Element {
  const stores = useStores()
  const saving = useCeremony((s) => s.busy.includes(`key:${c.applianceId}`))
  const input = useRef<HTMLInputElement>(null)
  const [hasText, setHasText] = useState(false)
  const inputId = `api-key-${c.applianceId}`

  function submit(event: React.FormEvent): void {
    event.preventDefault()
    const field = input.current
    if (!field || field.value === '') return
    const key = field.value
    // The key leaves the page at once: the field is cleared before the call and nothing keeps a copy.
    field.value = ''
    setHasText(false)
    void stores.ceremony.getState().setApiKey(c.applianceId, key)
  }

  return (
    <article className={`card connection connection-${c.state}`} aria-labelledby={`conn-${c.applianceId}`}>
      <h4 id={`conn-${c.applianceId}`}>
        {c.label} <span className="hint">({role})</span>
      </h4>
      <p className="conn-state" data-testid={`conn-state-${c.applianceId}`}>
        {c.state === 'ok' ? '✓ Connected' : c.state === 'failed' ? '✗ Connection failed' : '○ Not checked yet'}
      </p>
      <form onSubmit={submit} className="api-key-form">
        <label htmlFor={inputId}>API key for {c.label}</label>
        <div className="inline-form">
          <input
            id={inputId}
            ref={input}
            type="password"
            autoComplete="off"
            spellCheck={false}
            maxLength={4096}
            onChange={(e) => setHasText(e.target.value !== '')}
          />
          <button type="submit" className="secondary" disabled={!hasText || saving}>
            {c.hasApiKey ? 'Replace key' : 'Set key'}
          </button>
        </div>
        <p className="hint">{c.hasApiKey ? '✓ A key is held in memory for this session.' : 'No key entered yet.'}</p>
      </form>
      <dl className="facts">
        <dt>DSM version</dt>
        <dd>{c.version ?? '—'}</dd>
        <dt>Clock difference</dt>
        <dd>{c.clockSkewSeconds === null ? '—' : skewText(c.clockSkewSeconds)}</dd>
      </dl>
      {c.pin && (
        <div className="pin-box">
          <p>
            <strong>TLS pin</strong> (SHA-256 of the appliance's public key). Confirm it with the appliance's administrator by phone or on
            paper:
          </p>
          <Digest value={c.pin} label={`TLS pin of ${c.label}`} />
        </div>
      )}
      {c.error && (
        <p className="error-text">
          <code className="error-code">{c.error.code}</code> {c.error.message}
        </p>
      )}
    </article>
  )
}

export function skewText(seconds: number): string {
  const abs = Math.abs(seconds)
  if (abs < 1) return 'in step with this workstation'
  const text = `${abs} s ${seconds > 0 ? 'ahead of' : 'behind'} this workstation`
  return abs > 60 ? `${text} — check the clocks before continuing` : text
}

function ParticipantsCard(): React.JSX.Element | null {
  const stores = useStores()
  const plan = useCeremony((s) => s.snapshot?.plan ?? null)
  const confirmed = useCeremony((s) => s.snapshot?.participantsConfirmed ?? false)
  const busy = useCeremony((s) => s.busy.includes('participants'))
  const workstationOperator = useApp((s) => s.settings?.operatorName ?? '')
  const [operator, setOperator] = useState(() => plan?.participants.operator || workstationOperator)
  const [present, setPresent] = useState(false)
  if (!plan) return null

  return (
    <section className="card" aria-labelledby="people-heading">
      <h3 id="people-heading">Who is here</h3>
      <form
        onSubmit={(e) => {
          e.preventDefault()
          void stores.ceremony.getState().confirmParticipants(operator.trim())
        }}
      >
        <label htmlFor="participants-operator">Operator</label>
        <input id="participants-operator" value={operator} maxLength={80} onChange={(e) => setOperator(e.target.value)} />
        <h4>Custodians (as the plan names them)</h4>
        <ul className="people">
          {plan.appliances.map((a) => (
            <li key={a.id}>
              <strong>{a.label}</strong>: {(plan.participants.custodians[a.id] ?? []).join(', ') || '—'}
            </li>
          ))}
        </ul>
        <h4>Witnesses</h4>
        <ul className="people">
          {plan.participants.witnesses.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
        <label className="inline">
          <input type="checkbox" checked={present} onChange={(e) => setPresent(e.target.checked)} />
          I have checked the identity of everyone taking part
        </label>
        <div className="actions">
          <button type="submit" className={confirmed ? 'secondary' : undefined} disabled={!present || operator.trim() === '' || busy}>
            Confirm participants
          </button>
          {confirmed && (
            <span role="status" className="ok-text">
              ✓ Participants confirmed
            </span>
          )}
        </div>
      </form>
    </section>
  )
}

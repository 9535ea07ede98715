import { useRef, useState } from 'react'
import type { ConnectionView } from '../../../preload/contract'
import { Digest } from '../components/Digest'
import { ReconcileNotes } from '../components/ReconcileNotes'
import { RehearsalCredentials } from '../components/RehearsalCredentials'
import { SecretsNotice } from '../components/SecretsNotice'
import { SignInsAndRecords, signInsReady } from '../components/SignInsAndRecords'
import { useCeremony, useStores } from '../stores'
import { NoPlan } from '../components/NoPlan'
import { StationSetup } from '../components/Stations'

/** API keys per appliance, connection checks with the TLS pins, and who is in the room. */
export function SetupScreen(): React.JSX.Element {
  const stores = useStores()
  const plan = useCeremony((s) => s.snapshot?.plan ?? null)
  const connections = useCeremony((s) => s.snapshot?.connections)
  const confirmed = useCeremony((s) => s.snapshot?.participantsConfirmed ?? false)
  const checking = useCeremony((s) => s.busy.includes('check'))
  const stations = useCeremony((s) => s.snapshot?.stations ?? null)
  // Across sites a station reaches only its own appliances: only their keys and connections are needed here.
  const reached = stations?.stations.find((x) => x.id === stations.chosen)?.appliances.map((a) => a.id)
  const list = (connections ?? []).filter((c) => !stations || (reached ?? []).includes(c.applianceId))
  // An appliance the ceremony never signs in to (a replaced, failed one) needs no check, and no key unless main says keyNeeded.
  const needed = list.filter((c) => c.contacted !== false)
  // A replacement onboarded through the API gets its key from the ceremony (P.2), not from the operator.
  const allKeys = needed.length > 0 && needed.every((c) => c.hasApiKey || c.keyMadeHere === true)
    && list.every((c) => c.contacted !== false || c.keyNeeded !== true || c.hasApiKey)
  const allOk = needed.length > 0 && needed.every((c) => c.state === 'ok')
  // Kinds that sign in as a named user or build on earlier records need those too (main lists them).
  const extrasReady = useCeremony((s) => signInsReady(s.snapshot))
  // allKeys too: a key asked without a check (a failed appliance's behind a load balancer) is not covered by allOk.
  const ready = allKeys && allOk && confirmed && extrasReady && (!stations || (stations.chosen !== null && stations.media !== null))
  const nextScreen = stations?.next === 'receive' ? 'receive' : stations?.next === 'handed-off' ? 'handoff' : 'run'

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
      {stations && <StationSetup view={stations} />}
      <ol className="setup-checklist" aria-label="Before the ceremony starts">
        <li data-done={allKeys}>{allKeys ? '✓' : '1.'} Enter the API key of every appliance</li>
        <li data-done={allOk}>{allOk ? '✓' : '2.'} Check the connections and confirm each TLS pin with its administrator</li>
        <li data-done={confirmed}>{confirmed ? '✓' : '3.'} Confirm who is present</li>
      </ol>

      <section aria-labelledby="appliances-heading">
        <h3 id="appliances-heading">Appliances</h3>
        <div className="connection-grid">
          {list.map((c) =>
            c.contacted === false ? (
              <NotContactedCard key={c.applianceId} connection={c} role={role(c.applianceId)} />
            ) : (
              <ConnectionCard key={c.applianceId} connection={c} role={role(c.applianceId)} />
            ),
          )}
        </div>
        <div className="actions">
          <button type="button" className={allOk ? 'secondary' : undefined} disabled={!allKeys || checking} onClick={() => void stores.ceremony.getState().checkConnections()}>
            {checking ? 'Checking connections…' : 'Check connections'}
          </button>
          {!allKeys && <span className="hint">Enter every API key first.</span>}
        </div>
        <SecretsNotice />
      </section>

      <SignInsAndRecords />
      <ParticipantsCard key={stations?.chosen ?? 'one-station'} />
      <RehearsalCredentials />

      <div className="actions screen-actions">
        <button type="button" disabled={!ready} aria-describedby="ready-hint" onClick={() => stores.ui.getState().go(nextScreen)}>
          {nextScreen === 'receive' ? 'Receive the media' : nextScreen === 'handoff' ? 'See the hand-off' : 'Go to the ceremony steps'}
        </button>
        <button type="button" className="secondary" onClick={() => stores.ui.getState().go('plan')}>
          Back to the plan
        </button>
        <span id="ready-hint" className="hint">
          {ready ? 'Everything is ready.' : `Needs: ${allKeys ? '' : 'every API key, '}every connection checked${extrasReady ? '' : ', every password and earlier record'} and the participants confirmed.`}
        </span>
      </div>
    </div>
  )
}

/**
 * An appliance the plan names only to be removed or recorded: it is never signed in to. Its key is asked only
 * when main says keyNeeded (a failed one behind a load balancer: the join re-sends the balancer's every key).
 */
function NotContactedCard({ connection: c, role }: { connection: ConnectionView; role: string }): React.JSX.Element {
  return (
    <article className="card connection connection-not-contacted" aria-labelledby={`conn-${c.applianceId}`}>
      <h4 id={`conn-${c.applianceId}`}>
        {c.label} <span className="hint">({role})</span>
      </h4>
      <p className="conn-state" data-testid={`conn-state-${c.applianceId}`}>
        — Not contacted by this ceremony
      </p>
      {c.keyNeeded === true ? (
        <>
          <p className="hint">
            This ceremony never signs in to it, but its API key is asked: the load balancer's config is sent whole with every key it
            holds, this one's included, until the removal drops it.
          </p>
          <ApiKeyForm connection={c} />
        </>
      ) : (
        <p className="hint">No API key is asked for it: this ceremony never signs in to it.</p>
      )}
      {c.pin && <Digest value={c.pin} label={`TLS pin of ${c.label}`} />}
    </article>
  )
}

/** The API key field of one appliance: the key goes to main at once and the page keeps no copy. */
function ApiKeyForm({ connection: c }: { connection: ConnectionView }): React.JSX.Element {
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
  )
}

function ConnectionCard({ connection: c, role }: { connection: ConnectionView; role: string }): React.JSX.Element {
  return (
    <article className={`card connection connection-${c.state}`} aria-labelledby={`conn-${c.applianceId}`}>
      <h4 id={`conn-${c.applianceId}`}>
        {c.label} <span className="hint">({role})</span>
      </h4>
      <p className="conn-state" data-testid={`conn-state-${c.applianceId}`}>
        {c.state === 'ok' ? '✓ Connected' : c.state === 'failed' ? '✗ Connection failed' : '○ Not checked yet'}
      </p>
      {c.keyMadeHere === true && !c.hasApiKey ? (
        <p className="hint" data-testid={`key-made-here-${c.applianceId}`}>
          No API key is entered for it: this ceremony makes its app and key (P.2), signed in as its system administrator. The check
          below reaches it over its pinned TLS key without signing in.
        </p>
      ) : (
        <ApiKeyForm connection={c} />
      )}
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

/**
 * Who is in the room: everyone the plan names, ticked when present (the plan's operator among them,
 * and at least one witness). Once the ceremony runs, arrivals and departures go to the attendance
 * log, and only a witness recorded as present can sign a step.
 */
const NOBODY: { name: string; role: string; present: boolean }[] = []

function ParticipantsCard(): React.JSX.Element | null {
  const stores = useStores()
  const plan = useCeremony((s) => s.snapshot?.plan ?? null)
  const people = useCeremony((s) => s.snapshot?.people) ?? NOBODY
  const running = useCeremony((s) => s.snapshot?.phase !== 'setup' && s.snapshot?.phase !== 'no-plan')
  const confirmed = useCeremony((s) => s.snapshot?.participantsConfirmed ?? false)
  const busy = useCeremony((s) => s.busy.includes('participants'))
  // Across sites, each station has its own operator (and witnesses), as the plan's stations name them.
  const station = useCeremony((s) => s.snapshot?.stations?.stations.find((x) => x.id === s.snapshot?.stations?.chosen) ?? null)
  const [present, setPresent] = useState<string[]>([])
  const [checkedIds, setCheckedIds] = useState(false)
  if (!plan) return null
  const operatorName = station?.operator ?? plan.participants.operator
  const operatorHere = present.includes(operatorName)
  const witnessHere = people.some((p) => p.role === 'witness' && present.includes(p.name))

  if (running) {
    return (
      <section className="card" aria-labelledby="people-heading">
        <h3 id="people-heading">Who is in the room</h3>
        <p className="hint">Every arrival and departure is recorded in the audit log with its time. Only a witness in the room can sign a step.</p>
        <ul className="people" data-testid="attendance">
          {people.map((p) => (
            <li key={p.name}>
              <strong>{p.name}</strong> ({p.role}): {p.present ? 'present' : 'not in the room'}{' '}
              <button type="button" className="secondary" onClick={() => void stores.ceremony.getState().attendance(p.name, p.present ? 'leave' : 'arrive')}>
                {p.present ? `Record that ${p.name} left` : `Record that ${p.name} arrived`}
              </button>
            </li>
          ))}
        </ul>
      </section>
    )
  }

  return (
    <section className="card" aria-labelledby="people-heading">
      <h3 id="people-heading">Who is here</h3>
      <form
        onSubmit={(e) => {
          e.preventDefault()
          void stores.ceremony.getState().confirmParticipants(present)
        }}
      >
        <fieldset>
          <legend>Tick everyone in the room, as the plan names them</legend>
          {people.map((p, i) => (
            <div key={p.name} className="check-row">
              <input
                type="checkbox"
                id={`present-${i}`}
                checked={present.includes(p.name)}
                onChange={(e) => setPresent((list) => (e.target.checked ? [...list, p.name] : list.filter((x) => x !== p.name)))}
              />
              <label htmlFor={`present-${i}`}>
                {p.name} <span className="hint">({p.role})</span>
              </label>
            </div>
          ))}
        </fieldset>
        {station && <p className="hint">At this station the plan names {station.operator} as the operator, and {station.witnesses.join(', ')} as witnesses.</p>}
        {!operatorHere && <p className="hint">The plan names {operatorName} as the operator: they must be present.</p>}
        {!witnessHere && <p className="hint">At least one witness must be present.</p>}
        <label className="inline">
          <input type="checkbox" checked={checkedIds} onChange={(e) => setCheckedIds(e.target.checked)} />
          I have checked the identity of everyone taking part
        </label>
        <div className="actions">
          <button type="submit" className={confirmed ? 'secondary' : undefined} disabled={!checkedIds || !operatorHere || !witnessHere || busy}>
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

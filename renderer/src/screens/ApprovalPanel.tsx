import { useRef, useState } from 'react'
import type { StepView } from '../../../preload/contract'
import { ConfirmBox, confirmationMatches } from '../components/ConfirmBox'
import { RehearsalCredentials } from '../components/RehearsalCredentials'
import { Time, untilText, useNow } from '../components/Time'
import { useCeremony, useStores } from '../stores'
import { EvidenceList } from './RunScreen'

const OTHER = '__other__'

const STATUS_TEXT = {
  PENDING: 'Waiting for approvals',
  APPROVED: '✓ Approved',
  DENIED: '✗ Denied',
  FAILED: '✗ Failed',
  EXPIRED: '✗ Expired',
} as const

/**
 * A quorum approval: what exactly the request will do, the quorum's progress, and a sign-in for each
 * custodian with their own DSM user to approve or deny it here (or in the DSM UI; main polls).
 */
export function ApprovalPanel({ step }: { step: StepView }): React.JSX.Element | null {
  const approval = step.approval
  const now = useNow()
  if (!approval) return null
  const { quorum, approvals, denials, status } = approval
  const closed = status === 'DENIED' || status === 'FAILED' || status === 'EXPIRED'

  return (
    <section className={`approval approval-${status.toLowerCase()}`} aria-labelledby={`approval-${step.id}`} data-testid="approval-panel">
      <h4 id={`approval-${step.id}`}>Custodian approval</h4>
      <p className="approval-status" data-testid="approval-status">
        <strong>{STATUS_TEXT[status]}</strong>
        <span className="quorum-text" data-testid="quorum-progress">
          {' '}
          — {approvals.length} of {quorum.n} approvals needed ({quorum.n} of {quorum.of} custodians must approve)
        </span>
      </p>
      <progress value={Math.min(approvals.length, quorum.n)} max={Math.max(quorum.n, 1)} aria-label="Approvals so far" />

      <div className="approval-what">
        <h5>What this request will do, as the appliance holds it</h5>
        <EvidenceList evidence={approval.facts} />
        <ul className="approval-checks" aria-label="Checks against this ceremony">
          {approval.checks.map((c) => (
            <li key={c.label} className={c.ok ? 'ok-text' : 'error-text'} data-testid="approval-check" data-ok={c.ok}>
              {c.ok ? '✓' : '✗'} {c.label}
            </li>
          ))}
        </ul>
        {approval.checks.some((c) => !c.ok) && (
          <p className="error-text" role="alert" data-testid="approval-check-failed">
            A check failed: this is not the request this ceremony opened. Deny it and record an exception.
          </p>
        )}
        <p className="hint">
          On {approval.applianceLabel}. Request description: {approval.description}
          <br />
          {approval.expiresAt && (
            <>
              Expires <Time iso={approval.expiresAt} /> ({untilText(approval.expiresAt, now)}).
            </>
          )}
          <br />
          What you read here has the digest <code className="digest-hex">{approval.viewDigest.slice(0, 16)}…</code>; your decision is bound to it.
        </p>
      </div>

      {(approvals.length > 0 || denials.length > 0) && (
        <ul className="decisions" aria-label="Decisions so far">
          {approvals.map((a) => (
            <li key={`a:${a.user}`}>
              ✓ <strong>{a.user}</strong> approved at <Time iso={a.at} />
            </li>
          ))}
          {denials.map((d) => (
            <li key={`d:${d.user}`}>
              ✗ <strong>{d.user}</strong> denied at <Time iso={d.at} />
              {d.reason ? `: ${d.reason}` : ''}
            </li>
          ))}
        </ul>
      )}

      {status === 'PENDING' && (
        <>
          <p className="waiting" role="status">
            Waiting for approvals. Custodians can approve here, one at a time, or in the DSM web UI; this screen updates on its own.
          </p>
          <CustodianSignIn step={step} />
          <RehearsalCredentials appliance={approval.appliance} />
        </>
      )}
      {closed && <RestartApproval step={step} />}
    </section>
  )
}

function CustodianSignIn({ step }: { step: StepView }): React.JSX.Element | null {
  const stores = useStores()
  const busy = useCeremony((s) => s.busy.includes(`decide:${step.id}`))
  const approval = step.approval
  const already = new Set([...(approval?.approvals ?? []), ...(approval?.denials ?? [])].map((d) => d.user))
  const candidates = (approval?.custodians ?? []).filter((c) => !already.has(c))
  // null: the first custodian who has not decided yet.
  const [choice, setChoice] = useState<string | null>(null)
  const [typed, setTyped] = useState('')
  const [hasPassword, setHasPassword] = useState(false)
  // Each approving custodian types the confirmation themselves.
  const [typedConfirmation, setTypedConfirmation] = useState('')
  // Denying is a decision too: it asks for the reason, which is recorded, and a second click.
  const [denying, setDenying] = useState(false)
  const [reason, setReason] = useState('')
  const confirmation = typedConfirmation.trim()
  const password = useRef<HTMLInputElement>(null)
  if (!approval) return null

  const selected = choice === OTHER || (choice !== null && candidates.includes(choice)) ? choice : (candidates[0] ?? OTHER)
  const user = selected === OTHER ? typed.trim() : selected
  const needConfirm = step.confirmation !== null
  const confirmOk = !needConfirm || confirmationMatches(step.confirmation!, confirmation)
  const base = user !== '' && hasPassword && !busy

  function decide(decision: 'approve' | 'deny'): void {
    if (decision === 'deny' && reason.trim() === '') return
    const field = password.current
    if (!field || field.value === '' || user === '') return
    const secret = field.value
    // The password goes to main and is gone from the page at once.
    field.value = ''
    setHasPassword(false)
    void stores.ceremony
      .getState()
      .decideApproval({
        stepId: step.id, user, password: secret, decision, requestId: approval!.requestId, viewDigest: approval!.viewDigest,
        ...(needConfirm && decision === 'approve' && confirmation ? { confirmation } : {}),
        ...(decision === 'deny' ? { reason: reason.trim() } : {}),
      })
      .then((ok) => {
        if (ok) {
          setTyped('')
          setChoice(null)
          setTypedConfirmation('')
          setDenying(false)
          setReason('')
        }
      })
  }

  const userId = `custodian-user-${step.id}`
  const typedId = `custodian-typed-${step.id}`
  const passId = `custodian-password-${step.id}`
  return (
    <form className="custodian-signin" onSubmit={(e) => e.preventDefault()} aria-labelledby={`signin-${step.id}`}>
      <h5 id={`signin-${step.id}`}>A custodian signs in with their own DSM user</h5>
      <label htmlFor={userId}>Custodian</label>
      <select id={userId} value={selected} onChange={(e) => setChoice(e.target.value)}>
        {candidates.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
        <option value={OTHER}>Someone else (type the DSM user name)</option>
      </select>
      {selected === OTHER && (
        <>
          <label htmlFor={typedId}>DSM user name</label>
          <input id={typedId} value={typed} autoComplete="off" spellCheck={false} maxLength={254} onChange={(e) => setTyped(e.target.value)} />
        </>
      )}
      <label htmlFor={passId}>Password</label>
      <input id={passId} ref={password} type="password" autoComplete="off" maxLength={4096} onChange={(e) => setHasPassword(e.target.value !== '')} />
      <p className="hint">The password goes straight to the appliance through this workstation's main process and is not kept.</p>
      {step.confirmation && (
        <ConfirmBox id={`confirm-${step.id}`} confirmation={step.confirmation} warning="Approving cannot be undone." typed={typedConfirmation} onChange={setTypedConfirmation} />
      )}
      <div className="actions decision-actions">
        <button type="button" className="approve" disabled={!base || !confirmOk || denying} onClick={() => decide('approve')}>
          ✓ Approve
        </button>
        <button type="button" className="danger" disabled={!base} onClick={() => setDenying(true)}>
          ✗ Deny…
        </button>
        {needConfirm && !confirmOk && <span className="hint">Type the confirmation before approving.</span>}
      </div>
      {denying && (
        <div className="deny-box" role="group" aria-labelledby={`deny-${step.id}`}>
          <p id={`deny-${step.id}`}>
            <strong>Deny this request as {user || 'this custodian'}?</strong> The request cannot be executed once denied; a fresh one is needed.
          </p>
          <label htmlFor={`deny-reason-${step.id}`}>Why you deny it (recorded)</label>
          <textarea id={`deny-reason-${step.id}`} rows={2} maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
          <div className="actions">
            <button type="button" className="danger" disabled={!base || reason.trim() === ''} onClick={() => decide('deny')}>
              Deny the request
            </button>
            <button type="button" className="secondary" onClick={() => setDenying(false)}>
              Cancel
            </button>
          </div>
        </div>
      )}
    </form>
  )
}

export function RestartApproval({ step }: { step: StepView }): React.JSX.Element {
  const stores = useStores()
  const busy = useCeremony((s) => s.busy.includes(`restart:${step.id}`))
  return (
    <div className="restart">
      <p>
        This request can no longer be used. The way on is a fresh request for exactly the same operation: the request step runs again,
        witnesses sign it again, and custodians approve it again.
      </p>
      <button
        type="button"
        disabled={busy}
        onClick={() =>
          void stores.ceremony
            .getState()
            .restartApproval(step.id)
            .then((ok) => ok && stores.ui.getState().selectStep(null))
        }
      >
        Start a fresh request
      </button>
    </div>
  )
}

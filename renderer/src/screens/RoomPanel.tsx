import { useState } from 'react'
import type { DigestView } from '../../../preload/contract'
import { Digest } from '../components/Digest'
import { Time } from '../components/Time'
import { useCeremony, useStores } from '../stores'

/**
 * What the room itself must record, beside the steps: the approvers' signatures on the script
 * before the first step, and breaks (who stays in the room, from when to when). Main refuses a
 * step before the script is approved, and during a break.
 */
export function RoomPanel(): React.JSX.Element | null {
  const snapshot = useCeremony((s) => s.snapshot)
  if (!snapshot || snapshot.phase === 'complete' || snapshot.phase === 'aborted') return null
  const approval = snapshot.scriptApproval
  const unsigned = approval ? approval.approvers.filter((a) => !a.signed) : []
  return (
    <>
      {approval && unsigned.length > 0 && <ScriptApprovalForm digest={approval.digest} unsigned={unsigned.map((a) => a.name)} signed={approval.approvers.filter((a) => a.signed).map((a) => a.name)} />}
      <BreakPanel />
    </>
  )
}

function ScriptApprovalForm({ digest, unsigned, signed }: { digest: DigestView; unsigned: string[]; signed: string[] }): React.JSX.Element {
  const stores = useStores()
  const busy = useCeremony((s) => s.busy.includes('approve-script'))
  const [approver, setApprover] = useState('')
  const [initials, setInitials] = useState('')
  function submit(event: React.FormEvent): void {
    event.preventDefault()
    if (approver === '' || initials.trim() === '') return
    void stores.ceremony
      .getState()
      .approveScript(approver, initials.trim())
      .then((ok) => {
        if (ok) {
          setApprover('')
          setInitials('')
        }
      })
  }
  return (
    <section className="card warn-box" aria-labelledby="script-approval-heading" data-testid="script-approval">
      <h3 id="script-approval-heading">The script must be approved before the first step</h3>
      <p>
        Each approver compares this digest with the one on the printed script, then signs it here. A plan changed after its approval
        cannot run.
      </p>
      <Digest value={digest} label="Script digest" />
      {signed.length > 0 && <p className="ok-text">Signed by {signed.join(', ')}.</p>}
      <form onSubmit={submit} className="inline-form">
        <label htmlFor="script-approver">Approver</label>
        <select id="script-approver" value={approver} onChange={(e) => setApprover(e.target.value)}>
          <option value="">Choose…</option>
          {unsigned.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
        <label htmlFor="script-initials">Initials</label>
        <input id="script-initials" className="initials-input" maxLength={4} autoComplete="off" spellCheck={false} value={initials} onChange={(e) => setInitials(e.target.value)} />
        <button type="submit" disabled={busy || approver === '' || initials.trim() === ''}>
          Sign the script
        </button>
      </form>
    </section>
  )
}

function BreakPanel(): React.JSX.Element | null {
  const stores = useStores()
  const onBreak = useCeremony((s) => s.snapshot?.onBreak ?? null)
  const people = useCeremony((s) => s.snapshot?.people)
  const present = (people ?? []).filter((p) => p.present).map((p) => p.name)
  const busy = useCeremony((s) => s.busy.includes('break'))
  const [stays, setStays] = useState<string[]>([])
  if (onBreak) {
    return (
      <div className="warn-box" role="status" data-testid="on-break">
        <p>
          <strong>On a break since <Time iso={onBreak.since} />.</strong> In the room: {onBreak.stays.join(', ')}. No step runs until the
          break ends.
        </p>
        <button type="button" disabled={busy} onClick={() => void stores.ceremony.getState().takeBreak('end')}>
          End the break
        </button>
      </div>
    )
  }
  const toggle = (name: string) => setStays((s) => (s.includes(name) ? s.filter((x) => x !== name) : [...s, name]))
  return (
    <details className="break-panel">
      <summary>Take a break</summary>
      <fieldset>
        <legend>Who stays in the room (at least two)</legend>
        {present.map((p) => (
          <label key={p} className="check">
            <input type="checkbox" checked={stays.includes(p)} onChange={() => toggle(p)} /> {p}
          </label>
        ))}
      </fieldset>
      <button
        type="button"
        className="secondary"
        disabled={busy || stays.length < 2}
        onClick={() =>
          void stores.ceremony
            .getState()
            .takeBreak('start', stays)
            .then((ok) => ok && setStays([]))
        }
      >
        Start the break
      </button>
    </details>
  )
}

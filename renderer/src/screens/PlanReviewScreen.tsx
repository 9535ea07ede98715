import { Fragment } from 'react'
import type { DigestView, PlanSummary } from '../../../preload/contract'
import { Digest, hexGroups } from '../components/Digest'
import { useCeremony, useStores } from '../stores'
import { NoPlan } from '../components/NoPlan'
import { TripList } from '../components/Stations'

/** The plan as loaded by main, for review before anything touches an appliance. */
export function PlanReviewScreen(): React.JSX.Element {
  const stores = useStores()
  const plan = useCeremony((s) => s.snapshot?.plan ?? null)
  const phase = useCeremony((s) => s.snapshot?.phase ?? 'no-plan')

  if (!plan) {
    return <NoPlan />
  }

  function editCopy(): void {
    if (!plan) return
    void stores.editor.getState().load(prettyJson(plan.json))
    stores.ui.getState().go('editor')
  }

  return (
    <div className="plan-review">
      <h2 tabIndex={-1} data-screen-heading>
        Review the ceremony plan
      </h2>
      <PlanDetails plan={plan} />
      <div className="actions screen-actions">
        <button type="button" onClick={() => stores.ui.getState().go(phase === 'running' || phase === 'complete' ? 'run' : 'setup')}>
          {phase === 'running' || phase === 'complete' ? 'Go to the ceremony steps' : 'Continue to session setup'}
        </button>
        <button type="button" className="secondary" onClick={editCopy}>
          Edit a copy of this plan
        </button>
        <button type="button" className="secondary" onClick={() => stores.ui.getState().go('script')}>
          The ceremony script
        </button>
        <button type="button" className="secondary" onClick={() => window.print()}>
          Print the plan
        </button>
        <button type="button" className="secondary" onClick={() => stores.ui.getState().go('home')}>
          Back to start
        </button>
      </div>
    </div>
  )
}

/**
 * The sealed records this ceremony builds on, by final digest: each is read aloud against the
 * digest written down when that ceremony closed, and opened at setup, where main verifies it.
 */
function EarlierRecords({ digests }: { digests: DigestView[] }): React.JSX.Element {
  return (
    <section className="card" aria-labelledby="plan-records-heading" data-testid="plan-builds-on">
      <h3 id="plan-records-heading">Earlier ceremonies this one builds on</h3>
      {digests.length === 0 ? (
        <p>None: this ceremony builds on no earlier record.</p>
      ) : (
        <>
          <p className="hint">
            The final digest of each sealed record. Compare each with the digest written down when that ceremony closed; the records
            themselves are opened at setup and checked before any step runs.
          </p>
          <ol className="records-list">
            {digests.map((d, i) => (
              <li key={d.hex}>
                <Digest value={d} label={`Final digest of earlier record ${i + 1}`} />
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  )
}

export function prettyJson(json: string): string {
  try {
    return `${JSON.stringify(JSON.parse(json), null, 2)}\n`
  } catch {
    return json
  }
}

/**
 * Everything the plan says, in the order people check it. The editor's preview leaves out the
 * digest (the editor shows it beside the text) and the JSON (it is the text being edited).
 */
export function PlanDetails({ plan, preview = false }: { plan: PlanSummary; preview?: boolean }): React.JSX.Element {
  return (
    <>
      <section className="card" aria-labelledby="plan-id-heading">
        <h3 id="plan-id-heading">{plan.title}</h3>
        <dl className="facts">
          <dt>Plan id</dt>
          <dd>
            <code>{plan.id}</code>
          </dd>
          <dt>Ceremony</dt>
          <dd>{plan.kindTitle}</dd>
          <dt>Mode</dt>
          <dd>{plan.mode === 'rehearsal' ? 'REHEARSAL (simulated appliances)' : 'PRODUCTION'}</dd>
          {plan.details.map((d) => (
            <Fragment key={d.label}>
              <dt>{d.label}</dt>
              <dd>{d.value}</dd>
            </Fragment>
          ))}
        </dl>
        {!preview && (
          <>
            <h4>Plan digest (SHA-256)</h4>
            <Digest value={plan.digest} size="large" label="Plan digest" />
            <p className="hint">Read this aloud and compare it with the digest on the printed, reviewed plan. It is bound into every log entry.</p>
          </>
        )}
      </section>
      {plan.buildsOn && <EarlierRecords digests={plan.buildsOn} />}
      <section className="card" aria-labelledby="plan-appliances-heading">
        <h3 id="plan-appliances-heading">Appliances</h3>
        <div className="table-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Role</th>
                <th scope="col">Appliance</th>
                <th scope="col">Address</th>
                <th scope="col">TLS trust</th>
              </tr>
            </thead>
            <tbody>
              {plan.appliances.map((a) => (
                <tr key={a.id}>
                  <td>{a.role}</td>
                  <td>
                    {a.label}
                    <br />
                    <code className="hint">{a.id}</code>
                  </td>
                  <td>
                    <code>
                      {a.host}:{a.port}
                    </code>
                  </td>
                  <td>
                    {a.spkiSha256 ? <code className="pin">Pinned key {hexGroups(a.spkiSha256)}</code> : null}
                    {a.spkiSha256 && a.hasCa ? <br /> : null}
                    {a.hasCa ? 'CA certificate' : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <TripList plan={plan} />
      <section className="card" aria-labelledby="plan-people-heading">
        <h3 id="plan-people-heading">People</h3>
        <dl className="facts">
          <dt>Operator</dt>
          <dd>{plan.participants.operator}</dd>
          {plan.appliances.map((a) => (
            <Fragment key={a.id}>
              <dt>Custodians on {a.label}</dt>
              <dd>{(plan.participants.custodians[a.id] ?? []).join(', ') || '—'}</dd>
            </Fragment>
          ))}
          <dt>Witnesses</dt>
          <dd>{plan.participants.witnesses.join(', ')}</dd>
          {/* Reviewed before the ceremony: the video addendum must account for each of these cameras. */}
          <dt>Cameras</dt>
          <dd data-testid="plan-cameras">{plan.cameras.map((c) => `${c.label} (${c.id}): ${c.films}`).join('; ') || 'none named'}</dd>
        </dl>
      </section>
      {!preview && (
        <details className="card plan-json">
          <summary>The plan file as loaded (canonical JSON)</summary>
          <pre>{prettyJson(plan.json)}</pre>
        </details>
      )}
    </>
  )
}

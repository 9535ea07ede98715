import { Fragment, useEffect } from 'react'
import type { RecordItem, StepView } from '../../../preload/contract'
import { Comparison } from '../components/Comparison'
import { Digest, hexGroups } from '../components/Digest'
import { stateText } from '../components/StepState'
import { Time, formatTime } from '../components/Time'
import { useCeremony, useStores } from '../stores'
import { PlanDetails } from './PlanReviewScreen'
import { EvidenceList } from './RunScreen'

/** The printable ceremony record: what the auditors keep. Print CSS turns this page into the PDF. */
export function RecordScreen(): React.JSX.Element {
  const stores = useStores()
  const snapshot = useCeremony((s) => s.snapshot)
  const loaded = useCeremony((s) => s.record)
  const record = loaded?.record ?? null
  const loading = useCeremony((s) => s.busy.includes('record'))
  const exportingJson = useCeremony((s) => s.busy.includes('export:json'))
  const exportingPdf = useCeremony((s) => s.busy.includes('export:pdf'))
  const lastExport = useCeremony((s) => s.lastExport)
  const logEntries = useCeremony((s) => s.snapshot?.log.entries ?? 0)

  // Fetch the record on arrival and whenever the log grows (a late sign-off or exception).
  useEffect(() => {
    void stores.ceremony.getState().loadRecord()
  }, [stores, logEntries])

  const plan = snapshot?.plan ?? null
  const rehearsal = plan?.mode === 'rehearsal' || record?.mode === 'rehearsal' || (snapshot?.rehearsalCredentials.length ?? 0) > 0
  const steps = snapshot?.steps ?? []

  return (
    <div className="record" data-testid="record">
      <div className="no-print">
        <h2 tabIndex={-1} data-screen-heading>
          Ceremony record
        </h2>
        <div className="actions screen-actions">
          <button type="button" onClick={() => window.print()}>
            Print
          </button>
          <button type="button" className="secondary" disabled={exportingJson} onClick={() => void stores.ceremony.getState().exportRecord('json')}>
            Export as JSON…
          </button>
          <button type="button" className="secondary" disabled={exportingPdf} onClick={() => void stores.ceremony.getState().exportRecord('pdf')}>
            Export as PDF…
          </button>
          <button type="button" className="secondary" onClick={() => stores.ui.getState().go('run')}>
            Back to the steps
          </button>
        </div>
        {lastExport && (
          <div role="status" className="ok-box">
            <p>Exported the record as {lastExport.format.toUpperCase()}.{lastExport.digest ? ' Digest of the file:' : ''}</p>
            {lastExport.digest && <Digest value={lastExport.digest} label="Exported file digest" />}
          </div>
        )}
        {snapshot?.record && snapshot.record.exported.length > 0 && (
          <p className="hint">Exported so far: {snapshot.record.exported.map((f) => f.toUpperCase()).join(', ')}</p>
        )}
      </div>

      <article className="record-page" aria-label="The printable record">
        {rehearsal && (
          <p className="record-watermark" data-testid="record-watermark">
            REHEARSAL — simulated appliances; not a record of a real ceremony
          </p>
        )}
        <header className="record-title">
          <p className="record-kicker">DSM Key Ceremony · Ceremony record</p>
          <h3>{plan?.title ?? 'No plan loaded'}</h3>
          {plan && (
            <p>
              Plan <code>{plan.id}</code> · {rehearsal ? 'REHEARSAL' : 'PRODUCTION'} · printed {formatTime(new Date().toISOString())}
            </p>
          )}
        </header>

        <section className="record-final" aria-labelledby="final-digest-heading">
          <h4 id="final-digest-heading">Final log digest</h4>
          {record ? (
            <>
              <Digest value={loaded!.finalDigest} size="large" label="Final log digest" />
              <p className="hint">
                The hash of the last of {record.entries.length} audit-log entries. It seals the whole log: read it aloud, write it down, and check it
                later with <code>ceremony verify</code>.
              </p>
            </>
          ) : (
            <p aria-live="polite">{loading ? 'Loading the record…' : 'The record is not available yet.'}</p>
          )}
        </section>

        {plan && (
          <section aria-labelledby="record-plan-heading">
            <h4 id="record-plan-heading">Plan</h4>
            <PlanDetails plan={plan} showJson={false} />
          </section>
        )}

        <section aria-labelledby="record-steps-heading">
          <h4 id="record-steps-heading">Steps</h4>
          <div className="table-scroll">
            <table className="record-steps">
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">Step</th>
                  <th scope="col">Where</th>
                  <th scope="col">State</th>
                  <th scope="col">Started</th>
                  <th scope="col">Finished</th>
                </tr>
              </thead>
              <tbody>
                {steps.map((s) => (
                  <tr key={s.id}>
                    <td>{s.scriptId}</td>
                    <td>{s.title}</td>
                    <td>{s.where}</td>
                    <td>{stateText(s.state)}</td>
                    <td>
                      <Time iso={s.startedAt} />
                    </td>
                    <td>
                      <Time iso={s.finishedAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {steps.filter(hasDetail).map((s) => (
            <StepRecord key={s.id} step={s} />
          ))}
        </section>

        {record && (
          <>
            <RecordItems title="Approvals" items={record.approvals} empty="No approvals were recorded." />
            <RecordItems title="Witness sign-offs" items={record.signoffs} empty="No witness sign-offs were recorded." />
            <RecordItems title="Exceptions" items={record.exceptions} empty="No exceptions were recorded." />
            <section aria-labelledby="record-artifacts-heading">
              <h4 id="record-artifacts-heading">Files written</h4>
              {record.artifacts.length === 0 ? (
                <p>None.</p>
              ) : (
                <ul className="artifacts">
                  {record.artifacts.map((a) => (
                    <li key={`${a.name}:${a.sha256}`}>
                      <strong>{a.name}</strong> ({a.bytes} bytes)
                      <br />
                      SHA-256 <code className="digest-hex">{hexGroups(a.sha256)}</code>
                    </li>
                  ))}
                </ul>
              )}
            </section>
            <section aria-labelledby="record-plan-digest-heading">
              <h4 id="record-plan-digest-heading">Plan digest bound into every entry</h4>
              {plan ? <Digest value={plan.digest} label="Plan digest" /> : <code className="digest-hex">{hexGroups(record.planDigest)}</code>}
            </section>
          </>
        )}
        <footer className="record-signatures">
          <p>Signatures of the witnesses confirming this record:</p>
          {(plan?.participants.witnesses ?? []).map((w) => (
            <p key={w} className="signature-line">
              {w}: ____________________________ date: ____________
            </p>
          ))}
        </footer>
      </article>
    </div>
  )
}

function hasDetail(step: StepView): boolean {
  return step.evidence.length > 0 || step.comparisons.length > 0 || step.signoffs.length > 0 || step.exceptions.length > 0 || step.approval !== null
}

function StepRecord({ step }: { step: StepView }): React.JSX.Element {
  return (
    <section className="record-step" aria-label={`Step ${step.scriptId}: ${step.title}`}>
      <h5>
        Step {step.scriptId}: {step.title}
      </h5>
      {step.evidence.length > 0 && <EvidenceList evidence={step.evidence} />}
      {step.comparisons.map((c, i) => (
        <Comparison key={i} comparison={c} />
      ))}
      {step.approval && (
        <p>
          Approval {step.approval.status}: {step.approval.approvals.length} of {step.approval.quorum.n} (
          {step.approval.approvals.map((a, i) => (
            <Fragment key={a.user}>
              {i > 0 ? ', ' : ''}
              {a.user} at <Time iso={a.at} />
            </Fragment>
          ))}
          )
        </p>
      )}
      {step.signoffs.map((s, i) => (
        <p key={i}>
          Witness {s.witness} signed off at <Time iso={s.at} />: {s.items.join('; ')}
        </p>
      ))}
      {step.exceptions.map((e, i) => (
        <p key={i} className="error-text">
          Exception by {e.by} at <Time iso={e.at} />: {e.note}
        </p>
      ))}
    </section>
  )
}

function factText(value: unknown): string {
  if (value === null || value === undefined) return '—'
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value)
  return JSON.stringify(value)
}

function RecordItems({ title, items, empty }: { title: string; items: RecordItem[]; empty: string }): React.JSX.Element {
  const id = `record-${title.toLowerCase().replace(/[^a-z]+/g, '-')}`
  return (
    <section aria-labelledby={id}>
      <h4 id={id}>{title}</h4>
      {items.length === 0 ? (
        <p>{empty}</p>
      ) : (
        <ul className="record-items">
          {items.map((item) => (
            <li key={item.seq}>
              <Time iso={item.ts} /> · step <code>{item.step}</code> · {item.actor} (log entry {item.seq})
              <ul>
                {Object.entries(item.facts).map(([k, v]) => (
                  <li key={k}>
                    {k}: {factText(v)}
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}

import { Fragment } from 'react'
import type { CeremonyRecord, CeremonySnapshot, DigestView, StepView } from '../../../../preload/contract'
import { Digest, hexGroups } from '../../components/Digest'
import { QrCode } from '../../components/QrCode'
import { stateText } from '../../components/StepState'
import { Time } from '../../components/Time'
import { MaterialsSection } from './MaterialsSection'
import { abortOf, approvalRows, attendanceRows, eventsByStep, sealedAt, signersByStep, softwareOf } from './record-model'
import { DeviationSection, ScriptApproval } from './RecordSections'

interface Props {
  snapshot: CeremonySnapshot
  record: CeremonyRecord | null
  finalDigest: DigestView | null
  /** Print the full audit log as an appendix (always in the JSON; optional on paper). */
  withLog: boolean
}

/**
 * The printable ceremony record, written for an auditor and short enough to read: what ran where,
 * who signed, every denial, failure, restart and exception where it happened, one table of
 * approvals with the digest of what each custodian read, the attendance, the files, and the seal.
 */
export function RecordPage({ snapshot, record, finalDigest, withLog }: Props): React.JSX.Element {
  const plan = snapshot.plan!
  const rehearsal = plan.mode === 'rehearsal'
  const scriptIds = new Map(snapshot.steps.map((s) => [s.id, s.scriptId]))
  const events = record ? eventsByStep(record) : new Map()
  const signers = record ? signersByStep(record) : new Map<string, string[]>()
  const software = record ? softwareOf(record) : null
  const aborted = record ? abortOf(record) : null
  const sealed = snapshot.phase === 'complete' || snapshot.phase === 'aborted'

  return (
    <article className="record-page" aria-label="The printable record" data-with-log={withLog}>
      {rehearsal && (
        <p className="record-watermark" data-testid="record-watermark">
          REHEARSAL — simulated appliances; not a record of a real ceremony
        </p>
      )}
      <header className="record-title">
        <p className="record-kicker">DSM Key Ceremony · Ceremony record · {plan.kindTitle}</p>
        <h3>{plan.title}</h3>
        <p>
          Plan <code>{plan.id}</code> · {rehearsal ? 'REHEARSAL' : 'PRODUCTION'} ·{' '}
          {record && sealed ? (
            <>
              {snapshot.phase === 'aborted' ? 'stopped and sealed' : 'sealed'} <Time iso={sealedAt(record)} />
            </>
          ) : (
            'not sealed yet: the ceremony is in progress'
          )}
        </p>
        {software && (
          <p className="hint" data-testid="record-software">
            Recorded by {software.name} {software.version}, build SHA-256 <code>{hexGroups(software.buildDigest).slice(0, 39)}…</code>
          </p>
        )}
      </header>

      <section className="record-final" aria-labelledby="final-digest-heading">
        <h4 id="final-digest-heading">Final log digest</h4>
        {record && finalDigest ? (
          <div className="final-digest">
            <div>
              <Digest value={finalDigest} size="large" label="Final log digest" />
              <p className="hint">
                The hash of the last of {record.entries.length} audit-log entries: it seals the whole log. Read it aloud, write it down, and
                check it later with <code>ceremony verify</code> or the steps in docs/record-format.md.
              </p>
            </div>
            <QrCode value={finalDigest.hex} label="QR code of the final log digest" />
          </div>
        ) : (
          <p>The record is not available yet.</p>
        )}
      </section>

      {aborted && (
        <section className="record-abort" aria-labelledby="abort-heading">
          <h4 id="abort-heading">The ceremony was stopped</h4>
          <p>
            By {aborted.by}: {aborted.reason}
          </p>
          {aborted.leftBehind.length > 0 && (
            <ul aria-label="Left behind">
              {aborted.leftBehind.map((l) => (
                <li key={l}>{l}</li>
              ))}
            </ul>
          )}
        </section>
      )}

      <section aria-labelledby="record-plan-heading">
        <h4 id="record-plan-heading">Plan</h4>
        <dl className="facts record-facts">
          {plan.details.map((d) => (
            <Fragment key={d.label}>
              <dt>{d.label}</dt>
              <dd>{d.value}</dd>
            </Fragment>
          ))}
          <dt>Plan digest</dt>
          <dd>
            <code className="digest-hex">{plan.digest.hexGroups}</code>
          </dd>
          {plan.buildsOn && (
            <>
              {/* The chain of records: each earlier ceremony by its final digest, verified before any step ran. */}
              <dt>Builds on the records</dt>
              <dd data-testid="record-builds-on">
                {plan.buildsOn.length === 0
                  ? 'none'
                  : plan.buildsOn.map((d) => (
                      <code key={d.hex} className="digest-hex record-digest-line">
                        {d.hexGroups}
                      </code>
                    ))}
              </dd>
            </>
          )}
          <dt>Appliances</dt>
          <dd>{plan.appliances.map((a) => `${a.label} (${a.role}, ${a.host}:${a.port})`).join('; ')}</dd>
          {plan.buildsOn && snapshot.groups.some((g) => g.outcome) && (
            <>
              {/* A ceremony in a chain of records says what it leaves for the next, part by part, as the kind says it. A
                  replication's outcome (each target's KCV) is already in its steps' checks, and its record keeps its page budget. */}
              <dt>Outcome</dt>
              <dd>
                <ul className="record-outcome" aria-label="Outcome, part by part">
                  {snapshot.groups.map((g) => (
                    <li key={g.id}>
                      {g.label}: {g.outcome ?? stateText(g.state)}
                    </li>
                  ))}
                </ul>
              </dd>
            </>
          )}
          {/* One row for the people, so the cameras' row costs the printed record no extra line. */}
          <dt>Operator; witnesses</dt>
          <dd>
            {plan.participants.operator}; {plan.participants.witnesses.join(', ')}
          </dd>
          {/* The cameras the video addendum must account for, by label and id (what each films is in the plan's JSON). */}
          <dt>Cameras</dt>
          <dd data-testid="record-cameras">{plan.cameras.map((c) => `${c.label} (${c.id})`).join('; ') || 'none named'}</dd>
        </dl>
      </section>

      <section aria-labelledby="record-steps-heading">
        <h4 id="record-steps-heading">Steps</h4>
        <table className="record-steps">
          <thead>
            <tr>
              <th scope="col">Step</th>
              <th scope="col">What</th>
              <th scope="col">Result</th>
              <th scope="col">Signed</th>
            </tr>
          </thead>
          <tbody>
            {snapshot.steps.map((s) => (
              <StepRows key={s.id} step={s} events={events.get(s.id) ?? []} signers={signers.get(s.id) ?? []} />
            ))}
            {(events.get('ceremony') ?? []).map((e: { seq: number; at: string; text: string }) => (
              <tr key={e.seq} className="record-event">
                <td>—</td>
                <td colSpan={3}>
                  <Time iso={e.at} />: {e.text}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="hint">Signed: the initials of each witness who signed the step (* a simulated witness, rehearsal only).</p>
      </section>

      {record && <DeviationSection record={record} keeper={snapshot.deviations.keeper} scriptIds={scriptIds} />}
      {record && <ScriptApproval record={record} />}
      {record && <Approvals record={record} scriptIds={scriptIds} />}
      {record && <Attendance record={record} />}
      {record && <MaterialsSection record={record} scriptIds={scriptIds} />}

      <section aria-labelledby="record-artifacts-heading">
        <h4 id="record-artifacts-heading">Files written</h4>
        {!record || record.artifacts.length === 0 ? (
          <p>None.</p>
        ) : (
          <table className="record-files">
            <tbody>
              {record.artifacts.map((a) => (
                <tr key={`${a.name}:${a.sha256}`}>
                  <td>{a.name}</td>
                  <td>{a.bytes} bytes</td>
                  <td>
                    <code className="digest-hex">{hexGroups(a.sha256)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <footer className="record-signatures">
        <p>Signatures of the witnesses confirming this record:</p>
        {plan.participants.witnesses.map((w) => (
          <p key={w} className="signature-line">
            {w}: ____________________________ date (UTC): ____________
          </p>
        ))}
      </footer>

      {record && (
        <section className="record-appendix" aria-labelledby="record-log-heading">
          <h4 id="record-log-heading">Appendix: the full audit log ({record.entries.length} entries)</h4>
          <table className="record-log">
            <tbody>
              {record.entries.map((e) => (
                <tr key={e.seq}>
                  <td>{e.seq}</td>
                  <td>
                    <Time iso={e.ts} />
                  </td>
                  <td>{scriptIds.get(e.step) ?? e.step}</td>
                  <td>{e.kind}</td>
                  <td>{e.actor}</td>
                  <td>
                    <code>{e.hash.slice(0, 16)}…</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </article>
  )
}

function StepRows({ step, events, signers }: { step: StepView; events: { seq: number; at: string; text: string }[]; signers: string[] }): React.JSX.Element {
  const checks = step.comparisons.map((c) => `${c.match ? '✓' : '✗'} ${c.label}: ${c.right.value.hexGroups}`)
  return (
    <>
      <tr>
        <th scope="row">{step.scriptId}</th>
        <td>
          {step.title}
          <span className="hint"> — {step.where}</span>
          {checks.length > 0 && (
            <ul className="record-checks">
              {checks.map((c) => (
                <li key={c}>{c}</li>
              ))}
            </ul>
          )}
        </td>
        <td>
          {stateText(step.state)}
          {step.finishedAt && (
            <>
              <br />
              <Time iso={step.finishedAt} />
            </>
          )}
        </td>
        <td>{signers.join(' ') || (step.witnessItems.length > 0 && step.state === 'done' ? 'not signed' : '—')}</td>
      </tr>
      {events.map((e) => (
        <tr key={e.seq} className="record-event">
          <td />
          <td colSpan={3}>
            <Time iso={e.at} />: {e.text}
          </td>
        </tr>
      ))}
    </>
  )
}

function Approvals({ record, scriptIds }: { record: CeremonyRecord; scriptIds: Map<string, string> }): React.JSX.Element {
  const rows = approvalRows(record, scriptIds)
  return (
    <section aria-labelledby="record-approvals-heading">
      <h4 id="record-approvals-heading">Approvals</h4>
      {rows.length === 0 ? (
        <p>No decision was made in this app (approvals given in the DSM UI are listed with their steps).</p>
      ) : (
        <table className="record-approvals">
          <thead>
            <tr>
              <th scope="col">Step</th>
              <th scope="col">Request</th>
              <th scope="col">Custodian</th>
              <th scope="col">Decision</th>
              <th scope="col">Time</th>
              <th scope="col">What they read (digest)</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.seq}>
                <td>{r.scriptId}</td>
                <td>
                  <code>{r.requestId.slice(0, 8)}</code>
                </td>
                <td>{r.custodian}</td>
                <td>
                  {r.decision}
                  {r.reason ? `: ${r.reason}` : ''}
                </td>
                <td>
                  <Time iso={r.at} />
                </td>
                <td>
                  <code>{hexGroups(r.viewDigest).slice(0, 19)}…</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}

function Attendance({ record }: { record: CeremonyRecord }): React.JSX.Element | null {
  const rows = attendanceRows(record)
  if (rows.length === 0) return null
  return (
    <section aria-labelledby="record-attendance-heading">
      <h4 id="record-attendance-heading">Who was in the room</h4>
      <table className="record-attendance">
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              <td>{r.person}</td>
              <td>{r.role}</td>
              <td>
                arrived <Time iso={r.arrived} />
              </td>
              <td>{r.left ? <>left <Time iso={r.left} /></> : 'stayed to the end'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

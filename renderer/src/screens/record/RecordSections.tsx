import type { CeremonyRecord } from '../../../../preload/contract'
import { hexGroups } from '../../components/Digest'
import { Time } from '../../components/Time'
import { breakRows, scriptApprovalRows } from './record-model'

/**
 * The deviation register as its own section, as auditors expect it: every departure from the
 * script with its UTC time, step, what happened, the resolution, who allowed going on and the
 * initials of every witness present. It is the record's `deviations` (main derives it from the log).
 */
export function DeviationSection({ record, keeper, scriptIds }: { record: CeremonyRecord; keeper: string | null; scriptIds: Map<string, string> }): React.JSX.Element {
  return (
    <section aria-labelledby="record-deviations-heading" data-testid="record-deviations">
      <h4 id="record-deviations-heading">Deviation register</h4>
      {keeper && <p className="hint">Kept by {keeper}, the internal witness.</p>}
      {record.deviations.length === 0 ? (
        <p>No deviation from the script.</p>
      ) : (
        <table className="record-deviations">
          <thead>
            <tr>
              <th scope="col">No.</th>
              <th scope="col">Time</th>
              <th scope="col">Step</th>
              <th scope="col">What happened</th>
              <th scope="col">Resolution</th>
              <th scope="col">Allowed by</th>
              <th scope="col">Witness initials</th>
            </tr>
          </thead>
          <tbody>
            {record.deviations.map((d) => (
              <tr key={d.id}>
                <td>{d.id}</td>
                <td>
                  <Time iso={d.ts} />
                </td>
                <td>{d.step === 'ceremony' ? 'whole ceremony' : (d.scriptId ?? scriptIds.get(d.step) ?? d.step)}</td>
                <td>{d.what}</td>
                <td>{d.resolution ? d.resolution.resolution : <strong>UNRESOLVED</strong>}</td>
                <td>{d.resolution?.allowedBy ?? '—'}</td>
                <td>
                  {d.resolution ? d.resolution.initials.map((i) => `${i.initials}${d.resolution!.simulated ? '*' : ''}`).join(' ') : '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}

/** The script's approval before the first step, and the breaks with who stayed in the room. */
export function ScriptApproval({ record }: { record: CeremonyRecord }): React.JSX.Element | null {
  const approvals = scriptApprovalRows(record)
  const breaks = breakRows(record)
  if (approvals.length === 0 && breaks.length === 0) return null
  return (
    <section aria-labelledby="record-script-heading" data-testid="record-script-approval">
      <h4 id="record-script-heading">Script approval and breaks</h4>
      {approvals.length > 0 && (
        <ul>
          {approvals.map((a) => (
            <li key={`${a.approver}:${a.at}`}>
              {a.approver} ({a.initials}) approved the script <code>{hexGroups(a.scriptDigest).slice(0, 19)}…</code> at <Time iso={a.at} />
            </li>
          ))}
        </ul>
      )}
      {breaks.map((b) => (
        <p key={b.start}>
          Break from <Time iso={b.start} /> {b.end ? <>to <Time iso={b.end} /></> : '(not ended)'}; stayed in the room: {b.stays.join(', ')}
        </p>
      ))}
    </section>
  )
}

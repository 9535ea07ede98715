import { useCeremony } from '../stores'

/**
 * Rehearsal only: the simulated custodians' sign-ins, as the simulator prints them. Given an
 * appliance (id or label), shows that appliance's; shows all if none match.
 */
export function RehearsalCredentials({ appliance }: { appliance?: string }): React.JSX.Element | null {
  const all = useCeremony((s) => s.snapshot?.rehearsalCredentials)
  const appliances = useCeremony((s) => s.snapshot?.plan?.appliances)
  const label = (id: string) => appliances?.find((a) => a.id === id)?.label ?? id
  const every = all ?? []
  const mine = appliance === undefined ? every : every.filter((c) => c.applianceId === appliance || label(c.applianceId) === appliance)
  const rows = mine.length > 0 ? mine : every
  if (rows.length === 0) return null
  const headingId = `creds-${(appliance ?? 'all').replace(/[^A-Za-z0-9_-]/g, '-')}`
  return (
    <section className="rehearsal-creds" aria-labelledby={headingId}>
      <h4 id={headingId}>Simulated custodians (rehearsal only)</h4>
      <p className="hint">These sign-ins exist only on the simulated appliances. A real ceremony never shows a password.</p>
      <div className="table-scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">Appliance</th>
              <th scope="col">DSM user</th>
              <th scope="col">Password</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((c) => (
              <tr key={`${c.applianceId}:${c.user}`}>
                <td>{label(c.applianceId)}</td>
                <td>
                  <code>{c.user}</code>
                </td>
                <td>
                  <code>{c.password}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  )
}

import type { CeremonyRecord } from '../../../../preload/contract'
import { Time } from '../../components/Time'
import { materialsOf } from './materials-model'

/**
 * The record's materials section: the appliances as identified (typed from the chassis beside what
 * the API reported), the bags opened, the storage allocation with the new bag numbers (what the next
 * ceremony checks its bags against), and every mismatch with who let it stand.
 */
export function MaterialsSection({ record, scriptIds }: { record: CeremonyRecord; scriptIds: Map<string, string> }): React.JSX.Element | null {
  const m = materialsOf(record, scriptIds)
  if (!m) return null
  return (
    <section aria-labelledby="record-materials-heading" data-testid="record-materials">
      <h4 id="record-materials-heading">Materials</h4>
      {m.appliances.length > 0 && (
        <table className="record-materials-appliances">
          <caption>Appliances: typed from the chassis, and as their API reports</caption>
          <thead>
            <tr>
              <th scope="col">Appliance</th>
              <th scope="col">Serial number</th>
              <th scope="col">Tamper labels</th>
              <th scope="col">Version, mode</th>
              <th scope="col">FIPS level</th>
              <th scope="col">Plugins digest</th>
            </tr>
          </thead>
          <tbody>
            {m.appliances.map((a) => (
              <tr key={a.id}>
                <td>{a.label}</td>
                <td>{a.serial}</td>
                <td>{a.tamperLabels}</td>
                <td>
                  {a.version}, {a.serverMode}
                </td>
                <td>{a.fipsLevel}</td>
                <td>{a.pluginsDigest ? <code>{a.pluginsDigest.slice(0, 16)}…</code> : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {m.opened.length > 0 && (
        <table className="record-materials-opened">
          <caption>Taken out of their bags</caption>
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">Bag (typed)</th>
              <th scope="col">Serial</th>
              <th scope="col">Checked against</th>
            </tr>
          </thead>
          <tbody>
            {m.opened.map((i) => (
              <tr key={i.id}>
                <td>{i.description}</td>
                <td>{i.bag}</td>
                <td>{i.serial || '—'}</td>
                <td>{i.sealedBy}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {m.records.length > 0 && (
        <ul className="hint">
          {m.records.map((r) => (
            <li key={r}>Earlier record: {r}</li>
          ))}
        </ul>
      )}
      {m.stored.length > 0 && (
        <table className="record-materials-stored" data-testid="record-storage">
          <caption>Storage at the close: each item's new bag and who or which safe received it</caption>
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">Serial</th>
              <th scope="col">New bag</th>
              <th scope="col">Received by</th>
            </tr>
          </thead>
          <tbody>
            {m.stored.map((s) => (
              <tr key={s.item}>
                <td>{s.description}</td>
                <td>{s.serial || '—'}</td>
                <td>
                  <strong>{s.bag}</strong>
                </td>
                <td>{s.to}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h5>Mismatches</h5>
      {m.mismatches.length === 0 ? (
        <p>None: every serial, label, bag and reported value was as expected.</p>
      ) : (
        <ul className="record-materials-mismatches">
          {m.mismatches.map((x) => (
            <li key={x.seq}>
              <strong>{x.reference}</strong> at {x.scriptId}, <Time iso={x.at} />: {x.text}.{' '}
              {x.resolvedBy ? <>Let stand by {x.resolvedBy}</> : <>Named by no exception: the value was typed again, or the ceremony stopped here.</>}
            </li>
          ))}
        </ul>
      )}
      <p className="hint">Values typed in the room are kept in capitals. A mismatch's reference (such as BAG-3fa94c1b) is how an exception names it.</p>
    </section>
  )
}

import { Fragment, useEffect } from 'react'
import { useCeremony, useStores } from '../stores'

/**
 * The ceremony script, printed from the plan alone before the ceremony (as ICANN's and Let's
 * Encrypt's ceremonies work from paper): every step by the id it is read aloud by, what happens,
 * what to compare, and lines for each witness's initials and the time.
 */
export function ScriptScreen(): React.JSX.Element {
  const stores = useStores()
  const script = useCeremony((s) => s.script)
  const planId = useCeremony((s) => s.snapshot?.plan?.id)
  useEffect(() => {
    void stores.ceremony.getState().loadScript()
  }, [stores, planId])

  return (
    <div className="script">
      <div className="no-print">
        <h2 tabIndex={-1} data-screen-heading>
          The ceremony script
        </h2>
        <div className="actions screen-actions">
          <button type="button" onClick={() => window.print()}>
            Print the script
          </button>
          <button type="button" className="secondary" onClick={() => stores.ui.getState().go('plan')}>
            Back to the plan
          </button>
        </div>
      </div>
      {script ? (
        <article className="record-page script-page" aria-label="The printable ceremony script" data-testid="script">
          {script.plan.mode === 'rehearsal' && <p className="record-watermark">REHEARSAL — simulated appliances</p>}
          <header className="record-title">
            <p className="record-kicker">DSM Key Ceremony · Ceremony script · {script.plan.kindTitle}</p>
            <h3>{script.plan.title}</h3>
            <p>
              Plan <code>{script.plan.id}</code>, digest <code className="digest-hex">{script.plan.digest.hexGroups}</code>
            </p>
            <p>
              Each step is signed by {script.signersPerStep}. Witnesses: {script.witnesses.join(', ')}. Times are written in UTC.
            </p>
          </header>
          <ol className="script-steps">
            {script.steps.map((s) => (
              <li key={s.scriptId} className="script-step">
                <h4>
                  <span className="script-id">{s.scriptId}</span> {s.title}
                </h4>
                <p className="hint">{s.where}</p>
                <p>{s.explain}</p>
                {s.confirmation && <p>Typed confirmation: {s.confirmation}.</p>}
                {s.interaction === 'approval' && <p>Custodians approve in the app (or the DSM UI) after reading the request as the appliance holds it.</p>}
                {s.witnessItems.length > 0 && (
                  <>
                    <p>Witnesses check:</p>
                    <ul>
                      {s.witnessItems.map((i) => (
                        <li key={i}>☐ {i}</li>
                      ))}
                    </ul>
                  </>
                )}
                <table className="script-lines">
                  <tbody>
                    {script.witnesses.map((w) => (
                      <Fragment key={w}>
                        <tr>
                          <td>{w}</td>
                          <td>initials ________</td>
                          <td>time (UTC) ________</td>
                        </tr>
                      </Fragment>
                    ))}
                  </tbody>
                </table>
              </li>
            ))}
          </ol>
        </article>
      ) : (
        <p aria-live="polite">Loading the script…</p>
      )}
    </div>
  )
}

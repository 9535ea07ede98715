import { useCeremony } from '../stores'

/**
 * What a resume found that is not about one step (e.g. "an interrupted ceremony was found"), and,
 * with `all`, every finding with the step it concerns.
 */
export function ReconcileNotes({ all = false }: { all?: boolean }): React.JSX.Element | null {
  const reconcile = useCeremony((s) => s.snapshot?.reconcile)
  const steps = useCeremony((s) => s.snapshot?.steps)
  const title = (id: string) => steps?.find((s) => s.id === id)?.title ?? null
  const shown = (reconcile ?? []).filter((r) => all || title(r.stepId) === null)
  if (shown.length === 0) return null
  return (
    <section className="reconcile" aria-labelledby="reconcile-heading">
      <h3 id="reconcile-heading">Found when the ceremony was resumed</h3>
      <ul>
        {shown.map((r, i) => {
          const step = title(r.stepId)
          return (
            <li key={i}>
              {step && <strong>{step}: </strong>}
              {r.finding}
            </li>
          )
        })}
      </ul>
    </section>
  )
}

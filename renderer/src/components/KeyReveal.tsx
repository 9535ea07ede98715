/**
 * The one-time reveal of an API key the ceremony made (replace-appliance's onboarding, P.2), on the
 * step that made it. Main offers it (snapshot.keyReveals, never the key); the key crosses to this
 * screen only when the operator presses "Show the API key once", and main answers it once
 * (main/ceremony/key-reveal.ts). Here it lives in this component's state alone — never in a store,
 * the clipboard or storage — and is dropped when the operator hides it, after a minute, when the
 * window is hidden, and when the screen or the step shown changes (the component unmounts).
 */
import { useEffect, useState } from 'react'
import type { KeyRevealView, StepView } from '../../../preload/contract'
import { useCeremony, useStores } from '../stores'
import { Time } from './Time'

/** Long enough to look at it with the witnesses, short enough that it is not left on the screen. */
export const REVEAL_SHOWN_MS = 60_000

const LAPSED: Record<NonNullable<KeyRevealView['lapsed']>, string> = {
  wiped: 'the secrets were wiped from this workstation\'s memory before it was shown',
  replaced: 'another API key was entered for the appliance before it was shown',
}

export function KeyReveals({ step }: { step: StepView }): React.JSX.Element | null {
  const reveals = useCeremony((s) => s.snapshot?.keyReveals)
  const here = (reveals ?? []).filter((r) => r.stepId === step.id)
  if (here.length === 0) return null
  return (
    <>
      {here.map((r) => (
        <KeyReveal key={`${step.id}:${r.applianceId}`} reveal={r} />
      ))}
    </>
  )
}

function KeyReveal({ reveal }: { reveal: KeyRevealView }): React.JSX.Element {
  const stores = useStores()
  const busy = useCeremony((s) => s.busy.includes(`reveal:${reveal.applianceId}`))
  const [key, setKey] = useState<string | null>(null)

  useEffect(() => {
    if (key === null) return
    const timer = setTimeout(() => setKey(null), REVEAL_SHOWN_MS)
    const hidden = () => {
      if (document.visibilityState === 'hidden') setKey(null)
    }
    document.addEventListener('visibilitychange', hidden)
    return () => {
      clearTimeout(timer)
      document.removeEventListener('visibilitychange', hidden)
    }
  }, [key])

  const id = `key-reveal-${reveal.applianceId}`
  return (
    <section className="key-reveal" aria-labelledby={`${id}-title`} data-testid="key-reveal" data-state={key !== null ? 'showing' : reveal.state}>
      <h4 id={`${id}-title`}>API key of the app made on {reveal.label}</h4>
      {key !== null ? (
        <>
          <p className="warn-text">
            Shown once, so that you and the witnesses can see the app&apos;s key was made. It is not typed anywhere: the ceremony already holds it in this
            workstation&apos;s memory and wipes it at the seal. Do not write it down or photograph it. It will not be shown again.
          </p>
          <output className="revealed-key" data-testid="revealed-key" aria-label="The API key">
            {key}
          </output>
          <div className="actions">
            <button type="button" onClick={() => setKey(null)}>
              Hide the key
            </button>
            <span className="hint">It hides itself after a minute, or when you leave this step.</span>
          </div>
        </>
      ) : reveal.state === 'offered' ? (
        <>
          <p>
            The ceremony made this app&apos;s API key and holds it in memory only. It can be shown on this screen once, at your request, for you and the
            witnesses to see that it was made; nothing needs it typed anywhere. The record says when it was shown, never the key.
          </p>
          <div className="actions">
            <button
              type="button"
              disabled={busy}
              onClick={() => {
                void stores.ceremony.getState().revealApiKey(reveal.applianceId).then((shown) => {
                  if (shown !== null) setKey(shown)
                })
              }}
            >
              Show the API key once
            </button>
          </div>
        </>
      ) : reveal.state === 'shown' ? (
        <p className="hint">
          The API key was shown once{reveal.shownAt ? <> at <Time iso={reveal.shownAt} /></> : ''}, as the record says; it is not shown again.
        </p>
      ) : (
        <p className="hint">The API key can no longer be shown: {LAPSED[reveal.lapsed ?? 'wiped']}. The record says it was offered and not shown.</p>
      )}
    </section>
  )
}

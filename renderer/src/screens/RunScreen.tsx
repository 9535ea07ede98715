import { useEffect, useRef, useState } from 'react'
import type { CeremonySnapshot, StepView } from '../../../preload/contract'
import { Comparison } from '../components/Comparison'
import { Digest } from '../components/Digest'
import { KeyReveals } from '../components/KeyReveal'
import { ReconcileNotes } from '../components/ReconcileNotes'
import { SecretsNotice } from '../components/SecretsNotice'
import { StepError } from '../components/ErrorBox'
import { StepStateBadge } from '../components/StepState'
import { Time } from '../components/Time'
import { useCeremony, useStores, useUi } from '../stores'
import { ConfirmBox, confirmationMatches } from '../components/ConfirmBox'
import { ApprovalPanel, RestartApproval } from './ApprovalPanel'
import { AbortCeremony } from './AbortCeremony'
import { BeginCeremony } from './BeginCeremony'
import { ExceptionPanel, WitnessPanel } from './WitnessPanel'
import { DeviationRegister } from './DeviationRegister'
import { RoomPanel } from './RoomPanel'
import { StepInputForm, formProblem, initialValues, type TypedValues } from './StepInputForm'
import { StationBanner } from '../components/Stations'
import { NoPlan } from '../components/NoPlan'
import { CameraList } from '../components/CeremonyClock'

/** The ceremony, one step at a time: the step list, the per-target board and the chosen step. */
export function RunScreen(): React.JSX.Element {
  const stores = useStores()
  const snapshot = useCeremony((s) => s.snapshot)
  const selected = useUi((s) => s.selectedStepId)
  // Following the ceremony, the screen shows the step being signed (a finished step whose witnesses
  // have not all signed yet: also after a restart, or a quorum reached meanwhile), else the current one.
  const beingSigned = snapshot?.steps.find((s) => s.state === 'done' && s.signoff !== null && !s.signoff.complete && s.id !== snapshot.currentStepId)?.id ?? null
  // Once shown, the step being signed stays on screen until the operator moves on with Next step.
  useEffect(() => {
    if (!selected && beingSigned) stores.ui.getState().selectStep(beingSigned)
  }, [selected, beingSigned, stores])

  if (!snapshot?.plan) {
    return <NoPlan />
  }
  const { steps, currentStepId, phase } = snapshot
  if (steps.length === 0) return <BeginCeremony />
  const shownId = selected ?? beingSigned ?? currentStepId ?? steps.at(-1)?.id ?? null
  const step = steps.find((s) => s.id === shownId) ?? null
  const done = steps.filter((s) => s.state === 'done' || s.state === 'skipped').length
  const shownIndex = steps.findIndex((s) => s.id === shownId)
  const currentIndex = steps.findIndex((s) => s.id === currentStepId)
  // A step that has just run stays on screen for the witnesses until the operator moves on.
  const justRun = step !== null && (step.state === 'done' || step.state === 'skipped') && currentIndex > shownIndex && (shownIndex + 1 === currentIndex || step.id === beingSigned || (step.signoff !== null && !step.signoff.complete))

  return (
    <div className="run">
      <a className="skip-link" href="#step-title">
        Skip to the step on screen
      </a>
      <div className="run-head">
        <h2 tabIndex={-1} data-screen-heading>
          Ceremony steps
        </h2>
        <p className="progress-text">
          <strong>{done}</strong> of {steps.length} steps done
        </p>
        <progress value={done} max={Math.max(steps.length, 1)} aria-label="Ceremony progress" />
      </div>
      {phase === 'complete' && (
        <div className="ok-box" role="status">
          <p>
            <strong>The ceremony is complete.</strong> Print and export the record for the auditors.
          </p>
          <button type="button" onClick={() => stores.ui.getState().go('record')}>
            View the ceremony record
          </button>
        </div>
      )}
      {phase === 'failed' && (
        <p className="error-text" role="status">
          The ceremony stopped on a failure. Open the failed step to see what is safe and what to do next.
        </p>
      )}
      {phase === 'aborted' && (
        <div className="error-box" role="status">
          <p>
            <strong>The ceremony was stopped.</strong> The record holds why, and what was left on which appliance.
          </p>
          <button type="button" onClick={() => stores.ui.getState().go('record')}>
            View the ceremony record
          </button>
        </div>
      )}
      <CameraList cameras={snapshot.plan.cameras} />
      <ReconcileNotes />
      <StationBanner />
      <RoomPanel />
      <SecretsNotice />
      <TargetBoard snapshot={snapshot} />
      {phase !== 'complete' && phase !== 'aborted' && <AbortCeremony />}
      <div className="run-layout">
        <StepList steps={steps} shownId={shownId} currentStepId={currentStepId} />
        <div className="run-detail">
          {selected && selected !== currentStepId && currentStepId && !justRun && (
            <p className="hint">
              You are looking at an earlier or later step.{' '}
              <button type="button" className="link" onClick={() => stores.ui.getState().selectStep(null)}>
                Go to the current step
              </button>
            </p>
          )}
          {step ? <StepDetail key={step.id} step={step} next={justRun ? (steps[currentIndex] ?? null) : null} /> : <p>No steps.</p>}
        </div>
      </div>
      <DeviationRegister />
    </div>
  )
}

function groupLabel(snapshot: CeremonySnapshot, id: string | null): string | null {
  if (id === null) return null
  return snapshot.groups.find((g) => g.id === id)?.label ?? snapshot.plan?.appliances.find((a) => a.id === id)?.label ?? id
}

function TargetBoard({ snapshot }: { snapshot: CeremonySnapshot }): React.JSX.Element | null {
  if (snapshot.groups.length < 2) return null
  return (
    <section className="target-board" aria-labelledby="targets-heading">
      <h3 id="targets-heading">Progress, part by part</h3>
      <div className="table-scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">Part of the ceremony</th>
              <th scope="col">State</th>
              <th scope="col">Steps done</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {snapshot.groups.map((t) => (
              <tr key={t.id} data-testid={`target-${t.id}`}>
                <th scope="row">{t.label}</th>
                <td>
                  <StepStateBadge state={t.state} />
                </td>
                <td>
                  {t.done} of {t.total}
                </td>
                <td>{t.outcome ? <code>{t.outcome}</code> : <span className="hint">not yet</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  )
}

function StepList({ steps, shownId, currentStepId }: { steps: StepView[]; shownId: string | null; currentStepId: string | null }): React.JSX.Element {
  const stores = useStores()
  const snapshot = useCeremony((s) => s.snapshot)
  // Consecutive steps of the same group (e.g. one target appliance) are listed together.
  const groups: { target: string | null; steps: StepView[] }[] = []
  for (const step of steps) {
    const last = groups.at(-1)
    if (last && last.target === step.group) last.steps.push(step)
    else groups.push({ target: step.group, steps: [step] })
  }
  return (
    <nav className="step-list" aria-label="Ceremony steps">
      {groups.map((g, i) => (
        <div key={`${g.target ?? 'all'}-${i}`} className="step-group">
          <p className="step-group-title">{g.target ? (snapshot ? groupLabel(snapshot, g.target) : g.target) : 'The whole ceremony'}</p>
          <ol>
            {g.steps.map((s) => (
              <li key={s.id}>
                <button
                  type="button"
                  className={`step-link${s.id === shownId ? ' step-link-shown' : ''}`}
                  aria-current={s.id === shownId ? 'step' : undefined}
                  onClick={() => stores.ui.getState().selectStep(s.id === currentStepId ? null : s.id)}
                >
                  <span className="step-num">{s.scriptId}</span>
                  <span className="step-title">{s.title}</span>
                  <StepStateBadge state={s.state} />
                  {s.id === currentStepId && <span className="current-tag">current</span>}
                </button>
              </li>
            ))}
          </ol>
        </div>
      ))}
    </nav>
  )
}

/** Before the engine has opened, there are no steps yet: starting means running the preflight. */
function StepDetail({ step, next }: { step: StepView; next: StepView | null }): React.JSX.Element {
  const stores = useStores()
  const snapshot = useCeremony((s) => s.snapshot)
  const running = useCeremony((s) => s.busy.includes(`run:${step.id}`))
  const [confirmation, setConfirmation] = useState('')
  const isCurrent = snapshot?.currentStepId === step.id
  const finished = step.state === 'done' || step.state === 'skipped'
  const isApproval = step.interaction === 'approval'
  // An approval step's confirmation is typed by each approving custodian, not to start waiting.
  const needsConfirmation = step.confirmation !== null && !isApproval
  const showConfirmation = needsConfirmation && !finished
  const confirmed = !needsConfirmation || confirmationMatches(step.confirmation!, confirmation)
  // Values read in the room: typed for the first attempt; after a refusal, run again with them (once
  // an exception names each mismatch) or type them again.
  const [typed, setTyped] = useState<TypedValues>(() => (step.input ? initialValues(step.input.fields) : {}))
  const [retype, setRetype] = useState(false)
  const typing = step.input !== null && !finished && (step.input.earlier === null || retype)
  const inputProblem = typing ? formProblem(step.input!.fields, typed) : null
  // A waiting approval is polled by main; there is nothing to run until it is decided. A denied,
  // failed or expired request has one way on (a fresh request), so running it again is not offered.
  const showRun = !finished && !(isApproval && step.state === 'waiting') && step.error?.recovery !== 'fresh-request'
  const canRun = isCurrent && !finished && step.state !== 'running' && !running && confirmed && inputProblem === null && !(step.seals && (snapshot?.deviations.lines ?? []).some((d) => !d.resolution))
  // Main says what the way on is; the screen keeps no list of error codes.
  const restartable = step.error?.recovery === 'fresh-request' && step.approval === null
  const findings = (snapshot?.reconcile ?? []).filter((r) => r.stepId === step.id)
  const target = snapshot ? groupLabel(snapshot, step.group) : step.group
  // After an action, focus goes to its result: the way on when the step is done, the error when it failed.
  const nextRef = useRef<HTMLButtonElement>(null)
  const resultRef = useRef<HTMLDivElement>(null)
  const lastState = useRef(step.state)
  useEffect(() => {
    if (lastState.current === step.state) return
    lastState.current = step.state
    if (step.state === 'done' && nextRef.current && !nextRef.current.disabled) nextRef.current.focus()
    else if (step.state === 'done' || step.state === 'failed' || step.state === 'waiting') resultRef.current?.focus()
  }, [step.state])

  // The sealing step waits for the register: every deviation resolved in front of the witnesses.
  const openDeviations = step.seals ? (snapshot?.deviations.lines ?? []).filter((d) => !d.resolution).length : 0
  let blocked = ''
  if (finished) blocked = 'This step is finished.'
  else if (openDeviations > 0) blocked = `${openDeviations} deviation(s) in the register below are not resolved yet: the record is sealed only once each is.`
  else if (!isCurrent) blocked = 'Steps run in order: this is not the current step.'
  else if (!confirmed) blocked = 'Type the confirmation above first: the last characters of the value shown.'
  else if (inputProblem) blocked = inputProblem
  else if (step.state === 'running' || running) blocked = 'Running…'

  return (
    <article className="step-detail" aria-labelledby="step-title" data-testid="step-detail" data-step-id={step.id} data-kind={step.name} data-interaction={step.interaction} data-state={step.state}>
      <header className="step-header">
        <p className="step-meta">
          Step <span className="script-id">{step.scriptId}</span> · {step.where}
          {target ? ` · ${target}` : ''}
        </p>
        <h3 id="step-title">{step.title}</h3>
        <p className="step-status" aria-live="polite">
          <StepStateBadge state={step.state} />
          {step.startedAt && (
            <span className="hint">
              {' '}
              started <Time iso={step.startedAt} />
            </span>
          )}
          {step.finishedAt && (
            <span className="hint">
              {' '}
              · finished <Time iso={step.finishedAt} />
            </span>
          )}
        </p>
      </header>

      <section className="explain" aria-label="What happens and why">
        <p>{step.explain}</p>
      </section>

      {findings.length > 0 && (
        <section className="reconcile" aria-label="Found after the restart">
          <h4>Found on the appliances after the restart</h4>
          <ul>
            {findings.map((f, i) => (
              <li key={i}>{f.finding}</li>
            ))}
          </ul>
        </section>
      )}

      <div ref={resultRef} tabIndex={-1} className="step-result" role="region" aria-label="Result of this step">
        {step.error && <StepError error={step.error} />}
      </div>
      <KeyReveals step={step} />

      {openDeviations > 0 && !finished && (
        <p className="warn-text" role="status" data-testid="seal-waits">
          Before sealing: {openDeviations} deviation(s) are open. <a href="#deviations">Resolve them in the deviation register</a>.
        </p>
      )}

      {step.confirmation && showConfirmation && (
        <ConfirmBox id={`confirm-${step.id}`} confirmation={step.confirmation} warning="This cannot be undone." typed={confirmation} onChange={setConfirmation} />
      )}

      {typing && <StepInputForm step={step} values={typed} onChange={setTyped} disabled={!isCurrent || running} />}
      {step.input && !finished && !typing && step.input.earlier && (
        <section className="step-input-earlier" aria-label="Values typed before">
          <p>
            <strong>Run step</strong> judges again the values typed before
            {step.error ? ': once a witness has recorded an exception naming each mismatch above, they stand.' : '.'}
          </p>
          <ul className="earlier-values">
            {step.input.fields.map((f) => (
              <li key={f.id}>
                {f.group} — {f.label}: <strong>{f.options?.find((o) => o.value === step.input!.earlier![f.id])?.label ?? step.input!.earlier![f.id] ?? '—'}</strong>
              </li>
            ))}
          </ul>
          <button type="button" onClick={() => setRetype(true)}>
            A value was mistyped: type them again
          </button>
        </section>
      )}
      {step.approval && <ApprovalPanel step={step} />}
      {restartable && <RestartApproval step={step} />}

      {showRun && (
        <div className="actions run-actions">
          <button
            type="button"
            className="primary-big"
            disabled={!canRun}
            aria-describedby={`run-hint-${step.id}`}
            onClick={() => {
              stores.ui.getState().selectStep(step.id)
              void stores.ceremony.getState().runStep(step.id, needsConfirmation ? confirmation.trim() : undefined, typing ? typed : undefined)
            }}
          >
            {running || step.state === 'running' ? 'Running…' : 'Run step'}
          </button>
          <span id={`run-hint-${step.id}`} className="hint">
            {blocked}
          </span>
        </div>
      )}

      {step.comparisons.length > 0 && (
        <section aria-labelledby={`cmp-${step.id}`}>
          <h4 id={`cmp-${step.id}`}>Witnesses compare</h4>
          {step.comparisons.map((c, i) => (
            <Comparison key={i} comparison={c} />
          ))}
        </section>
      )}

      {step.evidence.length > 0 && (
        <section aria-labelledby={`ev-${step.id}`}>
          <h4 id={`ev-${step.id}`}>Evidence from this step</h4>
          <EvidenceList evidence={step.evidence} />
        </section>
      )}

      <WitnessPanel step={step} />

      {next && (
        <div className="next-step">
          <p>
            <strong>✓ This step is done.</strong> Witnesses: compare what is shown above and sign off. Then continue.
          </p>
          {/* A step is left only once it is signed, or an exception allowed going on without. */}
          <button
            ref={nextRef}
            type="button"
            className="primary-big"
            disabled={step.signoff !== null && !step.signoff.complete}
            aria-describedby={`next-hint-${step.id}`}
            onClick={() => stores.ui.getState().selectStep(null)}
          >
            Next step: {next.scriptId} {next.title} →
          </button>
          {step.signoff !== null && !step.signoff.complete && (
            <span id={`next-hint-${step.id}`} className="hint">
              Waiting for {step.signoff.required - step.signoffs.length} more witness sign-off(s), or an exception that allows going on without.
            </span>
          )}
        </div>
      )}

      <ExceptionPanel step={step} />
    </article>
  )
}

export function EvidenceList({ evidence }: { evidence: StepView['evidence'] }): React.JSX.Element {
  return (
    <dl className="evidence">
      {evidence.map((e, i) => (
        <div key={i} className="evidence-item">
          <dt>{e.label}</dt>
          <dd>{e.digest ? <Digest value={e.digest} label={e.label} /> : <span className="evidence-value">{e.value}</span>}</dd>
        </div>
      ))}
    </dl>
  )
}


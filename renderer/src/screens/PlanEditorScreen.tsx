import { useState } from 'react'
import { Digest } from '../components/Digest'
import { useEditor, useStores } from '../stores'
import { PLAN_TEMPLATES } from '../stores/plan-templates'
import { PlanDetails } from './PlanReviewScreen'

/** A JSON editor for the plan, validated in main as the operator types, saved through main's dialog. */
export function PlanEditorScreen(): React.JSX.Element {
  const stores = useStores()
  const text = useEditor((s) => s.text)
  const status = useEditor((s) => s.status)
  const issues = useEditor((s) => s.issues)
  const summary = useEditor((s) => s.summary)
  const saving = useEditor((s) => s.saving)
  const saved = useEditor((s) => s.saved)
  const error = useEditor((s) => s.error)
  const editor = stores.editor.getState()
  const valid = status === 'checked' && issues.length === 0 && summary !== null
  const [kind, setKind] = useState(PLAN_TEMPLATES[0]!.kind)
  // A template replaces the text only when nothing of the operator's own would be lost.
  const untouched = text.trim() === '' || PLAN_TEMPLATES.some((t) => t.text === text)

  const statusText =
    status === 'empty'
      ? 'The plan is empty.'
      : status === 'checked'
        ? issues.length === 0
          ? 'The plan is valid.'
          : `${issues.length} ${issues.length === 1 ? 'problem' : 'problems'} to fix.`
        : 'Checking…'

  return (
    <div className="plan-editor">
      <h2 tabIndex={-1} data-screen-heading>
        Plan editor
      </h2>
      <p className="hint">
        The plan is one JSON file. Every field is checked as you type; unknown fields are refused. It holds no secrets: API keys and
        passwords are entered during the ceremony.
      </p>
      <div className="editor-layout">
        <div className="editor-text">
          <label htmlFor="plan-text">Plan (JSON)</label>
          <textarea
            id="plan-text"
            value={text}
            spellCheck={false}
            autoComplete="off"
            rows={28}
            aria-describedby="plan-status plan-issues"
            aria-invalid={status === 'checked' && issues.length > 0}
            onChange={(e) => editor.setText(e.target.value)}
          />
        </div>
        <div className="editor-side">
          <p id="plan-status" role="status" className={valid ? 'ok-text' : undefined}>
            {statusText}
          </p>
          <div id="plan-issues">
            {issues.length > 0 && (
              <ul className="issues" aria-label="Problems by field">
                {issues.map((issue, i) => (
                  <li key={`${issue.path}:${i}`}>
                    <code>{issue.path}</code>
                    <span>{issue.message}</span>
                  </li>
                ))}
              </ul>
            )}
          </div>
          {valid && summary && (
            <section aria-labelledby="editor-digest-heading">
              <h3 id="editor-digest-heading">Digest of this plan</h3>
              <Digest value={summary.digest} label="Plan digest" />
            </section>
          )}
          {error && (
            <p role="alert" className="error-text">
              <code className="error-code">{error.code}</code> {error.message}
            </p>
          )}
          {saved && (
            <div role="status" className="ok-box">
              <p>Saved. Digest of the saved file:</p>
              <Digest value={saved} label="Saved plan digest" />
            </div>
          )}
        </div>
      </div>
      {valid && summary && (
        <section className="editor-preview" aria-labelledby="editor-preview-heading" data-testid="editor-preview">
          <h3 id="editor-preview-heading">What this plan says</h3>
          <p className="hint">As the review screen will show it to the custodians and witnesses: check each line against what was agreed.</p>
          <PlanDetails plan={summary} preview />
        </section>
      )}
      <div className="template-choice">
        <label htmlFor="plan-template">Template</label>
        <select id="plan-template" value={kind} onChange={(e) => setKind(e.target.value)} aria-describedby="plan-template-hint">
          {PLAN_TEMPLATES.map((t) => (
            <option key={t.kind} value={t.kind}>
              {t.title}
            </option>
          ))}
        </select>
        <button type="button" className="secondary" disabled={!untouched} onClick={() => void editor.load(PLAN_TEMPLATES.find((t) => t.kind === kind)!.text)}>
          Start from this template
        </button>
        <span id="plan-template-hint" className="hint">
          {untouched ? 'Replaces the text with every field of that kind of plan, to be filled in.' : 'The text has your changes: clear it first to start from a template.'}
        </span>
      </div>
      <div className="actions screen-actions">
        <button type="button" disabled={!valid || saving} onClick={() => void editor.save()}>
          Save plan…
        </button>
        <button type="button" className="secondary" onClick={() => stores.ui.getState().go('home')}>
          Back to start
        </button>
      </div>
    </div>
  )
}

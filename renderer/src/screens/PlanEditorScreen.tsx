import { Digest } from '../components/Digest'
import { useEditor, useStores } from '../stores'
import { PLAN_TEMPLATE } from '../stores/plan-editor-store'

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
      <div className="actions screen-actions">
        <button type="button" disabled={!valid || saving} onClick={() => void editor.save()}>
          Save plan…
        </button>
        {text.trim() === '' && (
          <button type="button" className="secondary" onClick={() => void editor.load(PLAN_TEMPLATE)}>
            Start from the template
          </button>
        )}
        <button type="button" className="secondary" onClick={() => stores.ui.getState().go('home')}>
          Back to start
        </button>
      </div>
    </div>
  )
}

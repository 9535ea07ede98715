/**
 * API keys a ceremony made itself (replace-appliance's onboarding makes the new appliance's app):
 * held where typed keys are (the secrets vault, EngineOptions.madeApiKey), so they never outlive
 * the process. After a restart the engine reads each one again, before a step runs, through the
 * app's credential endpoint as the sign-in that made it (the vendor lets an account administrator
 * read an app's credential: GetAppCredential), and holds it again without showing it. Nothing is
 * read while the key is held.
 */
import { AccountsApi, type UserSession } from '../dsm'
import { CeremonyError } from '../errors'
import type { LogEntry } from '../evidence'
import type { EngineOptions, MadeKeyShown } from './engine-options'
import { ENTRY } from './entry-kinds'

/** The words of every note that says a made key was read again (a resumed step's adoption, a restart's recall): C.0 counts them. */
export const KEY_READ_AGAIN = 'was read again'

export interface MadeKey { applianceId: string; signInId: string; appId: string }

/** A key the ceremony made goes where typed keys go; without a holder it is refused, never dropped silently. */
export function holdMadeKey(options: Pick<EngineOptions, 'madeApiKey'>, label: string, applianceId: string, key: Buffer, show: boolean, stepId?: string): MadeKeyShown {
  if (!options.madeApiKey) throw new CeremonyError('API_KEY_NOT_HELD', `This workstation cannot hold the API key made for ${label}: run the ceremony in the app or with ceremony run`)
  return options.madeApiKey(applianceId, key, show, stepId)
}

/** What the engine gives holdMadeKey to find and record a showing: its log, and who runs the ceremony. */
export interface ShowingLog {
  entries(): readonly LogEntry[]
  append(entry: { actor: string; step: string; kind: string; facts: Record<string, unknown> }): Promise<unknown>
}

/**
 * A made key is shown once in a ceremony, wherever it is shown: not again when the log already
 * records a showing (a resumed step adopting the app it made reads the key again), and a showing
 * on the terminal is recorded like the app's reveal (`api-key-shown`, never the key). The entry is
 * queued behind the showing (the hold is synchronous; the log serialises appends, so it lands
 * before the step's result): a kill between the two shows it once more on resume, never silently.
 */
export function holdMadeKeyOnce(options: Pick<EngineOptions, 'madeApiKey'>, log: ShowingLog, operator: string, label: string, applianceId: string, key: Buffer, show: boolean, stepId?: string): MadeKeyShown {
  const shownBefore = log.entries().some((e) => e.kind === ENTRY.apiKeyShown && e.facts['appliance'] === applianceId)
  const fate = holdMadeKey(options, label, applianceId, key, show && !shownBefore, stepId)
  if (fate === 'shown') {
    void log.append({ actor: operator, step: stepId ?? 'ceremony', kind: ENTRY.apiKeyShown, facts: { appliance: applianceId, by: operator, shown: 'once, on the operator\'s terminal' } }).catch(() => undefined)
  }
  return fate
}

export interface RecallDeps {
  options: Pick<EngineOptions, 'apiKey' | 'madeApiKey'>
  user(signInId: string): Promise<UserSession>
  label(applianceId: string): string
  /** Logs what was done (a reconcile finding). */
  found(finding: string): Promise<void>
}

export async function recallMadeKeys(made: MadeKey[], deps: RecallDeps): Promise<void> {
  const keep = deps.options.madeApiKey
  if (!keep) return
  for (const m of made) {
    const held = deps.options.apiKey(m.applianceId)
    held?.fill(0)
    if (held && held.length > 0) continue
    let key: Buffer
    try {
      key = await new AccountsApi(await deps.user(m.signInId)).apiKey(m.appId)
    } catch (err) {
      throw new CeremonyError('API_KEY_MISSING', `The API key of the app ${m.appId} this ceremony made on ${deps.label(m.applianceId)} could not be read again after the restart: ${err instanceof Error ? err.message : String(err)}`)
    }
    try {
      keep(m.applianceId, key, false)
    } finally {
      key.fill(0)
    }
    await deps.found(`the API key of the app this ceremony made on ${deps.label(m.applianceId)} ${KEY_READ_AGAIN} after the restart (held in memory, not shown)`)
  }
}

/**
 * API keys a ceremony made itself (replace-appliance's onboarding makes the new appliance's app):
 * held in the secrets vault like a typed key, so they never outlive the process. After a restart
 * the engine reads each one again, before a step runs, through the app's credential endpoint as
 * the sign-in that made it (the vendor lets an account administrator read an app's credential:
 * GetAppCredential), and holds it again without showing it. Nothing is read when the key is held.
 */
import { AccountsApi, type UserSession } from '../dsm'
import { CeremonyError } from '../errors'

export interface MadeKey { applianceId: string; signInId: string; appId: string }

export interface MadeKeysDeps {
  /** Is a key held for the appliance now? */
  held(applianceId: string): boolean
  user(signInId: string): Promise<UserSession>
  /** Holds the key (the vault); never shows it. */
  keep(applianceId: string, key: Buffer): void
}

export async function recallMadeKeys(made: MadeKey[], deps: MadeKeysDeps): Promise<string[]> {
  const recalled: string[] = []
  for (const m of made) {
    if (deps.held(m.applianceId)) continue
    let key: Buffer
    try {
      key = await new AccountsApi(await deps.user(m.signInId)).apiKey(m.appId)
    } catch (err) {
      throw new CeremonyError('API_KEY_MISSING', `The API key of the app ${m.appId} this ceremony made could not be read again after the restart: ${err instanceof Error ? err.message : String(err)}`)
    }
    try {
      deps.keep(m.applianceId, key)
    } finally {
      key.fill(0)
    }
    recalled.push(m.applianceId)
  }
  return recalled
}

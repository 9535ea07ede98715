/**
 * The one-time reveal, on the run screen, of an API key the ceremony made (replace-appliance's
 * onboarding, P.2 `onboard-app`). The key itself stays in the secrets vault (api-key-vault.ts):
 * this module holds only which appliance's key may be revealed, by which step, and what became of
 * the offer. The attacker it is written against is anyone at the screen (or a compromised
 * renderer) who would see the key more than once, or after it was meant to be gone:
 *   - the key crosses IPC only on the operator's explicit request, and only once: the offer is
 *     claimed before the key leaves main, so a second request, even one racing the first, answers
 *     KEY_ALREADY_SHOWN;
 *   - only a key its step verified is revealed (the step is done: its key opened a session that
 *     reaches the quorum group);
 *   - an offer lapses, never to come back, when the vault is wiped (idle, seal, new plan, quit) or
 *     the operator types another key for that appliance; a key revealed once is never offered again
 *     in this ceremony (a step run again reads the same key: the log's `api-key-shown` entry says it
 *     was shown, across restarts too).
 * The reveal is recorded (the log's `api-key-shown` entry, never the key) before the key is handed
 * over; if that fails, nothing is shown and the offer stands.
 */
import type { KeyRevealView } from '../../preload/contract'
import type { LogEntry } from '../evidence'
import { CeremonyError } from '../errors'
import type { ApiKeyVault } from './api-key-vault'
import type { MadeKeyShown } from './engine-options'
import { ENTRY } from './entry-kinds'
import { labelOf, type Plan } from './plan-envelope'
import type { WitnessDesk } from './witness-desk'

/** What a reveal needs of the open ceremony (the engine): its steps' states and the witness desk that logs the reveal. */
export interface RevealEngine {
  record(stepId: string): { state: string }
  people(act: (desk: WitnessDesk) => Promise<void>): Promise<void>
}

type Lapse = NonNullable<KeyRevealView['lapsed']>

interface Offer {
  stepId: string
  state: KeyRevealView['state']
  shownAt: string | null
  lapsed: Lapse | null
  /** A wipe or a typed key while a claim was being recorded: if the claim is given back, it lapses instead. */
  lapseOnUndo?: Lapse
}

export class KeyReveals {
  private readonly offers = new Map<string, Offer>()

  constructor(
    private readonly secrets: ApiKeyVault,
    private readonly now: () => Date,
  ) {}

  /**
   * A key the ceremony made (EngineOptions.madeApiKey): held in the vault like a typed one and, when
   * `offerBy` (the step that made it) asks, offered for one reveal — unless the log says this
   * appliance's key was shown already (a step run again after a restart reads the same key).
   */
  made(applianceId: string, key: Buffer, offerBy: string | null, entries: readonly LogEntry[]): MadeKeyShown {
    this.secrets.setCopy(applianceId, key)
    if (offerBy === null) return 'held'
    const shownBefore = entries.some((e) => e.kind === ENTRY.apiKeyShown && e.facts['appliance'] === applianceId)
    return this.offer(applianceId, offerBy, shownBefore)
  }

  /**
   * The operator asked to see the key: the offer is taken first (a second call answers
   * KEY_ALREADY_SHOWN), only a key its step verified and the vault still holds is shown, the reveal is
   * logged (never the key; refused during a break or with no witness present, the offer then given
   * back), and only then does the key leave main, as the answer to this call.
   */
  async reveal(plan: Plan, applianceId: string, engine: RevealEngine | null, operator: string): Promise<{ applianceId: string; apiKey: string }> {
    if (!plan.appliances.some((a) => a.id === applianceId)) throw new CeremonyError('UNKNOWN_APPLIANCE', `The plan has no appliance "${applianceId}"`)
    const label = labelOf(plan, applianceId)
    const claim = this.claim(applianceId, label)
    const key = engine && engine.record(claim.stepId).state === 'done' ? this.secrets.copy(applianceId) : undefined
    if (!engine || !key) {
      claim.undo()
      throw new CeremonyError('KEY_NOT_OFFERED', `The API key made for ${label} is shown once its step is done and while it is held in memory`)
    }
    try {
      await engine.people((desk) => desk.apiKeyShown(claim.stepId, applianceId, operator))
    } catch (err) {
      claim.undo()
      key.fill(0)
      throw err
    }
    this.secrets.touch()
    const apiKey = key.toString('utf8')
    key.fill(0)
    return { applianceId, apiKey }
  }

  /**
   * The step made a key to show: offered, unless this appliance's key was already shown in this
   * ceremony (here, or as the log records it) — then it is only held.
   */
  offer(applianceId: string, stepId: string, shownBefore: boolean): 'offered' | 'held' {
    if (shownBefore || this.offers.get(applianceId)?.state === 'shown') return 'held'
    this.offers.set(applianceId, { stepId, state: 'offered', shownAt: null, lapsed: null })
    return 'offered'
  }

  /**
   * Takes the one reveal: the offer is 'shown' from here on. `undo` puts it back when the reveal
   * could not be recorded (nothing was shown then).
   */
  claim(applianceId: string, label: string): { stepId: string; undo(): void } {
    const offer = this.offers.get(applianceId)
    if (!offer) throw new CeremonyError('KEY_NOT_OFFERED', `No API key this ceremony made for ${label} is waiting to be shown`)
    if (offer.state === 'shown') throw new CeremonyError('KEY_ALREADY_SHOWN', `The API key made for ${label} was shown once, at ${offer.shownAt}; it is not shown again`)
    if (offer.state === 'lapsed') throw new CeremonyError('KEY_REVEAL_LAPSED', `The API key made for ${label} can no longer be shown: ${LAPSED[offer.lapsed ?? 'wiped']}`)
    offer.state = 'shown'
    offer.shownAt = this.now().toISOString()
    return {
      stepId: offer.stepId,
      undo: () => {
        offer.shownAt = null
        if (offer.lapseOnUndo) Object.assign(offer, { state: 'lapsed', lapsed: offer.lapseOnUndo })
        else offer.state = 'offered'
      },
    }
  }

  /** Every offer not yet taken lapses for good (the vault was wiped, or a key was typed over it). */
  lapse(why: Lapse, applianceId?: string): void {
    for (const [id, offer] of this.offers) {
      if (applianceId !== undefined && id !== applianceId) continue
      if (offer.state === 'offered') Object.assign(offer, { state: 'lapsed', lapsed: why })
      else if (offer.state === 'shown') offer.lapseOnUndo = why // a claim being recorded now is not given back
    }
  }

  /** A new plan: nothing carries over. */
  reset(): void {
    this.offers.clear()
  }

  views(label: (applianceId: string) => string): KeyRevealView[] {
    return [...this.offers].map(([applianceId, o]) => ({ applianceId, label: label(applianceId), stepId: o.stepId, state: o.state, shownAt: o.shownAt, lapsed: o.lapsed }))
  }
}

const LAPSED: Record<Lapse, string> = {
  wiped: 'the secrets were wiped from this workstation\'s memory before it was shown',
  replaced: 'another API key was entered for that appliance before it was shown',
}

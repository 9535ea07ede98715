/**
 * On start, the app offers an unfinished production ceremony in its state folder for resuming: the
 * first whose plan's last step is not done. A folder that cannot be read is left alone for the
 * operator to inspect, and said so; it does not stop the app.
 */
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { JournalStore } from './journal'
import type { Plan } from './plan'
import { readPlanFileSync } from './plan-file'
import { kindOf } from './registry'

export interface Interrupted {
  plan: Plan | null
  findings: { stepId: string; finding: string }[]
}

export function findInterrupted(stateRoot: string, journalStore: (dir: string) => JournalStore): Interrupted {
  const findings: Interrupted['findings'] = []
  for (const name of readdirSync(stateRoot)) {
    if (name.startsWith('REHEARSAL-')) continue // simulated appliances do not outlive the app
    const planFile = join(stateRoot, name, 'plan.json')
    if (!existsSync(planFile)) continue
    try {
      const plan = readPlanFileSync(planFile) // capped, never through a link
      const journal = journalStore(join(stateRoot, name)).store as { steps?: Record<string, { state: string }> }
      const last = kindOf(plan).steps(plan).at(-1)!.id
      if (journal.steps?.[last]?.state === 'done') continue
      return { plan, findings: [{ stepId: 'ceremony', finding: 'An interrupted ceremony was found. Enter the API keys and confirm the participants to resume; every interrupted step is checked against the appliances first.' }] }
    } catch {
      findings.push({ stepId: 'ceremony', finding: `The saved state of ceremony "${name}" cannot be read; it was left untouched for inspection.` })
    }
  }
  return { plan: null, findings }
}

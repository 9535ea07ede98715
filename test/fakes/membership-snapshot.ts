/**
 * A snapshot of a membership ceremony (add-appliance, replace-appliance) as main builds it: the plan
 * parsed by the kind's own schema, its steps from the kind, and every view from main's views.ts, on
 * an engine opened in a fresh state folder that never connects anywhere. Renderer tests then show
 * exactly what main would send for these kinds, not a hand-made imitation.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CeremonySnapshot } from '../../preload/contract'
import { CeremonyEngine } from '../../main/ceremony/engine'
import { fileJournalStore } from '../../main/ceremony/journal-file'
import { membershipPlanFor, type MembershipPlanOptions } from '../../main/ceremony/simulated-membership-plan'
import { boardOf, planSummary, stepView } from '../../main/ceremony/views'
import { makeSnapshot } from './ceremony-fixtures'

const pin = (c: string) => c.repeat(64)
export const EARLIER = [pin('5'), pin('c')]

/** fips-1 (failed, or the source when adding), fips-2 and fips-4 on loopback, and a simulated cluster. */
export function membershipPlan(kind: 'add-appliance' | 'replace-appliance', mode: 'rehearsal' | 'production' = 'rehearsal', failed: Partial<NonNullable<MembershipPlanOptions['failed']>> = {}) {
  const fips = (id: string, port: number, c: string) => ({ id, host: '127.0.0.1', port, spkiSha256: pin(c), apiKey: 'unused', custodians: [1, 2].map((n) => ({ user: `${id}-custodian-${n}@example.test`, password: 'unused' })) })
  const set = {
    credentials: { appliances: [fips('fips-1', 4431, 'a'), fips('fips-2', 4432, 'b'), fips('fips-4', 4434, 'd')] },
    cluster: { id: 'sim-cluster', host: '127.0.0.1', port: 4440, spkiSha256: pin('e'), accountId: '6f1c2a4e-0b7d-4c55-9e3a-2d8f10b7c9e1', users: [{ user: 'admin@example.test', password: 'unused', role: 'account-admin' }] },
    loadBalancer: null,
  }
  return membershipPlanFor(set as never, {
    kind, added: 'fips-4', buildsOn: EARLIER, mode, id: `${kind}-screens`,
    ...(kind === 'replace-appliance' ? { failed: { id: 'fips-1', serial: 'FX2200-SIM-0001', disposition: 'returned-rma' as const, rmaNumber: 'RMA-2026-0042', evidenceFile: 'fips-1-rma-receipt.pdf', ...failed } } : {}),
  })
}

export async function membershipSnapshot(kind: 'add-appliance' | 'replace-appliance', mode: 'rehearsal' | 'production' = 'rehearsal'): Promise<CeremonySnapshot> {
  const plan = membershipPlan(kind, mode)
  const stateDir = mkdtempSync(join(tmpdir(), 'dsm-membership-views-'))
  mkdirSync(join(stateDir, 'media'))
  const engine = await CeremonyEngine.open({
    plan, stateDir, mediaDir: join(stateDir, 'media'), openJournalStore: () => fileJournalStore(stateDir), operator: plan.participants.operator,
    connect: () => {
      throw new Error('the views never connect')
    },
    apiKey: () => undefined,
  })
  try {
    const steps = engine.steps.map((s) => stepView(engine, s))
    const people = [{ name: plan.participants.operator, role: 'operator', present: true }, ...(plan.participants.witnesses as string[]).map((name) => ({ name, role: 'witness', present: true }))]
    return makeSnapshot({ plan: planSummary(plan), people, steps, groups: boardOf(engine, steps), currentStepId: steps[0]!.id, connections: [], rehearsalCredentials: [] })
  } finally {
    await engine.shutdown()
    rmSync(stateDir, { recursive: true, force: true })
  }
}

/**
 * The ceremony script: each step's id as it is read aloud and printed (unique in the ceremony), and
 * the script as approvers sign it: every step of the plan, in order, with what it does and what the
 * witnesses check. Its digest binds the approval to exactly this script of exactly this plan: a plan
 * changed after its approval is another plan, and cannot run on the old approval.
 */
import { canonicalJson, sha256Hex } from '../evidence'
import type { ScriptedStep } from './kind'
import type { Plan } from './plan-envelope'
import type { AnyStep } from './step'

/**
 * Script ids by one rule, for kinds that build their steps in several ways: a step of a group is
 * <prefix>.<k>, k its place in the group; steps before the first group are P.0, P.1 …; steps after
 * the last are C.1, C.2 …. A group's prefix is by default T<n>, n the place in the plan of the
 * appliance the group is named after (a replication's target); kinds whose groups are phases
 * rather than appliances name their own prefixes ("L" for the link, "V" for the verification).
 */
export function assignScriptIds(plan: Plan, steps: AnyStep[], prefixOf: (group: string) => string = (g) => `T${plan.appliances.findIndex((a) => a.id === g) + 1}`): ScriptedStep[] {
  const inGroup = new Map<string, number>()
  const firstGrouped = steps.findIndex((s) => s.group !== null)
  let before = 0
  let after = 0
  return steps.map((s, i) => {
    if (s.group !== null) {
      const k = (inGroup.get(s.group) ?? 0) + 1
      inGroup.set(s.group, k)
      return { ...s, scriptId: `${prefixOf(s.group)}.${k}` }
    }
    return { ...s, scriptId: firstGrouped === -1 || i < firstGrouped ? `P.${before++}` : `C.${++after}` }
  })
}

export interface ScriptStep {
  scriptId: string
  title: string
  where: string
  explain: string
  witnessItems: string[]
  confirmation: string | null
  interaction: 'run' | 'approval'
  group: string | null
}

export function scriptSteps(steps: readonly ScriptedStep[]): ScriptStep[] {
  return steps.map((s) => ({
    scriptId: s.scriptId, title: s.text.title, where: s.text.where, explain: s.text.explain, witnessItems: s.text.witnessItems,
    confirmation: s.confirmation?.prompt ?? null, interaction: s.interaction, group: s.group,
  }))
}

/** SHA-256 of the canonical JSON of the plan digest and the script's steps. */
export function scriptDigest(planDigest: string, steps: readonly ScriptedStep[]): string {
  return sha256Hex(canonicalJson({ planDigest, steps: scriptSteps(steps) }))
}

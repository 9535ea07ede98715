/**
 * Script ids: how each step is read aloud and printed, unique in the ceremony.
 */
import type { ScriptedStep } from './kind'
import type { Plan } from './plan-envelope'
import type { AnyStep } from './step'

/**
 * Script ids by one rule, for kinds that build their steps in several ways: a step of a group (an
 * appliance) is T<n>.<k>, n the appliance's place in the plan and k its place in the group; steps
 * before the first group are P.0, P.1 …; steps after the last are C.1, C.2 ….
 */
export function assignScriptIds(plan: Plan, steps: AnyStep[]): ScriptedStep[] {
  const inGroup = new Map<string, number>()
  const firstGrouped = steps.findIndex((s) => s.group !== null)
  let before = 0
  let after = 0
  return steps.map((s, i) => {
    if (s.group !== null) {
      const k = (inGroup.get(s.group) ?? 0) + 1
      inGroup.set(s.group, k)
      return { ...s, scriptId: `T${plan.appliances.findIndex((a) => a.id === s.group) + 1}.${k}` }
    }
    return { ...s, scriptId: firstGrouped === -1 || i < firstGrouped ? `P.${before++}` : `C.${++after}` }
  })
}

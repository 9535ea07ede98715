/**
 * The ceremony script as approvers sign it: every step of the plan, in order, by the id it is read
 * aloud by, with what it does and what the witnesses check. Its digest binds the approval to exactly
 * this script of exactly this plan: a plan changed after its approval is another plan, and cannot run
 * on the old approval.
 */
import { canonicalJson, sha256Hex } from '../evidence'
import type { ScriptedStep } from './kind'

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

/**
 * The plan editor: the text the operator types, validated in main as they type (debounced), every
 * issue named by its field, and saved through main's save dialog. Stale validation answers (for
 * text that has since changed) are dropped.
 */
import { createStore } from 'zustand/vanilla'
import type { CeremonyBridge, DigestView, IpcError, PlanSummary, ResponseOf } from '../../../preload/contract'
import { REPLICATE_TEMPLATE } from './plan-templates'

export type PlanEditorBridge = Pick<CeremonyBridge, 'validatePlan' | 'savePlan'>
export type PlanIssue = ResponseOf<'validatePlan'>['issues'][number]

export interface PlanEditorOptions {
  debounceMs?: number
  setTimer?: (fn: () => void, ms: number) => unknown
  clearTimer?: (handle: unknown) => void
}

export interface PlanEditorState {
  text: string
  /** 'dirty': typed since the last answer; 'checking': asked main; 'checked': issues are for this text. */
  status: 'empty' | 'dirty' | 'checking' | 'checked'
  issues: PlanIssue[]
  summary: PlanSummary | null
  saving: boolean
  saved: DigestView | null
  error: IpcError | null
  /** Replaces the text (e.g. with the loaded plan) and validates at once. */
  load(text: string): Promise<void>
  /** The operator typed: validates after a short pause. */
  setText(text: string): void
  validateNow(): Promise<void>
  /** Main shows the save dialog; resolves true when written. */
  save(): Promise<boolean>
}

/** A starting point for a new plan: every field the format has, to be filled in (the replication; plan-templates.ts has every kind's). */
export const PLAN_TEMPLATE = REPLICATE_TEMPLATE

export function createPlanEditorStore(bridge: PlanEditorBridge, options: PlanEditorOptions = {}) {
  const debounceMs = options.debounceMs ?? 400
  const setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms))
  const clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>))
  let timer: unknown = null
  let asked = 0

  return createStore<PlanEditorState>()((set, get) => ({
    text: '',
    status: 'empty',
    issues: [],
    summary: null,
    saving: false,
    saved: null,
    error: null,

    async load(text) {
      if (timer !== null) clearTimer(timer)
      timer = null
      set({ text, status: 'dirty', saved: null })
      await get().validateNow()
    },

    setText(text) {
      set({ text, status: text.trim() === '' ? 'empty' : 'dirty', saved: null })
      if (timer !== null) clearTimer(timer)
      timer = setTimer(() => {
        timer = null
        void get().validateNow()
      }, debounceMs)
    },

    async validateNow() {
      const text = get().text
      if (text.trim() === '') {
        set({ status: 'empty', issues: [], summary: null })
        return
      }
      const mine = ++asked
      set({ status: 'checking' })
      const result = await bridge.validatePlan({ text })
      if (mine !== asked || get().text !== text) return // the operator kept typing; a newer answer will come
      if (!result.ok) {
        set({ status: 'dirty', error: result.error })
        return
      }
      set({ status: 'checked', issues: result.data.issues, summary: result.data.summary, error: null })
    },

    async save() {
      set({ saving: true })
      const result = await bridge.savePlan({ text: get().text })
      if (!result.ok) {
        set({ saving: false, error: result.error })
        return false
      }
      set({ saving: false, error: null, saved: result.data.cancelled ? null : result.data.digest })
      return !result.data.cancelled
    },
  }))
}

export type PlanEditorStore = ReturnType<typeof createPlanEditorStore>

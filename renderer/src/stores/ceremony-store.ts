/**
 * The ceremony as the renderer sees it: the latest snapshot from main, which calls are in flight and
 * the last failed call. Every action returns a snapshot from main (or refreshes with status()), and
 * follow() keeps the snapshot current while main works (approvals arriving, steps finishing).
 *
 * Secrets (API keys, custodian passwords) pass through the actions' arguments straight to the bridge
 * and are never written into this store; the one key main ever answers (revealApiKey) goes back to
 * the component that asked, never into it.
 */
import { createStore } from 'zustand/vanilla'
import type { CeremonyBridge, CeremonyRecord, CeremonySnapshot, DigestView, IpcError, Result, ScriptView } from '../../../preload/contract'

export type CeremonyActionsBridge = Pick<
  CeremonyBridge,
  | 'status'
  | 'openPlan'
  | 'startRehearsal'
  | 'setApiKey'
  | 'setPassword'
  | 'openRecord'
  | 'checkConnections'
  | 'confirmParticipants'
  | 'attendance'
  | 'abort'
  | 'getScript'
  | 'runStep'
  | 'decideApproval'
  | 'restartApproval'
  | 'signOff'
  | 'recordException'
  | 'resolveDeviation'
  | 'approveScript'
  | 'takeBreak'
  | 'exportRecord'
  | 'getRecord'
  | 'revealApiKey'
  | 'onCeremonyChanged'
>

/** The record as the printable page shows it: the record itself (its type is the contract's) and its final digest read aloud. */
export interface CeremonyRecordView {
  record: CeremonyRecord
  finalDigest: DigestView
}

export interface DecideRequest {
  stepId: string
  user: string
  password: string
  decision: 'approve' | 'deny'
  /** The request and the digest of the view the custodian read (main refuses a stale one). */
  requestId: string
  viewDigest: string
  reason?: string
  confirmation?: string
}

export interface CeremonyState {
  snapshot: CeremonySnapshot | null
  /** status() has answered at least once. */
  loaded: boolean
  /** Keys of the calls in flight, e.g. "run:<stepId>", "check", "decide:<stepId>". */
  busy: string[]
  /** The last failed call, shown with its code until the next call of any kind succeeds. */
  error: IpcError | null
  /** The ceremony script of the loaded plan, once loaded. */
  script: ScriptView | null
  /** The record as the printable page shows it, once loaded. */
  record: CeremonyRecordView | null
  /** The last export: which format, and the file main wrote (name, size, SHA-256). */
  lastExport: { format: 'json' | 'pdf'; file: { name: string; bytes: number; sha256: DigestView } } | null

  load(): Promise<boolean>
  /** Follows ceremony changes pushed by main; returns the unsubscribe. */
  follow(): () => void
  /** Main shows the file dialog; resolves true when a plan was loaded (false if cancelled or refused). */
  openPlan(): Promise<boolean>
  /** A rehearsal of a kind main offers (snapshot.rehearsalKinds); the default kind when none is given. `materials`: the simulated room has a materials manifest to type. */
  startRehearsal(targets?: number, kind?: string, materials?: boolean): Promise<boolean>
  setApiKey(applianceId: string, apiKey: string): Promise<boolean>
  /** A named DSM user's password (the cluster administrator's): goes to main, kept nowhere here. */
  setPassword(signInId: string, password: string): Promise<boolean>
  /** Main's file dialog for an earlier record the plan builds on; resolves true when one was read. */
  openRecord(): Promise<boolean>
  checkConnections(): Promise<boolean>
  /** Who is in the room, by the plan's names (the plan's operator among them). */
  confirmParticipants(present: string[]): Promise<boolean>
  attendance(person: string, event: 'arrive' | 'leave'): Promise<boolean>
  /** Stops the ceremony for good, with the reason. */
  abort(reason: string): Promise<boolean>
  /** `input`: what was typed for a step that takes values read in the room (absent: run with the earlier attempt's). */
  runStep(stepId: string, confirmation?: string, input?: Record<string, string>): Promise<boolean>
  decideApproval(request: DecideRequest): Promise<boolean>
  restartApproval(stepId: string): Promise<boolean>
  signOff(stepId: string, witness: string, initials: string, items: string[]): Promise<boolean>
  recordException(stepId: string, by: string, note: string, waivesSignoff?: boolean): Promise<boolean>
  /** A line of the deviation register resolved: what was done, who allowed going on, every present witness's initials. */
  resolveDeviation(request: { deviation: string; resolution: string; allowedBy: string; initials: { witness: string; initials: string }[] }): Promise<boolean>
  /** An approver named in the plan signs the plan and its script, before the first step. */
  approveScript(approver: string, initials: string): Promise<boolean>
  /** A break starts (who stays in the room) or ends. */
  takeBreak(event: 'start' | 'end', stays?: string[]): Promise<boolean>
  /**
   * The one-time reveal of a key the ceremony made: answered to the caller (a component's state, while
   * shown) and never written into this store; null when main refused (the error is kept, as for any call).
   */
  revealApiKey(applianceId: string): Promise<string | null>
  loadRecord(): Promise<boolean>
  loadScript(): Promise<boolean>
  exportRecord(format: 'json' | 'pdf'): Promise<boolean>
  clearError(): void
  isBusy(key: string): boolean
}

export function createCeremonyStore(bridge: CeremonyActionsBridge) {
  /**
   * Calls in flight. A pushed snapshot and a call's answer travel separately, so a push sent before
   * the answer can arrive after it; pushes are ignored while a call is in flight, and every call ends
   * with a fresh status(), so the screen never goes back to an older state.
   */
  let inFlight = 0

  const store = createStore<CeremonyState>()((set, get) => {
    async function guarded<T>(key: string, call: () => Promise<Result<T>>): Promise<Result<T>> {
      inFlight++
      set((s) => ({ busy: [...s.busy, key] }))
      try {
        return await call()
      } catch (err) {
        return { ok: false, error: { code: 'BRIDGE_FAILED', message: err instanceof Error ? err.message : String(err) } }
      } finally {
        inFlight--
        set((s) => ({ busy: s.busy.filter((b) => b !== key) }))
      }
    }

    /** After a call: the state as main has it now (a failed refresh changes nothing). */
    async function refresh(): Promise<void> {
      const result = await guarded('status', () => bridge.status())
      if (result.ok) set({ snapshot: result.data, loaded: true })
    }

    /** Runs one call that answers a snapshot: marks it busy, keeps the snapshot or the error. */
    async function snapshotCall(key: string, call: () => Promise<Result<CeremonySnapshot>>): Promise<boolean> {
      const result = await guarded(key, call)
      if (!result.ok) {
        // A refused step is in the journal (failed, with its error and what was typed): show it as main has it.
        if (key.startsWith('run:')) await refresh()
        set({ error: result.error })
        return false
      }
      set({ snapshot: result.data, error: null, loaded: true })
      if (key !== 'status') await refresh()
      return true
    }

    return {
      snapshot: null,
      loaded: false,
      busy: [],
      error: null,
      record: null,
      script: null,
      lastExport: null,

      load: () => snapshotCall('status', () => bridge.status()),
      revealApiKey: async (applianceId) => {
        const result = await guarded(`reveal:${applianceId}`, () => bridge.revealApiKey({ applianceId }))
        // Shown or refused, main's offer changed (or was already gone): the snapshot says which.
        await refresh()
        if (!result.ok) {
          set({ error: result.error })
          return null
        }
        set({ error: null })
        return result.data.apiKey
      },

      follow() {
        return bridge.onCeremonyChanged((snapshot) => {
          if (inFlight === 0) set({ snapshot, loaded: true })
        })
      },

      async openPlan() {
        const result = await guarded('open', () => bridge.openPlan())
        if (!result.ok) {
          set({ error: result.error })
          return false
        }
        set({ snapshot: result.data.snapshot, error: null, loaded: true, record: null })
        await refresh()
        return !result.data.cancelled && result.data.snapshot.plan !== null
      },

      async startRehearsal(targets = 2, kind, materials = false) {
        const ok = await snapshotCall('rehearsal', () => bridge.startRehearsal({ targets, ...(kind ? { kind } : {}), ...(materials ? { materials } : {}) }))
        if (ok) set({ record: null })
        return ok
      },

      // The key is an argument only: it goes to main and is not kept here.
      setApiKey: (applianceId, apiKey) => snapshotCall(`key:${applianceId}`, () => bridge.setApiKey({ applianceId, apiKey })),

      // The password is an argument only, like an API key.
      setPassword: (signInId, password) => snapshotCall(`password:${signInId}`, () => bridge.setPassword({ signInId, password })),

      async openRecord() {
        const result = await guarded('open-record', () => bridge.openRecord())
        if (!result.ok) {
          set({ error: result.error })
          return false
        }
        set({ snapshot: result.data.snapshot, error: null, loaded: true })
        await refresh()
        return !result.data.cancelled
      },

      checkConnections: () => snapshotCall('check', () => bridge.checkConnections()),

      confirmParticipants: (present) => snapshotCall('participants', () => bridge.confirmParticipants({ present })),

      attendance: (person, event) => snapshotCall(`attendance:${person}`, () => bridge.attendance({ person, event })),

      abort: (reason) => snapshotCall('abort', () => bridge.abort({ reason })),

      runStep: (stepId, confirmation, input) =>
        snapshotCall(`run:${stepId}`, () => bridge.runStep({ stepId, ...(confirmation ? { confirmation } : {}), ...(input ? { input } : {}) })),

      decideApproval: ({ stepId, user, password, decision, requestId, viewDigest, reason, confirmation }) =>
        snapshotCall(`decide:${stepId}`, () =>
          bridge.decideApproval({ stepId, user, password, decision, requestId, viewDigest, ...(reason ? { reason } : {}), ...(confirmation ? { confirmation } : {}) }),
        ),

      restartApproval: (stepId) => snapshotCall(`restart:${stepId}`, () => bridge.restartApproval({ stepId })),

      signOff: (stepId, witness, initials, items) => snapshotCall(`signoff:${stepId}`, () => bridge.signOff({ stepId, witness, initials, items })),

      recordException: (stepId, by, note, waivesSignoff) =>
        snapshotCall(`exception:${stepId}`, () => bridge.recordException(waivesSignoff ? { stepId, by, note, waivesSignoff } : { stepId, by, note })),

      resolveDeviation: (request) => snapshotCall(`resolve:${request.deviation}`, () => bridge.resolveDeviation(request)),

      approveScript: (approver, initials) => snapshotCall('approve-script', () => bridge.approveScript({ approver, initials })),

      takeBreak: (event, stays) => snapshotCall('break', () => bridge.takeBreak(event === 'start' ? { event, stays: stays ?? [] } : { event })),

      async loadRecord() {
        const result = await guarded('record', () => bridge.getRecord())
        if (!result.ok) {
          set({ error: result.error })
          return false
        }
        set({ record: { record: result.data.record, finalDigest: result.data.finalDigest }, error: null })
        return true
      },

      async loadScript() {
        const result = await guarded('script', () => bridge.getScript())
        if (!result.ok) {
          set({ error: result.error })
          return false
        }
        set({ script: result.data, error: null })
        return true
      },

      async exportRecord(format) {
        const result = await guarded(`export:${format}`, () => bridge.exportRecord({ format }))
        if (!result.ok) {
          set({ error: result.error })
          return false
        }
        if (result.data.cancelled) return false
        set({ lastExport: { format, file: result.data.file! }, error: null })
        // The snapshot lists what was exported.
        await refresh()
        return true
      },

      clearError: () => set({ error: null }),
      isBusy: (key) => get().busy.includes(key),
    }
  })
  return store
}

export type CeremonyStore = ReturnType<typeof createCeremonyStore>

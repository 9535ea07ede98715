/**
 * Every kind of audit-log entry the ceremony writes, in one typed list. The record, the renderer's
 * record page and `ceremony verify` read entries by these names; nothing else is written.
 */
import { DEVIATION_RESOLUTION, ENTRY_KINDS } from '../evidence'

export const ENTRY = {
  ceremonyOpen: 'ceremony-open',
  ceremonyResume: 'ceremony-resume',
  stepIntent: 'step-intent',
  stepDone: 'step-done',
  stepFailed: 'step-failed',
  stepSkipped: 'step-skipped',
  reconcile: 'reconcile',
  artifact: ENTRY_KINDS.artifact,
  approvalView: 'approval-view',
  approvalIntent: 'approval-intent',
  approval: ENTRY_KINDS.approval,
  denial: 'denial',
  approvalRestart: 'approval-restart',
  witnessSignoff: ENTRY_KINDS.witnessSignoff,
  exception: ENTRY_KINDS.exception,
  attendance: 'attendance',
  break: 'break',
  scriptApproval: 'script-approval',
  /** A line of the deviation register resolved: the resolution, who allowed going on, every present witness's initials. */
  deviationResolution: DEVIATION_RESOLUTION,
  ceremonyAbort: 'ceremony-abort',
  logRepair: 'log-repair',
  /** Stations (design §3b): ends a station's leg; its hash is the segment's final digest, read out of band. */
  handoff: 'handoff',
  /** The next station checked the segment, the artifacts and the words, and continues the chain. */
  handoffReceived: 'handoff-received',
  /**
   * A value typed in the room (a bag number, a serial, a tamper label) or reported by an appliance
   * that is not what the plan or an earlier record says: facts { code, item, expected, typed, … }.
   * The step refused; the deviation register lists each one.
   */
  materialsMismatch: 'materials-mismatch',
  /**
   * The operator revealed, once, on the run screen, an API key the ceremony made (replace-appliance's
   * onboarding): facts { appliance, by }. Never the key. Its step's result says it was offered.
   */
  apiKeyShown: 'api-key-shown',
} as const

export type EntryKind = (typeof ENTRY)[keyof typeof ENTRY]

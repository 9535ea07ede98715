/**
 * Every named error the operator can meet during a ceremony, with what is safe and what to do next,
 * in the words the run screen shows. Codes come from the engine (below) and from the DSM client.
 */
import { CLUSTER_GUIDANCE } from './cluster-guidance'
import { MEMBERSHIP_GUIDANCE } from './membership-guidance'

interface Guidance {
  safe: string
  next: string
}

const NOTHING_CHANGED = 'Nothing was changed on any appliance by this step.'

const GUIDANCE: Record<string, Guidance> = {
  ...MEMBERSHIP_GUIDANCE, // add-appliance and replace-appliance (their words win only for their own steps: BY_KIND)
  ...CLUSTER_GUIDANCE, // link-cluster and verify-cluster
  API_KEY_MISSING: { safe: NOTHING_CHANGED, next: 'Enter the API key for this appliance on the setup screen, then run the step again.' },
  GROUP_MISSING: { safe: NOTHING_CHANGED, next: 'Create the quorum group named in the plan on this appliance (guide §3.2.1), or correct the plan.' },
  NO_QUORUM_POLICY: { safe: NOTHING_CHANGED, next: 'Enable the quorum approval policy on the group (guide §3.2.1 step 3) before the ceremony.' },
  CMK_MISSING: { safe: NOTHING_CHANGED, next: 'Check the CMK name in the plan. For the first ceremony, set "cmk.create" to true in a new plan.' },
  CMK_WRONG_TYPE: { safe: NOTHING_CHANGED, next: 'The CMK must be AES-256. Stop and consult the appliance administrator.' },
  CMK_NOT_EXPORTABLE: { safe: NOTHING_CHANGED, next: 'The CMK must have EXPORT in its key operations (guarded by the quorum). Stop and consult the administrator.' },
  CMK_CONFLICT: { safe: NOTHING_CHANGED, next: 'A different key with the CMK name already exists on a target. Stop: it must be investigated before any transfer.' },
  CLOCK_SKEW: { safe: NOTHING_CHANGED, next: 'Correct the workstation or appliance clock (approvals expire by appliance time), then run preflight again.' },
  NAME_IN_USE: { safe: 'The existing object was not touched.', next: 'An object with this ceremony\'s deterministic name exists but was not made by this ceremony. Investigate, delete it through the DSM UI with the administrator, or use a new ceremony id.' },
  FINGERPRINT_MISMATCH: { safe: 'The CMK was not exported. The imported key is not used.', next: 'Stop. A different public key than the target\'s would let someone else open the CMK. Record an exception and investigate the media.' },
  KEY_REFUSED: { safe: 'The file was not imported.', next: 'The public-key file is not exactly one RSA-2048 public key. Re-export it from the target (run the previous step again) and check the media.' },
  TRANSFER_KEY_CHANGED: { safe: 'The CMK was not imported.', next: 'The transfer key on the target is not the one this ceremony made. Stop and investigate.' },
  DIGEST_MISMATCH: { safe: 'Nothing was loaded on the target.', next: 'The file on the media is not the file that was written. Check the media; do not use this copy.' },
  MANIFEST_MISMATCH: { safe: 'Nothing was loaded on the target.', next: 'The manifest does not describe this ceremony\'s export. Stop and investigate the media.' },
  WRAPPED_BLOB_INVALID: { safe: 'Nothing was written or loaded.', next: 'The wrapped key has the wrong size for an RSA-2048 transfer key. Stop and record an exception.' },
  RESULT_LOST: { safe: 'The result was not written anywhere by this workstation; the appliance will not give the same result twice.', next: 'Start a fresh approval request; custodians approve again.' },
  APPROVAL_REQUEST_MISMATCH: { safe: 'The request was not approved, waited on or used by this app.', next: 'Stop. A request carrying this ceremony\'s nonce is not the one it opened: someone with this appliance\'s app credentials may have replaced it. Deny it in the DSM UI, record an exception, and investigate before going on.' },
  UNEXPECTED_FILE: { safe: 'The file was not used and not overwritten.', next: 'A file this ceremony did not write (or not with these contents) is on the media under its name. Record an exception, move the file aside for investigation, then run the step again.' },
  VIEW_STALE: { safe: 'No decision was sent.', next: 'The request on the appliance is not the one this screen showed. Read the request again from the top, then decide.' },
  APPROVER_NOT_IN_PLAN: { safe: 'No decision was sent.', next: 'Only the custodians the plan names for this appliance approve here. Check the name, or have the plan corrected and approved again.' },
  APPROVAL_STILL_PENDING: { safe: 'No new request was opened.', next: 'The open request could still be approved and executed. Deny it (here or in the DSM UI), or let it expire, before opening a fresh one.' },
  APPROVAL_CLOSED: { safe: 'No decision was sent.', next: 'This request is no longer waiting for decisions.' },
  ALREADY_DECIDED: { safe: 'No second decision was sent.', next: 'Each custodian decides once per request.' },
  QUORUM_UNREACHABLE: { safe: NOTHING_CHANGED, next: 'The plan names fewer custodians for this appliance than its quorum needs. Correct the plan (and approve it again) before the ceremony.' },
  STATE_LOCKED: { safe: 'Nothing was done.', next: 'Another window or terminal is running this ceremony. Close it first; two runners would fork the audit log.' },
  JOURNAL_MISSING: { safe: 'Nothing was sent to any appliance.', next: 'The audit log shows this ceremony started, but its journal is gone. Restore the journal from a backup, or investigate; it is never started again as a new ceremony.' },
  AUDIT_LOG_TORN: { safe: 'Nothing was changed.', next: 'Run "ceremony repair-log" for this ceremony: it verifies the entries before the cut-off one, removes the fragment and records the repair in the log.' },
  KCV_MISMATCH: { safe: 'The key on the target is not the CMK. Nothing else was changed.', next: 'Stop. Record an exception; the key on the target must be deleted by the administrators before another attempt.' },
  TRANSFER_KEY_STILL_PRESENT: { safe: 'The CMK transfer is complete.', next: 'A transfer key could still be read after deletion. Run the step again; if it persists, delete it in the DSM UI and record an exception.' },
  APPLIANCE_LOG_FINDINGS: { safe: 'The appliances\' logs are on the media with their digests in the record; this step changed nothing on any appliance.', next: 'An appliance logged a change in the ceremony\'s groups that is not this ceremony\'s, or has no entry for one of its changes (each is listed with a reference, AL-…). Find out what happened, record an exception at this step naming each reference and saying what it was, then run the step again: the findings stay in the record with your exception.' },
  APPLIANCE_LOG_FORBIDDEN: { safe: NOTHING_CHANGED, next: 'The ceremony\'s app may not read this appliance\'s audit log. Have the administrator give the app the AUDIT permission in the quorum group (it only reads), then run the step again.' },
  APPLIANCE_LOG_TOO_LARGE: { safe: NOTHING_CHANGED, next: 'The appliance\'s log holds more entries for the ceremony window than can be read page by page (thousands in one second, or over 200,000). This step cannot finish until the whole window can be read: export the log for the window in the DSM UI onto the media now (entries are purged after 3 months), record an exception naming the file, and consult the administrator.' },
  INVENTORY_CHANGED: { safe: 'The CMK transfer is complete and the transfer keys are gone.', next: 'Something other than the CMK changed on an appliance during the ceremony (the difference is listed). Find out what and why, record an exception at this step saying so, then run the step again: the difference is accepted with your exception, which stays in the record.' },
  CONFIRMATION_REQUIRED: { safe: 'Nothing was done.', next: 'Type the confirmation shown, exactly, then try again.' },
  CONFIRMATION_WRONG: { safe: 'Nothing was done.', next: 'Read the characters from the screen again and type them exactly.' },
  STEP_OUT_OF_ORDER: { safe: 'Nothing was done.', next: 'Finish the earlier steps first; the ceremony runs in the order of the plan.' },
  STEP_NOT_APPROVAL: { safe: 'Nothing was done.', next: 'Approvals are given on the approval steps only.' },
  CEREMONY_CLOSED: { safe: 'The record is sealed.', next: 'Start a new ceremony with a new plan.' },
  QUORUM_DENIED: { safe: 'The operation was not performed.', next: 'Talk with the custodians. If the denial was a mistake, start a fresh approval request.' },
  APPROVAL_EXPIRED: { safe: 'The operation was not performed.', next: 'Start a fresh approval request and approve it before it expires.' },
  APPROVAL_FAILED: { safe: 'The quorum approved but the appliance refused the operation.', next: 'Read the appliance\'s message, record an exception, and start a fresh request once the cause is fixed.' },
  UNREACHABLE: { safe: 'The request did not reach the appliance.', next: 'Check the cable and the appliance, then run the step again.' },
  TIMEOUT: { safe: 'The appliance did not answer in time.', next: 'Run the step again: it first checks what the appliance did.' },
  OUTCOME_UNKNOWN: { safe: 'The appliance may or may not have acted; nothing is repeated blindly.', next: 'Run the step again: it first checks the appliance for what was done.' },
  CONNECTION_CLOSED: { safe: 'No request was sent.', next: 'The session to this appliance had already ended (signed out). Run the step again: it signs in afresh.' },
  TLS_PIN_MISMATCH: { safe: 'No request was sent: the appliance did not present the pinned key.', next: 'Stop. Confirm the pin with the appliance administrator out of band; a wrong pin can mean a wrong or impersonated appliance.' },
  TLS_VERIFICATION_FAILED: { safe: 'No request was sent.', next: 'Check the CA certificate and host name in the plan.' },
  UNAUTHORIZED: { safe: 'Nothing was done.', next: 'Check the API key or the custodian\'s user name and password.' },
  INVALID_CREDENTIAL: { safe: 'Nothing was sent.', next: 'Check the user name and password as typed.' },
  APPROVAL_REQUIRED: { safe: 'The appliance refused a protected call made without approval.', next: 'This operation needs a quorum approval on this appliance; record an exception and consult the administrator.' },
  AUDIT_LOG_WRITE_FAILED: { safe: 'The step did not run: it could not be recorded.', next: 'Check the disk holding the ceremony state (space, permissions), then restart the app to resume.' },
  SECRET_IN_LOG: { safe: 'The entry was not written.', next: 'This is a defect: report it. Nothing secret was stored.' },
  MEDIA_WRITE_FAILED: { safe: 'No partial file was left behind.', next: 'Check the media (space, write protection), then run the step again.' },
  MEDIA_FULL: { safe: 'No partial file was left behind and the step did not advance.', next: 'The media is full. Free space on it (or use other media), then run the step again.' },
  STATE_DISK_FULL: { safe: 'The ceremony did not advance; its journal and log hold what they held before.', next: 'The disk holding the ceremony\'s state is full. Free space, then run the step again (or restart the app to resume).' },
  STATE_WRITE_FAILED: { safe: 'The ceremony did not advance; its journal holds what it held before.', next: 'Check the disk holding the ceremony\'s state, then run the step again.' },
  STATE_UNAVAILABLE: { safe: 'Nothing was sent to any appliance.', next: 'The ceremony\'s state folder cannot be used. Check the disk and the folder\'s permissions, then start again.' },
  SYMLINK_REFUSED: { safe: 'The link was not followed, read or replaced.', next: 'A ceremony file is a symbolic link. Record an exception, move it aside for investigation, then run the step again.' },
  NOT_A_FILE: { safe: 'Nothing was read from it.', next: 'A folder, device or pipe is where a ceremony file should be. Record an exception, move it aside, then run the step again.' },
  FILE_TOO_LARGE: { safe: 'The file was not read.', next: 'A file on the media is larger than any file of its kind. It is not this ceremony\'s file: record an exception and investigate the media.' },
  WRAPPED_BLOB_EMPTY: { safe: 'Nothing was sent to the target.', next: 'The wrapped-key file on the media is empty (a failed copy?). Restore the media copy that was written and read back, then run the step again.' },
  WRAPPED_BLOB_TRUNCATED: { safe: 'Nothing was sent to the target.', next: 'The wrapped-key file on the media is shorter than the wrapped key. Restore the media copy that was written and read back, then run the step again.' },
  WRAPPED_BLOB_OVERSIZED: { safe: 'The file was not read and nothing was sent to the target.', next: 'The file in the wrapped-key slot is larger than a wrapped key. Record an exception and investigate the media.' },
  WRAPPED_BLOB_WRONG_TARGET: { safe: 'Nothing was sent to the target.', next: 'The file in this target\'s slot is the wrapped key made for another target. Put the right file back (check the names), then run the step again.' },
  WRAPPED_BLOB_WRONG_FILE: { safe: 'Nothing was sent to the target.', next: 'The file in the wrapped-key slot is not a wrapped key (it is text: a PEM, a manifest …). Put the right file back, then run the step again.' },
  FILE_ERROR: { safe: 'Nothing further was done.', next: 'A file on the media or in the ceremony folder is missing or cannot be read or written. Check that the media is inserted, writable and intact, then run the step again.' },
  STEP_INPUT_REQUIRED: { safe: 'Nothing was recorded and nothing was sent.', next: 'This step needs what is read in the room typed first (a serial number, labels, a bag number): read each from the item itself, type it in the boxes shown, then run the step.' },
  JOURNAL_CORRUPT: { safe: 'Nothing more was done.', next: 'The journal holds something this step cannot read back (a journal of another plan or version, or damaged). Stop and investigate; never start the ceremony again as a new one.' },
  JOURNAL_INCOMPLETE: { safe: 'Nothing was done.', next: 'A step this one depends on has not finished in the journal (or left nothing it should have). Finish the earlier steps first; if they show done, the ceremony\'s state is damaged: stop and investigate, never start it again as a new ceremony.' },
  TARGET_EXISTS: { safe: 'The existing file was not overwritten.', next: 'A file with this name exists on the media. Move it aside after recording an exception, then run the step again.' },
}

/** A kind whose steps give a shared code another meaning has its own words, looked up first. */
const BY_KIND: Record<string, Record<string, Guidance>> = {
  'add-appliance': MEMBERSHIP_GUIDANCE,
  'replace-appliance': MEMBERSHIP_GUIDANCE,
}

const FALLBACK: Guidance = { safe: 'The step stopped before finishing; the journal knows what was started.', next: 'Run the step again: it checks the appliances first and never repeats what was done.' }

/** The words for a code in a ceremony of this kind, or null when there are none (only the fallback). */
export function guidanceOf(code: string, kind?: string): Guidance | null {
  return (kind === undefined ? undefined : BY_KIND[kind]?.[code]) ?? GUIDANCE[code] ?? null
}

export function guidanceFor(code: string, kind?: string): Guidance {
  return guidanceOf(code, kind) ?? FALLBACK
}


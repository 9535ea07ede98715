/**
 * What the operator can do about each named error of the membership kinds (add-appliance,
 * replace-appliance), in the words the run screen shows. errors.ts looks here first for a step of
 * these kinds: several codes are shared with link-cluster or replicate-cmk but mean something else
 * here, where the group and the CMK already exist and serve production keys, so the shared advice
 * (create the group, remove it, create the CMK, delete the key) would be wrong or dangerous.
 * test/membership-guidance.test.ts fails for a code these kinds throw without words here or there.
 */
const NOTHING = 'Nothing was changed on the cluster or on any appliance.'
const STOP_GROUP = 'Do not remove the group or any of its connections: it serves the keys already wrapped by it.'

export const MEMBERSHIP_GUIDANCE: Record<string, { safe: string; next: string }> = {
  QUORUM_WEAKER: { safe: NOTHING, next: 'The new appliance\'s quorum group (or the custodians the plan names for it) is weaker than the records show for the others (the message names how). Have its administrators make the quorum policy at least as strong, or, at a replacement\'s onboarding, delete the group someone made beforehand, then run the step again.' },
  QUORUM_MEMBERS_DIFFER: { safe: NOTHING, next: 'The plan\'s custodians for the new appliance are not the ones the records show for the failed appliance (the message names both). The quorum group is made again with the same people: correct the plan and have it approved again.' },
  CUSTODIAN_ACCOUNT_MISSING: { safe: NOTHING, next: 'The account administrators make a user account for each custodian the message names on the new appliance (the onboarding checklist), then run the step again.' },
  APP_CONFLICT: { safe: 'No app was made and no key was read.', next: 'An app with the plan\'s name is on the new appliance but this ceremony did not make it. Investigate with the account administrators; remove it, or name another app in a new plan. Its key was not read.' },
  APP_NEEDS_APPROVAL: { safe: 'The quorum group is made; no app was made.', next: 'The appliance wants the quorum\'s approval to add an app to the group. Make the app with the account administrators (witnessed), and run the replacement with a plan without API onboarding, entering the key on the setup screen.' },
  APP_KEY_NEEDS_APPROVAL: { safe: 'The quorum group and the app are made; the app\'s key was not read.', next: 'The appliance keeps app credentials behind the quorum. The custodians approve reading the app\'s credential (a request in the DSM UI), the operator enters that API key for the new appliance, and the step is run again: it adopts the app and uses the key.' },
  API_KEY_NOT_HELD: { safe: NOTHING, next: 'This workstation cannot hold an API key the ceremony makes. Run the ceremony in the app or with `ceremony run`.' },
  // The one-time reveal of the key the onboarding made (key-reveal.ts): nothing on any appliance is touched by it.
  KEY_ALREADY_SHOWN: { safe: 'The key is still held in this workstation\'s memory; the ceremony goes on with it.', next: 'The API key the ceremony made was shown once, as the log records, and is not shown again. Nothing needs it typed anywhere: the ceremony goes on.' },
  KEY_NOT_OFFERED: { safe: NOTHING, next: 'No key the ceremony made is waiting to be shown for this appliance: it is offered once its onboarding step (P.2) is done and while the key is held. Nothing needs it typed anywhere.' },
  KEY_REVEAL_CLOSED: { safe: 'The key is still held in this workstation\'s memory; the ceremony goes on with it.', next: 'The key is shown only before the witnesses sign the step off and before the next step starts, so that their sign-off attests to it. The record shows it was offered and not shown; record an exception if the witnesses expected to see it.' },
  KEY_REVEAL_LAPSED: { safe: NOTHING, next: 'The key can no longer be shown: the secrets were wiped (idle time-out, seal, new plan) or another key was entered for the appliance first. The record shows it was offered and not shown; record an exception if the witnesses expected to see it.' },
  APPLIANCE_ALREADY_IN_GROUP: { safe: NOTHING, next: 'The group already has a connection to the new appliance that this ceremony did not add. Investigate with the cluster administrator before going on.' },
  FAILED_STILL_ANSWERS: { safe: 'Nothing more was changed.', next: 'The appliance recorded as failed still answers at its address with its pinned key. Stop: it must not be recorded as zeroised, destroyed or returned while it runs.' },
  DESTRUCTION_EVIDENCE_MISSING: { safe: 'Nothing more was changed.', next: 'Put the evidence of what happened to the failed appliance (destruction certificate, zeroisation report or RMA receipt) on the media under the name in the plan, then run the step again.' },
  APPLIANCE_SERIAL_MISMATCH: { safe: 'Nothing was recorded as read for that appliance.', next: 'A serial number typed from the chassis (or, for a replaced appliance, from its RMA paperwork) is not the one the plan says. Read it again from the item itself; if it was a slip, type it again. If it really differs, a witness records an exception naming the reference and why the ceremony may go on, then run the step again.' },
  DISPOSITION_MISMATCH: { safe: 'Nothing was recorded as done with the failed appliance.', next: 'What was done with the failed appliance, as typed, is not what the plan says. Check with the witnesses and the evidence; type it again if it was a slip, or have a witness record an exception naming the reference and saying what really happened, then run the step again.' },
  RMA_NUMBER_MISMATCH: { safe: 'Nothing was recorded as done with the failed appliance.', next: 'The RMA number typed is not the plan\'s. Read it again from the vendor\'s paperwork; if it really differs, a witness records an exception naming the reference, then run the step again.' },
  GROUP_MODE_MISMATCH: { safe: NOTHING, next: 'The plan and the group (or the records) disagree on whether the appliances are reached through a load balancer (the message names both). Make the plan again from the link record, or with --load-balancer for the balancer the group uses.' },
  REMOVAL_NOT_AS_PLANNED: { safe: 'The group is as the message says.', next: 'The failed appliance\'s connection is not the one the preflight found. Stop and inspect the group with the cluster administrator.' },
  GROUP_MISSING: {
    safe: NOTHING,
    next: 'The message says which is missing. The cluster\'s group: check the group name in the plan against the link record; it is never made anew here (a new group is a new link ceremony). The new appliance\'s quorum group: its administrators make it as the records show (guide §3.2.1), then run the preflight again.',
  },
  GROUP_CONFLICT: {
    safe: 'The group was not changed.',
    next: `The group on the cluster is not as the records lead to expect (a connection the plan does not name, an appliance missing, or a config for the new appliance that this ceremony did not add). Stop and compare it with the records together with the cluster administrator. ${STOP_GROUP}`,
  },
  GROUP_NOT_AS_PLANNED: {
    safe: 'The group is as the message says; nothing more was changed.',
    next: `Stop. Record an exception; the cluster administrator compares the group with the plan before the ceremony goes on. ${STOP_GROUP}`,
  },
  CONFIG_CHANGED: {
    safe: 'The group was not changed.',
    next: 'What would be sent is not the config that was shown and confirmed (the certificate file on the media or the API key entered differ). Stop and record an exception; check the media and the API key. Nothing is sent until the config confirmed is the one sent.',
  },
  CANARY_MISMATCH: {
    safe: 'The new appliance\'s config stays in the group; no appliance was removed from it.',
    next: `Decrypting the recovery canary did not give back the test message. Stop: recovery through the new appliance is not proved, so no appliance may be removed. The administrators check the CMK's KCV on the new appliance and its connection. ${STOP_GROUP}`,
  },
  KCV_MISMATCH: {
    safe: 'The message says where. Nothing on the cluster was changed by this step.',
    next: 'If the records disagree, or an appliance already in the group holds another KCV: nothing was changed; stop, do not delete anything, and investigate with the custodians (the group\'s CMK is not what the records say). If it is the key just imported on the new appliance: it is not the CMK; stop, record an exception, and its administrators delete that key before another attempt.',
  },
  CMK_MISSING: {
    safe: NOTHING,
    next: 'An appliance that should hold the group\'s CMK has no key with the plan\'s CMK name. Check the CMK name in the plan against the records. A CMK is never created in this ceremony: it exists once and is only replicated. Stop and investigate with the custodians.',
  },
  RECORD_MISMATCH: {
    safe: NOTHING,
    next: 'The records and what the cluster holds do not agree (the message names it: the group\'s id, the recovery canary, a record of another kind or mode, a record not closed). Check that the plan names the right records; if it does, the cluster changed after they were made: stop and investigate with the cluster administrator.',
  },
  FAILOVER_RESTORE_NOT_READY: { safe: 'The canary was proved; nothing else was changed.', next: 'Bring back the appliances the proof took down, wait until each answers, then run the step again.' },
  OUTAGE_UNAVAILABLE: { safe: 'Nothing was done.', next: 'This rehearsal cannot take the other appliances down to prove the new one alone. Give each appliance its own simulator process, or plan with proveAlone set to false.' },
}

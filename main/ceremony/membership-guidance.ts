/**
 * What the operator can do about each named error of the membership kinds (add-appliance,
 * replace-appliance), in the words the run screen shows; errors.ts merges this table into its own.
 */
const NOTHING = 'Nothing was changed on the cluster or on any appliance.'

export const MEMBERSHIP_GUIDANCE: Record<string, { safe: string; next: string }> = {
  QUORUM_WEAKER: { safe: NOTHING, next: 'The new appliance\'s quorum group (or the custodians the plan names for it) is weaker than the records show for the others (the message names how). Have its administrators make the quorum policy at least as strong, or, at a replacement\'s onboarding, delete the group someone made beforehand, then run the step again.' },
  QUORUM_MEMBERS_DIFFER: { safe: NOTHING, next: 'The plan\'s custodians for the new appliance are not the ones the records show for the failed appliance (the message names both). The quorum group is made again with the same people: correct the plan and have it approved again.' },
  CUSTODIAN_ACCOUNT_MISSING: { safe: NOTHING, next: 'The account administrators make a user account for each custodian the message names on the new appliance (the onboarding checklist), then run the step again.' },
  APP_CONFLICT: { safe: 'No app was made and no key was read.', next: 'An app with the plan\'s name is on the new appliance but this ceremony did not make it. Investigate with the account administrators; remove it, or name another app in a new plan. Its key was not read.' },
  APP_NEEDS_APPROVAL: { safe: 'The quorum group is made; no app was made.', next: 'The appliance wants the quorum\'s approval to add an app to the group. Make the app with the account administrators (witnessed), and run the replacement with a plan without API onboarding, entering the key on the setup screen.' },
  APP_KEY_NEEDS_APPROVAL: { safe: 'The quorum group and the app are made; the app\'s key was not read.', next: 'The appliance keeps app credentials behind the quorum. The custodians approve reading the app\'s credential (a request in the DSM UI), the operator enters that API key for the new appliance, and the step is run again: it adopts the app and uses the key.' },
  API_KEY_NOT_HELD: { safe: NOTHING, next: 'This workstation cannot hold an API key the ceremony makes. Run the ceremony in the app or with `ceremony run`.' },
  APPLIANCE_ALREADY_IN_GROUP: { safe: NOTHING, next: 'The group already has a connection to the new appliance that this ceremony did not add. Investigate with the cluster administrator before going on.' },
  FAILED_STILL_ANSWERS: { safe: 'Nothing more was changed.', next: 'The appliance recorded as failed still answers at its address with its pinned key. Stop: it must not be recorded as zeroised, destroyed or returned while it runs.' },
  DESTRUCTION_EVIDENCE_MISSING: { safe: 'Nothing more was changed.', next: 'Put the evidence of what happened to the failed appliance (destruction certificate, zeroisation report or RMA receipt) on the media under the name in the plan, then run the step again.' },
  REMOVAL_NOT_AS_PLANNED: { safe: 'The group is as the message says.', next: 'The failed appliance\'s connection is not the one the preflight found. Stop and inspect the group with the cluster administrator.' },
}

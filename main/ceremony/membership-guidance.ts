/**
 * What the operator can do about each named error of the membership kinds (add-appliance,
 * replace-appliance), in the words the run screen shows; errors.ts merges this table into its own.
 */
const NOTHING = 'Nothing was changed on the cluster or on any appliance.'

export const MEMBERSHIP_GUIDANCE: Record<string, { safe: string; next: string }> = {
  QUORUM_WEAKER: { safe: NOTHING, next: 'The new appliance\'s quorum group is weaker than the records show for the others (the message names how). Have its administrators make the quorum policy at least as strong, then run the preflight again.' },
  APPLIANCE_ALREADY_IN_GROUP: { safe: NOTHING, next: 'The group already has a connection to the new appliance that this ceremony did not add. Investigate with the cluster administrator before going on.' },
  FAILED_STILL_ANSWERS: { safe: 'Nothing more was changed.', next: 'The appliance recorded as failed still answers at its address with its pinned key. Stop: it must not be recorded as zeroised, destroyed or returned while it runs.' },
  DESTRUCTION_EVIDENCE_MISSING: { safe: 'Nothing more was changed.', next: 'Put the evidence of what happened to the failed appliance (destruction certificate, zeroisation report or RMA receipt) on the media under the name in the plan, then run the step again.' },
  DISPOSITION_MISMATCH: { safe: 'Nothing was recorded as done with the failed appliance.', next: 'What was done with the failed appliance, as typed, is not what the plan says. Check with the witnesses and the evidence; type it again if it was a slip, or have a witness record an exception naming the reference and saying what really happened, then run the step again.' },
  RMA_NUMBER_MISMATCH: { safe: 'Nothing was recorded as done with the failed appliance.', next: 'The RMA number typed is not the plan\'s. Read it again from the vendor\'s paperwork; if it really differs, a witness records an exception naming the reference, then run the step again.' },
  REMOVAL_NOT_AS_PLANNED: { safe: 'The group is as the message says.', next: 'The failed appliance\'s connection is not the one the preflight found. Stop and inspect the group with the cluster administrator.' },
}

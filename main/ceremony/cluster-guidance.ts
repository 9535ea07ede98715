/**
 * What the operator can do about each named error of the cluster kinds (link-cluster,
 * verify-cluster), in the words the run screen shows; errors.ts merges this table into its own.
 */
const ON_CLUSTER = 'Nothing was created or changed on the cluster.'

export const CLUSTER_GUIDANCE: Record<string, { safe: string; next: string }> = {
  RECORD_MISSING: { safe: ON_CLUSTER, next: 'Open the record of the ceremony this plan builds on (its final digest is on the plan review), then run the step again.' },
  RECORD_INVALID: { safe: ON_CLUSTER, next: 'The record given does not verify (ceremony verify names the first bad entry). Use the sealed record as it was exported, or investigate.' },
  RECORD_MISMATCH: { safe: ON_CLUSTER, next: 'The record verifies but does not fit this plan (another kind, mode, appliance or KCV). Check that the plan names the right record and appliances.' },
  CLUSTER_IS_FIPS: { safe: ON_CLUSTER, next: 'The cluster address reaches a FIPS appliance. FIPS appliances cannot cluster; the plan must name the non-FIPS DSM cluster (guide §3.2.3).' },
  PASSWORD_MISSING: { safe: ON_CLUSTER, next: 'The user the message names (the cluster administrator, or the new appliance\'s system administrator) enters their own DSM password on the setup screen (or at the terminal prompt), then run the step again.' },
  NOT_FIPS_APPLIANCE: { safe: ON_CLUSTER, next: 'An appliance the plan names as FIPS does not report a FIPS level. Stop: correct the plan, or check the appliance with its administrator.' },
  CERTIFICATE_PIN_MISMATCH: { safe: ON_CLUSTER, next: 'The certificate the appliance presents does not carry the pinned key. Stop and confirm the pin with the appliance administrator out of band.' },
  HMG_CERT_NOT_PINNED: { safe: ON_CLUSTER, next: 'The cluster reached an appliance whose certificate is not the one read in this ceremony (a different appliance, or a new certificate). Find out why; run the certificates step again only once the appliance is confirmed.' },
  HMG_API_KEY_REFUSED: { safe: ON_CLUSTER, next: 'The appliance refused the API key the cluster was given. Check the key entered for it, then run the step again.' },
  HMG_UNREACHABLE: { safe: ON_CLUSTER, next: 'The cluster cannot reach the appliance at the address in the plan. Check the network between the cluster and the appliance, then run the step again.' },
  HMG_HOSTNAME: { safe: ON_CLUSTER, next: 'The appliance certificate does not name the address the cluster uses. Correct the address, or set validateHostname to false in a reviewed plan.' },
  HMG_CHECK_FAILED: { safe: ON_CLUSTER, next: 'The cluster refused the connection test; its message says why. Fix the cause, then run the step again.' },
  GROUP_CONFLICT: { safe: 'The existing group was not changed.', next: 'A group with the plan\'s name exists on the cluster but is not linked as planned (or, at a replacement\'s onboarding, on the new appliance but not made by this ceremony). Investigate with its administrators; use another group name in a new plan, or remove the group first.' },
  GROUP_NAME_IN_USE: { safe: 'The existing group was not changed or used.', next: 'A group with this name appeared that this ceremony did not create. Investigate before going on.' },
  GROUP_NOT_AS_PLANNED: { safe: 'The group was created, but not as shown.', next: 'Stop. Record an exception; the cluster administrator inspects the group before it is used.' },
  CONFIG_CHANGED: { safe: ON_CLUSTER, next: 'What would be sent is not the configuration that was shown and confirmed. Run the configuration step again and confirm anew.' },
  CANARY_NOT_VIRTUAL: { safe: 'The key stays in the group for inspection.', next: 'The key is not a virtual key of the FIPS-backed group: the group is not backed by the FIPS appliances. Stop and investigate.' },
  CANARY_MISMATCH: { safe: 'Nothing else was changed.', next: 'Decryption did not give back the test message. Stop: the group\'s keys cannot be trusted until this is explained.' },
  FIPS_UNREACHABLE: { safe: 'The operation was not performed.', next: 'No FIPS appliance of the group answered the cluster. Bring at least one back, then run the step again.' },
  FAILOVER_DRILL_NOT_READY: { safe: 'Nothing was done.', next: 'Disconnect the first FIPS appliance (its network cable) and run the step again; or, to leave the drill out, record an exception at this step saying why, then run it.' },
  FAILOVER_RESTORE_NOT_READY: { safe: 'Nothing was done.', next: 'Reconnect the appliance taken down for the drill, wait until it answers, then run the step again.' },
  OUTAGE_UNAVAILABLE: { safe: 'Nothing was done.', next: 'This rehearsal cannot take the simulated appliance down. Run the rehearsal from `ceremony rehearse`, or give each appliance its own simulator process.' },
}

/**
 * Starting points for a new plan, one per kind the editor offers: every field the format has, the
 * pins, people, account and earlier records left empty to be filled in (main names each by field).
 */
const json = (plan: object) => `${JSON.stringify(plan, null, 2)}\n`
const pin = { spkiSha256: '' }
const fips = (n: number) => ({ id: `fips-${n}`, label: `FIPS appliance ${n}`, host: `fips${n}.example.internal`, port: 443, trust: pin })
const cluster = { id: 'cluster', label: 'Non-FIPS DSM cluster', host: 'dsm.example.internal', port: 443, trust: pin, accountId: '', admin: '' }

export const REPLICATE_TEMPLATE = json({
  format: 'dsm-key-ceremony/plan',
  version: 1,
  id: 'cmk-replication-2025',
  title: 'CMK replication to the second data centre',
  mode: 'production',
  appliances: [
    { id: 'dsm-source', label: 'Source appliance', host: 'dsm1.example.internal', port: 443, trust: pin },
    { id: 'dsm-target', label: 'Target appliance', host: 'dsm2.example.internal', port: 443, trust: pin },
  ],
  source: 'dsm-source',
  targets: ['dsm-target'],
  groupName: 'CMK quorum group',
  cmk: { name: 'Cluster Master Key', create: false },
  wrapMode: 'RSA-OAEP-SHA256',
  participants: { operator: '', custodians: { 'dsm-source': [], 'dsm-target': [] }, witnesses: [] },
})

/** Guide §3.2.2 step 7: the new appliance last in `fips` (it gets the next priority); `buildsOn` the replication and link records. */
const ADD_TEMPLATE = json({
  format: 'dsm-key-ceremony/plan',
  version: 1,
  kind: 'add-appliance',
  id: 'add-fips-3-2026',
  title: 'Add FIPS appliance 3 to the FIPS group',
  mode: 'production',
  appliances: [fips(1), fips(2), fips(3)],
  cluster,
  groupName: 'FIPS GROUP',
  fips: ['fips-1', 'fips-2', 'fips-3'],
  source: 'fips-1',
  added: 'fips-3',
  quorumGroupName: 'Quorum Group',
  cmkName: 'cluster-master-key',
  buildsOn: [''],
  participants: { operator: '', custodians: { 'fips-1': [], 'fips-2': [], 'fips-3': [] }, witnesses: [] },
})

/**
 * Guide §5: the failed appliance stays in `appliances` (as the records name it) but leaves `fips`; its
 * fate is read in the room at D.1. `onboarding`: the new appliance's system administrator signs in and
 * the ceremony makes its quorum group and app through the API (remove it to make them by hand, witnessed).
 */
const REPLACE_TEMPLATE = json({
  format: 'dsm-key-ceremony/plan',
  version: 1,
  kind: 'replace-appliance',
  id: 'replace-fips-1-2026',
  title: 'Replace the failed FIPS appliance 1 with FIPS appliance 4',
  mode: 'production',
  appliances: [fips(1), fips(2), fips(4)],
  cluster,
  groupName: 'FIPS GROUP',
  fips: ['fips-2', 'fips-4'],
  source: 'fips-2',
  added: 'fips-4',
  failed: { id: 'fips-1', serial: '', disposition: 'zeroised', evidenceFile: 'fips-1-zeroisation.pdf' },
  onboarding: { sysadmin: '', accountId: '', appName: 'Key Ceremony App' },
  quorumGroupName: 'Quorum Group',
  cmkName: 'cluster-master-key',
  buildsOn: [''],
  participants: { operator: '', custodians: { 'fips-2': [], 'fips-4': [] }, witnesses: [] },
})

export const PLAN_TEMPLATES: { kind: string; title: string; text: string }[] = [
  { kind: 'replicate-cmk', title: 'CMK replication', text: REPLICATE_TEMPLATE },
  { kind: 'add-appliance', title: 'Add a FIPS appliance', text: ADD_TEMPLATE },
  { kind: 'replace-appliance', title: 'Replace a failed FIPS appliance', text: REPLACE_TEMPLATE },
]

/**
 * The ceremony as a list of steps (design §3): one preflight, the CMK creation when the plan asks
 * for it, eleven steps per target, and the close. Each step says in plain words what it does and
 * why, where it acts, and what a witness must check.
 */
import type { StepKind } from '../../preload/contract'
import type { Plan } from './plan'

export interface StepDef {
  id: string
  kind: StepKind
  /** Row of the design's step table, for the printed script. */
  number: number
  target: string | null
  where: string
  title: string
  explain: string
  witnessItems: string[]
  /** Irreversible steps need a typed confirmation; the text says what to type. */
  confirmation: { prompt: string } | null
}

type Labels = (id: string) => string

const PER_TARGET: Array<(t: string, plan: Plan, label: Labels) => Omit<StepDef, 'id' | 'target'>> = [
  (t, plan, label) => ({
    kind: 'transfer-key', number: 2, where: label(t),
    title: `Generate the transfer key on ${label(t)}`,
    explain: `${label(t)} creates a new RSA-2048 key pair. Its private half never leaves ${label(t)}; the public half will carry the Cluster Master Key across, so only ${label(t)} can open it.`,
    witnessItems: [`The transfer key was generated on ${label(t)} (not on ${label(plan.source)})`, 'The key is RSA 2048 with exponent 65537'],
    confirmation: null,
  }),
  (t, _plan, label) => ({
    kind: 'export-pubkey', number: 3, where: `${label(t)} → media`,
    title: `Save the transfer public key from ${label(t)}`,
    explain: 'The public key is written to a file and read back to prove the file is intact. Its fingerprint is read aloud so everyone can compare it later.',
    witnessItems: ['The fingerprint on screen was read aloud, group by group', 'The file digest was recorded'],
    confirmation: null,
  }),
  (t, plan, label) => ({
    kind: 'import-pubkey', number: 4, where: `media → ${label(plan.source)}`,
    title: `Import the transfer public key into ${label(plan.source)}`,
    explain: `The file is checked strictly (one RSA-2048 public key, nothing else) and imported into ${label(plan.source)}. The fingerprint must be the same three times: on ${label(t)}, in the file, and on ${label(plan.source)}. A different key here would let someone else open the CMK.`,
    witnessItems: ['The three fingerprints match, as read aloud', `The key imported on ${label(plan.source)} is a public key only`],
    confirmation: null,
  }),
  (t, plan, label) => ({
    kind: 'wrap-request', number: 5, where: label(plan.source),
    title: `Ask ${label(plan.source)}'s custodians to approve the export for ${label(t)}`,
    explain: `An approval request is opened on ${label(plan.source)} to export the Cluster Master Key wrapped under ${label(t)}'s transfer key (RSA-OAEP). Nothing is exported until the quorum approves.`,
    witnessItems: ['The request names the Cluster Master Key and the imported transfer key'],
    confirmation: null,
  }),
  (t, plan, label) => ({
    kind: 'wrap-approval', number: 6, where: label(plan.source),
    title: `Custodians approve the export on ${label(plan.source)}`,
    explain: `Each custodian signs in with their own DSM user, checks the request (the key, and the transfer key's fingerprint for ${label(t)}), and approves or denies it. The ceremony waits until the quorum is reached.`,
    witnessItems: ['Each approving custodian checked the fingerprint before approving', 'The quorum was reached by the named custodians'],
    confirmation: { prompt: `Type the last 4 characters of ${label(t)}'s transfer-key fingerprint to approve the export` },
  }),
  (t, plan, label) => ({
    kind: 'wrap-result', number: 7, where: `${label(plan.source)} → media`,
    title: `Write the wrapped Cluster Master Key for ${label(t)}`,
    explain: 'The approved export is fetched and written with a manifest (ceremony, key, KCV, fingerprint, digest), then read back. The file can only be opened by the target\'s transfer key.',
    witnessItems: ['The wrapped file and its manifest were written and read back', 'The blob digest was recorded'],
    confirmation: null,
  }),
  (t, _plan, label) => ({
    kind: 'load-blob', number: 8, where: `media → ${label(t)}`,
    title: `Check the wrapped file before loading it on ${label(t)}`,
    explain: `The file's digest must equal the manifest's, and the manifest's transfer-key fingerprint must be the key that exists on ${label(t)} right now.`,
    witnessItems: ['The digest matches the manifest', `The manifest's fingerprint matches ${label(t)}'s transfer key`],
    confirmation: null,
  }),
  (t, _plan, label) => ({
    kind: 'unwrap-request', number: 9, where: label(t),
    title: `Ask ${label(t)}'s custodians to approve the import`,
    explain: `An approval request is opened on ${label(t)} to unwrap the file with its transfer key, creating the Cluster Master Key (AES-256, exportable) in the quorum group.`,
    witnessItems: ['The request unwraps with the transfer key generated in this ceremony'],
    confirmation: null,
  }),
  (t, _plan, label) => ({
    kind: 'unwrap-approval', number: 10, where: label(t),
    title: `Custodians approve the import on ${label(t)}`,
    explain: `Each custodian of ${label(t)} signs in with their own DSM user, checks the request and approves or denies it.`,
    witnessItems: ['The quorum was reached by the named custodians'],
    confirmation: null,
  }),
  (t, plan, label) => ({
    kind: 'unwrap-result', number: 11, where: label(t),
    title: `Prove the Cluster Master Key arrived intact on ${label(t)}`,
    explain: `The approved import is fetched. The key check value (KCV) of the new key on ${label(t)} must equal the KCV on ${label(plan.source)}; if not, the ceremony stops.`,
    witnessItems: [`The KCV on ${label(t)} equals the KCV on ${label(plan.source)}, as read aloud`],
    confirmation: null,
  }),
  (t, plan, label) => ({
    kind: 'cleanup', number: 12, where: `${label(plan.source)}, ${label(t)}`,
    title: `Delete both transfer keys for ${label(t)}`,
    explain: `The transfer key on ${label(t)} and its imported public key on ${label(plan.source)} are deleted, their absence is confirmed, and the inventories are compared with the start: only the CMK was added on ${label(t)}.`,
    witnessItems: ['Both transfer keys are gone (confirmed absent)', 'The inventory difference is exactly the CMK added on the target'],
    confirmation: { prompt: `Type the last 4 characters of ${label(t)}'s transfer-key fingerprint to delete the transfer keys` },
  }),
]

export function expandSteps(plan: Plan, createCmk: boolean): StepDef[] {
  const label: Labels = (id) => plan.appliances.find((a) => a.id === id)?.label ?? id
  const steps: StepDef[] = [
    {
      id: 'preflight', kind: 'preflight', number: 0, target: null, where: 'all appliances',
      title: 'Check every appliance before anything changes',
      explain: `Signs in to each appliance with its API key, reads its version and clock, checks the quorum group "${plan.groupName}" and its approval policy, checks the Cluster Master Key on ${label(plan.source)} (AES-256, exportable), checks it is not already on a target with a different KCV, and takes an inventory of every appliance (names and types only).`,
      witnessItems: ['Appliance versions and clocks were read', `The quorum policy on "${plan.groupName}" is in place`, 'The CMK KCV on the source was read aloud'],
      confirmation: null,
    },
  ]
  if (createCmk) {
    steps.push({
      id: 'create-cmk', kind: 'create-cmk', number: 1, target: null, where: label(plan.source),
      title: `Create the Cluster Master Key on ${label(plan.source)}`,
      explain: `The first ceremony creates the CMK "${plan.cmk.name}": AES-256, exportable only through a quorum approval, in the group "${plan.groupName}".`,
      witnessItems: ['The CMK was created once, in the quorum group', 'Its KCV was read aloud and written down'],
      confirmation: { prompt: 'Type the last 4 characters of the plan digest to create the Cluster Master Key' },
    })
  }
  for (const target of plan.targets) {
    for (const make of PER_TARGET) {
      const def = make(target, plan, label)
      steps.push({ ...def, id: `${def.kind}:${target}`, target })
    }
  }
  steps.push({
    id: 'close', kind: 'close', number: 14, target: null, where: 'workstation',
    title: 'Close the ceremony and seal the record',
    explain: 'Witnesses sign off first: once this step runs, the audit log is sealed and nothing more can be added. It signs out of every appliance and builds the ceremony record, whose final digest, in words, is then read aloud and written on the paper record.',
    witnessItems: ['Every target shows the source KCV, as read aloud', 'Every exception recorded in this ceremony was read out'],
    confirmation: null,
  })
  return steps
}

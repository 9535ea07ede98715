/**
 * What every ceremony plan shares, whatever its kind (design §4): format, version, id, title, mode,
 * the appliances with their TLS trust, and the participants. A kind adds its own fields next to
 * these (kinds/<kind>/plan.ts). No plan ever holds a secret: API keys and passwords are entered
 * at run time and stay in main-process memory.
 */
import { z } from 'zod'
import { CeremonyError } from '../errors'
import { checkCameras, type Camera } from './plan-cameras'
import { isWindowsDeviceName, lookAlikes, spokenTextProblem } from './plan-names'
import { MaterialsSchema, checkMaterials, type Materials } from './materials/schema'

export const PLAN_FORMAT = 'dsm-key-ceremony/plan'

/**
 * Free text that is printed and read aloud: no control characters (ANSI escapes included), nothing
 * invisible, composed Unicode, no word mixing Latin, Cyrillic or Greek letters (plan-names.ts).
 */
export const spokenText = (max: number) => z.string().trim().min(1).max(max).superRefine((value, ctx) => {
  const problem = spokenTextProblem(value)
  if (problem) ctx.addIssue({ code: 'custom', message: problem })
})
const text = spokenText

/** Ids become file and folder names: lowercase ASCII, and never a Windows device name (CON, NUL, COM1 …). */
export const slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$/, 'use 3–64 lowercase letters, digits and dashes')
  .refine((id) => !isWindowsDeviceName(id), 'is a Windows device name (CON, PRN, AUX, NUL, COM0–9, LPT0–9); it cannot be a file or folder name')
export const hostname = z
  .string()
  .min(1)
  .max(253)
  .regex(/^(?!https?:)[A-Za-z0-9.-]+$/, 'a host name or IPv4 address without scheme, port or path (as the vendor guide writes it)')
const spki = z.string().regex(/^[0-9a-f]{64}$/, 'the SPKI SHA-256 pin: 64 lowercase hex characters')
export const person = text(80)
export const label = text(80)
/** A CA bundle for one appliance is a few kilobytes; a cap keeps a hostile plan from stalling the parser. */
const CA_PEM_MAX = 64 * 1024

export const TrustSchema = z
  .strictObject({
    spkiSha256: spki.optional(),
    caPem: z.string().max(CA_PEM_MAX, `at most ${CA_PEM_MAX} characters`).includes('-----BEGIN CERTIFICATE-----').optional(),
  })
  .refine((t) => t.spkiSha256 !== undefined || t.caPem !== undefined, 'give spkiSha256, caPem or both')

export const ApplianceSchema = z.strictObject({
  id: slug,
  label,
  host: hostname,
  port: z.number().int().min(1).max(65535).default(443),
  /** How the workstation trusts the appliance's TLS: a pinned public key and/or a CA certificate. */
  trust: TrustSchema,
})

/** A witness: a name (initials are then its words' first letters), or a name with the initials they sign with. */
const WitnessSchema = z.union([person, z.strictObject({ name: person, initials: z.string().trim().regex(/^[A-Za-z]{1,4}$/, '1 to 4 letters') })])

const custodianList = z.array(text(254)).min(1).max(32)

/** Trusted roles (WebTrust key-ceremony roles), kept apart by checkRoles below. */
export const ParticipantsSchema = z.strictObject({
  operator: person,
  /** Per appliance id: the DSM user names of its quorum custodians. */
  custodians: z
    .record(slug, custodianList)
    .refine((byAppliance) => Object.keys(byAppliance).length <= 16, 'custodians for at most 16 appliances'),
  witnesses: z.array(WitnessSchema).min(1).max(16),
  /** The witness who keeps the record of deviations (the deviation register). */
  internalWitness: person.optional(),
  /** Who approves the plan and the printed script before the first step (they sign its digest). */
  approvers: z.array(WitnessSchema).min(1).max(8).optional(),
  /** Stand-ins for each role, named in advance. */
  backups: z.strictObject({
    operator: z.array(person).max(4).optional(),
    witnesses: z.array(WitnessSchema).max(8).optional(),
    custodians: z.record(slug, custodianList).optional(),
  }).optional(),
})

/** How many witnesses sign each step: a number, or (when absent) every witness present, at least one. */
export const WitnessingSchema = z.strictObject({
  signersPerStep: z.union([z.literal('all-present'), z.number().int().min(1).max(16)]),
})

/**
 * A station (design §3b): a workstation in one site, the appliances it reaches over its own
 * network, and who is present there. Appliances in different sites share no network: files and
 * evidence travel between stations on removable media (main/ceremony/stations.ts plans the trips).
 */
export const StationSchema = z.strictObject({
  id: slug,
  label,
  appliances: z.array(slug).min(1).max(16),
  /** Who drives the ceremony at this station. */
  operator: person,
  /** Who witnesses there: each must be one of the plan's witnesses. */
  witnesses: z.array(person).min(1).max(16),
})
export type Station = z.output<typeof StationSchema>

/** A camera filming the ceremony (plan-cameras.ts): its files are listed by this id in the video addendum. */
export const CameraSchema = z.strictObject({ id: slug, label, films: text(160) })

/** The fields every kind's plan schema starts with (spread into its strictObject). */
export const envelopeShape = {
  format: z.literal(PLAN_FORMAT),
  version: z.literal(1),
  id: slug,
  title: text(120),
  mode: z.enum(['production', 'rehearsal']),
  appliances: z.array(ApplianceSchema).min(1).max(16),
  participants: ParticipantsSchema,
  witnessing: WitnessingSchema.optional(),
  /** Optional: where the appliances are. Absent means one station that reaches every appliance. */
  stations: z.array(StationSchema).min(1).max(8).optional(),
  /** Optional: the cameras that film the ceremony, so footage can be matched to steps by the on-screen clock. */
  cameras: z.array(CameraSchema).min(1).max(8).optional(),
  /** Optional: the materials manifest (materials/schema.ts): chassis, bags and where each item goes at the close. */
  materials: MaterialsSchema.optional(),
}

export type PlanAppliance = z.output<typeof ApplianceSchema>
export type Participants = z.output<typeof ParticipantsSchema>

/** The envelope as every kind's plan has it; `kind` names which kind. */
export interface Plan {
  kind: string
  format: typeof PLAN_FORMAT
  version: 1
  id: string
  title: string
  mode: 'production' | 'rehearsal'
  appliances: PlanAppliance[]
  participants: Participants
  witnessing?: z.output<typeof WitnessingSchema> | undefined
  stations?: Station[] | undefined
  cameras?: Camera[] | undefined
  materials?: Materials | undefined
}

type Ctx = z.RefinementCtx

/** Cross-field checks of the envelope, run by every kind's schema. */
export function checkEnvelope(plan: Plan, ctx: Ctx): void {
  const ids = plan.appliances.map((a) => a.id)
  const seen = { id: new Set<string>(), pin: new Set<string>(), host: new Set<string>() }
  plan.appliances.forEach((a, i) => {
    if (seen.id.has(a.id)) ctx.addIssue({ code: 'custom', path: ['appliances', i, 'id'], message: `appliance id "${a.id}" is used twice` })
    const where = `${a.host.toLowerCase()}:${a.port}`
    if (seen.host.has(where)) ctx.addIssue({ code: 'custom', path: ['appliances', i, 'host'], message: `${where} is given for two appliances` })
    if (a.trust.spkiSha256 && seen.pin.has(a.trust.spkiSha256)) ctx.addIssue({ code: 'custom', path: ['appliances', i, 'trust', 'spkiSha256'], message: 'the same TLS pin is given for two appliances' })
    seen.id.add(a.id)
    seen.host.add(where)
    if (a.trust.spkiSha256) seen.pin.add(a.trust.spkiSha256)
  })
  // Names told apart in the room must not look the same (an exact repeat, or a look-alike spelling).
  const distinct = (names: string[], what: string, path: (i: number) => (string | number)[]) => {
    for (const { index, same } of lookAlikes(names)) {
      const name = names[index]!
      ctx.addIssue({ code: 'custom', path: path(index), message: name === same ? `${what} "${name}" is listed twice` : `${what} "${name}" looks the same as "${same}"` })
    }
  }
  distinct(plan.appliances.map((a) => a.label), 'appliance label', (i) => ['appliances', i, 'label'])
  for (const id of Object.keys(plan.participants.custodians)) {
    if (!ids.includes(id)) ctx.addIssue({ code: 'custom', path: ['participants', 'custodians', id], message: `no appliance with id "${id}"` })
    distinct(plan.participants.custodians[id]!, 'custodian', (i) => ['participants', 'custodians', id, i])
  }
  const names = plan.participants.witnesses.map(nameOf)
  distinct(names, 'witness', (i) => ['participants', 'witnesses', i])
  checkRoles(plan, ctx)
  const rule = plan.witnessing?.signersPerStep
  if (typeof rule === 'number' && rule > names.length) ctx.addIssue({ code: 'custom', path: ['witnessing', 'signersPerStep'], message: `${rule} signers per step, but the plan names ${names.length} witness(es)` })
  if (plan.stations) checkStations(plan, plan.stations, ctx)
  if (plan.cameras) checkCameras(plan.cameras, ctx)
  if (plan.materials) checkMaterials(plan, plan.materials, ctx)
}

/** Every appliance is reached from exactly one station; station witnesses are the plan's witnesses. */
function checkStations(plan: Plan, stations: Station[], ctx: Ctx): void {
  const ids = new Set<string>()
  const placed = new Map<string, string>()
  stations.forEach((s, i) => {
    if (ids.has(s.id)) ctx.addIssue({ code: 'custom', path: ['stations', i, 'id'], message: `station id "${s.id}" is used twice` })
    ids.add(s.id)
    s.appliances.forEach((a, j) => {
      if (!plan.appliances.some((x) => x.id === a)) ctx.addIssue({ code: 'custom', path: ['stations', i, 'appliances', j], message: `no appliance with id "${a}"` })
      const other = placed.get(a)
      // One appliance, one site: a step on it must have one place to run.
      if (other !== undefined) ctx.addIssue({ code: 'custom', path: ['stations', i, 'appliances', j], message: `appliance "${a}" is already reached from station "${other}"` })
      placed.set(a, s.id)
    })
    s.witnesses.forEach((w, j) => {
      if (!plan.participants.witnesses.some((x) => nameOf(x) === w)) ctx.addIssue({ code: 'custom', path: ['stations', i, 'witnesses', j], message: `"${w}" is not one of the plan's witnesses` })
    })
  })
  plan.appliances.forEach((a, i) => {
    if (!placed.has(a.id)) ctx.addIssue({ code: 'custom', path: ['appliances', i, 'id'], message: `appliance "${a.id}" is reached from no station` })
  })
}

const nameOf = (w: string | { name: string }) => (typeof w === 'string' ? w : w.name)

/**
 * Trusted roles kept apart (WebTrust; ceremony-practice.md): a custodian does not witness the
 * approvals of an appliance they hold a quorum share of; the operator is never the only witness, nor
 * the only approver; no one person can make up an appliance's quorum alone.
 */
function checkRoles(plan: Plan, ctx: Ctx): void {
  const p = plan.participants
  const witnesses = [...p.witnesses, ...(p.backups?.witnesses ?? [])].map(nameOf)
  const custodians = Object.entries({ ...(p.backups?.custodians ?? {}), ...p.custodians }).flatMap(([appliance, users]) => users.map((u) => ({ appliance, user: u })))
  witnesses.forEach((w, i) => {
    const held = custodians.find((c) => c.user === w)
    if (held) ctx.addIssue({ code: 'custom', path: ['participants', 'witnesses', i], message: `ROLE_CONFLICT: "${w}" is a custodian of ${held.appliance} and cannot witness its approvals` })
  })
  if (p.witnesses.length === 1 && nameOf(p.witnesses[0]!) === p.operator) {
    ctx.addIssue({ code: 'custom', path: ['participants', 'witnesses'], message: 'ROLE_CONFLICT: the operator cannot be the only witness' })
  }
  if (p.approvers && p.approvers.length === 1 && nameOf(p.approvers[0]!) === p.operator) {
    ctx.addIssue({ code: 'custom', path: ['participants', 'approvers'], message: 'ROLE_CONFLICT: the operator cannot approve their own script alone' })
  }
  // Across sites each station's operator runs the steps there: they too hold no quorum share.
  const operators = [p.operator, ...(plan.stations ?? []).map((st) => st.operator)]
  for (const [appliance, users] of Object.entries(p.custodians)) {
    if (new Set(users).size < 2) ctx.addIssue({ code: 'custom', path: ['participants', 'custodians', appliance], message: `ROLE_CONFLICT: one person would hold ${appliance}'s quorum alone; name at least two custodians` })
    const operator = operators.find((o) => users.includes(o))
    if (operator !== undefined) ctx.addIssue({ code: 'custom', path: ['participants', 'custodians', appliance], message: `ROLE_CONFLICT: ${operator === p.operator ? 'the operator' : `"${operator}", a station's operator,`} cannot also be a custodian of ${appliance}` })
  }
  if (p.internalWitness !== undefined && p.internalWitness === p.operator) {
    ctx.addIssue({ code: 'custom', path: ['participants', 'internalWitness'], message: 'ROLE_CONFLICT: the operator cannot keep the deviation register' })
  }
}

/** An appliance id the kind's fields refer to must be one of the plan's appliances. */
export function checkApplianceRef(plan: Plan, id: string, path: (string | number)[], ctx: Ctx): void {
  if (!plan.appliances.some((a) => a.id === id)) ctx.addIssue({ code: 'custom', path, message: `no appliance with id "${id}"` })
}

export function applianceOf(plan: Plan, id: string): PlanAppliance {
  const appliance = plan.appliances.find((a) => a.id === id)
  if (!appliance) throw new CeremonyError('PLAN_INVALID', `The plan has no appliance with id "${id}"`)
  return appliance
}

export function labelOf(plan: Plan, id: string): string {
  return plan.appliances.find((a) => a.id === id)?.label ?? id
}

/** The appliance's TLS trust as the DSM client takes it: the pin and/or the CA, only what the plan gives. */
export function trustOf(appliance: PlanAppliance): { spkiSha256?: string; caPem?: string } {
  return {
    ...(appliance.trust.spkiSha256 ? { spkiSha256: appliance.trust.spkiSha256 } : {}),
    ...(appliance.trust.caPem ? { caPem: appliance.trust.caPem } : {}),
  }
}

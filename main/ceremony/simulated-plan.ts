/**
 * Plans and credentials for simulated appliances: the bridge between `ceremony simulate`'s
 * appliances.json and a ceremony plan, used by `ceremony plan`, `ceremony rehearse` and the app's
 * rehearsal mode. The credentials file is the only place API keys and custodian passwords are
 * written, and only for simulated appliances.
 */
import { z } from 'zod'
import { CeremonyError } from '../errors'
import type { ReplicateCmkPlan } from './kinds/replicate-cmk/plan'
import type { Camera } from './plan-cameras'
import { PLAN_FORMAT, parsePlan } from './plan'
import type { Materials } from './materials/schema'
// The version the simulated appliances report, so a rehearsal's manifest expects what they say.
import { SIM_VERSION } from '../simulator/routes-sys'

export const CredentialsSchema = z.object({
  appliances: z.array(
    z.object({
      id: z.string(),
      /**
       * Absent for a replacement before its onboarding (read as ""): the ceremony makes its app and
       * holds the key in memory. Given, it must not be empty.
       */
      apiKey: z.string().min(1).optional().transform((k) => k ?? ''),
      custodians: z.array(z.object({ user: z.string(), password: z.string() })).optional(),
      /** A fresh simulated appliance's system administrator, who signs in to onboard it (replace-appliance). */
      sysadmin: z.object({ user: z.string(), password: z.string() }).optional(),
      accountId: z.string().optional(),
      // present in the simulator's file; used to write a plan
      host: z.string().optional(),
      port: z.number().optional(),
      spkiSha256: z.string().optional(),
      groupName: z.string().optional(),
      cmkName: z.string().optional(),
      /** Rehearsal: the appliance's own `ceremony simulate` process, so the failover drill can take it down (outage.ts). */
      pid: z.number().int().positive().optional(),
    }),
  ).min(1),
})
export type Credentials = z.infer<typeof CredentialsSchema>

export function parseCredentials(text: string): Credentials {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new CeremonyError('CREDENTIALS_INVALID', 'The credentials file is not valid JSON')
  }
  const parsed = CredentialsSchema.safeParse(json)
  if (!parsed.success) {
    throw new CeremonyError('CREDENTIALS_INVALID', `The credentials file is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
  }
  return parsed.data
}

export interface SimulatedPlanOptions {
  id?: string
  title?: string
  mode?: 'production' | 'rehearsal'
  /** Target appliance ids in order; default: every appliance after the first. */
  targets?: string[]
  operator?: string
  witnesses?: string[]
  /** The cameras that film it; default: one on the operator's screen, one on the appliances. */
  cameras?: Camera[]
  /** Add a materials manifest: what the simulated chassis and bags show (materialsForRehearsal). */
  materials?: boolean
}

/**
 * What a rehearsal's simulated room holds: a chassis per appliance (serial, two tamper labels, the
 * FIPS level and version the simulator reports), the laptop and ceremony drive in bags, a new
 * archive drive, two safes; everything goes to a safe at the close.
 */
export function materialsForRehearsal(appliances: readonly { id: string }[]): Materials {
  return {
    appliances: Object.fromEntries(appliances.map((a, i) => [a.id, { serial: `FX2200-SIM-${String(i + 1).padStart(4, '0')}`, tamperLabels: [`TL-${i + 1}01`, `TL-${i + 1}02`], fipsLevel: 3, version: SIM_VERSION }])),
    items: [
      { id: 'ceremony-laptop', description: 'Ceremony laptop', serial: 'LT-SIM-0001', bag: 'TEB-100001' },
      { id: 'ceremony-media', description: 'Ceremony USB drive', serial: 'USB-SIM-0001', bag: 'TEB-100002' },
      { id: 'archive-media', description: 'Archive USB drive', serial: 'USB-SIM-0002' },
    ],
    safes: [{ id: 'safe-a', label: 'Safe A, operations room' }, { id: 'safe-b', label: 'Safe B, second site' }],
    storage: [{ item: 'ceremony-laptop', to: 'safe-a' }, { item: 'ceremony-media', to: 'safe-a' }, { item: 'archive-media', to: 'safe-b' }],
  }
}

/**
 * A rehearsal films what a real ceremony films (ceremony-practice.md: ICANN's audit cameras), so the
 * video addendum is rehearsed too: the screen, whose UTC clock and step id match footage to steps,
 * and the room, where the appliances' front panels and the people are.
 */
export const DEFAULT_CAMERAS: Camera[] = [
  { id: 'cam-screen', label: 'Screen camera', films: "the operator's screen, with the UTC clock and the step id" },
  { id: 'cam-room', label: 'Room camera', films: "the appliances' front panels and the table" },
]

export function planForAppliances(creds: Credentials, options: SimulatedPlanOptions = {}): ReplicateCmkPlan {
  const [source, ...rest] = creds.appliances
  if (!source) throw new CeremonyError('CREDENTIALS_INVALID', 'No appliances in the file')
  const missing = creds.appliances.filter((a) => !a.host || !a.port || !a.spkiSha256)
  if (missing.length > 0) throw new CeremonyError('CREDENTIALS_INVALID', `Appliances ${missing.map((a) => a.id).join(', ')} have no host, port or pin`)
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '').toLowerCase()
  return parsePlan({
    kind: 'replicate-cmk',
    format: PLAN_FORMAT,
    version: 1,
    id: options.id ?? `rehearsal-${stamp}`,
    title: options.title ?? `CMK replication rehearsal (${creds.appliances.length} simulated appliances)`,
    mode: options.mode ?? 'rehearsal',
    appliances: creds.appliances.map((a, i) => ({ id: a.id, label: `FIPS appliance ${i + 1} (${a.id})`, host: a.host, port: a.port, trust: { spkiSha256: a.spkiSha256 } })),
    source: source.id,
    targets: options.targets ?? rest.map((a) => a.id),
    groupName: source.groupName ?? 'Quorum Group',
    cmk: { name: source.cmkName ?? 'cluster-master-key', create: false },
    transferKeyName: '{ceremony}-transfer-{target}',
    wrapMode: 'RSA-OAEP-SHA256',
    participants: {
      operator: options.operator ?? 'Rehearsal operator',
      custodians: Object.fromEntries(creds.appliances.map((a) => [a.id, (a.custodians ?? []).map((c) => c.user)]).filter(([, users]) => users!.length > 0)),
      witnesses: options.witnesses ?? ['Witness One', 'Witness Two'],
    },
    cameras: options.cameras ?? DEFAULT_CAMERAS,
    ...(options.materials ? { materials: materialsForRehearsal(creds.appliances) } : {}),
  }) as ReplicateCmkPlan
}

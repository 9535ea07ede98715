/**
 * Ceremony snapshots for renderer tests: a rehearsal plan with a source and two targets, and steps
 * built like the engine's (design §3). Every builder takes overrides so a test states only what it
 * is about.
 */
import type { ApprovalView, CeremonyRecord, CeremonySnapshot, DigestView, PlanSummary, StepView } from '../../preload/contract'

const WORDS_EVEN = ['aardvark', 'absurd', 'accrue', 'acme', 'adrift', 'adult', 'afflict', 'ahead']
const WORDS_ODD = ['adroitness', 'adviser', 'aftermath', 'aggregate', 'alkali', 'almighty', 'amulet', 'amusement']

/** A digest view from hex (fake but stable words: one per byte). */
export function digest(hex: string): DigestView {
  const clean = hex.toLowerCase()
  const groups = clean.toUpperCase().match(/.{1,4}/g)!.join(' ')
  const words = clean.match(/.{2}/g)!.map((b, i) => (i % 2 === 0 ? WORDS_EVEN : WORDS_ODD)[parseInt(b, 16) % 8]!)
  return { hex: clean, hexGroups: groups, words }
}

export const PLAN_DIGEST = digest('3f2a91c0'.repeat(8))
export const FINGERPRINT = digest('a1b2c3d4e5f60718'.repeat(4))

export function makePlan(overrides: Partial<PlanSummary> = {}): PlanSummary {
  return {
    kind: 'replicate-cmk',
    kindTitle: 'CMK replication',
    id: 'cmk-rehearsal',
    title: 'CMK replication rehearsal',
    mode: 'rehearsal',
    digest: PLAN_DIGEST,
    appliances: [
      { id: 'dsm-s', label: 'Source DSM', host: '127.0.0.1', port: 4431, spkiSha256: 'ab'.repeat(32), hasCa: false, role: 'Source' },
      { id: 'dsm-t1', label: 'Target DSM 1', host: '127.0.0.1', port: 4432, spkiSha256: 'cd'.repeat(32), hasCa: false, role: 'Target 1' },
      { id: 'dsm-t2', label: 'Target DSM 2', host: '127.0.0.1', port: 4433, spkiSha256: null, hasCa: true, role: 'Target 2' },
    ],
    details: [
      { label: 'Source (holds the CMK)', value: 'Source DSM' },
      { label: 'Cluster Master Key', value: 'Cluster Master Key (already on the source)' },
      { label: 'Quorum group', value: 'CMK quorum' },
    ],
    participants: {
      operator: 'Olivia Operator',
      custodians: { 'dsm-s': ['alice@example.test', 'bob@example.test', 'carol@example.test'], 'dsm-t1': ['dave@example.test'], 'dsm-t2': ['erin@example.test'] },
      witnesses: ['Wendy Witness', 'Walter Witness'],
    },
    cameras: [
      { id: 'cam-screen', label: 'Screen camera', films: "the operator's screen, with the UTC clock and the step id" },
      { id: 'cam-room', label: 'Room camera', films: "the appliances' front panels and the table" },
    ],
    json: '{"format":"dsm-key-ceremony/plan","id":"cmk-rehearsal"}',
    ...overrides,
  }
}

export function makeApproval(overrides: Partial<ApprovalView> = {}): ApprovalView {
  return {
    requestId: 'req-1',
    appliance: 'dsm-s',
    applianceLabel: 'Source DSM',
    operation: 'POST /crypto/v1/wrapkey',
    status: 'PENDING',
    quorum: { n: 2, of: 3 },
    approvals: [],
    denials: [],
    expiresAt: new Date(Date.now() + 30 * 60_000).toISOString(),
    requirePassword: true,
    description: 'ceremony cmk-rehearsal step wrap-dsm-t1 nonce 42',
    facts: [
      { label: 'Operation', value: 'POST /crypto/v1/wrapkey' },
      { label: 'Key exported', value: 'Cluster Master Key (AES-256, key id 8f14e45f-ceea-467f-a0e6-6d1b5e3c9a2b)' },
      { label: 'Wrapping key fingerprint', value: FINGERPRINT.hex, digest: FINGERPRINT },
    ],
    checks: [
      { label: 'The key exported is the Cluster Master Key', ok: true },
      { label: 'The wrapping key is the transfer key generated on Target DSM 1', ok: true },
    ],
    viewDigest: '5e'.repeat(32),
    custodians: ['alice@example.test', 'bob@example.test', 'carol@example.test'],
    ...overrides,
  }
}

export function makeStep(overrides: Partial<StepView> & { id: string }): StepView {
  return {
    scriptId: 'P.0',
    name: 'preflight',
    number: 1,
    group: null,
    interaction: 'run',
    seals: false,
    where: 'all',
    title: 'Preflight checks',
    explain: 'Signs in to every appliance and checks versions, clocks, the group and the CMK.',
    state: 'pending',
    startedAt: null,
    finishedAt: null,
    confirmation: null,
    input: null,
    evidence: [],
    comparisons: [],
    approval: null,
    witnessItems: [],
    signoffs: [],
    signoff: null,
    exceptions: [],
    error: null,
    ...overrides,
  }
}

export function makeSteps(): StepView[] {
  const steps: StepView[] = [
    makeStep({ id: 'preflight', witnessItems: ['Appliance versions read aloud', 'Clock differences noted'] }),
  ]
  for (const t of ['dsm-t1', 'dsm-t2']) {
    steps.push(
      makeStep({ id: `transfer-key-${t}`, scriptId: `T${t.at(-1)}.1`, name: 'transfer-key', number: 1, group: t, where: 'target', title: 'Generate the transfer key' }),
      makeStep({ id: `wrap-approval-${t}`, scriptId: `T${t.at(-1)}.5`, name: 'wrap-approval', interaction: 'approval', number: 5, group: t, where: 'source', title: 'Custodians approve the export', approval: makeApproval() }),
      makeStep({
        id: `cleanup-${t}`,
        scriptId: `T${t.at(-1)}.11`,
        name: 'cleanup',
        number: 11,
        group: t,
        where: 'source, target',
        title: 'Delete both transfer keys',
        confirmation: { prompt: 'Type the last 4 characters of the transfer-key fingerprint', length: 4, label: 'Transfer-key fingerprint', value: FINGERPRINT },
      }),
    )
  }
  steps.push(makeStep({ id: 'close', scriptId: 'C.1', name: 'close', number: 2, seals: true, title: 'Close the ceremony' }))
  return steps
}

export function makeSnapshot(overrides: Partial<CeremonySnapshot> = {}): CeremonySnapshot {
  const steps = overrides.steps ?? makeSteps()
  return {
    plan: makePlan(),
    phase: 'running',
    people: [
      { name: 'Olivia Operator', role: 'operator', present: true },
      { name: 'Wendy Witness', role: 'witness', present: true },
      { name: 'Walter Witness', role: 'witness', present: true },
      { name: 'alice@example.test', role: 'custodian (dsm-s)', present: true },
    ],
    scriptApproval: null,
    onBreak: null,
    deviations: { keeper: null, lines: [], allowers: ['Olivia Operator'], witnessesPresent: ['Wendy Witness', 'Walter Witness'] },
    rehearsalCredentials: [
      { applianceId: 'dsm-s', user: 'alice@example.test', password: 'sim-pass-alice' },
      { applianceId: 'dsm-s', user: 'bob@example.test', password: 'sim-pass-bob' },
    ],
    participantsConfirmed: true,
    connections: [
      { applianceId: 'dsm-s', label: 'Source DSM', hasApiKey: true, state: 'ok', version: '4.23.0', clockSkewSeconds: 1, pin: digest('ab'.repeat(32)), error: null },
      { applianceId: 'dsm-t1', label: 'Target DSM 1', hasApiKey: true, state: 'ok', version: '4.23.0', clockSkewSeconds: -2, pin: digest('cd'.repeat(32)), error: null },
      { applianceId: 'dsm-t2', label: 'Target DSM 2', hasApiKey: true, state: 'ok', version: '4.23.0', clockSkewSeconds: 0, pin: digest('ef'.repeat(32)), error: null },
    ],
    steps,
    currentStepId: steps[0]?.id ?? null,
    groups: [
      { id: 'dsm-t1', label: 'Target DSM 1', state: 'running', outcome: null, done: 0, total: 3 },
      { id: 'dsm-t2', label: 'Target DSM 2', state: 'pending', outcome: null, done: 0, total: 3 },
    ],
    reconcile: [],
    log: { entries: 4, head: digest('77'.repeat(32)) },
    record: null,
    signIns: [],
    buildsOn: [],
    rehearsalKinds: [{ kind: 'replicate-cmk', title: 'CMK replication' }, { kind: 'link-cluster', title: 'Link the FIPS appliances to the cluster' }],
    ...overrides,
  }
}

/** The snapshot with one step replaced (by id). */
export function withStep(snapshot: CeremonySnapshot, id: string, patch: Partial<StepView>): CeremonySnapshot {
  return { ...snapshot, steps: snapshot.steps.map((s) => (s.id === id ? { ...s, ...patch } : s)) }
}

export const ok = <T,>(data: T) => ({ ok: true as const, data })
export const fail = (code: string, message: string) => ({ ok: false as const, error: { code, message } })

/** A ceremony record as main returns it (the contract's type): two entries, one artifact, one approval. */
export function makeRecord(overrides: Partial<CeremonyRecord> = {}): CeremonyRecord {
  const finalDigest = digest('99'.repeat(32))
  const entry = (seq: number, kind: string, facts: Record<string, unknown>) => ({ seq, ts: '2025-01-01T10:00:00.000Z', prev: '00'.repeat(32), planDigest: 'ab'.repeat(32), actor: 'alice', step: 'wrap-approval:t1', kind, facts, hash: '99'.repeat(32) })
  return {
    format: 'dsm-key-ceremony-record', version: 1, mode: 'rehearsal', watermark: 'REHEARSAL', plan: {}, planDigest: 'ab'.repeat(32),
    entries: [entry(1, 'ceremony-open', {}), entry(2, 'approval', { status: 'APPROVED' })],
    artifacts: [{ name: 'pub.pem', sha256: 'cd'.repeat(32), bytes: 451, seq: 2 }],
    approvals: [{ seq: 2, ts: '2025-01-01T10:00:00.000Z', step: 'wrap-approval:t1', actor: 'alice', facts: { status: 'APPROVED' } }],
    signoffs: [], exceptions: [], deviations: [], finalDigest: finalDigest.hex, finalWords: finalDigest.words,
    ...overrides,
  }
}

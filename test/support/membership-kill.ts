/**
 * The membership kinds (add-appliance, replace-appliance) killed at every step boundary by one chain
 * (kill-chain.ts), then judged by what the appliances and the cluster say through their APIs, not
 * by the journal: exactly one CMK with the records' KCV on the new appliance, exactly one config for
 * it in the group, the failed appliance's config removed by one group update (the cluster's own
 * audit log), no transfer key left on any appliance that answers, a sealed record that
 * `ceremony verify` passes, and every step done once.
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { KINDS } from '../../main/ceremony/registry'
import { AppSession, DsmConnection, LogsApi, type UserSession } from '../../main/dsm'
import { runCeremonyAsync } from './cli-output'
import type { ClusterProcess, FipsProcess } from './cluster-fixture'
import { groupsNamed } from './cluster-fixture'
import { killChain, killPoints, type ChainOutcome } from './kill-chain'

const last = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!)

/** The link-cluster ceremony over the appliances (no failover drill), by `ceremony plan` and `ceremony run`: its record's file. */
export async function linked(dir: string, appliances: FipsProcess[], cluster: ClusterProcess, replicationFile: string, id: string, canaries: string[]): Promise<string> {
  const plan = await runCeremonyAsync(['plan', '--kind', 'link-cluster', '--appliances', appliances.map((a) => a.file).join(','), '--cluster', cluster.file, '--record', replicationFile, '--no-failover-drill', '--id', id], { canaries })
  assert.equal(plan.status, 0, plan.stderr)
  writeFileSync(join(dir, `${id}.plan.json`), plan.stdout)
  const run = await runCeremonyAsync(['run', '--plan', join(dir, `${id}.plan.json`), ...[...appliances.map((a) => a.file), cluster.file].flatMap((c) => ['--credentials', c]), '--record', replicationFile, '--state', join(dir, 'state', id)], { canaries })
  assert.equal(run.status, 0, run.stderr.slice(-2000))
  return last(run.stdout).record as string
}

/** The appliance's own app session (its API key from its ready line). */
export function appOf(f: FipsProcess): Promise<AppSession> {
  const conn = new DsmConnection({ host: f.entry.host, port: f.entry.port, trust: { spkiSha256: f.entry.spkiSha256 }, retry: { maxAttempts: 1 } })
  return AppSession.open(conn, Buffer.from(f.entry.apiKey))
}

async function keysOn(f: FipsProcess) {
  const app = await appOf(f)
  try {
    return await app.keys.list()
  } finally {
    await app.logout()
  }
}

/** The cluster's audit-log entries of changes to the group (vendor message "Updated group"), by its id. */
export async function groupUpdates(admin: UserSession, groupId: string): Promise<{ id: string; severity: string }[]> {
  const hits = await new LogsApi(admin).query({ objectId: groupId, actionTypes: ['ADMINISTRATIVE'], size: 1000 })
  return hits.filter((h) => h._source.message.startsWith('Updated group')).map((h) => ({ id: h._id, severity: h._source.severity }))
}

export interface MembershipKillCase {
  dir: string
  kind: 'add-appliance' | 'replace-appliance'
  /** The plan as `ceremony plan` wrote it, and its file. */
  plan: { id: string; added: string; source: string; cmkName: string; groupName: string; fips: string[]; failed?: { id: string } }
  planFile: string
  /** Every appliance that answers (the failed one of a replacement does not), the new one among them. */
  live: FipsProcess[]
  /** The failed appliance of a replacement: its config must be gone. */
  failed?: FipsProcess
  cluster: ClusterProcess
  admin: UserSession
  credentials: string[]
  records: string[]
  canaries: string[]
}

/** Kills the ceremony at every boundary of every step, in one chain, and checks what it left. */
export async function killAtEveryBoundary(c: MembershipKillCase): Promise<ChainOutcome & { seconds: number }> {
  const started = Date.now()
  const kind = KINDS[c.kind]
  const stepList = kind.steps(kind.schema.parse(JSON.parse(readFileSync(c.planFile, 'utf8'))) as never)
  const steps = stepList.map((s) => s.id)
  const groupBefore = (await groupsNamed(c.admin, c.plan.groupName))[0]!
  const updatesBefore = await groupUpdates(c.admin, groupBefore.group_id)
  const sourceCmk = (await keysOn(c.live.find((f) => f.id === c.plan.source)!)).find((k) => k.name === c.plan.cmkName)!
  const state = join(c.dir, 'state', c.plan.id)
  const args = ['run', '--plan', c.planFile, ...c.credentials.flatMap((f) => ['--credentials', f]), ...c.records.flatMap((r) => ['--record', r]), '--state', state]

  const chain = await killChain(args, killPoints(steps), { canaries: c.canaries })
  const { final } = chain
  assert.equal(final.status, 0, `the last run finishes: ${final.stderr.slice(-2000)}${final.stdout.slice(-800)}`)
  const summary = last(final.stdout)
  assert.equal(summary.ok, true)

  // Every step died before its intent, before its act, after its act and after its result. An approval
  // step's act runs only in the attempt that records its intent: killed there, the resumed run waits on
  // the quorum through look() and never acts again, so its after-act is passed (its act only reads the
  // request, as its look does: nothing differs). So does a step that takes values typed in the room
  // (a replacement's D.1): without new values, the resumed run judges the journaled ones through look(),
  // which reads what its act reads. Nothing else is passed but the file boundaries of steps that write no file.
  const approvals = new Set(stepList.filter((s) => s.interaction === 'approval' || s.input !== undefined).map((s) => `${s.id}@after-act`))
  for (const step of steps) {
    for (const b of ['before-intent', 'after-intent', 'after-act', 'after-done']) {
      if (!approvals.has(`${step}@${b}`)) assert.ok(chain.killedAt.includes(`${step}@${b}`), `killed at ${step}@${b} (passed: ${chain.passed.join(' ')})`)
    }
  }
  assert.deepEqual(chain.passed.filter((p) => !/@(media-write|after-artifact)$/.test(p) && !approvals.has(p)), [], 'nothing else is passed')

  // The new appliance: exactly one CMK, the source's KCV; no transfer key on any appliance that answers.
  const added = c.live.find((f) => f.id === c.plan.added)!
  const cmks = (await keysOn(added)).filter((k) => k.name === c.plan.cmkName)
  assert.equal(cmks.length, 1, `exactly one CMK on ${added.id}`)
  assert.equal(cmks[0]!.kcv?.toLowerCase(), sourceCmk.kcv?.toLowerCase(), 'with the KCV of the CMK it was replicated from')
  for (const f of c.live) {
    const transfer = (await keysOn(f)).filter((k) => k.name?.startsWith(`${c.plan.id}-transfer-`)).map((k) => k.name)
    assert.deepEqual(transfer, [], `no transfer key left on ${f.id}`)
  }

  // The cluster: one config for the new appliance, none for the failed one, the group changed once per change.
  const groups = await groupsNamed(c.admin, c.plan.groupName)
  assert.equal(groups.length, 1)
  const configs = Object.values(groups[0]!.hmg ?? {})
  const at = (f: FipsProcess) => `127.0.0.1:${f.entry.port}`
  assert.equal(configs.filter((x) => x.url === at(added)).length, 1, `exactly one config for ${added.id}`)
  if (c.failed) assert.equal(configs.filter((x) => x.url === at(c.failed!)).length, 0, `no config for the failed ${c.failed.id}`)
  assert.equal(configs.length, c.plan.fips.length, 'the group holds exactly the planned appliances')
  const updates = (await groupUpdates(c.admin, groups[0]!.group_id)).filter((u) => !updatesBefore.some((b) => b.id === u.id))
  assert.deepEqual(updates.map((u) => u.severity), c.failed ? ['INFO', 'INFO'] : ['INFO'], 'the group was updated once to add the new appliance and, for a replacement, once to remove the failed one; never refused, never again')

  // The record: sealed, every step done once, and `ceremony verify` passes it with its files.
  const record = JSON.parse(readFileSync(summary.record, 'utf8'))
  const done = record.entries.filter((e: { kind: string }) => e.kind === 'step-done').map((e: { step: string }) => e.step)
  assert.deepEqual(done, steps, 'every step done once, in order')
  assert.equal(record.finalDigest, summary.finalDigest)
  assert.deepEqual([record.entries.at(-1).kind, record.entries.at(-1).step], ['step-done', steps.at(-1)], 'sealed by the close, nothing after it')
  // Killed after its act, the join was found and adopted on resume (and the removal found done), not repeated.
  const findings = (step: string) => record.entries.filter((e: { kind: string; step: string }) => e.kind === 'reconcile' && e.step === step).map((e: { facts: { finding: string } }) => e.facts.finding).join(' | ')
  assert.match(findings('join-group'), /added before the interruption .* adopted/)
  if (c.failed) assert.match(findings('remove-failed'), /removed before the interruption; not removed twice/)
  const verify = await runCeremonyAsync(['verify', summary.record, '--artifacts', join(state, 'media')], { canaries: c.canaries })
  assert.equal(verify.status, 0, `ceremony verify passes: ${verify.stdout.slice(-800)}${verify.stderr.slice(-800)}`)
  return { ...chain, seconds: (Date.now() - started) / 1000 }
}

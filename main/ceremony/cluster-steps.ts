/**
 * Helpers the steps of both cluster kinds share (link-cluster, verify-cluster): the administrator's
 * session on the cluster, the cluster's refusals turned into named errors, a bounded reachability
 * probe of a FIPS appliance from this workstation (the failover drill), and the earlier records a
 * plan builds on, verified before anything is believed from them.
 */
import { BadRequestError, DsmConnection, ServerError, type FipsClusterHmgConfig, type Group, type UserSession } from '../dsm'
import type { CeremonyRecord } from '../evidence'
import { CeremonyError, errorCode } from '../errors'
import type { ClusterPlan } from './cluster-plan'
import { findEarlierRecord } from './record-chain'
import { trustOf, type PlanAppliance } from './plan-envelope'
import type { StepContext } from './step'

export type ClusterCtx<P extends ClusterPlan = ClusterPlan> = StepContext<P>

/** The cluster administrator's session (signed in with their own DSM user on first use). */
export function clusterSession(ctx: ClusterCtx): Promise<UserSession> {
  return ctx.user(ctx.plan.cluster.id)
}

/**
 * The cluster's plain-text refusal of a connection test, as a named error. The vendor's wording is
 * not public; these patterns are the simulator's (hmg-link.ts) and fall back to HMG_CHECK_FAILED
 * with the cluster's own text, so no refusal is ever lost or taken for success.
 */
export function hmgRefusal(err: unknown, what: string): unknown {
  if (!(err instanceof BadRequestError)) return err
  const text = err.message
  const code = /not pinned/i.test(text) ? 'HMG_CERT_NOT_PINNED'
    : /not a FIPS appliance|no fips_level/i.test(text) ? 'NOT_FIPS_APPLIANCE'
    : /refused (the API key|sign-in)|ended the session/i.test(text) ? 'HMG_API_KEY_REFUSED'
    : /does not name the host/i.test(text) ? 'HMG_HOSTNAME'
    : /unreachable|did not answer/i.test(text) ? 'HMG_UNREACHABLE'
    : 'HMG_CHECK_FAILED'
  return new CeremonyError(code, `The cluster refused ${what}: ${text}`)
}

/** The cluster's test of a config before it is shown or sent (each key signs in through it): a refusal is named by hmgRefusal. */
export async function testHmgConfig(admin: Pick<UserSession, 'groups'>, config: FipsClusterHmgConfig, what: string): Promise<void> {
  await admin.groups.checkHmgConfig(config).catch((err: unknown) => Promise.reject(hmgRefusal(err, what)))
}

/** A crypto call in the FIPS-backed group; the cluster finding no FIPS appliance is FIPS_UNREACHABLE. */
export async function inGroup<T>(groupName: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (err) {
    if (err instanceof ServerError && (err.status === 503 || err.status === 502)) {
      throw new CeremonyError('FIPS_UNREACHABLE', `No FIPS appliance of "${groupName}" answered the cluster: ${err.message}`)
    }
    throw err
  }
}

/** The group as the cluster holds it now, by name; GROUP_MISSING or a FIPS-less group refused by name. */
export async function fipsBackedGroup(ctx: ClusterCtx): Promise<Group> {
  const admin = await clusterSession(ctx)
  const group = await admin.groups.findByName(ctx.plan.groupName)
  if (!group) throw new CeremonyError('GROUP_MISSING', `The cluster has no group named "${ctx.plan.groupName}"`)
  if (!group.hmg || Object.keys(group.hmg).length === 0) {
    throw new CeremonyError('GROUP_CONFLICT', `The group "${ctx.plan.groupName}" on the cluster is not linked to any FIPS appliance`)
  }
  return group
}

/** The cluster answers and is not a FIPS appliance (FIPS appliances cannot cluster, guide §3.2.3). */
export async function checkClusterNotFips(ctx: ClusterCtx): Promise<{ version: string }> {
  const admin = await clusterSession(ctx)
  const version = await admin.connection.version()
  if (version.fips) throw new CeremonyError('CLUSTER_IS_FIPS', `${ctx.plan.cluster.label} reports FIPS level ${String(version.fips_level)}: it is a FIPS appliance, not the non-FIPS cluster`)
  return { version: version.version }
}

export interface Reachability {
  reachable: boolean
  /** Why not (UNREACHABLE, TIMEOUT …), or null. */
  code: string | null
}

/** Can this workstation reach the appliance now? One bounded attempt over the plan's TLS trust. */
export async function probe(appliance: PlanAppliance, timeoutMs = 2000): Promise<Reachability> {
  const conn = new DsmConnection({ host: appliance.host, port: appliance.port, trust: trustOf(appliance), connectTimeoutMs: timeoutMs, responseTimeoutMs: timeoutMs, retry: { maxAttempts: 1 } })
  try {
    await conn.version()
    return { reachable: true, code: null }
  } catch (err) {
    return { reachable: false, code: errorCode(err, 'UNREACHABLE') }
  } finally {
    conn.close()
  }
}

/** Down, as the drill means it: nothing answers (not a wrong pin, which is someone else answering). */
export function isDown(r: Reachability): boolean {
  return !r.reachable && (r.code === 'UNREACHABLE' || r.code === 'TIMEOUT')
}

/**
 * An earlier record this plan builds on, from those the operator provided: found by its final
 * digest, verified, and of the expected kind and this plan's mode (record-chain.ts, which
 * `ceremony verify` uses too). RECORD_MISSING, RECORD_INVALID and RECORD_MISMATCH name what is wrong.
 */
export function earlierRecord(ctx: ClusterCtx, finalDigest: string, kinds: string[]): CeremonyRecord {
  return findEarlierRecord(ctx.records(), finalDigest, { kinds, mode: ctx.plan.mode })
}

/** The result a step recorded in an earlier record (its step-done entry), or undefined. */
export function resultIn(record: CeremonyRecord, stepId: string): Record<string, unknown> | undefined {
  const done = record.entries.filter((e) => e.kind === 'step-done' && e.step === stepId).at(-1)
  const result = done?.facts['result']
  return result && typeof result === 'object' ? (result as Record<string, unknown>) : undefined
}
